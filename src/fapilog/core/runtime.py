"""One configured pipeline: its queue, its worker thread, and flush, shutdown, stats and plugin control.

Creating a runtime and starting it costs the caller a queue and a thread start. Everything heavy — asyncio,
plugin discovery and import, plugin construction and ``start()`` — happens on the worker thread, so even
the very first log call of a process stays cheap. :func:`fapilog.configure` waits for that start and raises
what went wrong; a runtime started lazily by a log call reports problems on stderr instead.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from fapilog.core.context import get_context
from fapilog.core.diagnostics import warn
from fapilog.core.levels import parse_level
from fapilog.core.queue import EventQueue, FlushMarker
from fapilog.core.results import FlushResult, ShutdownReport
from fapilog.settings import LoggingSettings

if TYPE_CHECKING:
    from fapilog.core.worker import Worker

__all__ = ["Runtime", "capture_hooks"]

_WORKER_THREAD_ERROR = "<called from the worker thread: would deadlock>"


class Runtime:
    """Owns one pipeline's lifetime; the process-wide state in :mod:`fapilog.core.state` holds the current one."""

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
        self.emit = _make_emit(self.queue)
        self.state = "new"
        self.worker: Worker | None = None
        self.build_error: BaseException | None = None
        self.booted = threading.Event()
        """Set once the worker exists (or building the pipeline failed)."""
        self.thread: threading.Thread | None = None
        self._lazy = lazy
        self._lock = threading.Lock()
        self.on_emit_changed: Callable[[Callable[..., None], Callable[..., None]], None] = _ignore
        """Called with (old, new) when the capture function changes, so loggers can switch over."""

    # -- lifecycle --------------------------------------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            if self.state == "new":
                self.thread = threading.Thread(target=self._boot, name="fapilog-worker", daemon=True)
                self.thread.start()
                self.state = "running"

    def _boot(self) -> None:
        from fapilog.core.builder import build_pipeline
        from fapilog.core.worker import Worker

        try:
            built = build_pipeline(self.settings)
        except Exception as exc:  # noqa: BLE001 - raised by configure(), or reported when started lazily
            self.build_error = exc
            if not self._lazy:
                self.booted.set()
                return
            warn("lazy-config", f"configuration from FAPILOG_* settings failed: {exc}; events go to stderr as "
                 "JSON lines until fapilog.configure() succeeds", force=True)
            built = build_pipeline(LoggingSettings.load({"sinks": [{"type": "stderr", "format": "json"}]},
                                                        environ={}))
        self.worker = Worker(self.queue, built, batch_size=self.settings.queue.batch_size)
        self.refresh_captures()
        self.booted.set()
        self.worker.run()

    def refresh_captures(self) -> None:
        """Rebuild the capture function for the enrichers now running (after build, load, unload, reload)."""
        hooks = capture_hooks(self.worker.pipeline.stages) if self.worker is not None else []
        old, self.emit = self.emit, _make_emit(self.queue, hooks)
        self.on_emit_changed(old, self.emit)

    def wait_started(self, timeout: float) -> dict[str, BaseException]:
        """Wait for the pipeline to be built and every plugin's ``start()``; returns failures by plugin name."""
        deadline = time.monotonic() + timeout
        if not self.booted.wait(timeout):
            return {"<startup>": TimeoutError(f"the pipeline was not built within {timeout}s")}
        if self.build_error is not None:
            raise self.build_error
        worker = self.worker
        assert worker is not None
        if not worker.started.wait(max(0.0, deadline - time.monotonic())):
            return {"<startup>": TimeoutError(f"plugins did not start within {timeout}s")}
        return dict(worker.start_failures)

    def on_worker_thread(self) -> bool:
        return threading.current_thread() is self.thread

    def _send_marker(self) -> FlushMarker | FlushResult:
        """Queue a flush marker, or say why no flush is needed or possible."""
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
        return FlushResult(ok=False, timed_out=True, failed_sinks=waiting)

    def shutdown(self, timeout: float) -> ShutdownReport:
        """Deliver what is queued, stop every plugin, end the worker — all within ``timeout``."""
        with self._lock:
            if self.state != "running":
                self.state = "stopped"
                return ShutdownReport(ok=True)
            self.state = "stopping"
        if self.on_worker_thread():
            raise RuntimeError("fapilog.shutdown() cannot be called from a plugin running on the worker")
        deadline = time.monotonic() + timeout
        self.booted.wait(timeout)
        worker = self.worker
        details: dict[str, int] = {}
        finished = True
        if worker is not None:
            worker.request_stop()
            finished = worker.finished.wait(max(0.0, deadline - time.monotonic()))
            if not finished:
                worker.gave_up = True
                details = _give_up(worker)
                worker.finished.wait(1.0)  # let the batch in hand settle its counts before anyone reads them
        left = 0
        while True:  # take them one by one: a still-running worker can never also take (and count) one
            try:
                item = self.queue.items.popleft()
            except IndexError:
                break
            if not isinstance(item, FlushMarker):
                left += 1
        if left:
            details["queue"] = left
            with self.queue.lock:
                self.queue.dropped["shutdown_timeout"] = self.queue.dropped.get("shutdown_timeout", 0) + left
        with self._lock:
            self.state = "stopped"
        undelivered = sum(details.values())
        return ShutdownReport(ok=undelivered == 0, undelivered=undelivered, timed_out=not finished, details=details)

    # -- observability ----------------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        queue = self.queue
        worker = self.worker
        depth = max(0, len(queue.items) - queue.markers)
        queue_drops = queue.snapshot_drops()
        by_reason: dict[str, int] = dict(queue_drops)
        intentional = 0
        sinks: dict[str, Any] = {}
        plugins: dict[str, Any] = {}
        processed = high_water = degraded = split_extra = 0
        if worker is not None:
            processed, high_water, degraded = worker.processed, worker.high_water, worker.serializer.degraded
            for name, count in dict(worker.pipeline.filtered).items():
                by_reason[f"filtered:{name}"] = count
                intentional += count
            for stage in worker.pipeline.stages:
                plugins[stage.name] = {"kind": stage.kind, "errors": stage.errors}
                split_extra += stage.expanded
            for runner in worker.sinks:
                sinks[runner.name] = runner.snapshot()
                plugins[runner.name] = {"kind": "sink", "errors": sum(runner.errors.values())}
                if runner.dropped:
                    by_reason[f"sink_buffer_full:{runner.name}"] = runner.dropped
        total = sum(by_reason.values())
        return {
            "state": self.state,
            "submitted": processed + depth + sum(queue_drops.values()),
            "processed": processed,
            "queue": {
                "depth": depth,
                "capacity": queue.capacity,
                "high_water": max(high_water, depth),
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
            "serialization": {"degraded": degraded},
            "split_extra": split_extra,
        }


def _ignore(old: Callable[..., None], new: Callable[..., None]) -> None:
    """Default emit-change listener: nobody routes through this runtime yet."""


def _give_up(worker: Worker) -> dict[str, int]:
    """The deadline passed: count what never reached a sink as failed, even if the loop itself is stuck."""
    details: dict[str, int] = {}
    done = threading.Event()

    def abandon() -> None:
        for runner in worker.sinks:
            lost = runner.abandon("shutdown_timeout")
            if lost:
                details[f"sink:{runner.name}"] = lost
        done.set()

    loop = worker.loop
    try:
        if loop is not None:
            loop.call_soon_threadsafe(abandon)
    except RuntimeError:
        pass  # the loop closed just now: the counts below are final
    if not done.wait(0.5):  # the loop itself is blocked (a sink blocking in sync code)
        for runner in worker.sinks:
            stuck = runner.buffered + runner.in_flight + max(0, runner.pending_put)
            if stuck:
                details[f"sink:{runner.name}"] = stuck
                runner.failed += stuck
                runner.errors["shutdown_timeout"] = runner.errors.get("shutdown_timeout", 0) + stuck
                runner.buffered = runner.in_flight = runner.pending_put = 0
    return details


CaptureHook = tuple[str, Callable[[], Any]]


def capture_hooks(stages: Iterable[Any]) -> list[CaptureHook]:
    """Enrichers that must see the caller's thread (``capture()``, e.g. the active trace span)."""
    hooks: list[CaptureHook] = []
    for stage in stages:
        capture = getattr(stage.obj, "capture", None)
        if stage.kind == "enricher" and callable(capture) and getattr(stage.obj, "capture_enabled", True):
            hooks.append((stage.name, capture))
    return hooks


def _make_emit(queue: EventQueue, hooks: Sequence[CaptureHook] = ()) -> Callable[..., None]:
    """The capture function bound to one queue, with everything it touches held in closure cells.

    Without capture hooks (the usual case) the call site pays for nothing more than the tuple. With them,
    each hook runs on the caller's thread; one that raises records ``None`` and never reaches the caller.
    """
    items = queue.items
    capacity = queue.capacity
    put_full = queue.put_full
    now = time.time_ns
    context = get_context

    if not hooks:

        def emit(
            level: int,
            name: str,
            message: Any,
            fields: dict[str, Any],
            bound: Mapping[str, Any] | None,
            exc: BaseException | None,
        ) -> None:
            item = (now(), level, name, message, fields, context(), bound, exc, None)
            if len(items) < capacity:
                items.append(item)
            else:
                put_full(item, level)
            if queue.sleeping:
                queue.sleeping = False
                queue.wake()

        return emit

    frozen = tuple(hooks)

    def emit_capturing(
        level: int,
        name: str,
        message: Any,
        fields: dict[str, Any],
        bound: Mapping[str, Any] | None,
        exc: BaseException | None,
    ) -> None:
        captured: dict[str, Any] = {}
        for hook_name, hook in frozen:
            try:
                captured[hook_name] = hook()
            except Exception:  # noqa: BLE001 - a capture hook must never break the caller's log call
                captured[hook_name] = None
        item = (now(), level, name, message, fields, context(), bound, exc, captured)
        if len(items) < capacity:
            items.append(item)
        else:
            put_full(item, level)
        if queue.sleeping:
            queue.sleeping = False
            queue.wake()

    return emit_capturing
