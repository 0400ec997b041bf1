"""Flush and shutdown guarantees, deadlines, and isolation of failing sinks and stages."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from tests._sinks import CollectingBatchSink, FailingSink, GateSink, HangingSink

import fapilog
from fapilog.builtins.sinks.memory import MemorySink


def test_flush_delivers_everything_logged_before_it() -> None:
    """After flush() returns ok, every earlier event is in the sink and the sink's flush() ran."""
    sink = CollectingBatchSink()
    fapilog.configure(sinks=[sink])
    log = fapilog.get_logger("d")
    for i in range(1_000):
        log.info("e", i=i)
    result = fapilog.flush(10.0)
    assert result.ok and not result.timed_out
    assert [r["i"] for r in sink.records] == list(range(1_000))
    assert sink.flushes >= 1


def test_aflush_does_not_block_the_loop() -> None:
    """aflush() awaits delivery while other tasks on the same loop keep running."""
    sink = MemorySink()
    fapilog.configure(sinks=[sink])
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    async def main() -> fapilog.FlushResult:
        task = asyncio.create_task(ticker())
        fapilog.get_logger("d").info("async hello")
        result = await fapilog.aflush(5.0)
        task.cancel()
        return result

    assert asyncio.run(main())
    assert [r["message"] for r in sink.records] == ["async hello"]
    assert ticks > 0


def test_flush_with_a_hanging_sink_returns_at_the_deadline() -> None:
    """A sink whose write never completes makes flush report a timeout naming it, not hang."""
    healthy = MemorySink()
    fapilog.configure(sinks=[HangingSink(), healthy])
    fapilog.get_logger("d").info("stuck")
    result = fapilog.flush(0.2)
    assert not result.ok and result.timed_out
    assert result.failed_sinks == ("hanging",)
    assert [r["message"] for r in healthy.records] == ["stuck"]


def test_write_timeout_fails_the_batch_and_delivery_goes_on() -> None:
    """With write_timeout set, a hanging write is counted as failed and later flushes complete."""
    fapilog.configure(sinks=[HangingSink()], sink_defaults={"write_timeout": 0.05})
    fapilog.get_logger("d").info("lost to a hang")
    result = fapilog.flush(5.0)  # completes, and names the sink that failed an event logged before it
    assert not result.ok and not result.timed_out and result.failed_sinks == ("hanging",)
    sink_stats = fapilog.stats()["sinks"]["hanging"]
    assert sink_stats["failed"] == 1 and sink_stats["errors"] == {"timeout": 1}
    assert fapilog.flush(5.0)  # nothing failed since: the next flush is clean


def test_shutdown_with_a_hanging_sink_reports_what_was_not_delivered() -> None:
    """shutdown() with a hanging async sink returns by its deadline and counts the undelivered events."""
    fapilog.configure(sinks=[HangingSink()])
    log = fapilog.get_logger("d")
    for i in range(10):
        log.info("e", i=i)
    report = fapilog.shutdown(0.2)
    assert not report.ok and report.timed_out
    # One record is in the write that hangs (its outcome is unknown), the other nine were never sent.
    assert report.undelivered == 9 and report.in_flight == 1


def test_shutdown_with_a_sink_blocking_the_worker_thread_still_returns() -> None:
    """Even a sink that blocks the worker's loop in sync code cannot make shutdown hang."""
    gate = GateSink()
    fapilog.configure(sinks=[gate])
    log = fapilog.get_logger("d")
    log.info("first")
    assert gate.entered.wait(10)
    log.info("second")
    report = fapilog.shutdown(0.2)
    gate.release()
    assert not report.ok and report.timed_out and report.undelivered >= 1


def test_shutdown_stops_plugins_and_later_logging_restarts() -> None:
    """shutdown() calls stop(); a later log call starts a fresh pipeline with the same settings."""
    sink = CollectingBatchSink()
    fapilog.configure(sinks=[sink])
    fapilog.get_logger("d").info("before")
    assert fapilog.shutdown(5.0)
    assert sink.started == 1 and sink.stopped == 1
    fapilog.get_logger("d").info("after")
    assert fapilog.flush(5.0)
    assert [r["message"] for r in sink.records] == ["before", "after"]
    assert sink.started == 2


