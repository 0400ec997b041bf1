"""A worker the supervisor gave up on never slows the application, and a flush never waits on a dead worker.

Past ``_MAX_RESTARTS_PER_MINUTE`` deaths the supervisor stops restarting (FL-RUN-009): every log call then
counts its event as dropped (``worker_dead``) at once, whatever the queue policy; what the dead queue held is
counted too; flush, shutdown and the exit drain return at once and say what was not delivered. A flush whose
marker a dying worker held completes through the restarted worker.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
from typing import TYPE_CHECKING, Any

import pytest
from tests._waiting import wait_for

import fapilog
from fapilog._engine import handover, state
from fapilog._engine import queue as queue_module
from fapilog._engine.flush_marker import FlushMarker
from fapilog._engine.results import FlushResult
from fapilog.builtins.sinks.memory import MemorySink
from fapilog.testing import capture_events

if TYPE_CHECKING:
    from fapilog._engine.runtime import Runtime
    from fapilog._engine.stats_schema import Stats

_PATIENT = {"capacity": 10, "policy": "wait", "wait_timeout": 30.0}
"""A small queue whose callers would wait 30 s for room: a test that waits even once does not finish quietly."""


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts calls of the queue's wait for room (sync and awaitable): each is a log call that blocked."""
    calls: list[int] = []
    sync_wait = queue_module.EventQueue._wait_for_room
    loop_wait = queue_module.EventQueue._wait_on_loop

    def counted_sync(self: queue_module.EventQueue, item: tuple[Any, ...], limit: int) -> bool:
        calls.append(limit)
        return sync_wait(self, item, limit)

    def counted_loop(self: queue_module.EventQueue, item: tuple[Any, ...], limit: int, reason: str) -> Any:
        calls.append(limit)
        return loop_wait(self, item, limit, reason)

    monkeypatch.setattr(queue_module.EventQueue, "_wait_for_room", counted_sync)
    monkeypatch.setattr(queue_module.EventQueue, "_wait_on_loop", counted_loop)
    return calls


def _running() -> Runtime:
    runtime = state._runtime
    assert runtime is not None and runtime.booted.wait(10)
    assert runtime.worker is not None and runtime.worker.started.wait(10)
    return runtime


def _kill(runtime: Runtime, *, hold: threading.Event | None = None) -> None:
    """End ``runtime``'s worker the way a bug would: an exception escaping its loop (after ``hold`` is set)."""
    worker = runtime.worker
    assert worker is not None and worker.loop is not None
    entered = threading.Event()

    def boom() -> None:
        entered.set()
        if hold is not None:
            hold.wait(10)
        raise SystemExit("killed on purpose by the test")

    worker.loop.call_soon_threadsafe(boom)
    assert entered.wait(10)
    if hold is None:
        assert worker.finished.wait(10)


def _exhaust_restarts(log: fapilog.Logger) -> None:
    """Kill the worker until the supervisor stops restarting it (each log call in between restarts it)."""
    for attempt in range(state._MAX_RESTARTS_PER_MINUTE):
        _kill(_running())
        log.info("restart", attempt=attempt)
    _kill(_running())
    assert state._runtime is not None and state._runtime.state == "failed"


def _identity_holds(stats: Stats, sink: str) -> bool:
    counts = stats["sinks"][sink]
    accounted = counts["delivered"] + counts["failed"] + stats["dropped"]["total"]
    return stats["submitted"] + stats["split_extra"] == accounted and counts["buffered"] == counts["in_flight"] == 0


def _flush_in_background() -> tuple[threading.Thread, list[FlushResult]]:
    results: list[FlushResult] = []
    flusher = threading.Thread(target=lambda: results.append(fapilog.flush(timeout=60.0)))
    flusher.start()
    return flusher, results


@pytest.fixture
def given_up(waits: list[int]) -> tuple[MemorySink, fapilog.Logger]:
    """A pipeline whose worker died once too often: the supervisor gave up on it."""
    sink = MemorySink()
    fapilog.configure(sinks=[sink], queue=_PATIENT)
    log = fapilog.get_logger("dead")
    _exhaust_restarts(log)
    return sink, log


