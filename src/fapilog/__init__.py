"""fapilog: async-first structured logging with a plugin pipeline.

>>> import fapilog
>>> log = fapilog.get_logger(__name__)
>>> log.info("user login", user_id=7)
>>> with fapilog.scoped(request_id="r-1"):
...     log.warning("slow")

The log call records the event and hands it to a bounded queue; a background worker runs
filters → enrichers → redactors → processors → sinks. ``flush()``/``shutdown()`` (and their async twins)
deliver what was logged; ``stats()`` shows every drop.
"""

from __future__ import annotations

import typing as _typing

from fapilog._engine.logger import Logger, get_logger
from fapilog._engine.results import FlushResult, ShutdownReport
from fapilog._engine.running_plugins import ahealth, debug_plugins, health, load_plugin, reload_plugin, unload_plugin
from fapilog._engine.state import (
    aflush,
    ashutdown,
    configure,
    current_settings,
    flush,
    set_level,
    shutdown,
    stats,
)
from fapilog._kit.context import (
    bind,
    clear_context,
    context_wrap,
    copy_context,
    current_context,
    scoped,
    unbind,
)
from fapilog._kit.levels import CRITICAL, DEBUG, ERROR, INFO, WARNING
from fapilog._lazy import lazy_attributes as _lazy_attributes
from fapilog._version import __version__
from fapilog.errors import (
    ConfigError,
    FapilogError,
    PluginError,
    PluginIncompatibleError,
    PluginLoadError,
    PluginNotFoundError,
    PluginTimeoutError,
    PluginValidationError,
)
from fapilog.settings import LoggingSettings

if _typing.TYPE_CHECKING:
    from fapilog.integrations.stdlib import capture_stdlib, release_stdlib

__all__ = [
    "CRITICAL",
    "DEBUG",
    "ERROR",
    "INFO",
    "WARNING",
    "ConfigError",
    "FapilogError",
    "FlushResult",
    "Logger",
    "LoggingSettings",
    "PluginError",
    "PluginIncompatibleError",
    "PluginLoadError",
    "PluginNotFoundError",
    "PluginTimeoutError",
    "PluginValidationError",
    "ShutdownReport",
    "__version__",
    "aflush",
    "ahealth",
    "ashutdown",
    "bind",
    "capture_stdlib",
    "clear_context",
    "configure",
    "context_wrap",
    "copy_context",
    "current_context",
    "current_settings",
    "debug_plugins",
    "flush",
    "get_logger",
    "health",
    "load_plugin",
    "release_stdlib",
    "reload_plugin",
    "scoped",
    "set_level",
    "shutdown",
    "stats",
    "unbind",
    "unload_plugin",
]

_LAZY = {"capture_stdlib": "fapilog.integrations.stdlib", "release_stdlib": "fapilog.integrations.stdlib"}


# The stdlib bridge imports `logging`; keep `import fapilog` from paying for it until it is used.
__getattr__, __dir__ = _lazy_attributes(__name__, _LAZY)