def test_a_crashing_sink_is_counted_and_other_sinks_still_deliver() -> None:
    """A sink that raises gets its events counted as failed by error type; the others are unaffected."""
    broken = FailingSink(bad={"poison"})
    healthy = MemorySink()
    fapilog.configure(sinks=[broken, healthy])
    log = fapilog.get_logger("d")
    for message in ("ok1", "poison", "ok2"):
        log.info(message)
    result = fapilog.flush(5.0)
    assert not result.ok and not result.timed_out and result.failed_sinks == ("failing",)
    stats = fapilog.stats()["sinks"]
    assert broken.messages == ["ok1", "ok2"]
    assert stats["failing"]["failed"] == 1 and stats["failing"]["errors"] == {"ConnectionError": 1}
    assert stats["failing"]["delivered"] == 2
    assert [r["message"] for r in healthy.records] == ["ok1", "poison", "ok2"]


class _RaisingFilter:
    name = "raising-filter"

    async def filter(self, record: Mapping[str, Any]) -> Mapping[str, Any] | None:
        raise RuntimeError("filter bug")


class _DropDebugFilter:
    name = "no-debug"

    async def filter(self, record: Mapping[str, Any]) -> Mapping[str, Any] | None:
        return None if record["level"] == "DEBUG" else record


class _HostEnricher:
    name = "host"

    async def enrich(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        return {"host": "web-1", "message": "enrichers never overwrite"}


class _RaisingRedactor:
    name = "raising-redactor"

    async def redact(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        raise ValueError("redactor bug")


class _UpperProcessor:
    name = "upper"

    async def process_batch(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**r, "message": str(r["message"]).upper()} for r in records]

    async def process(self, record: dict[str, Any]) -> dict[str, Any]:
        raise AssertionError("the batch form should be used")


def test_stages_run_in_order_with_batch_forms(memory: MemorySink) -> None:
    """Filters drop (counted as intentional), enrichers add without overwriting, processors' batch form runs."""
    fapilog.configure(
        level="DEBUG",
        sinks=[memory],
        filters=[_DropDebugFilter()],
        enrichers=[_HostEnricher()],
        processors=[_UpperProcessor()],
    )
    log = fapilog.get_logger("s")
    log.debug("dropped")
    log.info("kept")
    assert fapilog.flush(5.0)
    (record,) = memory.records
    assert record["message"] == "KEPT" and record["host"] == "web-1"
    dropped = fapilog.stats()["dropped"]
    assert dropped["by_reason"] == {"filtered:no-debug": 1} and dropped["intentional"] == 1


def test_a_crashing_filter_keeps_the_event_and_counts_the_error(memory: MemorySink) -> None:
    """A filter that raises does not drop the event; the error is counted against the plugin."""
    fapilog.configure(sinks=[memory], filters=[_RaisingFilter()])
    fapilog.get_logger("s").info("survives")
    assert fapilog.flush(5.0)
    assert [r["message"] for r in memory.records] == ["survives"]
    assert fapilog.stats()["plugins"]["raising-filter"]["errors"] == 1


def test_a_crashing_redactor_never_leaks(memory: MemorySink) -> None:
    """When a redactor raises, fields and message are withheld; only timing and level remain."""
    fapilog.configure(sinks=[memory], redactors=[_RaisingRedactor()])
    fapilog.get_logger("s").info("token is abc", password="hunter2")
    assert fapilog.flush(5.0)
    line = memory.lines[0].decode()
    assert "hunter2" not in line and "abc" not in line
    (record,) = memory.records
    assert record["redaction_failed"] == "raising-redactor" and record["level"] == "INFO"


def test_legacy_sync_write_sink_works() -> None:
    """A plain object with only a synchronous write(record) is a working sink."""

    class Legacy:
        def __init__(self) -> None:
            self.seen: list[str] = []

        def write(self, record: Mapping[str, Any]) -> None:
            self.seen.append(record["message"])

    legacy = Legacy()
    fapilog.configure(sinks=[legacy])
    fapilog.get_logger("s").info("old style")
    assert fapilog.flush(5.0)
    assert legacy.seen == ["old style"]


def test_sink_start_failure_is_an_actionable_configure_error() -> None:
    """A sink whose start() raises makes configure() raise PluginLoadError naming it."""

    class Unstartable:
        name = "unstartable"

        async def start(self) -> None:
            raise PermissionError("cannot open /var/log/app.log")

        async def write(self, record: Mapping[str, Any]) -> None:
            raise AssertionError("never started")

    import pytest

    with pytest.raises(fapilog.PluginLoadError, match=r"unstartable.*PermissionError"):
        fapilog.configure(sinks=[Unstartable()])


def test_accounting_identity_holds() -> None:
    """submitted == delivered + dropped after a flush, with drops at the queue and in a filter."""
    sink = MemorySink()
    fapilog.configure(sinks=[sink], filters=[_DropDebugFilter()], level="DEBUG")
    log = fapilog.get_logger("acct")
    for i in range(500):
        (log.debug if i % 5 == 0 else log.info)("e", i=i)
    assert fapilog.flush(10.0)
    stats = fapilog.stats()
    assert stats["submitted"] == 500
    assert stats["sinks"]["memory"]["delivered"] + stats["dropped"]["total"] == 500


class _NoneRedactor:
    name = "none-redactor"

    async def redact(self, record: Mapping[str, Any]) -> Any:
        return None


class _ListEnricher:
    name = "list-enricher"

    async def enrich(self, record: Mapping[str, Any]) -> Any:
        return ["not", "a", "mapping"]


class _FreshRecordProcessor:
    name = "fresh"

    async def process(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        from fapilog._kit.record import EventRecord

        return EventRecord(record)  # a new object without the capture attributes


def test_bad_return_values_are_contained_and_counted(memory: MemorySink) -> None:
    """A stage returning the wrong type is counted against it; the worker lives and the event is kept safe."""
    fapilog.configure(
        sinks=[memory], enrichers=[_ListEnricher()], redactors=[_NoneRedactor()], processors=[_FreshRecordProcessor()]
    )
    fapilog.get_logger("s").info("secret is abc", password="hunter2")
    assert fapilog.flush(5.0)
    (record,) = memory.records
    assert record["redaction_failed"] == "none-redactor" and "hunter2" not in memory.lines[0].decode()
    plugins = fapilog.stats()["plugins"]
    assert plugins["list-enricher"]["errors"] == 1 and plugins["none-redactor"]["errors"] == 1
    fapilog.get_logger("s").info("worker still alive")
    assert fapilog.flush(5.0)
    assert len(memory.records) == 2


class _SlowBatchSink:
    name = "slow"

    def __init__(self) -> None:
        self.count = 0

    async def write_batch(self, records: list[Mapping[str, Any]]) -> None:
        await asyncio.sleep(0.01)
        self.count += len(records)

    async def write(self, record: Mapping[str, Any]) -> None:
        await self.write_batch([record])


def test_every_event_is_accounted_for_when_shutdown_gives_up() -> None:
    """A shutdown deadline in mid-delivery still leaves submitted == delivered + failed + dropped, and
    stats() keeps the final counters after shutdown."""
    sink = _SlowBatchSink()
    fapilog.configure(
        sinks=[sink],
        queue={"capacity": 50, "policy": "wait", "wait_timeout": 5.0, "batch_size": 10},
        sink_defaults={"buffer_capacity": 20, "batch_size": 5},
    )
    log = fapilog.get_logger("acct")
    for i in range(300):
        log.info("e", i=i)
    report = fapilog.shutdown(0.05)
    # The write in progress at the deadline goes on; its records are counted when it ends.
    deadline = time.monotonic() + 10
    while fapilog.stats()["sinks"]["slow"]["in_flight"] and time.monotonic() < deadline:
        time.sleep(0.01)
    stats = fapilog.stats()
    slow = stats["sinks"]["slow"]
    assert stats["state"] == "stopped" and not report.ok and slow["in_flight"] == 0
    assert slow["delivered"] == sink.count
    assert stats["submitted"] == 300 == slow["delivered"] + slow["failed"] + stats["dropped"]["total"]
