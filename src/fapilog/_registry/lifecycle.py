"""Lifecycle bookkeeping for created plugin instances: loaded → started → stopped, or failed with the reason.

The registry records each instance it creates here; the core's ``start``/``stop`` go through
:meth:`InstanceTracker.transition` so every instance's state and timings (``load_ms``, ``start_ms``,
``stop_ms``) are available to diagnostics and ``fapilog.stats()`` without the pipeline keeping books.
"""

from __future__ import annotations

import collections
import dataclasses
import inspect
import threading
import time
from typing import Literal

from fapilog._registry import tracing
from fapilog._value_methods import ValueMethods, value_class
from fapilog.errors import PluginError
from fapilog.plugins.metadata import PluginKind, metadata_of

__all__ = ["InstanceState", "InstanceTracker", "PluginInstanceInfo"]

InstanceState = Literal["loaded", "started", "stopped", "failed"]


@value_class  # see fapilog._value_methods
class PluginInstanceInfo(ValueMethods):
    """Lifecycle of one created instance: state, timings in milliseconds, and the failure reason if any."""

    name: str
    kind: PluginKind | None
    state: InstanceState
    load_ms: float
    start_ms: float | None = None
    stop_ms: float | None = None
    error: str | None = None


def elapsed_ms(since: float) -> float:
    """Milliseconds since a ``time.perf_counter()`` reading."""
    return (time.perf_counter() - since) * 1000.0


class InstanceTracker:
    """Live instances by identity, plus a bounded history of stopped or failed ones.

    Stopped instances are dropped (only their record is kept), so a reconfigured logger does not keep its
    old plugins alive.
    """

    def __init__(self, history: int = 256) -> None:
        self._lock = threading.Lock()
        self._live: dict[int, tuple[object, PluginInstanceInfo]] = {}
        self._retired: collections.deque[PluginInstanceInfo] = collections.deque(maxlen=history)

    def created(self, instance: object, name: str, kind: PluginKind, load_ms: float) -> None:
        """Record a freshly created instance (state ``loaded``)."""
        with self._lock:
            self._live[id(instance)] = (instance, PluginInstanceInfo(name, kind, "loaded", load_ms))

    def failed(self, name: str, kind: PluginKind, load_ms: float, reason: str) -> None:
        """Record an instance that could not be created."""
        with self._lock:
            self._retired.append(PluginInstanceInfo(name, kind, "failed", load_ms, error=reason))

    def records(self) -> list[PluginInstanceInfo]:
        """Live instances' records, then the retired ones, oldest first."""
        with self._lock:
            return [*(info for _, info in self._live.values()), *self._retired]

    def record_of(self, instance: object) -> PluginInstanceInfo | None:
        """The live record of exactly this instance, if the registry created or started it."""
        with self._lock:
            found = self._live.get(id(instance))
        return found[1] if found is not None and found[0] is instance else None

    def _record(self, instance: object) -> PluginInstanceInfo:
        with self._lock:
            found = self._live.get(id(instance))
        if found is not None and found[0] is instance:
            return found[1]
        # Created outside the registry: start tracking it now.
        own, md = getattr(instance, "name", None), metadata_of(instance)
        label = own if isinstance(own, str) else md.name if md else type(instance).__name__
        return PluginInstanceInfo(label, md.kind if md else None, "loaded", 0.0)

    async def transition(self, instance: object, method: Literal["start", "stop"]) -> PluginInstanceInfo:
        """Call ``instance.start()`` or ``instance.stop()`` (sync or async, absent = no-op) and record it.

        ``stop`` on an instance that was never started does not call it. Failures are recorded as state
        ``failed`` and raised as :class:`~fapilog.errors.PluginError` with the plugin's exception chained.
        A stopped (or failed-to-stop) instance is retired.
        """
        record = self._record(instance)
        started = time.perf_counter()
        failure: BaseException | None = None
        called = not (method == "stop" and record.state == "loaded")
        if called:
            try:
                result = getattr(instance, method, lambda: None)()
                if inspect.isawaitable(result):
                    await result
            except BaseException as exc:
                if _cancelled_for_real(exc):
                    if method == "start":  # interrupted (a load timeout): stop() must still release what it opened
                        failed = dataclasses.replace(record, state="failed", error="start cancelled")
                        with self._lock:
                            self._live[id(instance)] = (instance, failed)
                    raise
                failure = exc
        took = elapsed_ms(started)
        trace = tracing.hook
        if trace is not None and called:
            trace(method, record.name, record.kind, took, failure)
        if method == "start":
            record = dataclasses.replace(record, state="started", start_ms=took)
        else:
            record = dataclasses.replace(record, state="stopped", stop_ms=took)
        if failure is not None:
            reason = f"{method} failed: {type(failure).__name__}: {failure}"
            record = dataclasses.replace(record, state="failed", error=reason)
        with self._lock:
            if method == "stop":
                self._live.pop(id(instance), None)
                self._retired.append(record)
            else:
                self._live[id(instance)] = (instance, record)
        if failure is not None:
            raise PluginError(
                f"plugin {record.name!r} ({record.kind or 'unknown kind'}) failed to {method}: "
                f"{type(failure).__name__}: {failure} (the cause is chained below)",
                plugin=record.name,
                code="FL-RUN-001" if method == "start" else "FL-RUN-002",
            ) from failure
        return record


def _cancelled_for_real(exc: BaseException) -> bool:
    """A cancellation of the running task propagates; a plugin raising CancelledError itself is a failure."""
    import asyncio

    if not isinstance(exc, asyncio.CancelledError):
        return False
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
