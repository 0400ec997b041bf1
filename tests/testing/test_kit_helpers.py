"""Record factories, the misbehaving sinks driven by the real pipeline, and benchmark_plugin()."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import orjson
import pytest

import fapilog
from fapilog._kit.serialize import dumps
from fapilog.builtins.redactors.field_mask import FieldMaskRedactor
from fapilog.plugins.metadata import PluginMetadata
from fapilog.testing import FailingSink, SlowSink, benchmark_plugin, capture_events, make_record, make_records


def test_make_record_matches_what_a_real_log_call_produces() -> None:
    with capture_events() as events:
        fapilog.get_logger("tests").warning("hello", user_id=7)
    made = make_record("hello", level="WARNING", user_id=7)
    real = events[0]
    assert {k: v for k, v in made.items() if k != "timestamp"} == {k: v for k, v in real.items() if k != "timestamp"}
    assert (made.levelno, made.captured) == (real.levelno, real.captured)
    assert orjson.loads(dumps(made)) == dict(made)  # carries its JSON like a worker-built record


def test_make_records_numbers_and_formats_messages() -> None:
    records = make_records(3, seq=10, message="event {i}", level=40, tenant="acme")
    assert [(r["seq"], r["message"], r["level"], r["tenant"]) for r in records] == [
        (10, "event 0", "ERROR", "acme"), (11, "event 1", "ERROR", "acme"), (12, "event 2", "ERROR", "acme")]
    assert records[0].ts_ns < records[1].ts_ns
    with pytest.raises(ValueError, match="count must be >= 0"):
        make_records(-1)
    with pytest.raises(fapilog.ConfigError):
        make_record(level="LOUD")


def test_failing_sink_recovers_after_fail_times_and_the_pipeline_counts_each_failure() -> None:
    sink = FailingSink(fail_times=2)
    fapilog.configure(sinks=[sink])
    log = fapilog.get_logger("app")
    for i in range(5):
        log.info(f"event {i}")
    fapilog.flush()
    stats = fapilog.stats()["sinks"]["failing"]
    assert (stats["failed"], stats["delivered"]) == (2, 3)
    assert sink.messages == ["event 2", "event 3", "event 4"]
    assert (sink.attempts, sink.failures) == (5, 2)


def test_failing_sink_can_break_start_and_configure_reports_it() -> None:
    with pytest.raises(fapilog.PluginLoadError, match="plugin 'failing' failed to start: OSError: disk gone"):
        fapilog.configure(sinks=[FailingSink(error=OSError("disk gone"), fail_on=("start",))])
    with pytest.raises(ValueError, match="fail_on accepts write, start, stop and flush"):
        FailingSink(fail_on=("read",))


def test_slow_sink_makes_flush_wait_and_keeps_order() -> None:
    sink = SlowSink(delay=0.05)
    fapilog.configure(sinks=[sink])
    log = fapilog.get_logger("app")
    started = time.monotonic()
    for i in range(4):
        log.info(f"event {i}")
    assert fapilog.flush(timeout=5).ok
    assert time.monotonic() - started >= 4 * 0.05  # lower bound only: it cannot be faster than its delays
    assert sink.messages == [f"event {i}" for i in range(4)]
    with pytest.raises(ValueError, match="delay must be >= 0"):
        SlowSink(delay=-1)


def test_slow_sink_past_the_flush_deadline_is_reported_not_lost() -> None:
    fapilog.configure(sinks=[SlowSink(delay=0.3)])
    log = fapilog.get_logger("app")
    for i in range(5):
        log.info(f"event {i}")
    result = fapilog.flush(timeout=0.2)
    assert not result.ok
    assert fapilog.shutdown(timeout=5).ok  # given time, everything is delivered


class Shout:
    metadata = PluginMetadata(name="shout", version="1.0", kind="processor", description="Upper-cases messages")

    def __init__(self) -> None:
        self.started = self.stopped = False

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def process(self, record: Mapping[str, Any]) -> dict[str, Any]:
        return {**record, "message": str(record["message"]).upper()}


def test_benchmark_plugin_reports_per_event_cost_of_the_single_form() -> None:
    plugin = Shout()
    result = benchmark_plugin(plugin, events=500, rounds=3)
    assert (result.plugin, result.kind, result.events, result.batch) == ("shout", "processor", 500, False)
    assert len(result.rounds_ns) == 3 and result.per_event_ns > 0
    assert sorted(result.rounds_ns)[1] == result.per_event_ns  # the median
    assert plugin.started and plugin.stopped
    assert str(result).startswith("shout (processor, per record): ")


def test_benchmark_plugin_uses_the_batch_form_and_profiles() -> None:
    redactor = FieldMaskRedactor(fields=["email"])
    result = benchmark_plugin(redactor, events=300, rounds=1, batch_size=50, profile=True)
    assert result.batch
    assert result.profile is not None and "redact_batch" in result.profile


def test_benchmark_plugin_feeds_fresh_copies_so_mutating_plugins_measure_clean_input() -> None:
    seen: list[bool] = []

    class Marker:
        metadata = PluginMetadata(name="marker", version="1.0", kind="redactor", description="Marks records")

        async def redact(self, record: Any) -> Any:
            seen.append("marked" in record)
            record["marked"] = True
            return record

    benchmark_plugin(Marker(), events=10, rounds=2, records=[make_record("x")])
    assert seen and not any(seen)
    with pytest.raises(ValueError, match="positive"):
        benchmark_plugin(Marker(), events=0)


def test_failing_sink_reraising_one_instance_does_not_grow_its_traceback() -> None:
    error = ConnectionError("down")
    fapilog.configure(sinks=[FailingSink(error=error)])
    log = fapilog.get_logger("app")
    for i in range(200):
        log.info(f"event {i}")
    fapilog.flush()
    depth, tb = 0, error.__traceback__
    while tb is not None:
        depth, tb = depth + 1, tb.tb_next
    assert fapilog.stats()["sinks"]["failing"]["failed"] == 200
    assert depth < 10  # one raise's worth of frames, not 200 raises' worth