@pytest.mark.parametrize("policy", ["wait", "drop_newest", "drop_oldest"])
def test_log_calls_after_the_give_up_count_their_events_without_waiting(policy: str, waits: list[int]) -> None:
    """Once nobody will drain the queue, each log call counts its event as worker_dead and never waits for room."""
    sink = MemorySink()
    fapilog.configure(sinks=[sink], queue={**_PATIENT, "policy": policy})
    log = fapilog.get_logger("dead")
    _exhaust_restarts(log)
    for i in range(50):
        log.info("lost", i=i)
    stats = fapilog.stats()
    assert waits == [] and not handover.waiting()
    assert stats["dropped"]["by_reason"].get("worker_dead") == 50
    assert stats["queue"]["depth"] == 0 and _identity_holds(stats, "memory")


def test_awaitable_log_calls_after_the_give_up_count_their_events_without_waiting(
    given_up: tuple[MemorySink, fapilog.Logger], waits: list[int]
) -> None:
    """`await log.ainfo()` after the give-up returns at once and counts its event as worker_dead."""
    _, log = given_up

    async def log_many() -> None:
        for i in range(30):
            await log.ainfo("lost", i=i)

    asyncio.run(log_many())
    assert waits == []
    assert fapilog.stats()["dropped"]["by_reason"].get("worker_dead") == 30


def test_events_queued_when_the_supervisor_gave_up_are_counted_not_left_pending(waits: list[int]) -> None:
    """Events still in the dead queue at the give-up count as worker_dead: none stays pending forever."""
    sink = MemorySink()
    fapilog.configure(sinks=[sink], queue={**_PATIENT, "capacity": 100})
    log = fapilog.get_logger("dead")
    for attempt in range(state._MAX_RESTARTS_PER_MINUTE):
        _kill(_running())
        log.info("restart", attempt=attempt)
    runtime = _running()
    release = threading.Event()
    _kill(runtime, hold=release)
    for i in range(20):
        log.info("queued", i=i)
    release.set()
    assert runtime.worker is not None and runtime.worker.finished.wait(10)
    stats = fapilog.stats()
    assert stats["state"] == "failed" and stats["queue"]["depth"] == 0
    assert stats["dropped"]["by_reason"].get("worker_dead") == 20 and _identity_holds(stats, "memory")
    assert waits == []


def test_flush_after_the_give_up_returns_at_once_and_says_why(given_up: tuple[MemorySink, fapilog.Logger]) -> None:
    """flush() on a given-up pipeline neither waits its timeout nor restarts the worker: ok is False, reason named."""
    _, log = given_up
    log.info("lost")
    restarts = fapilog.stats()["restarts"]
    result = fapilog.flush(timeout=60.0)
    assert not result.ok and not result.timed_out
    assert "configure()" in result.failed_sinks[0] and "worker_dead" in result.failed_sinks[0]
    stats = fapilog.stats()
    assert stats["state"] == "failed" and stats["restarts"] == restarts


def test_a_flush_waiting_in_the_queue_when_the_supervisor_gives_up_fails_fast(waits: list[int]) -> None:
    """A flush whose marker was queued behind the final death returns ok=False instead of waiting its timeout."""
    sink = MemorySink()
    fapilog.configure(sinks=[sink], queue={**_PATIENT, "capacity": 100})
    log = fapilog.get_logger("dead")
    for attempt in range(state._MAX_RESTARTS_PER_MINUTE):
        _kill(_running())
        log.info("restart", attempt=attempt)
    runtime = _running()
    release = threading.Event()
    _kill(runtime, hold=release)
    log.info("queued")
    flusher, results = _flush_in_background()
    assert wait_for(lambda: runtime.queue.markers == 1)
    release.set()
    flusher.join(30)
    assert not flusher.is_alive() and len(results) == 1
    # The sink is named too when the last death lost an event in the stage chain (the worker may die there).
    assert not results[0].ok and not results[0].timed_out
    assert any("worker_dead" in failure for failure in results[0].failed_sinks)


def test_shutdown_after_the_give_up_returns_at_once_and_reports_the_drops(
    given_up: tuple[MemorySink, fapilog.Logger],
) -> None:
    """shutdown() of a given-up pipeline ends at once; its report lists the worker_dead drops."""
    _, log = given_up
    for i in range(7):
        log.info("lost", i=i)
    report = fapilog.shutdown(timeout=60.0)
    assert not report.timed_out and report.dropped.get("worker_dead") == 7


