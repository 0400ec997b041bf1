"""The worker never dies or stalls, and the log call never raises because of fapilog's own state.

Reliability items 1, 3 and 4: a half-imported asyncio seen by a caller, plugins raising ``CancelledError``,
``SystemExit`` or ``KeyboardInterrupt``, and a worker whose loop is killed on purpose.
"""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import textwrap
import threading
import time
import types
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pytest

import fapilog
from fapilog._engine import queue as queue_module
from fapilog._engine import state
from fapilog.builtins.sinks.memory import MemorySink

if TYPE_CHECKING:
    from fapilog._engine.stats_schema import Stats


def _wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


# -- item 1: the log call never raises ----------------------------------------------------------------------
def test_a_half_imported_asyncio_is_not_an_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """While the worker thread is importing asyncio, a caller finding the queue full reads a module that has
    no ``_get_running_loop`` yet: that means "no loop here", never an AttributeError."""
    monkeypatch.setitem(sys.modules, "asyncio.events", types.ModuleType("asyncio.events"))
    assert queue_module._on_event_loop_thread() is False


def test_the_log_call_swallows_and_counts_the_librarys_own_failures(memory: MemorySink) -> None:
    """Even if the queue's wake-up breaks, the caller is unharmed and the event is counted."""
    runtime = state._runtime
    assert runtime is not None

    def broken_wake() -> None:
        raise RuntimeError("simulated internal failure")

    runtime.queue.wake = broken_wake
    runtime.queue.sleeping = True
    fapilog.get_logger("x").info("survives")  # must not raise
    assert fapilog.stats()["dropped"]["by_reason"].get("internal_error") == 1


def test_many_fresh_processes_log_at_full_speed_without_an_exception() -> None:
    """The reproduction from the issue, a few times in fresh processes (the race was ~1 run in 20)."""
    script = textwrap.dedent(
        """
        import fapilog
        log = fapilog.get_logger("b")
        for i in range(20000):
            log.info("x", i=i)
        assert fapilog.flush(60)
        """
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True)
        for _ in range(6)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "Traceback" not in err


# -- item 3: plugins raising BaseException --------------------------------------------------------------------
class _RaisingSink:
    """A sink that raises the given exception type for messages starting with "bad"."""

    def __init__(self, exc: type[BaseException], name: str = "raising") -> None:
        self.name = name
        self.exc = exc
        self.messages: list[str] = []

    async def write(self, record: Mapping[str, Any]) -> None:
        if str(record["message"]).startswith("bad"):
            raise self.exc()
        self.messages.append(record["message"])


@pytest.mark.parametrize("exc", [asyncio.CancelledError, SystemExit, KeyboardInterrupt, GeneratorExit])
def test_a_sink_raising_a_base_exception_is_counted_and_the_worker_goes_on(exc: type[BaseException]) -> None:
    sink, other = _RaisingSink(exc), MemorySink()
    fapilog.configure(sinks=[sink, other])
    log = fapilog.get_logger("r")
    expected = []
    for i in range(9):
        if i % 3 == 1:
            log.info(f"bad{i}")
        else:
            log.info(f"good{i}")
            expected.append(f"good{i}")
    result = fapilog.flush(10.0)
    assert result.failed_sinks == ("raising",) and not result.timed_out
    assert sink.messages == expected
    assert len(other.records) == 9
    stats = fapilog.stats()
    assert stats["sinks"]["raising"]["failed"] == 3
    assert stats["sinks"]["raising"]["errors"] == {exc.__name__: 3}
    # Still alive: later events are delivered, and shutdown has nothing left over.
    log.info("after")
    assert fapilog.flush(10.0)
    assert sink.messages[-1] == "after"
    report = fapilog.shutdown(10.0)
    assert report.ok and report.undelivered == 0


