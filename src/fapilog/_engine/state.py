"""The process-wide logging state: the current runtime, levels, configure, flush, shutdown and fork.

The runtime starts lazily on the first enabled log call (from ``FAPILOG_*`` settings or defaults) or eagerly
in :func:`configure`. A forked child discards the parent's queue (the parent delivers those events) and starts a
fresh worker on its first log call. The drain at interpreter exit lives in :mod:`fapilog._engine.exit_drain`.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from fapilog._engine import exit_drain, handover, late
from fapilog._engine import logger as _logger
from fapilog._engine.notices import warn
from fapilog._engine.results import FlushResult, ShutdownReport
from fapilog._engine.runtime import Runtime
from fapilog._kit.context import get_context as _context_get
from fapilog._kit.levels import parse_level
from fapilog.errors import ConfigError, PluginLoadError, UsageError
from fapilog.settings import LoggingSettings

if TYPE_CHECKING:
    from fapilog._engine.stats_schema import Stats

__all__ = [
    "aflush",
    "ashutdown",
    "configure",
    "current_settings",
    "flush",
    "set_level",
    "shutdown",
    "stats",
]

_lock = threading.RLock()
_runtime: Runtime | None = None
_settings: LoggingSettings | None = None
_level_overrides: dict[str | None, int] = {}
_finalized = False
_last_stopped: Runtime | None = None
_intercepts: list[tuple[Callable[..., None], int | None]] = []
"""Active :func:`intercepted` blocks, innermost last: while any is open, log calls go to its function."""
_restarts: list[float] = []
"""When the supervisor restarted a dead worker (the last minute's): more than a few means a bug, not bad luck."""
_MAX_RESTARTS_PER_MINUTE = 5
_GAVE_UP = ("<the worker died too often and is not restarted: events are dropped (worker_dead) until "
            "fapilog.configure() is called; see FL-RUN-009>")
"""What a flush reports once the supervisor gave up on a dead worker."""


def current_settings() -> LoggingSettings:
    """The settings in force (from :func:`configure`, else the environment and defaults)."""
    global _settings
    with _lock:
        if _settings is None:
            try:
                _settings = LoggingSettings.load()
            except ConfigError as exc:
                # Never raise from a log call or get_logger(): say what is wrong and keep logging, to stderr.
                warn("env-config", f"ignoring invalid FAPILOG_* settings: {exc}; logging to stderr with defaults "
                     "until fapilog.configure() is called", force=True, code="FL-RUN-006")
                _settings = LoggingSettings.load({"sinks": ["stderr"]}, environ={})
        return _settings


def _threshold_for(name: str) -> int:
    try:  # one read, no check-then-index: a capture block may close on another thread meanwhile
        capture: tuple[Callable[..., None], int | None] | None = _intercepts[-1]
    except IndexError:
        capture = None
    if capture is not None and capture[1] is not None:
        return capture[1]
    settings = current_settings()
    best_len = -1
    threshold = _level_overrides.get(None, settings.level_number)
    table = {**{k: parse_level(v) for k, v in settings.loggers.items()},
             **{k: v for k, v in _level_overrides.items() if k is not None}}
    for prefix, level in table.items():
        if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > best_len:
            best_len, threshold = len(prefix), level
    return threshold


def _ensure_runtime() -> Runtime:
    global _runtime
    with _lock:
        runtime = _runtime
        if runtime is not None and runtime.abandoned is not None:
            return runtime  # the supervisor gave up on its worker: it only counts, until configure()
        if runtime is None or runtime.state != "running":
            _apply_observability(current_settings(), lazy=True)
            dead = runtime if runtime is not None and runtime.state == "failed" else None
            runtime = Runtime(current_settings(), lazy=True)
            if dead is not None:
                runtime.replaces(dead)  # the supervisor's restart: the counters go on
            _supervise(runtime)
            _runtime = runtime
            _route(runtime.emit)
            runtime.start()
        return runtime


def _apply_observability(settings: LoggingSettings, *, lazy: bool) -> None:
    """The metrics endpoint and lifecycle spans the settings ask for; nothing is imported while both are off."""
    if settings.metrics.enabled or settings.opentelemetry.spans or "fapilog.integrations.observability" in sys.modules:
        from fapilog.integrations import observability

        observability.apply(settings, lazy=lazy)


def _supervise(runtime: Runtime) -> None:
    """Wire a new runtime to the process state: emit changes, hand-over of late events, restart on death."""
    runtime.on_emit_changed = _switch_emit
    runtime.handover = handover.hand_over
    runtime.on_failed = _worker_failed
    handover.adopt(runtime, _last_stopped)


def _worker_failed(runtime: Runtime) -> None:
    """Supervisor: a worker died. Log calls start a fresh pipeline (same settings) and it inherits the queue;
    at once when a flush waits on a marker the dead worker left. Past the restart cap the pipeline is
    abandoned instead: log calls count their events (``worker_dead``) until ``configure()``."""
    handover.retire(runtime)
    with _lock:
        if _runtime is not runtime:
            return
        now = time.monotonic()
        _restarts[:] = [t for t in _restarts if now - t < 60.0]
        if len(_restarts) >= _MAX_RESTARTS_PER_MINUTE or _finalized:
            warn("worker-restarts", f"the fapilog worker died {len(_restarts) + 1} times within a minute; not "
                 "restarting it until configure() is called (events are counted as dropped: worker_dead)",
                 force=True, code="FL-RUN-009")
            runtime.abandon(_GAVE_UP)
            _route(_bootstrap_emit if _finalized else runtime.emit)
            return
        _restarts.append(now)
        flush_waits = runtime.queue.markers > 0
        runtime.queue.seal()  # what it holds, and what stale callers still append, waits for the next one
        _route(_bootstrap_emit)
        if flush_waits:
            _ensure_runtime()  # its successor settles the flush now rather than on the next log call


def _switch_emit(old: Any, new: Any) -> None:
    """A running pipeline changed its capture function: route log calls through it, unless replaced meanwhile."""
    with _lock:
        if _logger._emit is old:
            _logger.route(new)


def _route(emit: Callable[..., None]) -> None:
    """Make ``emit`` the log calls' capture function, unless an :func:`intercepted` block holds them."""
    _logger.route(_intercepts[-1][0] if _intercepts else emit)


@contextlib.contextmanager
def intercepted(emit: Callable[..., None], level: int | None = None) -> Iterator[None]:
    """Send every log call to ``emit`` instead of the pipeline until the block ends (``fapilog.testing``).

    ``emit`` receives the logger's arguments ``(level, name, message, fields, bound, exc)``. ``level``, when
    given, becomes every handle's threshold for the block. ``configure()``, ``shutdown()`` and a lazy start
    inside the block leave the interception in place; blocks nest, and the innermost one wins. A child forked
    inside a block does not inherit it: the child's events go through its own pipeline.
    """
    entry = (emit, level)
    with _lock:
        _intercepts.append(entry)
        _route(emit)
        _logger.refresh_thresholds()
    try:
        yield
    finally:
        with _lock:
            _intercepts.remove(entry)
            runtime = _runtime
            if _finalized:
                _route(_bootstrap_emit)  # routes late events to stderr
            else:
                # A pipeline still draining keeps receiving calls, as it would have without the capture.
                live = runtime is not None and (runtime.state in ("running", "stopping")
                                                or runtime.abandoned is not None)
                _route(runtime.emit if live and runtime is not None else _bootstrap_emit)
            _logger.refresh_thresholds()


def _bootstrap_emit(*args: Any) -> None:
    """First log call (or first after a shutdown or fork): start the runtime, then hand the event over."""
    if _finalized:
        late.emit(*args)
        return
    _ensure_runtime().emit(*args)


def _bootstrap_emit_or_wait(*args: Any) -> Any:
    """The awaitable twin of :func:`_bootstrap_emit`: start the runtime, then capture through its twin."""
    if _finalized:
        late.emit(*args)
        return None
    return _ensure_runtime().emit.or_wait(*args)  # type: ignore[attr-defined]


_bootstrap_emit.or_wait = _bootstrap_emit_or_wait  # type: ignore[attr-defined]


def configure(settings: LoggingSettings | None = None, /, *, file: str | None = None, **options: Any) -> None:
    """Apply settings; loggers that already exist follow. Raises ConfigError or PluginLoadError on bad input.

    >>> fapilog.configure(level="debug", sinks=["stdout", {"type": "file", "path": "app.log"}])

    Everything logged before the call is delivered through the previous pipeline first.
    """
    global _runtime, _settings
    current = _runtime
    if current is not None and current.on_worker_thread():
        raise UsageError(
            "fapilog.configure() cannot be called from a plugin running on the worker", code="FL-RUN-010"
        )
    new_settings = settings.replace(**options) if settings is not None else LoggingSettings.load(options, file=file)
    _apply_observability(new_settings, lazy=False)
    runtime = Runtime(new_settings)
    runtime.start()
    try:
        failures = runtime.wait_started(new_settings.start_timeout)
    except BaseException:
        runtime.shutdown(new_settings.start_timeout)
        raise
    if failures:
        runtime.shutdown(new_settings.start_timeout)
        name, exc = next(iter(failures.items()))
        raise PluginLoadError(
            f"plugin {name!r} failed to start: {type(exc).__name__}: {exc}; "
            "fix its settings (or remove it) and call configure() again",
            plugin=name, code="FL-RUN-001",
        ) from exc
    with _lock:
        previous = _runtime
        _settings = new_settings
        _level_overrides.clear()
        _restarts.clear()
        _runtime = runtime
        _supervise(runtime)
        _route(runtime.emit)
        _logger.refresh_thresholds()
    if previous is not None:
        previous.shutdown(previous.settings.exit_timeout)


def set_level(level: int | str, logger: str | None = None) -> None:
    """Change the threshold at runtime, globally or for ``logger`` and its children (by name prefix)."""
    number = parse_level(level)
    with _lock:
        _level_overrides[logger] = number
        _logger.refresh_thresholds()


def _seconds(call: str, timeout: object) -> float:
    """``timeout`` as the seconds ``call`` may wait: a finite number >= 0, else a ConfigError (FL-CFG-012)."""
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 <= timeout < math.inf:
        raise ConfigError(f"{call}(timeout={timeout!r}): the timeout must be a finite number of seconds >= 0",
                          field="timeout", code="FL-CFG-012")
    return float(timeout)


def flush(timeout: float = 5.0) -> FlushResult:
    """Deliver everything logged before this call to every sink, or report what did not make it in time."""
    timeout = _seconds("flush", timeout)
    runtime = _pipeline_for_waiting_events()
    return runtime.flush(timeout) if runtime is not None else FlushResult(ok=True)


async def aflush(timeout: float = 5.0) -> FlushResult:
    """:func:`flush` without blocking the event loop."""
    timeout = _seconds("flush", timeout)
    runtime = _pipeline_for_waiting_events()
    return await runtime.aflush(timeout) if runtime is not None else FlushResult(ok=True)


def _pipeline_for_waiting_events() -> Runtime | None:
    """The current pipeline; started now when events logged during an earlier shutdown wait for one."""
    runtime = _runtime
    if (runtime is None or runtime.state != "running") and _events_waiting() and not _finalized:
        return _ensure_runtime()
    return runtime


def _events_waiting() -> bool:
    """Whether events (or a count of events) logged during an earlier shutdown wait for a pipeline."""
    stopped = _last_stopped
    return handover.waiting() or bool(stopped is not None and stopped.queue.items)


def shutdown(timeout: float = 5.0) -> ShutdownReport:
    """Flush, then stop every plugin. A later log call starts a fresh pipeline with the same settings."""
    global _runtime, _last_stopped
    timeout = _seconds("shutdown", timeout)
    with _lock:
        runtime = _pipeline_for_waiting_events()
    if runtime is None:
        return ShutdownReport(ok=True)
    if runtime.on_worker_thread():  # refuse before changing anything
        raise UsageError(
            "fapilog.shutdown() cannot be called from a plugin running on the worker", code="FL-RUN-010"
        )
    # The intake closes first: events logged from now on wait for the next pipeline (a flat-out producer
    # cannot keep the drain from ending), except those the stopping plugins log from the worker (a rate
    # limiter's last summary), which this pipeline still delivers.
    with _lock:
        handover.retire(runtime)  # from now on events wait for the next pipeline instead of going to this one
        if _runtime is runtime:
            _route(_draining_emit(runtime))
    report = runtime.shutdown(timeout)
    with _lock:
        _last_stopped = runtime
        if _runtime is runtime:
            _runtime = None
            if not _finalized:
                _route(_bootstrap_emit)
    return report


def _draining_emit(runtime: Runtime) -> Callable[..., None]:
    """The capture function while ``runtime`` drains: its own worker's events go in, the rest wait."""
    now = time.time_ns
    context = _context_get

    def draining(
        level: int, name: str, message: Any, fields: dict[str, Any], bound: Any, exc: BaseException | None
    ) -> None:
        if runtime.on_worker_thread():
            runtime.emit(level, name, message, fields, bound, exc)
            return
        try:
            handover.hand_over((now(), level, name, message, fields, context(), bound, exc, None))
        except Exception:  # noqa: BLE001 - never into the caller: counted (a failing context or clock)
            runtime.queue.count("internal_error")

    return draining


async def ashutdown(timeout: float = 5.0) -> ShutdownReport:
    """:func:`shutdown` without blocking the event loop (the wait runs in a helper thread)."""
    import asyncio

    return await asyncio.get_running_loop().run_in_executor(None, shutdown, timeout)


def stats() -> Stats:
    """Counters of the current pipeline (:class:`~fapilog._engine.stats_schema.Stats`); see
    ``docs/observability.md`` for every field."""
    runtime = _runtime or _last_stopped  # after shutdown(), the final counters stay readable
    if runtime is None:
        # Before the first log call: what a pipeline of the current settings reports before its first event,
        # from the same code, so every key exists. An unstarted runtime is a queue object, no thread.
        counters = Runtime(current_settings()).stats()
        counters["state"] = "not started"
        return counters
    return runtime.stats()


def _after_fork_in_child() -> None:
    global _lock, _runtime, _last_stopped
    _lock = threading.RLock()
    late.after_fork_in_child()
    _runtime = None  # the parent's worker did not survive the fork; the parent delivers its own queue
    _last_stopped = None  # stats() in the child reports the child's own pipeline, not the parent's last one
    handover.after_fork_in_child()  # the parent delivers and reports what waited for a pipeline
    _restarts.clear()
    _intercepts.clear()  # a capture belongs to the parent's test; the child logs through its own pipeline
    _route(_bootstrap_emit)


_logger.route(_bootstrap_emit)
_logger._threshold_for = _threshold_for
exit_drain.install()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
