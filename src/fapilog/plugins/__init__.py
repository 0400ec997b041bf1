"""The public plugin API: protocols, metadata, health, delivery outcomes, the registry and diagnostics.

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

from fapilog._lazy import lazy_attributes as _lazy_attributes
from fapilog.plugins.metadata import PLUGIN_API_VERSION, PluginHealth, PluginKind, PluginMetadata
from fapilog.plugins.outcomes import (
    BatchResult,
    BatchTooLargeError,
    PermanentSinkError,
    RetryableSinkError,
    SinkDeliveryError,
    parse_retry_after,
)
from fapilog.plugins.protocols import BatchSink, Enricher, Filter, Processor, Record, Redactor, Sink

if _typing.TYPE_CHECKING:
    from fapilog.plugins.discovery import refresh
    from fapilog.plugins.health import check_health
    from fapilog.plugins.registry import PluginInfo, PluginInstanceInfo, PluginRegistry, default_registry

__all__ = [
    "PLUGIN_API_VERSION",
    "BatchResult",
    "BatchSink",
    "BatchTooLargeError",
    "Enricher",
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
    "Sink",
    "SinkDeliveryError",
    "check_health",
    "default_registry",
    "parse_retry_after",
    "refresh",
]

# The registry pulls in importlib.metadata and packaging: load it when first used, not on import.
_LAZY = {
    "PluginInfo": "fapilog.plugins.registry",
    "PluginInstanceInfo": "fapilog.plugins.registry",
    "PluginRegistry": "fapilog.plugins.registry",
    "default_registry": "fapilog.plugins.registry",
    "check_health": "fapilog.plugins.health",
    "refresh": "fapilog.plugins.discovery",
}


__getattr__, __dir__ = _lazy_attributes(__name__, _LAZY)