def test_configure_after_the_give_up_starts_a_working_pipeline(given_up: tuple[MemorySink, fapilog.Logger]) -> None:
    """configure() after the give-up starts a pipeline that delivers again, with no restart counted."""
    sink, log = given_up
    log.info("lost")
    fapilog.configure(sinks=[sink])
    log.info("back")
    assert fapilog.flush(10.0)
    assert [r["message"] for r in sink.records][-1] == "back"
    stats = fapilog.stats()
    assert stats["state"] == "running" and stats["restarts"] == 0 and "worker_dead" not in stats["dropped"]["by_reason"]


def test_a_capture_block_ending_after_the_give_up_does_not_restart_the_worker(
    given_up: tuple[MemorySink, fapilog.Logger],
) -> None:
    """Leaving a fapilog.testing capture block after the give-up keeps counting instead of restarting the worker."""
    _, log = given_up
    with capture_events():
        log.info("captured")
    log.info("lost")
    stats = fapilog.stats()
    assert stats["state"] == "failed" and stats["dropped"]["by_reason"].get("worker_dead") == 1


def test_the_exit_drain_after_the_give_up_ends_at_once_and_reports_the_drops(tmp_path: Any) -> None:
    """A process whose worker was given up on exits without waiting exit_timeout and names the worker_dead drops."""
    script = textwrap.dedent(
        """
        import fapilog
        from fapilog._engine import state
        from fapilog.builtins.sinks.memory import MemorySink

        fapilog.configure(sinks=[MemorySink()], exit_timeout=120.0,
                          queue={"capacity": 10, "policy": "wait", "wait_timeout": 30.0})
        log = fapilog.get_logger("dead")
        for attempt in range(state._MAX_RESTARTS_PER_MINUTE + 1):
            runtime = state._runtime
            assert runtime.booted.wait(10) and runtime.worker.started.wait(10)
            def boom():
                raise SystemExit("killed on purpose")
            runtime.worker.loop.call_soon_threadsafe(boom)
            assert runtime.worker.finished.wait(10)
            log.info("after death", attempt=attempt)
        for i in range(40):
            log.info("lost", i=i)
        print("logged", flush=True)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "logged"
    assert "exit drain gave up" not in done.stderr
    assert "worker_dead=41" in done.stderr and "[FL-LOG-010]" in done.stderr


# -- a flush whose marker the dying worker held ---------------------------------------------------------------
def _hold_the_batch_lock(runtime: Runtime) -> None:
    """Take the worker's batch lock (as a plugin reload does): the next batch waits, held, for it."""
    worker = runtime.worker
    assert worker is not None and worker.loop is not None and worker.batch_lock is not None
    lock = worker.batch_lock
    asyncio.run_coroutine_threadsafe(lock.acquire(), worker.loop).result(10)


def test_a_flush_queued_behind_events_the_dying_worker_held_completes_through_the_restarted_worker() -> None:
    """Held events and the flush marker behind them go to the successor, in order; it settles the flush (ok)."""
    sink = MemorySink()
    fapilog.configure(sinks=[sink])
    log = fapilog.get_logger("held")
    runtime = _running()
    worker = runtime.worker
    assert worker is not None
    _hold_the_batch_lock(runtime)
    log.info("a")
    flusher, results = _flush_in_background()
    assert wait_for(lambda: runtime.queue.markers == 1 and bool(worker.holding))
    log.info("b")
    _kill(runtime)
    flusher.join(30)
    assert not flusher.is_alive() and len(results) == 1
    assert results[0].ok and not results[0].timed_out
    assert [r["message"] for r in sink.records][:1] == ["a"]
    log.info("c")
    assert fapilog.flush(10.0)
    assert [r["message"] for r in sink.records] == ["a", "b", "c"]
    assert fapilog.stats()["restarts"] == 1


class _Gate:
    """An enricher that holds back each record whose message names a gate until that gate opens (never, for
    some): the worker is busy in the stage chain, as with a slow plugin, when the test kills it."""

    name = "gate"

    def __init__(self, *messages: str) -> None:
        self.entered = {message: threading.Event() for message in messages}
        self._gates: dict[str, asyncio.Event] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    async def enrich(self, record: Any) -> dict[str, Any]:
        message = record["message"]
        if message in self.entered:
            gate = self._gates[message] = asyncio.Event()
            self._loop = asyncio.get_running_loop()
            self.entered[message].set()
            await gate.wait()
        return {}

    def open(self, message: str) -> None:
        """Let the held record of ``message`` go on (from the test's thread)."""
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._gates[message].set)


