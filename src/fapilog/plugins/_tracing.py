"""The switch for lifecycle spans: what the registry calls after each plugin load, start and stop.

``hook`` is ``None`` unless the OpenTelemetry integration switched spans on (``opentelemetry={"spans": True}``,
see :mod:`fapilog.integrations.opentelemetry`). Off, a plugin operation pays one module-attribute read and
a ``None`` check, and nothing of OpenTelemetry is imported. On, the hook gets what happened after the fact
— ``(operation, plugin name, kind, duration in ms, the exception or None)`` — and builds the span from it,
so the registry's own code path is the same either way.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["LifecycleHook", "hook", "set_hook"]

LifecycleHook = Callable[[str, str, "str | None", float, "BaseException | None"], None]

hook: LifecycleHook | None = None


def set_hook(new: LifecycleHook | None) -> None:
    """Install (or with ``None`` remove) the function told about every plugin load, start and stop."""
    global hook
    hook = new
