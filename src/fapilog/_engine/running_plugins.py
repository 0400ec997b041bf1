"""The facade's functions on the plugins of the running pipeline: load, unload and reload one, ask every
one for its health, print what is installed and running.

Each starts the pipeline first when none runs (as a log call would) and hands the work to
:mod:`fapilog._engine.control`, which does it between batches on the worker's loop.
"""

from __future__ import annotations

from typing import Any

from fapilog._engine import state
from fapilog._engine.runtime import Runtime

__all__ = ["ahealth", "debug_plugins", "health", "load_plugin", "reload_plugin", "unload_plugin"]


def _running_runtime() -> Runtime:
    runtime = state._runtime
    if runtime is None or runtime.state != "running":
        runtime = state._ensure_runtime()
    return runtime


def load_plugin(kind: str, spec: Any, *, timeout: float = 10.0) -> str:
    """Add a plugin to the running pipeline (``kind`` is sink/filter/enricher/redactor/processor).

    ``spec`` is a name, a table ``{"type": ..., **settings}`` or an object; returns the name it runs under.

    >>> fapilog.load_plugin("sink", {"type": "file", "path": "audit.log"})
    'file'
    """
    from fapilog._engine import control

    return control.load_plugin(_running_runtime(), kind, spec, timeout)


def unload_plugin(name: str, *, timeout: float = 10.0) -> None:
    """Remove a running plugin; a sink delivers what it holds, flushes and stops first."""
    from fapilog._engine import control

    control.unload_plugin(_running_runtime(), name, timeout)


def reload_plugin(name: str, *, timeout: float = 10.0, **settings: Any) -> None:
    """Replace a running plugin by a fresh instance with ``settings`` merged over its configuration.

    No event is lost or delivered twice across the swap; a new instance that fails to start leaves the old
    one running and raises ``PluginLoadError``.

    >>> fapilog.reload_plugin("file", path="/var/log/app-2.log")
    """
    from fapilog._engine import control

    control.reload_plugin(_running_runtime(), name, settings, timeout)


def health(timeout: float = 2.0) -> dict[str, Any]:
    """``{plugin name: PluginHealth}`` for every running plugin; a check that raises or hangs is unhealthy."""
    from fapilog._engine import control

    return control.health(state._runtime, timeout)


async def ahealth(timeout: float = 2.0) -> dict[str, Any]:
    """:func:`health` without blocking the event loop."""
    from fapilog._engine import control

    return await control.ahealth(state._runtime, timeout)


def debug_plugins(file: Any = None, *, health_timeout: float = 1.0) -> list[dict[str, Any]]:
    """Print (and return) every discovered and running plugin: kind, version, distribution, compatibility
    verdict and reason, state, health, load and start times.

    $ python -c "import fapilog; fapilog.debug_plugins()"
    """
    from fapilog._engine import control

    return control.report(state._runtime, file, health_timeout)
