"""Checking a plugin when it registers: metadata present and consistent, the kind's methods ``async def``.

Errors name the plugin, the method and what was expected, so a plugin author sees the mistake at
registration instead of a ``TypeError: object NoneType can't be used in 'await' expression`` in the worker.

Legacy plain objects (no ``metadata`` class attribute) still work: minimal metadata is synthesized from what
the object offers, and a one-time :class:`LegacyPluginWarning` says how to declare it properly. Only they
may keep a synchronous sink ``write``; the registry wraps them so the worker sees the async contract.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import threading
import warnings

from fapilog.errors import PluginValidationError
from fapilog.plugins.metadata import PLUGIN_KINDS, REQUIRED_METHODS, PluginKind, PluginMetadata, metadata_of

__all__ = ["Inspected", "LegacyPluginWarning", "inspect_plugin", "needs_async_adapter"]

_OPTIONAL = ("start", "stop", "flush", "health_check")
_SINK_METHODS = ("start", "stop", "write", "write_batch", "flush")
_VALID_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")

_warned: set[str] = set()
_warned_lock = threading.Lock()


class LegacyPluginWarning(UserWarning):
    """Emitted once per plugin class that declares no :class:`~fapilog.plugins.metadata.PluginMetadata`."""


@dataclasses.dataclass(frozen=True)
class Inspected:
    """The outcome of validating one plugin object: its (possibly synthesized) metadata and legacy flag."""

    metadata: PluginMetadata
    legacy: bool
    notice: str | None = None


def _cls(plugin: object) -> type:
    return plugin if isinstance(plugin, type) else type(plugin)


def _is_async(fn: object) -> bool:
    return inspect.iscoroutinefunction(fn)


def _has(plugin: object, method: str) -> bool:
    return callable(getattr(plugin, method, None))


def _legacy_name(plugin: object, name: str | None) -> str:
    own = getattr(plugin, "name", None)
    candidate = name or (own if isinstance(own, str) else None) or _cls(plugin).__name__.lower()
    if _VALID_NAME.fullmatch(candidate) is None:
        raise PluginValidationError(
            f"cannot use {candidate!r} (from {_cls(plugin).__qualname__}) as a plugin name: use lowercase "
            "letters, digits, '_' and '-'; pass name=... or declare PluginMetadata",
            plugin=candidate,
        )
    return candidate


def _legacy_kind(plugin: object, name: str, kind_hint: PluginKind | None) -> PluginKind:
    if kind_hint is not None:
        return kind_hint
    offered = [kind for kind in PLUGIN_KINDS if _has(plugin, REQUIRED_METHODS[kind])]
    if len(offered) == 1:
        return offered[0]
    methods = ", ".join(f"{REQUIRED_METHODS[k]}()" for k in PLUGIN_KINDS)
    problem = f"offers several ({', '.join(offered)})" if offered else f"offers none of {methods}"
    raise PluginValidationError(
        f"plugin {name!r} ({_cls(plugin).__qualname__}) has no metadata and its kind cannot be inferred: it "
        f"{problem}. Declare `metadata = PluginMetadata(name={name!r}, version=..., kind=...)`",
        plugin=name,
    )


def _check_methods(plugin: object, md: PluginMetadata, legacy: bool) -> None:
    where = f"plugin {md.name!r} ({_cls(plugin).__qualname__}, kind {md.kind!r})"
    required = REQUIRED_METHODS[md.kind]
    fn = getattr(plugin, required, None)
    if fn is None or not callable(fn):
        raise PluginValidationError(
            f"{where} has no {required}() method; a {md.kind} must define `async def {required}(self, ...)`",
            plugin=md.name,
        )
    if not _is_async(fn) and not (legacy and md.kind == "sink"):
        raise PluginValidationError(
            f"{where}: {required}() must be `async def` (the worker awaits it) but it is a plain function; "
            f"write `async def {required}(self, ...)`",
            plugin=md.name,
        )
    if legacy:
        return  # legacy objects keep their optional methods as they are; the core tolerates sync hooks
    for optional in (*_OPTIONAL, f"{required}_batch"):
        fn = getattr(plugin, optional, None)
        if fn is not None and callable(fn) and not _is_async(fn):
            raise PluginValidationError(
                f"{where}: {optional}() must be `async def` when present, but it is a plain function",
                plugin=md.name,
            )


def needs_async_adapter(plugin: object, kind: PluginKind) -> bool:
    """True for a sink with at least one synchronous lifecycle or write method (legacy objects only)."""
    if kind != "sink":
        return False
    return any(_has(plugin, m) and not _is_async(getattr(plugin, m)) for m in _SINK_METHODS)


def _notify_once(plugin: object, message: str) -> None:
    cls = _cls(plugin)
    key = f"{cls.__module__}.{cls.__qualname__}"
    with _warned_lock:
        if key in _warned:
            return
        _warned.add(key)
    warnings.warn(message, LegacyPluginWarning, stacklevel=4)


def inspect_plugin(
    plugin: object,
    metadata: PluginMetadata | None = None,
    *,
    name: str | None = None,
    kind_hint: PluginKind | None = None,
    version: str = "0",
) -> Inspected:
    """Validate ``plugin`` (a class or an instance) and return its metadata.

    ``name`` is the name it is registered or discovered under; it must equal ``metadata.name`` (and the
    class's ``name`` attribute, if it has one). ``kind_hint`` is the kind it is configured as: for legacy
    objects it resolves the kind, for declared ones it must match.
    """
    declared = metadata if metadata is not None else metadata_of(plugin)
    if declared is None:
        legacy_name = _legacy_name(plugin, name)
        kind = _legacy_kind(plugin, legacy_name, kind_hint)
        md = PluginMetadata(
            name=legacy_name,
            version=version,
            kind=kind,
            description=f"{_cls(plugin).__qualname__} (legacy plugin: no metadata declared)",
        )
        _check_methods(plugin, md, legacy=True)
        notice = (
            f"plugin {legacy_name!r} ({_cls(plugin).__qualname__}) declares no PluginMetadata, so fapilog "
            f"assumed kind {kind!r}; declare `metadata = PluginMetadata(name={legacy_name!r}, version=..., "
            f"kind={kind!r})` to get settings validation and dependency checks"
        )
        if kind == "sink" and needs_async_adapter(plugin, kind):
            notice += "; its synchronous methods run on a dedicated I/O thread"
        _notify_once(plugin, notice)
        return Inspected(md, legacy=True, notice=notice)
    for label, other in (("registered under", name), ("has a class attribute name =", _class_name(plugin))):
        if other is not None and other != declared.name:
            raise PluginValidationError(
                f"plugin {_cls(plugin).__qualname__} {label} {other!r} but its metadata says name="
                f"{declared.name!r}; make them equal (the entry-point name, register(name=...) and the "
                "class's name attribute must all match PluginMetadata.name)",
                plugin=other,
            )
    if kind_hint is not None and kind_hint != declared.kind:
        raise PluginValidationError(
            f"plugin {declared.name!r} is a {declared.kind}, but it is configured as a {kind_hint}; "
            f"list it among the {declared.kind}s instead",
            plugin=declared.name,
        )
    _check_methods(plugin, declared, legacy=False)
    return Inspected(declared, legacy=False)


def _class_name(plugin: object) -> str | None:
    own = getattr(_cls(plugin), "name", None)
    return own if isinstance(own, str) else None
