"""Checking a plugin when it registers: metadata present and consistent, the kind's methods ``async def``.

Errors name the plugin, the method and what was expected, so a plugin author sees the mistake at
registration instead of a ``TypeError: object NoneType can't be used in 'await' expression`` in the worker.

A plugin found through an entry point that declares no metadata but implements its kind's ``async def``
methods gets metadata derived from its distribution (:mod:`fapilog._registry.derived`) and loads silently:
that is a complete plugin written from the protocols alone. Other plain objects (no ``metadata`` class
attribute: handed over directly, or with synchronous methods) still work: minimal metadata is synthesized
from what the object offers, and a one-time :class:`LegacyPluginWarning` says how to declare it properly.
Only they may keep a synchronous sink ``write``; the registry wraps them so the worker sees the async
contract.
"""

from __future__ import annotations

import functools
import inspect
import re
import sys
import threading
import warnings
from typing import TYPE_CHECKING, Any

from fapilog._value_methods import RecordMethods
from fapilog.errors import FapilogWarning, PluginValidationError
from fapilog.plugins.metadata import (
    KIND_BY_NAME,
    PLUGIN_KINDS,
    REQUIRED_METHODS,
    PluginKind,
    PluginMetadata,
    metadata_of,
)

if TYPE_CHECKING:
    from fapilog._registry.derived import DistributionFacts

__all__ = [
    "Inspected",
    "LegacyPluginWarning",
    "check_methods",
    "derive_metadata",
    "inspect_plugin",
    "needs_async_adapter",
]

_OPTIONAL = ("start", "stop", "flush", "health_check")
_SINK_METHODS = ("start", "stop", KIND_BY_NAME["sink"].method, KIND_BY_NAME["sink"].batch_method,
                 KIND_BY_NAME["sink"].line_method, "flush")
"""A sink's lifecycle methods plus its write methods (from ``KINDS``): any synchronous one needs the adapter."""
_VALID_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")

_warned: set[str] = set()
_warned_lock = threading.Lock()


class LegacyPluginWarning(FapilogWarning):
    """Emitted once per plugin class that declares no :class:`~fapilog.plugins.metadata.PluginMetadata`."""

    default_code = "FL-VAL-003"


class Inspected(RecordMethods):
    """The outcome of validating one plugin object: its (possibly synthesized) metadata and legacy flag.

    ``derived_from`` is ``"distribution NAME VERSION"`` when the metadata was derived from the providing
    distribution. A plain ``__slots__`` class: it is defined at every start-up, where a dataclass costs
    tens of times more to create.
    """

    __slots__ = ("derived_from", "legacy", "metadata", "notice")

    def __init__(
        self, metadata: PluginMetadata, legacy: bool, notice: str | None = None, derived_from: str | None = None
    ) -> None:
        self.metadata = metadata
        self.legacy = legacy
        self.notice = notice
        self.derived_from = derived_from


def _cls(plugin: object) -> type:
    return plugin if isinstance(plugin, type) else type(plugin)


def _is_async(fn: object) -> bool:
    """Whether ``fn`` is an ``async def`` by its definition, also behind what only forwards the call: a
    ``functools.wraps`` decorator, ``functools.partial``/``partialmethod``, an object whose ``__call__`` is
    ``async def`` (the core awaits what any of them returns)."""
    if inspect.iscoroutinefunction(fn):
        return True
    method = getattr(fn, "__partialmethod__", None) or getattr(fn, "_partialmethod", None)  # 3.13+, 3.11
    if isinstance(method, functools.partialmethod):
        return _is_async(method.func)
    if callable(fn) and not inspect.isroutine(fn) and not isinstance(fn, (type, functools.partial)):
        return inspect.iscoroutinefunction(type(fn).__call__)
    try:
        unwrapped = inspect.unwrap(fn)  # type: ignore[arg-type]
    except ValueError:  # a __wrapped__ cycle
        return False
    return unwrapped is not fn and inspect.iscoroutinefunction(unwrapped)


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
            code="FL-VAL-001",
        )
    return candidate


def _legacy_kind(plugin: object, name: str, kind_hint: PluginKind | None) -> PluginKind:
    if kind_hint is not None:
        return kind_hint
    offered = [kind for kind in PLUGIN_KINDS if _has(plugin, REQUIRED_METHODS[kind])]
    if len(offered) == 1:
        return offered[0]
    if offered:
        raise PluginValidationError(
            f"plugin {name!r} ({_cls(plugin).__qualname__}) has no metadata and its kind is ambiguous: it offers "
            f"the methods of several kinds ({', '.join(offered)}). Declare `metadata = PluginMetadata("
            f"name={name!r}, version=..., kind=...)`, or configure it under one kind",
            plugin=name,
            code="FL-VAL-001",
        )
    expected = "; ".join(f"a {k} defines `async def {REQUIRED_METHODS[k]}(self, record)`" for k in PLUGIN_KINDS)
    raise PluginValidationError(
        f"plugin {name!r} ({_cls(plugin).__qualname__}) is not a pipeline stage: it offers none of the stage "
        f"methods ({', '.join(REQUIRED_METHODS[k] + '()' for k in PLUGIN_KINDS)}). A plugin must be one of the "
        f"kinds sink, processor, enricher, redactor or filter: {expected}. An integration (a web-framework "
        "middleware, say) is not a plugin: import and use it directly, or give it one of these methods",
        plugin=name,
        code="FL-VAL-002",
    )


