"""The Prometheus collector: ``fapilog.stats()`` as ``fapilog_*`` families, read at scrape time."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from tests.metrics._exposition import family_types, samples, scrape, value

import fapilog
import fapilog.metrics
from fapilog.builtins.sinks.memory import MemorySink

ISSUE_FAMILIES = {
    "fapilog_events_submitted": "counter",
    "fapilog_events_processed": "counter",
    "fapilog_events_dropped": "counter",
    "fapilog_queue_depth": "gauge",
    "fapilog_queue_capacity": "gauge",
    "fapilog_queue_high_water": "gauge",
    "fapilog_sink_events": "counter",
    "fapilog_sink_write_duration_seconds": "histogram",
    "fapilog_sink_circuit_open": "gauge",
    "fapilog_plugin_errors": "counter",
    "fapilog_plugin_load_duration_seconds": "gauge",
    "fapilog_plugin_start_duration_seconds": "gauge",
    "fapilog_info": "gauge",  # an info metric is a gauge of value 1 in the text format
}


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    fapilog.metrics.register(registry)
    return registry


def _busy_pipeline() -> MemorySink:
    """A pipeline with a sampling filter (intentional drops), an enricher and a memory sink, 40 events logged."""
    sink = MemorySink()
    fapilog.configure(sinks=[sink], enrichers=["runtime"], filters=[{"type": "sampling", "rate": 0.5, "seed": 3}])
    log = fapilog.get_logger("metrics")
    for i in range(40):
        log.info("event", i=i, secret_user=f"u-{i}")
    assert fapilog.flush(10.0)
    return sink


def test_every_family_of_the_issue_is_exported_with_its_type() -> None:
    """The exposition parses and has each family the issue lists, with the Prometheus type it names."""
    _busy_pipeline()
    types = family_types(scrape(_registry()))
    assert {name: types.get(name) for name in ISSUE_FAMILIES} == ISSUE_FAMILIES


def test_figures_equal_stats_after_a_flush() -> None:
    """After a flush every exported figure equals the same field of fapilog.stats()."""
    sink = _busy_pipeline()
    parsed = samples(scrape(_registry()))
    stats = fapilog.stats()
    assert value(parsed, "fapilog_events_submitted_total") == stats["submitted"] == 40
    assert value(parsed, "fapilog_events_processed_total") == stats["processed"]
    for reason, count in stats["dropped"]["by_reason"].items():
        intentional = "true" if reason.startswith("filtered:") else "false"
        assert value(parsed, "fapilog_events_dropped_total", reason=reason, intentional=intentional) == count
    assert stats["dropped"]["by_reason"]["filtered:sampling"] > 0
    assert value(parsed, "fapilog_queue_capacity") == stats["queue"]["capacity"]
    assert value(parsed, "fapilog_queue_depth") == stats["queue"]["depth"] == 0
    assert value(parsed, "fapilog_queue_high_water") == stats["queue"]["high_water"]
    memory = stats["sinks"]["memory"]
    assert value(parsed, "fapilog_sink_events_total", sink="memory", outcome="delivered") == memory["delivered"]
    assert memory["delivered"] == len(sink.records)
    assert value(parsed, "fapilog_sink_events_total", sink="memory", outcome="failed") == memory["failed"] == 0
    assert value(parsed, "fapilog_sink_write_duration_seconds_count", sink="memory") == memory["batches"]
    assert value(parsed, "fapilog_sink_write_duration_seconds_bucket", sink="memory", le="+Inf") == memory["batches"]
    for name, plugin in stats["plugins"].items():
        labels = {"plugin": name, "kind": plugin["kind"]}
        assert value(parsed, "fapilog_plugin_errors_total", **labels) == plugin["errors"]
        assert value(parsed, "fapilog_plugin_load_duration_seconds", **labels) == pytest.approx(plugin["load_ms"] / 1e3)
        assert value(parsed, "fapilog_plugin_start_duration_seconds", **labels) == pytest.approx(
            plugin["start_ms"] / 1e3
        )
    assert {"runtime", "sampling", "memory"} <= set(stats["plugins"])
    assert value(parsed, "fapilog_info", version=fapilog.__version__) == 1


def test_no_label_value_comes_from_event_data() -> None:
    """Messages, field values and logger names never become label values (cardinality stays bounded)."""
    _busy_pipeline()
    text = scrape(_registry())
    assert "u-1" not in text and "secret_user" not in text and 'logger="metrics"' not in text


def test_delivery_keys_are_exported_when_stats_has_them() -> None:
    """retried, rejected (by reason), circuit and fallback of a sink become samples when stats() carries them."""
    _busy_pipeline()
    stats = copy.deepcopy(fapilog.stats())
    stats["sinks"]["memory"].update(retried=4, rejected={"http_400": 3, "too_large": 1}, circuit="open", fallback=2)
    registry = CollectorRegistry()
    registry.register(fapilog.metrics.FapilogCollector(lambda: stats))
    parsed = samples(scrape(registry))
    assert value(parsed, "fapilog_sink_retries_total", sink="memory") == 4
    assert value(parsed, "fapilog_sink_events_total", sink="memory", outcome="rejected") == 4
    assert value(parsed, "fapilog_sink_rejected_total", sink="memory", reason="http_400") == 3
    assert value(parsed, "fapilog_sink_events_total", sink="memory", outcome="fallback") == 2
    assert value(parsed, "fapilog_sink_circuit_open", sink="memory") == 1
    stats["sinks"]["memory"]["circuit"] = "half_open"
    assert value(samples(scrape(registry)), "fapilog_sink_circuit_open", sink="memory") == 0


def test_a_healthy_sink_reports_zero_retries_and_a_closed_circuit() -> None:
    """The running pipeline's stats() carry the delivery keys: a healthy sink shows 0 retries and circuit_open 0."""
    _busy_pipeline()
    parsed = samples(scrape(_registry()))
    assert value(parsed, "fapilog_sink_retries_total", sink="memory") == 0
    assert value(parsed, "fapilog_sink_circuit_open", sink="memory") == 0
    assert not [key for key in parsed if key[0] == "fapilog_sink_rejected_total"]


