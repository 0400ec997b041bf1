"""The switches for plugin spans: what the registry calls after each plugin load, start and stop, and what the
core calls after each attempt to write a sink's batch.

``hook`` is ``None`` unless the OpenTelemetry integration switched spans on (``opentelemetry={"spans": True}``,
see :mod:`fapilog.integrations.otel_spans`). Off, a plugin operation pays one module-attribute read and
a ``None`` check, and nothing of OpenTelemetry is imported. On, the hook gets what happened after the fact
— ``(operation, plugin name, kind, duration in ms, the exception or None)`` — and builds the span from it,
so the registry's own code path is the same either way.

``batch_hook`` is the same switch for sink writes: the core's batch sender reads it once per ``write_batch``
attempt and, when set, reports ``(sink name, outcome, event count, attempt, duration in seconds, reason)``
after the call returned or raised (``attempt`` is 1 for the first try of a batch, 2 for its first retry...).
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["BatchHook", "LifecycleHook", "batch_hook", "hook", "set_batch_hook", "set_hook"]

LifecycleHook = Callable[[str, str, "str | None", float, "BaseException | None"], None]

BatchHook = Callable[[str, str, int, int, float, "str | None"], None]

hook: LifecycleHook | None = None
batch_hook: BatchHook | None = None


def set_hook(new: LifecycleHook | None) -> None:
    """Install (or with ``None`` remove) the function told about every plugin load, start and stop."""
    global hook
    hook = new


def set_batch_hook(new: BatchHook | None) -> None:
    """Install (or with ``None`` remove) the function told about every sink batch write attempt."""
    global batch_hook
    batch_hook = new
