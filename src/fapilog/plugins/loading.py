"""From a configured spec to a plugin instance.

A spec is a name (``"file"``), a table (``{"type": "file", "path": "app.log"}``) or a ready object. Names
resolve through the plugin registry (entry points of group ``fapilog.plugins``, version-gated before import).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fapilog.errors import ConfigError, PluginLoadError, PluginNotFoundError

__all__ = ["create_plugin", "plugin_name"]

_BUILTINS = {
    "stdout": "fapilog.plugins.sinks.stream:StdoutSink",
    "stderr": "fapilog.plugins.sinks.stream:StderrSink",
    "file": "fapilog.plugins.sinks.file:FileSink",
    "memory": "fapilog.plugins.sinks.memory:MemorySink",
}


def plugin_name(obj: object) -> str:
    """The name a ready object goes by: its ``name`` attribute, else its metadata's, else its class name."""
    name = getattr(obj, "name", None)
    if isinstance(name, str) and name:
        return name
    meta = getattr(obj, "metadata", None)
    meta_name = getattr(meta, "name", None)
    if isinstance(meta_name, str) and meta_name:
        return meta_name
    return type(obj).__name__


def create_plugin(kind: str, spec: Any, *, where: str) -> tuple[str, object]:
    """Instantiate ``spec`` as a plugin of ``kind``; errors name ``where`` it was configured."""
    if isinstance(spec, str):
        type_name, options = spec, {}
    elif isinstance(spec, Mapping):
        options = dict(spec)
        type_name = options.pop("type", None) or options.pop("name", None)
        if not isinstance(type_name, str):
            raise ConfigError(f"{where}: a table needs a 'type' naming the plugin, got {dict(spec)!r}", field=where)
    else:
        return plugin_name(spec), spec
    target = _BUILTINS.get(type_name)
    if target is None:
        raise PluginNotFoundError(f"{where}: no {kind} plugin named {type_name!r}", plugin=type_name)
    module_name, _, attr = target.partition(":")
    import importlib

    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise PluginLoadError(f"{where}: cannot load {type_name!r} from {target}: {exc}", plugin=type_name) from exc
    try:
        return type_name, cls(**options)
    except TypeError as exc:
        raise ConfigError(f"{where}: plugin {type_name!r}: {exc}", field=where) from exc