def test_without_delivery_keys_those_samples_are_absent_and_the_circuit_reads_closed() -> None:
    """A stats() without retried/rejected/circuit/fallback (an older snapshot): no such samples, circuit_open 0."""
    _busy_pipeline()
    stats = copy.deepcopy(fapilog.stats())
    for key in ("retried", "rejected", "circuit", "fallback"):
        stats["sinks"]["memory"].pop(key, None)
    registry = CollectorRegistry()
    registry.register(fapilog.metrics.FapilogCollector(lambda: stats))
    parsed = samples(scrape(registry))
    assert not [key for key in parsed if key[0] in ("fapilog_sink_retries_total", "fapilog_sink_rejected_total")]
    assert ("fapilog_sink_events_total", frozenset({("sink", "memory"), ("outcome", "rejected")})) not in parsed
    assert value(parsed, "fapilog_sink_circuit_open", sink="memory") == 0


def test_a_scrape_reads_stats_at_that_moment() -> None:
    """Two scrapes around more logging show the new figures: nothing is cached between scrapes."""
    _busy_pipeline()
    registry = _registry()
    before = value(samples(scrape(registry)), "fapilog_events_submitted_total")
    fapilog.get_logger("metrics").info("one more")
    assert fapilog.flush(5.0)
    assert value(samples(scrape(registry)), "fapilog_events_submitted_total") == before + 1


def test_register_is_idempotent_and_a_second_raw_collector_is_refused() -> None:
    """register() twice returns the same collector; registering another one by hand is a duplicate error."""
    registry = CollectorRegistry()
    first = fapilog.metrics.register(registry)
    assert fapilog.metrics.register(registry) is first
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        registry.register(fapilog.metrics.FapilogCollector())
    fapilog.metrics.unregister(registry)
    assert "fapilog_events_submitted_total" not in scrape(registry)


def test_before_the_first_log_call_the_exposition_is_complete() -> None:
    """In a fresh process, before any log call: state "not started", zero counters, the queue's capacity."""
    script = (
        "import fapilog, fapilog.metrics\n"
        "from prometheus_client import CollectorRegistry, generate_latest\n"
        "registry = CollectorRegistry()\n"
        "fapilog.metrics.register(registry)\n"
        "print(generate_latest(registry).decode())\n"
    )
    env = {**os.environ, "FAPILOG_QUEUE__CAPACITY": "321"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env,
                          check=False)
    assert done.returncode == 0, done.stderr
    parsed = samples(done.stdout)
    assert value(parsed, "fapilog_pipeline_state", state="not started") == 1
    assert value(parsed, "fapilog_events_submitted_total") == 0
    assert value(parsed, "fapilog_queue_capacity") == 321


