"""A write that outlives ``write_timeout`` is waited for, never repeated beside itself: each record reaches the
backend once, and the counters say what really happened (delivered, retried, failed, late_delivered)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from tests._http_server import Answer, RecordingServer
from tests._waiting import wait_for

import fapilog
from fapilog.plugins import PluginMetadata

FAST_RETRY = {"initial_backoff": 0.01, "max_backoff": 0.05, "max_elapsed": 60.0, "max_attempts": 20}


class BlockingBatchSink:
    """A real sink on its own thread whose first ``write_batch`` blocks in sync code (as ``requests.post`` or
    ``time.sleep`` would) until ``release()``, then returns or raises; every call it gets is recorded."""

    def __init__(self, name: str, *, then_raise: bool = False) -> None:
        self.metadata = PluginMetadata(name=name, version="1.0.0", kind="sink", description="Blocks once.")
        self.name = name
        self.then_raise = then_raise
        self.calls: list[list[int]] = []
        self.accepted: list[int] = []
        self._release = threading.Event()
        self._lock = threading.Lock()

    def release(self) -> None:
        self._release.set()

    async def write_batch(self, records: Sequence[Mapping[str, Any]]) -> None:
        with self._lock:
            self.calls.append([r["i"] for r in records])
            first = len(self.calls) == 1
        if first:
            self._release.wait(30)  # blocks the sink's own loop: no cancellation can reach this call
            if self.then_raise:
                raise ConnectionError("backend dropped the connection after the timeout")
        with self._lock:
            self.accepted += [r["i"] for r in records]

    async def write(self, record: Mapping[str, Any]) -> None:
        await self.write_batch([record])


def _log(count: int) -> None:
    log = fapilog.get_logger("once")
    for i in range(count):
        log.info("e", i=i)


def _timed_out(name: str) -> bool:
    """The sink's write is past write_timeout and its batch still in flight (stalled, nothing settled)."""
    sink = fapilog.stats()["sinks"][name]
    return bool(sink["stalled"]) and sink["in_flight"] > 0


def test_a_write_blocking_past_the_timeout_then_succeeding_is_delivered_once() -> None:
    """The batch whose write blocked past write_timeout is not sent again; once the write returns it is counted
    delivered, with no retry and no failure."""
    sink = BlockingBatchSink("blocking_ok")
    fapilog.configure(sinks=[sink], sink_defaults={"write_timeout": 0.1, "retry": FAST_RETRY, "batch_size": 10,
                                                   "batch_max_age": 5.0})
    _log(10)
    assert wait_for(lambda: _timed_out("blocking_ok"))
    sink.release()
    assert fapilog.flush(20.0)
    assert sink.calls == [list(range(10))] and sink.accepted == list(range(10))
    stats = fapilog.stats()["sinks"]["blocking_ok"]
    assert (stats["delivered"], stats["failed"], stats["retried"], stats["late_delivered"]) == (10, 0, 0, 0)
    assert stats["circuit"] == "closed" and not stats["stalled"] and stats["in_flight"] == 0


def test_a_write_blocking_past_the_timeout_then_raising_is_retried_once_it_ended() -> None:
    """When the overdue write finally raises, the batch is retried (the usual classification), and only then:
    the backend gets every record once."""
    sink = BlockingBatchSink("blocking_raise", then_raise=True)
    fapilog.configure(sinks=[sink], sink_defaults={"write_timeout": 0.1, "retry": FAST_RETRY, "batch_size": 10,
                                                   "batch_max_age": 5.0})
    _log(10)
    assert wait_for(lambda: _timed_out("blocking_raise"))
    sink.release()
    assert fapilog.flush(20.0)
    assert sink.calls == [list(range(10)), list(range(10))] and sink.accepted == list(range(10))
    stats = fapilog.stats()["sinks"]["blocking_raise"]
    assert (stats["delivered"], stats["failed"], stats["retried"]) == (10, 0, 1)


