"""The stable import path the product stories use for the plugin kit: ``from fapilog.plugin_api import Sink``.

An alias, not a copy: every name here is the object :mod:`fapilog.plugins` exports (one definition, two import
paths), so ``isinstance`` checks and type hints agree whichever path a plugin imports from. The set of names
follows :data:`fapilog.plugins.__all__` and the compatibility policy in ``docs/compatibility.md``.
"""

from __future__ import annotations

import typing as _typing

from fapilog import plugins as _plugins
from fapilog.plugins import (
    PLUGIN_API_VERSION,
    BatchSink,
    Enricher,
    Filter,
    PluginHealth,
    PluginKind,
    PluginMetadata,
    Processor,
    Record,
    Redactor,
    Sink,
)

if _typing.TYPE_CHECKING:
    from fapilog.plugins import (
        PluginInfo,
        PluginInstanceInfo,
        PluginRegistry,
        check_health,
        default_registry,
        refresh,
    )

__all__ = [
    "PLUGIN_API_VERSION",
    "BatchSink",
    "Enricher",
    "Filter",
    "PluginHealth",
    "PluginInfo",
    "PluginInstanceInfo",
    "PluginKind",
    "PluginMetadata",
    "PluginRegistry",
    "Processor",
    "Record",
    "Redactor",
    "Sink",
    "check_health",
    "default_registry",
    "refresh",
]


def __getattr__(name: str) -> _typing.Any:
    # The registry, health and discovery names load lazily in fapilog.plugins; resolve them there on first use.
    if name in __all__:
        return getattr(_plugins, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
