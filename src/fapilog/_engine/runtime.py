"""One configured pipeline: its queue, its worker thread, and flush, shutdown, stats and plugin control.

Creating a runtime and starting it costs the caller a queue and a thread start. Everything heavy — asyncio,
plugin discovery and import, plugin construction and ``start()`` — happens on the worker thread, so even
the very first log call of a process stays cheap. :func:`fapilog.configure` waits for that start and raises
what went wrong; a runtime started lazily by a log call reports problems on stderr instead.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from fapilog._engine import handover, reentry
from fapilog._engine.emit import capture_hooks, make_counting_emit, make_emit
from fapilog._engine.notices import warn
from fapilog._engine.queue import EventQueue, FlushMarker, Handover
from fapilog._engine.results import FlushResult, ShutdownReport
from fapilog._engine.start_delay import BuildClaim
from fapilog._kit.context import get_context
from fapilog._kit.levels import parse_level
from fapilog.errors import UsageError
from fapilog.settings import LoggingSettings

if TYPE_CHECKING:
    from fapilog._engine.carry_over import Predecessor
    from fapilog._engine.direct import Delivered
    from fapilog._engine.stats_schema import PluginStats, SinkStats, Stats
    from fapilog._engine.worker import PipelineWorker

__all__ = ["Runtime"]

_WORKER_THREAD_ERROR = "<called from the worker thread: would deadlock>"
_WORKER_DIED = "<the worker died: see stderr; the next log call or configure() starts a new one>"
_SETTLE_WAIT = 1.0
"""Seconds a restarted pipeline's worker waits for the dead worker's thread to end before reading its counters."""


class Runtime:
    """Owns one pipeline's lifetime; the process-wide state in :mod:`fapilog._engine.state` holds the current one."""

    def __init__(self, settings: LoggingSettings, *, lazy: bool = False) -> None:
        self.settings = settings
        q = settings.queue
        self.queue = EventQueue(
            q.capacity,
            q.policy,
            wait_timeout=q.wait_timeout,
            protect_level=parse_level(q.protect_level, field="queue.protect_level"),
            loop_overflow=q.loop_overflow,
        )
        self.emit = make_emit(self.queue, in_pipeline=self.on_worker_thread)
        self.state = "new"
        self.worker: PipelineWorker | None = None
        self.build_error: BaseException | None = None
        self.booted = threading.Event()
        """Set once the worker exists (or building the pipeline failed)."""
        self.thread: threading.Thread | None = None
        self._lazy = lazy
        self._lock = threading.Lock()
        self.on_emit_changed: Callable[[Callable[..., None], Callable[..., None]], None] = _ignore
        """Called with (old, new) when the capture function changes, so loggers can switch over."""
        self.handover: Handover | None = None
        """Where events go that arrive once this pipeline stopped taking them (the next pipeline, if any)."""
        self.on_failed: Callable[[Runtime], None] = _ignore_failure
        """Called (from the dying worker's thread) when the worker died: a supervisor starts a new one."""
        self.restarts = 0
        """How many dead workers this pipeline replaced, one after the other, since the last ``configure()``."""
        self.abandoned: str | None = None
        """Why nobody will restart this pipeline's dead worker (see :meth:`abandon`); what a flush then reports."""
        self._predecessor: Predecessor | None = None
        self._claim = BuildClaim() if lazy else None
        """Who builds a pipeline a log call started, and when (``fapilog._engine.start_delay``)."""
        self.direct: Delivered | None = None
        """What a shutdown delivered without a worker (None when the worker delivered, or nothing was)."""

    # -- lifecycle --------------------------------------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            if self.state == "new":
                if self._claim is not None:  # until the worker runs, a flush or a full queue ends the delay
                    self.queue.wake = self._claim.now
                    self.queue.lingering = True
                self.thread = threading.Thread(target=self._boot, name="fapilog-worker", daemon=True)
                self.thread.start()
                self.state = "running"

    def boot_now(self) -> None:
        """End the start delay: build the pipeline now (what waits for the worker calls this first)."""
        if self._claim is not None:
            self._claim.now()

    def _boot(self) -> None:
        if self._claim is not None:
            if not self._claim.worker_takes():
                return  # a shutdown delivered everything without a worker
            self.queue.lingering = False
        from fapilog._engine.builder import build_pipeline
        from fapilog._engine.worker import PipelineWorker

        if self._predecessor is not None:
            self._predecessor.settle(_SETTLE_WAIT)

        try:
            built = build_pipeline(self.settings)
        except Exception as exc:  # noqa: BLE001 - raised by configure(), or reported when started lazily
            self.build_error = exc
            if not self._lazy:
                self.booted.set()
                return
            warn("lazy-config", f"configuration from FAPILOG_* settings failed: {exc}; events go to stderr as "
                 "JSON lines until fapilog.configure() succeeds", force=True, code="FL-RUN-006")
            built = build_pipeline(LoggingSettings.load({"sinks": [{"type": "stderr", "format": "json"}]},
                                                        environ={}))
        queue = self.settings.queue
        self.worker = PipelineWorker(self.queue, built, batch_size=queue.batch_size, linger=queue.linger)
        self.worker.on_died = self._worker_died
        self.worker.report_start_failures = self._lazy  # configure() raises them; nobody else would
        self.refresh_emit()
        self.booted.set()
        self.worker.run()

    def refresh_emit(self) -> None:
        """Rebuild the capture function for the enrichers now running (after build, load, unload, reload)."""
        hooks = capture_hooks(self.worker.pipeline.stages) if self.worker is not None else []
        old, self.emit = self.emit, make_emit(self.queue, hooks, in_pipeline=self.on_worker_thread)
        self.on_emit_changed(old, self.emit)

    def wait_started(self, timeout: float) -> dict[str, BaseException]:
        """Wait for the pipeline to be built and every plugin's ``start()``; returns failures by plugin name."""
        deadline = time.monotonic() + timeout
        self.boot_now()
        if not self.booted.wait(timeout):
            return {"<startup>": TimeoutError(f"the pipeline was not built within {timeout}s")}
        if self.build_error is not None:
            raise self.build_error
        worker = self.worker
        assert worker is not None
        if not worker.started.wait(max(0.0, deadline - time.monotonic())):
            return {worker.starting or "<startup>": TimeoutError(f"its start() did not finish within {timeout}s")}
        return dict(worker.start_failures)

    def replaces(self, dead: Runtime) -> None:
        """This pipeline takes over from ``dead`` (its worker died): :meth:`stats` carries its counters over."""
        self.restarts = dead.restarts + 1
        from fapilog._engine.carry_over import Predecessor  # only after a worker died: off the start-up path

        self._predecessor = Predecessor(dead)

    def on_worker_thread(self) -> bool:
        """Whether the caller is code this pipeline runs: the worker, a sink's own thread, an offloaded call.

        Such code must not wait for the pipeline (flush, shutdown, configure): the pipeline waits for it.
        """
        return threading.current_thread() is self.thread or reentry.from_pipeline(get_context())

    def _worker_died(self, exc: BaseException) -> None:
        """The worker's loop ended without a stop: nobody may wait on this queue any more."""
        with self._lock:
            if self.state != "running":
                return
            self.state = "failed"
        worker = self.worker
        held = worker.holding if worker is not None else []
        if held:
            # Taken but never processed, and logged before everything still queued (flush markers included):
            # back to the head of the queue, which the next pipeline takes over.
            with self.queue.lock:
                self.queue.items.extendleft(reversed(held))
        if worker is not None:
            from fapilog._engine.carry_over import settle_markers  # only after a worker died

            settle_markers(worker, list(self.queue.items) if self.queue.markers else [])
        self.queue.close(self.handover)
        self.on_failed(self)

    def abandon(self, failure: str) -> None:
        """Nobody will restart this pipeline's dead worker: :attr:`emit` only counts each event (``worker_dead``),
        what the queue holds is counted the same way, and every flush waiting on it, or asked for later, ends at
        once with ``failure``. No log call waits for room that will never come."""
        self.abandoned = failure
        self.emit = make_counting_emit(self.queue, "worker_dead")
        self.queue.discard("worker_dead", failure)

    def _send_marker(self) -> FlushMarker | FlushResult:
        """Queue a flush marker, or say why no flush is needed or possible."""
        if self.state == "failed":
            return FlushResult(ok=False, failed_sinks=(self.abandoned or _WORKER_DIED,))
        if self.state != "running":
            return FlushResult(ok=True)
        if self.on_worker_thread():
            return FlushResult(ok=False, failed_sinks=(_WORKER_THREAD_ERROR,))
        marker = FlushMarker()
        self.queue.put_marker(marker)
        return marker

    def flush(self, timeout: float) -> FlushResult:
        """Block until everything logged before this call reached every sink, or ``timeout`` passed."""
        marker = self._send_marker()
        if isinstance(marker, FlushResult):
            return marker
        try:
            failed = marker.future.result(timeout)
        except TimeoutError:
            return self._timed_out(marker)
        return FlushResult(ok=not failed, failed_sinks=tuple(failed))

    async def aflush(self, timeout: float) -> FlushResult:
        """:meth:`flush` for async code: awaits without blocking the caller's event loop."""
        import asyncio

        marker = self._send_marker()
        if isinstance(marker, FlushResult):
            return marker
        try:
            failed = await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(marker.future)), timeout)
        except TimeoutError:
            return self._timed_out(marker)
        return FlushResult(ok=not failed, failed_sinks=tuple(failed))

    def _timed_out(self, marker: FlushMarker) -> FlushResult:
        passed = set(marker.passed_by) - set(marker.failed)
        sinks = self.worker.sinks if self.worker is not None else []
        waiting = tuple(r.name for r in sinks if r.name not in passed) or ("<queue>",)
        pending = {r.name: r.pending() for r in sinks if r.name not in passed}
        return FlushResult(ok=False, timed_out=True, failed_sinks=waiting, pending=pending)

    def shutdown(self, timeout: float) -> ShutdownReport:
        """Deliver what is queued, stop every plugin, end the worker — all within ``timeout``.

        The intake closes first: from then on nobody waits for room in this queue, and an event that finds it
        full goes to :attr:`handover` (the next pipeline). Then the worker drains, stops every plugin and ends.
        At the deadline it gives up: what never reached a sink is counted as undelivered, and a write still in
        progress is reported as in flight (its outcome is counted when it ends).
        """
        if self.on_worker_thread():  # refuse before changing anything: the pipeline stays as it was
            raise UsageError(
                "fapilog.shutdown() cannot be called from a plugin running on the worker", code="FL-RUN-010"
            )
        with self._lock:
            if self.state not in ("running", "failed"):
                self.state = "stopped"
                return ShutdownReport(ok=True)
            self.state = "stopping"
        deadline = time.monotonic() + timeout
        self.queue.close(self.handover)
        direct = self._deliver_directly(deadline)
        if direct is None:
            self.boot_now()
            self.booted.wait(max(0.0, deadline - time.monotonic()))
        worker = self.worker
        details: dict[str, int] = {}
        in_flight = 0
        finished = True
        if direct is not None:
            details, in_flight = dict(direct.undelivered), direct.in_flight
            finished = not details and not in_flight
        elif worker is not None:
            worker.request_stop()
            finished = worker.finished.wait(max(0.0, deadline - time.monotonic()))
            if not finished:
                from fapilog._engine.give_up import give_up  # only past the deadline

                worker.gave_up = True
                details, in_flight = give_up(worker)
        elif not self.booted.is_set():
            finished = False
        taken = self.queue.take_all()
        delivered = finished and (direct is not None or (worker is not None and worker.death is None))
        left = 0 if delivered else sum(not isinstance(item, FlushMarker) for item in taken)
        if left:
            details["queue"] = left
            self.queue.count("shutdown_timeout", left)
        handover.pass_on(self.queue, taken, delivered=delivered)
        # Callers that read this pipeline's capture function just before the log calls were routed elsewhere
        # may still append here: from now on each forwards its own event before its call returns.
        self.queue.seal()
        with self._lock:
            self.state = "stopped"
        undelivered = sum(details.values())
        return ShutdownReport(
            ok=undelivered == 0 and in_flight == 0,
            undelivered=undelivered,
            timed_out=not finished,
            details=details,
            in_flight=in_flight,
            dropped=self._unintentional_drops(),
        )

    def _deliver_directly(self, deadline: float) -> Delivered | None:
        """Deliver what is queued on this thread, without building a worker, when the worker has not started
        building yet and every plugin can run here (``fapilog._engine.direct``); None otherwise."""
        claim = self._claim
        if claim is None or self._predecessor is not None or self.queue.markers or not claim.shutdown_takes():
            return None
        done = None
        try:
            from fapilog._engine.direct import deliver_queued

            done = deliver_queued(self.queue, self.settings, deadline)
        finally:
            claim.settle(delivered=done is not None)
        if done is not None:
            self.direct = done
            self.booted.set()
        return done

    def _unintentional_drops(self) -> dict[str, int]:
        by_reason, _ = _drops(self.queue.snapshot_drops(), self.worker)
        return {reason: n for reason, n in by_reason.items() if n and not reason.startswith("filtered:")}

    # -- observability ----------------------------------------------------------------------------------
    def stats(self, *, forwarded: bool = True) -> Stats:
        """This pipeline's snapshot; before its worker exists, the same constructors with zero counters and no
        sinks or plugins (nothing is built before the first log call). After its worker died, the events its
        queue forwarded to the next pipeline count as waiting (``queue.depth``), so ``submitted`` never drops
        while no successor has them yet; ``forwarded=False`` leaves them to the successor that adopted them."""
        # here, not at import: the exit drain counts its drops without it (see _unintentional_drops)
        from fapilog._engine.sink_stats import worker_snapshot
        from fapilog._engine.stats_schema import dropped_stats, queue_stats

        queue = self.queue
        worker = self.worker
        depth = queue.waiting() if forwarded else queue.depth()
        queue_drops = queue.snapshot_drops()
        sinks: dict[str, SinkStats] = {}
        plugins: dict[str, PluginStats] = {}
        processed = high_water = degraded = split_extra = 0
        if worker is not None:
            processed, high_water, degraded = worker.processed, worker.high_water, worker.serializer.degraded
            split_extra = worker_snapshot(worker, sinks, plugins)
            if self.state == "failed":  # the worker died: what its sinks held will never be written
                from fapilog._engine.carry_over import held_as_failed

                held_as_failed(sinks, worker)
        elif self.direct is not None:  # delivered by the shutdown, without a worker
            processed, degraded = self.direct.processed, self.direct.degraded
            self.direct.snapshot(sinks, plugins, capacity=self.settings.sink_defaults.buffer_capacity)
        by_reason, intentional = _drops(queue_drops, worker)
        own: Stats = {
            "state": self.state,
            "restarts": self.restarts,
            "submitted": processed + depth + sum(queue_drops.values()),
            "processed": processed,
            "queue": queue_stats(depth=depth, capacity=queue.capacity, high_water=max(high_water, depth),
                                 policy=queue.policy, overcommitted=queue.overcommitted),
            "dropped": dropped_stats(by_reason, intentional),
            "sinks": sinks,
            "plugins": plugins,
            "serialization": {"degraded": degraded},
            "split_extra": split_extra,
        }
        if self._predecessor is None:
            return own
        from fapilog._engine.carry_over import combined

        return combined(own, self._predecessor.counters())


def _drops(queue_drops: dict[str, int], worker: PipelineWorker | None) -> tuple[dict[str, int], int]:
    """Every drop by reason (``stats()["dropped"]["by_reason"]``) and how many of them were intentional."""
    by_reason: dict[str, int] = dict(queue_drops)
    intentional = 0
    if worker is not None:
        if worker.reentrant:
            by_reason["reentrant"] = worker.reentrant
        for name, count in dict(worker.pipeline.filtered).items():
            by_reason[f"filtered:{name}"] = count
            intentional += count
        for runner in worker.sinks:
            if runner.dropped:
                by_reason[f"sink_buffer_full:{runner.name}"] = runner.dropped
    return by_reason, intentional


def _ignore(old: Callable[..., None], new: Callable[..., None]) -> None:
    """Default emit-change listener: nobody routes through this runtime yet."""


def _ignore_failure(runtime: Runtime) -> None:
    """Default failure listener: nobody supervises this runtime."""
