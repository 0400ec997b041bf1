"""What a configured plugin spec names: a name, a settings table with ``type``, or an object (registry helpers)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fapilog.errors import ConfigError

__all__ = ["NOT_PLUGINS", "spec_label", "split_spec"]


def spec_label(spec: object) -> str:
    """The plugin name a spec asks for, before any plugin is built from it (a span about a load that failed, a
    message about a plugin that is not running yet): a name, a table's ``type``/``name``, an object's declared
    ``metadata.name``, else its own ``name``, ``__name__`` or class name."""
    if isinstance(spec, str):
        return spec
    if isinstance(spec, Mapping):
        return str(spec.get("type") or spec.get("name") or "?")
    declared = getattr(getattr(spec, "metadata", None), "name", None)
    if isinstance(declared, str) and declared:
        return declared
    own = getattr(spec, "name", None)
    return own if isinstance(own, str) else getattr(spec, "__name__", type(spec).__name__)


NOT_PLUGINS = (bool, int, float, complex, bytes, list, tuple, set, frozenset)
"""Values a configured list may hold by mistake; no plugin is one of them."""


def split_spec(spec: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The plugin name a settings table asks for (``type``, else ``name``) and the rest of it as its settings."""
    settings = dict(spec)
    name = settings.pop("type", None)
    if name is None:
        # Without "type", "name" names the plugin; with it, "name" is an ordinary setting.
        name = settings.pop("name", None)
    if not isinstance(name, str) or not name:
        raise ConfigError(
            f'plugin spec {dict(spec)!r} does not say which plugin to use: add "type": "<plugin name>"',
            field="type", code="FL-CFG-010",
        )
    return name, settings