def test_later_batches_wait_behind_the_overdue_one_and_arrive_in_order() -> None:
    """Batches logged while a write is overdue are sent after it ends, in order, each record once."""
    sink = BlockingBatchSink("blocking_order")
    fapilog.configure(sinks=[sink], sink_defaults={"write_timeout": 0.1, "retry": FAST_RETRY, "batch_size": 5,
                                                   "batch_max_age": 5.0, "buffer_capacity": 1000})
    _log(5)
    assert wait_for(lambda: _timed_out("blocking_order"))
    log = fapilog.get_logger("once")
    for i in range(5, 25):
        log.info("e", i=i)
    sink.release()
    assert fapilog.flush(20.0)
    assert sink.accepted == list(range(25)) and [i for call in sink.calls for i in call] == list(range(25))
    assert fapilog.stats()["sinks"]["blocking_order"]["delivered"] == 25


def test_a_write_outliving_the_retry_budget_fails_the_batch_and_its_late_delivery_is_counted() -> None:
    """Past the whole budget the batch counts as failed (timeout) and goes to the fallback; when the write then
    completes anyway, late_delivered says the backend has those records, and nothing was sent twice."""
    sink = BlockingBatchSink("blocking_late")
    retry = {"initial_backoff": 0.01, "max_backoff": 0.02, "max_attempts": 2, "max_elapsed": 60.0}
    fapilog.configure(sinks=[sink], sink_defaults={"write_timeout": 0.05, "retry": retry, "batch_size": 10,
                                                   "batch_max_age": 5.0})
    _log(10)
    assert wait_for(lambda: fapilog.stats()["sinks"]["blocking_late"]["failed"] == 10)
    stats = fapilog.stats()["sinks"]["blocking_late"]
    assert stats["errors"] == {"timeout": 10} and stats["fallback"] == 10 and stats["late_delivered"] == 0
    sink.release()
    assert wait_for(lambda: fapilog.stats()["sinks"]["blocking_late"]["late_delivered"] == 10)
    stats = fapilog.stats()["sinks"]["blocking_late"]
    assert sink.calls == [list(range(10))] and stats["delivered"] == 0 and stats["failed"] == 10
    assert stats["retried"] == 0 and stats["in_flight"] == 0


def test_a_batch_queued_behind_a_given_up_write_is_withdrawn_not_sent_late() -> None:
    """A batch whose call never started (queued behind a blocked write) is withdrawn when given up: it is
    counted failed and never reaches the sink afterwards."""
    sink = BlockingBatchSink("blocking_queued")
    retry = {"initial_backoff": 0.01, "max_backoff": 0.02, "max_attempts": 1, "max_elapsed": 60.0}
    fapilog.configure(sinks=[sink], sink_defaults={"write_timeout": 0.05, "retry": retry, "batch_size": 5,
                                                   "batch_max_age": 5.0})
    _log(5)
    assert wait_for(lambda: fapilog.stats()["sinks"]["blocking_queued"]["failed"] == 5)
    log = fapilog.get_logger("once")
    for i in range(5, 10):
        log.info("e", i=i)
    assert wait_for(lambda: fapilog.stats()["sinks"]["blocking_queued"]["failed"] == 10)
    sink.release()
    assert wait_for(lambda: fapilog.stats()["sinks"]["blocking_queued"]["late_delivered"] == 5)
    log.info("e", i=10)
    assert not fapilog.flush(20.0).timed_out
    assert sink.calls == [list(range(5)), [10]]
    stats = fapilog.stats()["sinks"]["blocking_queued"]
    assert (stats["delivered"], stats["failed"], stats["late_delivered"]) == (1, 10, 5)


def test_an_http_answer_after_the_write_timeout_is_delivered_once(http_server: RecordingServer) -> None:
    """The http sink (on the worker's loop) whose server answers 200 only after write_timeout: the request is
    neither cancelled nor sent again; the server stores each record once and the sink counts them delivered."""
    http_server.plan(Answer("slow", delay=30.0))  # read the body, answer 200 once released below
    fapilog.configure(sinks=[{"type": "http", "url": http_server.url, "timeout": 30.0,
                              "delivery": {"write_timeout": 0.1, "retry": FAST_RETRY, "batch_size": 20,
                                           "batch_max_age": 5.0}}])
    _log(20)
    assert wait_for(lambda: _timed_out("http") and len(http_server.requests) == 1)
    http_server.release()
    assert fapilog.flush(20.0)
    assert len(http_server.requests) == 1
    assert [r["i"] for r in http_server.accepted_records()] == list(range(20))
    stats = fapilog.stats()["sinks"]["http"]
    assert (stats["delivered"], stats["failed"], stats["retried"]) == (20, 0, 0)