def check_methods(plugin: object, md: PluginMetadata) -> None:
    """Check the kind's method (and the optional ones present) are ``async def``; raises PluginValidationError."""
    _check_methods(plugin, md, legacy=False)


def derive_metadata(
    plugin: object, facts: DistributionFacts, kind_hint: PluginKind | None = None
) -> PluginMetadata | None:
    """The metadata the registry would derive for ``plugin`` from ``facts``; None when it would not (the
    plugin declares metadata, or cannot meet its kind's async contract): nothing is raised or warned."""
    try:
        if metadata_of(plugin) is not None:
            return None
        derived = _derive(plugin, facts.entry_name, kind_hint, facts)
    except PluginValidationError:
        return None
    return derived.metadata if derived is not None else None


def _derive(
    plugin: object, name: str | None, kind_hint: PluginKind | None, facts: DistributionFacts
) -> Inspected | None:
    """Metadata from the distribution, for a plugin that implements its kind's async methods; else None.

    A missing stage method, or an ambiguous kind, raises (there is nothing to fall back on); a synchronous
    method, or facts that do not make valid metadata, leave the plugin to the legacy path and its notice.
    """
    from fapilog._registry.derived import metadata_from_facts  # only a plugin without metadata needs it

    entry_name = name or facts.entry_name
    kind = _legacy_kind(plugin, entry_name, kind_hint)
    md = metadata_from_facts(facts._replace(entry_name=entry_name), kind)
    if md is None:
        return None
    try:
        _check_methods(plugin, md, legacy=False)
    except PluginValidationError:
        if _has(plugin, REQUIRED_METHODS[kind]):
            return None  # a synchronous method: the legacy path adapts it and says so
        raise
    return Inspected(md, legacy=False, derived_from=facts.where)


_ARGUMENTS = {"start": "", "stop": "", "flush": "", "health_check": ""}
"""What the core passes to the optional methods (nothing); the kind's method gets ``record``, its batch form
``records``, its line form ``lines`` (see :data:`~fapilog.plugins.metadata.KINDS`)."""


def _arguments(md: PluginMetadata, method: str) -> str:
    spec = KIND_BY_NAME[md.kind]
    if method == spec.method:
        return "record"
    if method == spec.batch_method:
        return "records"
    if method == spec.line_method:
        return "lines"
    return _ARGUMENTS.get(method, "")


def _check_signature(plugin: object, md: PluginMetadata, where: str, method: str, *, legacy: bool = False) -> None:
    """Refuse ``method`` if the core's call (``method(record)``, ``method(records)``, ``method()``) cannot bind
    to it, as pluggy checks a hook's arguments at registration instead of failing on every event."""
    fn = getattr(plugin, method)
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # an extension type without an introspectable signature: trust it
        return
    params = list(signature.parameters.values())
    static = isinstance(inspect.getattr_static(_cls(plugin), method, None), (staticmethod, classmethod))
    if isinstance(plugin, type) and inspect.isfunction(fn) and not static and params:
        params = params[1:]  # looked up on the class: the first parameter is self
    arguments = _arguments(md, method)
    try:
        signature.replace(parameters=params).bind(*([None] if arguments else []))
    except TypeError:
        kind = "def" if legacy and not _is_async(fn) else "async def"
        wanted = f"self, {arguments}" if arguments else "self"
        raise PluginValidationError(
            f"{where}: {method}{signature.replace(parameters=params)} does not accept the call the core makes, "
            f"{method}({arguments}); write `{kind} {method}({wanted})`",
            plugin=md.name,
            code="FL-VAL-002",
        ) from None