def test_a_flush_whose_marker_the_dying_worker_held_is_settled_by_its_successor_naming_the_loss() -> None:
    """A marker held behind a batch the worker died in goes to the successor: the flush ends, naming the sink."""
    sink = MemorySink()
    gate = _Gate("x", "a")
    fapilog.configure(sinks=[sink], enrichers=[gate])
    log = fapilog.get_logger("held")
    runtime = _running()
    worker = runtime.worker
    assert worker is not None
    log.info("x")
    assert gate.entered["x"].wait(10)
    log.info("a")
    flusher, results = _flush_in_background()
    assert wait_for(lambda: runtime.queue.markers == 1)
    log.info("b")
    gate.open("x")  # the worker takes a, the marker and b in one batch, and stays in the chain with a
    assert gate.entered["a"].wait(10)
    assert wait_for(lambda: any(isinstance(item, FlushMarker) for item in worker.holding))
    _kill(runtime)
    flusher.join(30)
    assert not flusher.is_alive() and len(results) == 1
    assert not results[0].ok and not results[0].timed_out and results[0].failed_sinks == ("memory",)
    assert fapilog.flush(10.0).ok  # b was logged after the first flush's marker: only this one waits for it
    assert [r["message"] for r in sink.records] == ["x", "b"]
    stats = fapilog.stats()
    assert stats["restarts"] == 1 and stats["sinks"]["memory"]["errors"] == {"worker_died": 1}
    assert _identity_holds(stats, "memory")


def test_a_flush_whose_marker_a_dead_workers_sink_held_fails_fast_naming_the_sink() -> None:
    """A marker already in a sink's buffer when the worker died fails that sink's part of the flush at once."""

    class StuckSink(MemorySink):
        """A memory sink whose writes never end while ``stuck`` (the worker dies while one waits)."""

        stuck = True

        async def write_batch(self, records: Any) -> None:
            if self.stuck:
                await asyncio.Event().wait()  # never set: cancelled when the worker's loop dies
            await super().write_batch(records)

    stuck = StuckSink()
    fapilog.configure(sinks=[stuck], sink_defaults={"write_timeout": 300.0})
    log = fapilog.get_logger("held")
    runtime = _running()
    log.info("in a write")
    assert wait_for(lambda: fapilog.stats()["sinks"]["memory"]["in_flight"] == 1)
    flusher, results = _flush_in_background()
    assert wait_for(lambda: runtime.queue.markers == 0 and runtime.worker is not None
                    and any(isinstance(item, FlushMarker) for item in runtime.worker.sinks[0].buffer))
    _kill(runtime)
    flusher.join(30)
    assert not flusher.is_alive() and len(results) == 1
    assert not results[0].ok and not results[0].timed_out and results[0].failed_sinks == ("memory",)


def test_health_and_plugin_control_after_the_give_up_answer_without_restarting_the_worker(
    given_up: tuple[MemorySink, fapilog.Logger],
) -> None:
    """health() says every plugin is unhealthy and load_plugin() raises FL-RUN-005; neither restarts the worker."""
    answer = fapilog.health(timeout=0.5)
    assert answer and all(h.status == "unhealthy" for h in answer.values())
    with pytest.raises(fapilog.PluginError) as raised:
        fapilog.load_plugin("sink", MemorySink())
    assert raised.value.code == "FL-RUN-005"
    assert fapilog.stats()["state"] == "failed"


def test_events_inside_the_stage_chain_when_the_last_worker_died_are_counted_failed() -> None:
    """The pipeline nobody restarts counts the event its dead worker had in the stage chain as failed
    (``worker_died``) in its own stats(), so the identity holds without a successor to carry it over."""
    sink = MemorySink()
    gate = _Gate("held")
    fapilog.configure(sinks=[sink], enrichers=[gate])
    log = fapilog.get_logger("held")
    for attempt in range(state._MAX_RESTARTS_PER_MINUTE):
        _kill(_running())
        log.info("restart", attempt=attempt)
    runtime = _running()
    log.info("held")
    assert gate.entered["held"].wait(10)  # in the chain, on its way to the sink
    _kill(runtime)
    stats = fapilog.stats()
    assert stats["state"] == "failed"
    counts = stats["sinks"]["memory"]
    assert counts["failed"] >= 1 and counts["errors"].get("worker_died", 0) >= 1
    assert _identity_holds(stats, "memory")