def test_a_worker_loop_write_outliving_the_budget_is_cancelled_and_counted_failed() -> None:
    """A worker-loop sink's write that never ends is awaited through the budget's turns (the circuit counts
    them), then cancelled: its batch is failed (timeout), sent once, and the write saw the cancellation."""

    class Stuck:
        name = "stuck_loop"
        runs_on_worker_loop = True

        def __init__(self) -> None:
            self.calls = 0
            self.cancelled = threading.Event()

        async def write_batch(self, records: Sequence[Mapping[str, Any]]) -> None:
            self.calls += 1
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                self.cancelled.set()
                raise

        async def write(self, record: Mapping[str, Any]) -> None:
            await self.write_batch([record])

    sink = Stuck()
    retry = {"initial_backoff": 0.01, "max_backoff": 0.02, "max_attempts": 3, "max_elapsed": 60.0}
    fapilog.configure(sinks=[sink], sink_defaults={"write_timeout": 0.05, "retry": retry, "batch_size": 10,
                                                   "batch_max_age": 5.0, "circuit": {"failure_threshold": 2}})
    _log(10)
    assert wait_for(lambda: fapilog.stats()["sinks"]["stuck_loop"]["failed"] == 10)
    assert sink.cancelled.wait(10)
    stats = fapilog.stats()["sinks"]["stuck_loop"]
    assert sink.calls == 1 and stats["errors"] == {"timeout": 10} and stats["retried"] == 0
    assert stats["circuit"] == "open" and stats["in_flight"] == 0 and stats["late_delivered"] == 0


def test_a_per_record_write_given_up_as_hung_that_completes_later_is_counted_late() -> None:
    """A per-record sink on its own thread blocking past write_timeout: its record is counted failed (timeout),
    and late_delivered once the blocked write returns."""

    class SlowEach:
        name = "slow_each"

        def __init__(self) -> None:
            self.release = threading.Event()
            self.got: list[int] = []

        async def write(self, record: Mapping[str, Any]) -> None:
            if not self.got:
                self.release.wait(30)
            self.got.append(record["i"])

    sink = SlowEach()
    fapilog.configure(sinks=[sink], sink_defaults={"write_timeout": 0.05, "batch_size": 3, "batch_max_age": 5.0})
    _log(3)
    assert wait_for(lambda: fapilog.stats()["sinks"]["slow_each"]["failed"] == 3)
    sink.release.set()
    assert wait_for(lambda: fapilog.stats()["sinks"]["slow_each"]["late_delivered"] == 1)
    stats = fapilog.stats()["sinks"]["slow_each"]
    assert sink.got == [0] and stats["delivered"] == 0 and stats["errors"] == {"timeout": 3}


def test_a_shutdown_during_an_overdue_write_reports_it_in_flight_and_counts_how_it_ended() -> None:
    """A shutdown giving up while a thread sink's write is past write_timeout reports its records in flight;
    when the write then returns they are counted delivered, once."""
    sink = BlockingBatchSink("blocking_shutdown")
    fapilog.configure(sinks=[sink], sink_defaults={"write_timeout": 1.0, "retry": FAST_RETRY, "batch_size": 10,
                                                   "batch_max_age": 5.0})
    _log(10)
    assert wait_for(lambda: _timed_out("blocking_shutdown"))
    report = fapilog.shutdown(0.1)
    assert report.timed_out and report.in_flight == 10 and report.undelivered == 0
    sink.release()
    assert wait_for(lambda: fapilog.stats()["sinks"]["blocking_shutdown"]["in_flight"] == 0)
    stats = fapilog.stats()["sinks"]["blocking_shutdown"]
    assert sink.calls == [list(range(10))] and stats["delivered"] == 10 and stats["failed"] == 0