def _check_methods(plugin: object, md: PluginMetadata, legacy: bool) -> None:
    where = f"plugin {md.name!r} ({_cls(plugin).__qualname__}, kind {md.kind!r})"
    required = REQUIRED_METHODS[md.kind]
    fn = getattr(plugin, required, None)
    if fn is None or not callable(fn):
        raise PluginValidationError(
            f"{where} has no {required}() method; a {md.kind} must define `async def {required}(self, ...)`",
            plugin=md.name,
            code="FL-VAL-002",
        )
    _check_signature(plugin, md, where, required, legacy=legacy)
    if not _is_async(fn) and not (legacy and md.kind == "sink"):
        raise PluginValidationError(
            f"{where}: {required}() must be `async def` (the worker awaits it) but it is a plain function; "
            f"write `async def {required}(self, ...)`",
            plugin=md.name,
            code="FL-VAL-002",
        )
    if legacy:
        return  # legacy objects keep their optional methods as they are; the core tolerates sync hooks
    spec = KIND_BY_NAME[md.kind]
    for optional in (*_OPTIONAL, spec.batch_method, *([spec.line_method] if spec.line_method else [])):
        fn = getattr(plugin, optional, None)
        if fn is not None and callable(fn) and not _is_async(fn):
            raise PluginValidationError(
                f"{where}: {optional}() must be `async def` when present, but it is a plain function",
                plugin=md.name,
                code="FL-VAL-002",
            )
        if fn is not None and callable(fn):
            _check_signature(plugin, md, where, optional)


def needs_async_adapter(plugin: object, kind: PluginKind) -> bool:
    """True for a sink with at least one synchronous lifecycle or write method (legacy objects only)."""
    if kind != "sink":
        return False
    return any(_has(plugin, m) and not _is_async(getattr(plugin, m)) for m in _SINK_METHODS)


def _notify_once(plugin: object, message: str) -> None:
    """Warn once per plugin class, at the class's own definition (file and line), where its author looks,
    rather than at whichever frame of the registry, the builder or the worker thread happened to notice."""
    cls = _cls(plugin)
    key = f"{cls.__module__}.{cls.__qualname__}"
    with _warned_lock:
        if key in _warned:
            return
        _warned.add(key)
    filename, lineno, registry, source = _definition(cls)
    warnings.warn_explicit(message, LegacyPluginWarning, filename, lineno, module=cls.__module__,
                           registry=registry, module_globals=source)


_Registry = dict[str | tuple[str, type[Warning], int], int]
"""A module's ``__warningregistry__``, which de-duplicates its warnings."""


def _definition(cls: type) -> tuple[str, int, _Registry | None, dict[str, Any] | None]:
    """Where ``cls`` is defined, for a warning about it: file, line, its module's warning registry, and its
    module's globals when they can show the source line."""
    module = sys.modules.get(cls.__module__)
    try:
        filename = inspect.getsourcefile(cls) or inspect.getfile(cls)
        lineno = inspect.getsourcelines(cls)[1]
    except (OSError, TypeError, ImportError):  # no source file to read (a REPL, exec'd text, `python -c`)
        # the class's own functions still know where they were compiled (``<stdin>``, ``<string>`` and a line);
        # the module's file would name a file that does not hold the class
        code = next((f.__code__ for f in vars(cls).values() if inspect.isfunction(f)), None)
        if code is not None:
            filename, lineno = code.co_filename, code.co_firstlineno
        else:
            filename, lineno = f"<{cls.__module__}>", 1
    globals_ = vars(module) if module is not None else None
    registry: _Registry | None = globals_.setdefault("__warningregistry__", {}) if globals_ is not None else None
    # module_globals lets the warning show the source line; a module run by `python -c` has no source to read
    source = globals_ if globals_ is not None and globals_.get("__file__") else None
    return filename, lineno, registry, source


def inspect_plugin(
    plugin: object,
    metadata: PluginMetadata | None = None,
    *,
    name: str | None = None,
    kind_hint: PluginKind | None = None,
    version: str = "0",
    facts: DistributionFacts | None = None,
) -> Inspected:
    """Validate ``plugin`` (a class or an instance) and return its metadata.

    ``name`` is the name it is registered or discovered under; it must equal ``metadata.name`` (and the
    class's ``name`` attribute, if it has one). ``kind_hint`` is the kind it is configured as: for legacy
    objects it resolves the kind, for declared ones it must match. ``facts`` (what the providing distribution
    says, for a plugin found through an entry point) let a plugin without metadata get it from there.
    """
    declared = metadata if metadata is not None else metadata_of(plugin)
    if declared is None and facts is not None:
        derived = _derive(plugin, name, kind_hint, facts)
        if derived is not None:
            return derived
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
                code="FL-VAL-001",
            )
    if kind_hint is not None and kind_hint != declared.kind:
        raise PluginValidationError(
            f"plugin {declared.name!r} is a {declared.kind}, but it is configured as a {kind_hint}; "
            f"list it among the {declared.kind}s instead",
            plugin=declared.name,
            code="FL-PLG-006",
        )
    _check_methods(plugin, declared, legacy=False)
    return Inspected(declared, legacy=False)


def _class_name(plugin: object) -> str | None:
    own = getattr(_cls(plugin), "name", None)
    return own if isinstance(own, str) else None
