"""The public plugin API, the one module plugin authors import: protocols, metadata, health, delivery outcomes,
the record type and its reserved keys, the serializer, the blocking-I/O helper, levels and the bound context;
loaded lazily, the registry's public entry points (``PluginRegistry``, ``default_registry``, ``refresh``,
``check_health``, ``check_constraint``, ``missing_extra_error``, ``LegacyPluginWarning``).

The built-in plugins (:mod:`fapilog.builtins`) import only from here, as a third-party plugin does.

A plugin is any object with its kind's async methods (see :mod:`fapilog.plugins.protocols`); declaring
``metadata = PluginMetadata(...)`` adds validation, settings checks and dependencies.

>>> from fapilog.plugins import PluginMetadata
>>> class ShoutProcessor:
...     metadata = PluginMetadata(name="shout", version="1.0.0", kind="processor")
...     async def process(self, record):
...         return {**record, "message": str(record["message"]).upper()}
"""

from __future__ import annotations

import typing as _typing

from fapilog._kit.context import current_context
from fapilog._kit.levels import CRITICAL, DEBUG, ERROR, INFO, LEVEL_NAMES, NOTSET, WARNING, level_name, parse_level
from fapilog._kit.offload import BlockingWorker
from fapilog._kit.record import RESERVED_KEYS, EventRecord
from fapilog._kit.serialize import Serializer, dumps, json_lines, safe_repr
from fapilog._lazy import lazy_attributes as _lazy_attributes
from fapilog.plugins.metadata import PLUGIN_API_VERSION, PluginHealth, PluginKind, PluginMetadata

if _typing.TYPE_CHECKING:
    from fapilog._registry.compat import check_constraint as check_constraint
    from fapilog._registry.discovery import missing_extra_error as missing_extra_error
    from fapilog._registry.discovery import refresh
    from fapilog._registry.registry import PluginInfo, PluginInstanceInfo, PluginRegistry, default_registry
    from fapilog._registry.validation import LegacyPluginWarning as LegacyPluginWarning
    from fapilog.plugins.health import check_health
    from fapilog.plugins.outcomes import (
        BatchResult,
        BatchTooLargeError,
        PermanentSinkError,
        RetryableSinkError,
        SinkDeliveryError,
        parse_retry_after,
    )
    from fapilog.plugins.protocols import BatchSink, Enricher, Filter, Processor, Record, Redactor, Sink

__all__ = [
    "CRITICAL",
    "DEBUG",
    "ERROR",
    "INFO",
    "LEVEL_NAMES",
    "NOTSET",
    "PLUGIN_API_VERSION",
    "RESERVED_KEYS",
    "WARNING",
    "BatchResult",
    "BatchSink",
    "BatchTooLargeError",
    "BlockingWorker",
    "Enricher",
    "EventRecord",
    "Filter",
    "PermanentSinkError",
    "PluginHealth",
    "PluginInfo",
    "PluginInstanceInfo",
    "PluginKind",
    "PluginMetadata",
    "PluginRegistry",
    "Processor",
    "Record",
    "Redactor",
    "RetryableSinkError",
    "Serializer",
    "Sink",
    "SinkDeliveryError",
    "check_health",
    "current_context",
    "default_registry",
    "dumps",
    "json_lines",
    "level_name",
    "parse_level",
    "parse_retry_after",
    "refresh",
    "safe_repr",
]

# The registry pulls in importlib.metadata and packaging: load it when first used, not on import. The delivery
# outcomes and the protocols are only needed by a sink that reports them and by type checkers: not by start-up.
_LAZY = {
    **dict.fromkeys(("BatchResult", "BatchTooLargeError", "PermanentSinkError", "RetryableSinkError",
                     "SinkDeliveryError", "parse_retry_after"), "fapilog.plugins.outcomes"),
    **dict.fromkeys(("BatchSink", "Enricher", "Filter", "Processor", "Record", "Redactor", "Sink"),
                    "fapilog.plugins.protocols"),
    "LegacyPluginWarning": "fapilog._registry.validation",
    "check_constraint": "fapilog._registry.compat",
    "missing_extra_error": "fapilog._registry.discovery",
    "PluginInfo": "fapilog._registry.registry",
    "PluginInstanceInfo": "fapilog._registry.registry",
    "PluginRegistry": "fapilog._registry.registry",
    "default_registry": "fapilog._registry.registry",
    "check_health": "fapilog.plugins.health",
    "refresh": "fapilog._registry.discovery",
}


__getattr__, __dir__ = _lazy_attributes(__name__, _LAZY)