@pytest.mark.parametrize("exc", [asyncio.CancelledError, SystemExit, KeyboardInterrupt])
def test_stages_raising_base_exceptions_are_contained(exc: type[BaseException]) -> None:
    class Enricher:
        name = "bad_enricher"

        async def enrich(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
            raise exc()

    class Filter:
        name = "bad_filter"

        async def filter(self, record: Mapping[str, Any]) -> Mapping[str, Any] | None:
            raise exc()

    sink = MemorySink()
    fapilog.configure(sinks=[sink], enrichers=[Enricher()], filters=[Filter()])
    for i in range(5):
        fapilog.get_logger("s").info("e", i=i)
    assert fapilog.flush(10.0)
    assert [r["i"] for r in sink.records] == list(range(5))
    plugins = fapilog.stats()["plugins"]
    assert plugins["bad_enricher"]["errors"] == 5 and plugins["bad_filter"]["errors"] == 5


def test_a_sink_whose_start_and_stop_raise_system_exit_does_not_kill_the_pipeline() -> None:
    class Sink:
        name = "lifecycle"

        def __init__(self) -> None:
            self.messages: list[str] = []

        async def start(self) -> None:
            raise KeyboardInterrupt

        async def stop(self) -> None:
            raise SystemExit(3)

        async def write(self, record: Mapping[str, Any]) -> None:
            self.messages.append(record["message"])

    other = MemorySink()
    with pytest.raises(fapilog.PluginLoadError, match="KeyboardInterrupt"):
        fapilog.configure(sinks=[Sink(), other])
    # configure() refused it cleanly; the process state is usable.
    fapilog.configure(sinks=[other])
    fapilog.get_logger("x").info("fine")
    assert fapilog.flush(10.0) and [r["message"] for r in other.records] == ["fine"]


# -- item 4: a dead worker is reported and replaced ------------------------------------------------------------
def _kill_worker() -> None:
    runtime = state._runtime
    assert runtime is not None and runtime.worker is not None and runtime.worker.loop is not None

    def boom() -> None:
        raise SystemExit("killed on purpose by the test")

    runtime.worker.loop.call_soon_threadsafe(boom)
    assert runtime.worker.finished.wait(10)


def test_a_dead_worker_is_reported_and_the_next_log_call_restarts_it(capfd: pytest.CaptureFixture[str]) -> None:
    sink = MemorySink()
    fapilog.configure(sinks=[sink], queue={"capacity": 100, "policy": "wait", "wait_timeout": 5.0})
    log = fapilog.get_logger("w")
    log.info("before")
    assert fapilog.flush(10.0)
    dead = state._runtime
    _kill_worker()
    assert dead is not None and dead.state == "failed"
    assert fapilog.stats()["state"] in ("failed", "running")
    assert "worker stopped unexpectedly" in capfd.readouterr().err
    # The dead pipeline's flush says so instead of pretending.
    flushed = dead.flush(1.0)
    assert not flushed.ok and "worker died" in flushed.failed_sinks[0]
    # The next log calls start a new pipeline with the same settings; nothing blocks on the dead queue.
    started = time.monotonic()
    for i in range(300):
        log.info("after", i=i)
    assert time.monotonic() - started < 4.0  # a generous bound: a dead queue would block 5 s per call
    assert fapilog.flush(10.0)
    assert state._runtime is not dead and fapilog.stats()["state"] == "running"
    assert [r["message"] for r in sink.records].count("after") == 300


def test_configure_after_a_dead_worker_starts_a_working_pipeline() -> None:
    sink = MemorySink()
    fapilog.configure(sinks=[sink])
    _kill_worker()
    fapilog.configure(sinks=[sink])
    fapilog.get_logger("w").info("back")
    assert fapilog.flush(10.0)
    assert [r["message"] for r in sink.records] == ["back"]


def test_events_queued_when_the_worker_died_are_delivered_by_its_successor() -> None:
    """Events still in the dead worker's queue are carried over to the restarted pipeline, in order."""
    sink = MemorySink()
    fapilog.configure(sinks=[sink])
    runtime = state._runtime
    assert runtime is not None and runtime.worker is not None and runtime.worker.loop is not None
    gate_entered = threading.Event()
    gate_open = threading.Event()

    def block_then_die() -> None:
        gate_entered.set()
        gate_open.wait(10)
        raise SystemExit("killed")

    runtime.worker.loop.call_soon_threadsafe(block_then_die)
    assert gate_entered.wait(10)
    log = fapilog.get_logger("w")
    for i in range(50):
        log.info("queued", i=i)
    gate_open.set()
    assert runtime.worker.finished.wait(10)
    log.info("next")  # starts the successor, which adopts the 50 queued events first
    assert fapilog.flush(10.0)
    assert [r.get("i") for r in sink.records] == [*range(50), None]


def test_ahealth_of_a_dead_worker_reports_every_plugin_unhealthy_like_health() -> None:
    """After the worker died, ahealth() answers as health() does (unhealthy, FL-HLT-002), without raising."""
    fapilog.configure(sinks=[MemorySink()])
    _kill_worker()
    sync = fapilog.health(timeout=0.5)
    answer = asyncio.run(fapilog.ahealth(timeout=0.5))
    assert set(answer) == set(sync) == {"secrets", "memory"}
    assert all(h.status == "unhealthy" and h.code == "FL-HLT-002" for h in answer.values())


def _sink_identity_holds(stats: Stats, sink: str) -> bool:
    counts = stats["sinks"][sink]
    accounted = counts["delivered"] + counts["failed"] + stats["dropped"]["total"]
    return stats["submitted"] + stats["split_extra"] == accounted


def test_counters_carry_over_a_restart_and_the_identities_still_hold() -> None:
    """After the supervisor replaced a dead worker, stats() counts both pipelines' events and says it restarted."""
    sink = MemorySink()
    fapilog.configure(sinks=[sink], filters=[{"type": "level", "level": "INFO"}], level="DEBUG")
    log = fapilog.get_logger("w")
    for i in range(10):
        log.info("before", i=i)
    log.debug("filtered away")
    assert fapilog.flush(10.0)
    assert fapilog.stats()["restarts"] == 0
    _kill_worker()
    for i in range(5):
        log.info("after", i=i)
    assert fapilog.flush(10.0)
    stats = fapilog.stats()
    assert stats["state"] == "running" and stats["restarts"] == 1
    assert stats["submitted"] == 16 and stats["processed"] == 16
    assert stats["sinks"]["memory"]["delivered"] == len(sink.records) == 15
    assert stats["dropped"]["by_reason"] == {"filtered:level": 1} and stats["dropped"]["intentional"] == 1
    assert _sink_identity_holds(stats, "memory")


def test_records_a_dead_worker_never_wrote_are_counted_failed_after_the_restart() -> None:
    """Records held in a sink's buffer when the worker died count as failed (worker_died), so the identity holds."""

    class StuckSink(MemorySink):
        """A memory sink whose writes never end while ``stuck`` (the worker dies while one waits)."""

        stuck = True

        async def write_batch(self, records: Sequence[Mapping[str, Any]]) -> None:
            if self.stuck:
                await asyncio.Event().wait()  # never set: cancelled when the worker's loop dies
            await super().write_batch(records)

    stuck = StuckSink()
    fapilog.configure(sinks=[stuck], sink_defaults={"write_timeout": 300.0})  # no write timeout before the kill
    log = fapilog.get_logger("w")
    for i in range(3):
        log.info("held", i=i)
    runtime = state._runtime
    assert runtime is not None
    assert _wait_until(lambda: fapilog.stats()["sinks"]["memory"]["in_flight"] + fapilog.stats()["sinks"]["memory"][
        "buffered"] == 3)
    _kill_worker()
    stuck.stuck = False
    log.info("after")
    assert fapilog.flush(10.0)
    stats = fapilog.stats()
    counts = stats["sinks"]["memory"]
    assert stats["restarts"] == 1 and stats["submitted"] == 4
    assert counts["failed"] == 3 and counts["errors"] == {"worker_died": 3}
    assert counts["delivered"] == 1 and counts["buffered"] == counts["in_flight"] == 0
    assert _sink_identity_holds(stats, "memory")


def test_a_replaced_pipeline_is_let_go_once_its_counters_are_kept() -> None:
    """After a restart the dead pipeline is released (only its counters are kept), stats() called or not."""
    sink = MemorySink()
    fapilog.configure(sinks=[sink])
    log = fapilog.get_logger("w")
    log.info("before")
    assert fapilog.flush(10.0)
    dead = weakref.ref(state._runtime) if state._runtime is not None else None
    _kill_worker()
    log.info("after")
    assert fapilog.flush(10.0)
    gc.collect()
    assert dead is not None and dead() is None
    assert fapilog.stats()["sinks"]["memory"]["delivered"] == 2


def test_submitted_never_goes_backwards_while_a_dead_worker_waits_for_its_successor() -> None:
    """Events a dead worker's queue forwards to the next pipeline stay counted: stats() counters only grow."""
    sink = MemorySink()
    fapilog.configure(sinks=[sink])
    log = fapilog.get_logger("w")
    seen: list[int] = []
    for round_ in range(3):
        runtime = state._runtime
        assert runtime is not None and runtime.worker is not None and runtime.worker.loop is not None
        entered, release = threading.Event(), threading.Event()

        def block_then_die(entered: threading.Event = entered, release: threading.Event = release) -> None:
            entered.set()
            release.wait(10)
            raise SystemExit("killed")

        runtime.worker.loop.call_soon_threadsafe(block_then_die)
        assert entered.wait(10)
        for i in range(20):
            log.info("queued", round=round_, i=i)
        seen.append(fapilog.stats()["submitted"])
        release.set()
        assert runtime.worker.finished.wait(10)
        dead = fapilog.stats()
        seen.append(dead["submitted"])
        assert dead["state"] == "failed" and dead["queue"]["depth"] == 20  # waiting for the next pipeline
        log.info("next", round=round_)
        seen.append(fapilog.stats()["submitted"])
        assert fapilog.flush(10.0)
        seen.append(fapilog.stats()["submitted"])
    assert seen == sorted(seen) and seen[-1] == 63 == len(sink.records)
    stats = fapilog.stats()
    assert stats["restarts"] == 3 and stats["processed"] == 63 and _sink_identity_holds(stats, "memory")
