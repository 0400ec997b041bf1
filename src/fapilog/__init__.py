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

from fapilog._version import __version__
from fapilog.core.context import (
    bind,
    clear_context,
    context_wrap,
    copy_context,
    current_context,
    scoped,
    unbind,
)
from fapilog.core.levels import CRITICAL, DEBUG, ERROR, INFO, WARNING
from fapilog.core.logger import Logger, get_logger
from fapilog.core.runtime import FlushResult, ShutdownReport
from fapilog.core.state import (
    aflush,
    ashutdown,
    configure,
    current_settings,
    flush,
    set_level,
    shutdown,
    stats,
)
from fapilog.errors import (
    ConfigError,
    FapilogError,
    PluginError,
    PluginIncompatibleError,
    PluginLoadError,
    PluginNotFoundError,
    PluginValidationError,
)
from fapilog.integrations.stdlib import capture_stdlib, release_stdlib
from fapilog.settings import LoggingSettings

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
    "PluginValidationError",
    "ShutdownReport",
    "__version__",
    "aflush",
    "ashutdown",
    "bind",
    "capture_stdlib",
    "clear_context",
    "configure",
    "context_wrap",
    "copy_context",
    "current_context",
    "current_settings",
    "flush",
    "get_logger",
    "release_stdlib",
    "scoped",
    "set_level",
    "shutdown",
    "stats",
    "unbind",
]
