"""One configured pipeline: its queue, worker, stages and sinks, with flush, shutdown and stats."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from fapilog.core.builder import build_sinks, build_stages
from fapilog.core.context import get_context
from fapilog.core.levels import parse_level
from fapilog.core.pipeline import Pipeline
from fapilog.core.queue import EventQueue, FlushMarker
from fapilog.core.worker import Worker
from fapilog.settings import LoggingSettings

__all__ = ["FlushResult", "Runtime", "ShutdownReport"]


@dataclasses.dataclass(frozen=True)
class FlushResult:
    """What a flush achieved by its deadline. Truthy when every sink confirmed everything before the call."""

    ok: bool
    timed_out: bool = False
    failed_sinks: tuple[str, ...] = ()
    """Sinks that did not confirm in time or whose ``flush()`` failed."""

    def __bool__(self) -> bool:
        return self.ok


@dataclasses.dataclass(frozen=True)
class ShutdownReport:
    """What a shutdown could not deliver. Truthy when nothing was lost."""

    ok: bool
    undelivered: int = 0
    """Events that never reached a sink (left in the queue or in a sink buffer at the deadline)."""
    timed_out: bool = False
    details: Mapping[str, int] = dataclasses.field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.ok


class Runtime:
    """Builds the pipeline from settings and owns its lifetime."""

    def __init__(self, settings: LoggingSettings) -> None:
        self.settings = settings
        q = settings.queue
        self.queue = EventQueue(
            q.capacity,
            q.policy,
            wait_timeout=q.wait_timeout,
            protect_level=parse_level(q.protect_level, field="queue.protect_level"),
            loop_overflow=q.loop_overflow,
        )
        self.pipeline = Pipeline(build_stages(settings))
        self.worker = Worker(self.queue, self.pipeline, build_sinks(settings), batch_size=q.batch_size)
        self.emit = _make_emit(self.queue)
        self.state = "new"
        self.started_at: float | None = None
        self._lock = threading.Lock()

    # -- lifecycle --------------------------------------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            if self.state == "new":
                self.worker.start()
                self.state = "running"
                self.started_at = time.time()

    def wait_started(self, timeout: float) -> dict[str, BaseException]:
        """Wait for every plugin's ``start()``; returns the failures by plugin name."""
        if not self.worker.started.wait(timeout):
            return {"<startup>": TimeoutError(f"plugins did not start within {timeout}s")}
        return dict(self.worker.start_failures)

    def flush(self, timeout: float) -> FlushResult:
        """Block until everything logged before this call reached every sink, or ``timeout`` passed."""
        if self.state != "running":
            return FlushResult(ok=True)
        if self.worker.on_worker_thread():
            return FlushResult(ok=False, failed_sinks=("<called from the worker thread: would deadlock>",))
        marker = FlushMarker()
        self.queue.put_marker(marker)
        try:
            failed = marker.future.result(timeout)
        except TimeoutError:
            return self._timed_out(marker)
        return FlushResult(ok=not failed, failed_sinks=tuple(failed))

    async def aflush(self, timeout: float) -> FlushResult:
        """:meth:`flush` for async code: awaits without blocking the caller's event loop."""
        if self.state != "running":
            return FlushResult(ok=True)
        if self.worker.on_worker_thread():
            return FlushResult(ok=False, failed_sinks=("<called from the worker thread: would deadlock>",))
        marker = FlushMarker()
        self.queue.put_marker(marker)
        try:
            failed = await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(marker.future)), timeout)
        except TimeoutError:
            return self._timed_out(marker)
        return FlushResult(ok=not failed, failed_sinks=tuple(failed))

    def _timed_out(self, marker: FlushMarker) -> FlushResult:
        passed = set(marker.passed_by) - set(marker.failed)
        waiting = tuple(r.name for r in self.worker.sinks if r.name not in passed) or ("<queue>",)
        return FlushResult(ok=False, timed_out=True, failed_sinks=waiting)

    def shutdown(self, timeout: float) -> ShutdownReport:
        """Deliver what is queued, stop every plugin, end the worker — all within ``timeout``."""
        with self._lock:
            if self.state != "running":
                self.state = "stopped"
                return ShutdownReport(ok=True)
            self.state = "stopping"
        worker = self.worker
        if worker.on_worker_thread():
            raise RuntimeError("fapilog.shutdown() cannot be called from a plugin running on the worker")
        worker.request_stop()
        finished = worker.finished.wait(timeout)
        details: dict[str, int] = {}
        if not finished:
            loop = worker.loop
            grace = threading.Event()

            def give_up() -> None:
                for runner in worker.sinks:
                    lost = runner.abandon("shutdown_timeout")
                    if lost:
                        details[f"sink:{runner.name}"] = lost
                grace.set()

            try:
                if loop is not None:
                    loop.call_soon_threadsafe(give_up)
            except RuntimeError:
                pass  # the loop closed just now: the counts below are final
            if not grace.wait(0.5):  # the loop itself is blocked (a sink blocking in sync code)
                for runner in worker.sinks:
                    if runner.buffered:
                        details[f"sink:{runner.name}"] = runner.buffered
                        runner.failed += runner.buffered
                        runner.errors["shutdown_timeout"] = runner.errors.get("shutdown_timeout", 0) + runner.buffered
                        runner.buffered = 0
        left = sum(1 for item in list(self.queue.items) if not isinstance(item, FlushMarker))
        if left:
            details["queue"] = left
            self.queue.dropped["shutdown_timeout"] = self.queue.dropped.get("shutdown_timeout", 0) + left
            self.queue.items.clear()
        with self._lock:
            self.state = "stopped"
        undelivered = sum(details.values())
        return ShutdownReport(ok=undelivered == 0, undelivered=undelivered, timed_out=not finished, details=details)

    # -- observability ----------------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        queue = self.queue
        worker = self.worker
        markers = queue.markers
        depth = max(0, len(queue.items) - markers)
        queue_drops = queue.snapshot_drops()
        by_reason: dict[str, int] = dict(queue_drops)
        intentional = 0
        for name, count in dict(self.pipeline.filtered).items():
            by_reason[f"filtered:{name}"] = count
            intentional += count
        sinks: dict[str, Any] = {}
        for runner in worker.sinks:
            snap = runner.snapshot()
            sinks[runner.name] = snap
            if runner.dropped:
                by_reason[f"sink_buffer_full:{runner.name}"] = runner.dropped
        total = sum(by_reason.values())
        plugins: dict[str, Any] = {
            stage.name: {"kind": stage.kind, "errors": stage.errors} for stage in self.pipeline.stages
        }
        for runner in worker.sinks:
            plugins[runner.name] = {"kind": "sink", "errors": sum(runner.errors.values())}
        return {
            "state": self.state,
            "submitted": worker.processed + depth + sum(queue_drops.values()),
            "processed": worker.processed,
            "queue": {
                "depth": depth,
                "capacity": queue.capacity,
                "high_water": max(worker.high_water, depth),
                "policy": queue.policy,
                "overcommitted": queue.overcommitted,
            },
            "dropped": {
                "total": total,
                "intentional": intentional,
                "unintentional": total - intentional,
                "by_reason": by_reason,
            },
            "sinks": sinks,
            "plugins": plugins,
            "serialization": {"degraded": worker.serializer.degraded},
        }


def _make_emit(queue: EventQueue) -> Callable[..., None]:
    """The capture function bound to one queue, with everything it touches held in closure cells."""
    items = queue.items
    capacity = queue.capacity
    put_full = queue._put_full
    now = time.time_ns
    context = get_context

    def emit(
        level: int,
        name: str,
        message: Any,
        fields: dict[str, Any],
        bound: Mapping[str, Any] | None,
        exc: BaseException | None,
    ) -> None:
        item = (now(), level, name, message, fields, context(), bound, exc)
        if len(items) < capacity:
            items.append(item)
        else:
            put_full(item, level)
        if queue.sleeping:
            queue.sleeping = False
            queue.wake()

    return emit