def test_the_exposition_passes_promtool_check_metrics(tmp_path: Any) -> None:
    """`promtool check metrics` (Prometheus' own linter) accepts the exposition of a busy pipeline."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (scripts/test installs Debian's prometheus package when it can)")
    _busy_pipeline()
    registry = _registry()
    fapilog.get_logger("x").error("boom")  # an error-level event too
    assert fapilog.flush(5.0)
    text = scrape(registry)
    done = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "fapilog_sink_write_duration_seconds_bucket" in text


class _ChattySink:
    """A real sink that refuses every record with the backend's message as the reason: one reason per event."""

    from fapilog.plugins import PluginMetadata

    metadata = PluginMetadata(name="chatty", version="1.0", kind="sink", description="refuses with messages")
    del PluginMetadata

    async def write(self, record: Any) -> None:
        raise AssertionError("the core calls write_batch() when a sink has it")

    async def write_batch(self, records: list[Any]) -> Any:
        from fapilog.plugins.outcomes import BatchResult

        return BatchResult(rejected={i: f"field user_{record['i']} is invalid" for i, record in enumerate(records)})


def test_reason_labels_a_sink_takes_from_event_data_stay_bounded() -> None:
    """A sink rejecting 200 records with 200 distinct reasons exports at most 20 reasons plus `other`, same total."""
    from fapilog.metrics._collector import MAX_REASONS_PER_SINK

    fapilog.configure(sinks=[_ChattySink()])
    log = fapilog.get_logger("metrics")
    for i in range(200):
        log.info("event", i=i)
    assert not fapilog.flush(10.0).timed_out  # not ok: every record was rejected, which is the point
    rejected = fapilog.stats()["sinks"]["chatty"]["rejected"]
    assert len(rejected) == 200
    parsed = samples(scrape(_registry()))
    series = {dict(labels)["reason"]: count for (name, labels), count in parsed.items()
              if name == "fapilog_sink_rejected_total"}
    assert len(series) <= MAX_REASONS_PER_SINK + 1 and "other" in series
    assert sum(series.values()) == sum(rejected.values()) == 200
    assert value(parsed, "fapilog_sink_events_total", sink="chatty", outcome="rejected") == 200
    for reason in series.keys() - {"other"}:
        assert series[reason] == rejected[reason]


def test_a_long_reason_counts_under_other_and_other_never_shrinks() -> None:
    """A message-length reason is counted under `other`; a later scrape's `other` is never below an earlier one."""
    stats: dict[str, Any] = {}

    def snapshot() -> Any:
        return stats

    _busy_pipeline()
    stats.update(copy.deepcopy(fapilog.stats()))
    memory = stats["sinks"]["memory"]
    memory["rejected"] = {"http_400": 2, "x" * 200: 5}
    registry = CollectorRegistry()
    registry.register(fapilog.metrics.FapilogCollector(snapshot))
    first = samples(scrape(registry))
    assert value(first, "fapilog_sink_rejected_total", sink="memory", reason="other") == 5
    assert value(first, "fapilog_sink_rejected_total", sink="memory", reason="http_400") == 2
    memory["rejected"].update({f"r{n}": 1 for n in range(30)})
    second = samples(scrape(registry))
    assert value(second, "fapilog_sink_rejected_total", sink="memory", reason="other") >= 5
    assert value(second, "fapilog_sink_rejected_total", sink="memory", reason="http_400") == 2


class _QuotingSink:
    """A real sink refusing every batch with a reason that quotes its URL, password included."""

    from fapilog.plugins import PluginMetadata

    metadata = PluginMetadata(name="quoting", version="1.0", kind="sink", description="quotes its URL")
    del PluginMetadata

    async def write(self, record: Any) -> None:
        raise AssertionError("the core calls write_batch() when a sink has it")

    async def write_batch(self, records: list[Any]) -> Any:
        from fapilog.plugins.outcomes import PermanentSinkError

        raise PermanentSinkError("refused", reason="http_401 https://ingest:hunter2@logs.example.com")


def test_a_reason_quoting_url_credentials_is_exported_without_the_password() -> None:
    """The reason label of rejected and errors reads ingest:*** and the scrape never holds the password."""
    fapilog.configure(sinks=[_QuotingSink()])
    fapilog.get_logger("metrics").info("event")
    assert not fapilog.flush(10.0).timed_out
    text = scrape(_registry())
    assert "hunter2" not in text
    parsed = samples(text)
    masked = "http_401 https://ingest:***@logs.example.com"
    assert value(parsed, "fapilog_sink_rejected_total", sink="quoting", reason=masked) == 1


def test_late_deliveries_are_an_outcome_of_the_sink_events_counter() -> None:
    """late_delivered of a sink becomes fapilog_sink_events_total{outcome="late_delivered"}."""
    _busy_pipeline()
    stats = copy.deepcopy(fapilog.stats())
    stats["sinks"]["memory"]["late_delivered"] = 7
    registry = CollectorRegistry()
    registry.register(fapilog.metrics.FapilogCollector(lambda: stats))
    parsed = samples(scrape(registry))
    assert value(parsed, "fapilog_sink_events_total", sink="memory", outcome="late_delivered") == 7
