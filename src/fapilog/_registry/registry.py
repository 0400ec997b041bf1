"""The one place plugins are looked up, validated, created and tracked, built-in or third-party alike.

Names resolve to explicit registrations first (tests, applications, conflict resolution), then to the
entry points discovery found (the core's built-ins arrive that way too, so there is one path to test).
Validation happens once, when a plugin registers or is first loaded, and lifecycle bookkeeping per created
instance (loaded → started → stopped, or failed with the reason) feeds diagnostics and ``fapilog.stats()``.

>>> registry = PluginRegistry()
>>> name, sink = registry.create("sink", {"type": "file", "path": "app.log"})
>>> await registry.start(sink)
...
>>> await registry.stop(sink)
"""

from __future__ import annotations

import builtins
import dataclasses
import threading
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from fapilog._registry import discovery, tracing
from fapilog._registry.config import instantiate
from fapilog._registry.lifecycle import InstanceTracker, PluginInstanceInfo, elapsed_ms
from fapilog._registry.specs import NOT_PLUGINS, spec_label, split_spec
from fapilog._registry.validation import LegacyPluginWarning, inspect_plugin, needs_async_adapter
from fapilog._registry.verdict import CompatVerdict
from fapilog._value_methods import ValueMethods, value_class
from fapilog.errors import ConfigError, PluginError, PluginNotFoundError, PluginValidationError
from fapilog.plugins.metadata import PLUGIN_KINDS, PluginKind, PluginMetadata

if TYPE_CHECKING:
    from fapilog._registry.derived import DistributionFacts

__all__ = [
    "LegacyPluginWarning",
    "PluginInfo",
    "PluginInstanceInfo",
    "PluginRegistry",
    "PluginSource",
    "PluginState",
    "default_registry",
]

PluginState = Literal["discovered", "loaded", "failed"]
PluginSource = Literal["registered", "entry-point", "builtin"]


@value_class  # see fapilog._value_methods
class PluginInfo(ValueMethods):
    """A snapshot of what the registry knows about one plugin name.

    ``plugin`` (the class, or a ready-made instance) and ``metadata``/``kind`` are set once the plugin is
    loaded; a merely discovered plugin has not been imported. ``load_ms`` is the import-and-validate time.
    """

    name: str
    state: PluginState
    source: PluginSource
    kind: PluginKind | None = None
    metadata: PluginMetadata | None = None
    plugin: object | None = None
    distribution: str | None = None
    dist_version: str | None = None
    verdict: CompatVerdict | None = None
    available: bool = True
    legacy: bool = False
    derived_from: str | None = None
    """Set when the plugin declares no metadata and it was derived from its distribution (see ``_derived``)."""
    error: str | None = None
    load_ms: float | None = None


def _facts(name: str, entry: discovery.DiscoveredPlugin) -> DistributionFacts:
    """What a third-party plugin's distribution says about it (a built-in never needs this module)."""
    from fapilog._registry.derived import facts_from_distribution

    return facts_from_distribution(name, entry.distribution, entry.dist_version)


def _metadata(info: PluginInfo) -> PluginMetadata:
    if info.metadata is None:  # load() always sets it on success; this narrows the type
        raise PluginError(f"plugin {info.name!r} is not loaded", plugin=info.name, code="FL-PLG-005")
    return info.metadata


def _build(name: str, target: object, md: PluginMetadata, settings: Mapping[str, Any]) -> object:
    if isinstance(target, type):
        return instantiate(name, target, md.config_model, settings)
    if settings:
        raise ConfigError(
            f"plugin {name!r} is registered as a ready-made instance and takes no settings; got {', '.join(settings)}",
            field=next(iter(settings)), code="FL-CFG-011",
        )
    return target


class PluginRegistry:
    """Registered and discovered plugins by name, plus the instances created from them.

    Pass ``plugins`` to register objects directly (handy in tests), and ``entry_points=False`` to ignore
    installed plugins entirely. Thread-safe: configuration may run on any thread.
    """

    def __init__(self, plugins: Iterable[object] = (), *, entry_points: bool = True) -> None:
        self._lock = threading.RLock()
        self._registered: dict[str, PluginInfo] = {}
        self._discovered: dict[str, PluginInfo] = {}
        self._entry_points = entry_points
        self._tracker = InstanceTracker()
        self._notices: builtins.list[str] = []
        for plugin in plugins:
            self.register(plugin)

    # -- catalogue ---------------------------------------------------------------------------------------

    def register(
        self, plugin: object, metadata: PluginMetadata | None = None, *, name: str | None = None
    ) -> PluginInfo:
        """Validate and register a plugin class (or ready-made instance) under its metadata name.

        Raises :class:`~fapilog.errors.PluginValidationError` when the kind's method is missing or not
        ``async def``, or when ``name`` differs from ``metadata.name``; :class:`~fapilog.errors.PluginError`
        when the name is already registered. A registration overrides a discovered plugin of the same name.
        """
        checked = inspect_plugin(plugin, metadata, name=name)
        md = checked.metadata
        info = PluginInfo(md.name, "loaded", "registered", md.kind, md, plugin, legacy=checked.legacy, load_ms=0.0)
        with self._lock:
            existing = self._registered.get(md.name)
            if existing is not None:
                raise PluginError(
                    f"plugin name {md.name!r} is already registered ({existing.plugin!r}); call "
                    f"unregister({md.name!r}) first to replace it",
                    plugin=md.name, code="FL-PLG-003",
                )
            self._registered[md.name] = info
            if checked.notice:
                self._notices.append(checked.notice)
        return info

    def unregister(self, name: str) -> None:
        """Remove an explicit registration; a discovered plugin of the same name becomes visible again."""
        with self._lock:
            if self._registered.pop(name, None) is None:
                raise PluginNotFoundError(f"no plugin named {name!r} is registered explicitly", plugin=name,
                                          code="FL-PLG-004")

    def discover(self, *, refresh: bool = False) -> builtins.list[PluginInfo]:
        """Return the installed plugins' entries (from the cached scan, or a fresh one with ``refresh``)."""
        if refresh:
            discovery.refresh()
            with self._lock:
                self._discovered.clear()
        if not self._entry_points:
            return []
        scan = discovery.scan()
        with self._lock:
            found = [self._discovered.get(n) or self._entry_info(e) for n, e in scan.plugins.items()]
        failed = [PluginInfo(n, "failed", "entry-point", error=str(c.error())) for n, c in scan.conflicts.items()]
        return sorted([*found, *failed], key=lambda info: info.name)

    def get(self, name: str) -> PluginInfo:
        """What is known about ``name``, without importing it; raises ``PluginNotFoundError`` with suggestions."""
        with self._lock:
            if name in self._registered:
                return self._registered[name]
            if name in self._discovered:
                return self._discovered[name]
        if not self._entry_points:
            raise discovery.not_found_error(name, self._registered)
        builtin = discovery.builtin_entry(name)  # a built-in name never needs the entry-point scan
        if builtin is not None:
            return self._entry_info(builtin)
        try:
            return self._entry_info(discovery.find(name))
        except PluginNotFoundError:
            raise discovery.not_found_error(name, self._known()) from None

    def list(self, kind: PluginKind | None = None) -> builtins.list[PluginInfo]:
        """Every known plugin, sorted by name; with ``kind``, only those known to be of that kind.

        A discovered plugin's kind is known only once it is loaded (it lives in its code, not its metadata).
        """
        merged = {info.name: info for info in self.discover()}
        with self._lock:
            merged.update(self._registered)
        infos = sorted(merged.values(), key=lambda info: info.name)
        return infos if kind is None else [info for info in infos if info.kind == kind]

    def load(self, name: str, *, kind: PluginKind | None = None) -> PluginInfo:
        """Import (after the version gate) and validate the plugin ``name``; idempotent once it succeeded.

        ``kind`` is the kind it is about to be used as: it must match the declared one, and resolves the
        kind of legacy objects. Failures are recorded on the plugin's info (state ``failed``) and raised.
        """
        info = self.get(name)
        if info.state == "loaded" and info.metadata is not None:
            if kind is not None and info.kind != kind:
                raise PluginValidationError(
                    f"plugin {name!r} is a {info.kind}, but it is configured as a {kind}; "
                    f"list it among the {info.kind}s instead",
                    plugin=name, code="FL-PLG-006",
                )
            return info
        started = time.perf_counter()
        try:
            entry = discovery.builtin_entry(name) or discovery.find(name)
            plugin = discovery.load_plugin(entry)
            facts = None if entry.builtin else _facts(name, entry)
            checked = inspect_plugin(plugin, name=name, kind_hint=kind, version=entry.dist_version, facts=facts)
        except PluginError as exc:
            with self._lock:
                self._discovered[name] = dataclasses.replace(info, state="failed", error=str(exc))
            raise
        md = checked.metadata
        loaded = dataclasses.replace(
            info,
            state="loaded",
            kind=md.kind,
            metadata=md,
            plugin=plugin,
            legacy=checked.legacy,
            derived_from=checked.derived_from,
            error=None,
            load_ms=elapsed_ms(started),
        )
        with self._lock:
            self._discovered[name] = loaded
            if checked.notice:
                self._notices.append(checked.notice)
        return loaded

    @property
    def notices(self) -> tuple[str, ...]:
        """One-time notices about legacy plugins this registry accepted (also emitted as warnings)."""
        with self._lock:
            return tuple(self._notices)

    def _known(self) -> set[str]:
        names = set(self._registered)
        if self._entry_points:
            names.update(discovery.scan().names())
        return names

    def _entry_info(self, entry: discovery.DiscoveredPlugin) -> PluginInfo:
        return PluginInfo(
            entry.name,
            "discovered",
            "builtin" if entry.builtin else "entry-point",
            distribution=entry.distribution,
            dist_version=entry.dist_version,
            verdict=entry.verdict,
            available=entry.available,
        )

    # -- instances ---------------------------------------------------------------------------------------

    def create(self, kind: PluginKind, spec: object) -> tuple[str, object]:
        """Turn one configured plugin ``spec`` into ``(name, instance)``.

        ``spec`` is a name (``"file"``), a mapping (``{"type": "file", "path": "app.log"}``; ``"name"`` is
        accepted instead of ``"type"``), a plugin class, or an instance (used as is). Settings are validated
        by the plugin's ``config_model`` and passed to its constructor as keyword arguments. Raises
        :class:`~fapilog.errors.ConfigError` naming the plugin and field for bad settings, and the
        ``PluginError`` family for unknown, incompatible, broken or invalid plugins.
        """
        if kind not in PLUGIN_KINDS:
            raise ConfigError(f"unknown plugin kind {kind!r}: use one of {', '.join(PLUGIN_KINDS)}", field="kind",
                              code="FL-CFG-009")
        started = time.perf_counter()
        trace = tracing.hook
        if trace is None:
            return self._create(kind, spec, started)
        try:
            name, instance = self._create(kind, spec, started)
        except BaseException as exc:
            trace("load", spec_label(spec), kind, elapsed_ms(started), exc)
            raise
        trace("load", name, kind, elapsed_ms(started), None)
        return name, instance

    def _create(self, kind: PluginKind, spec: object, started: float) -> tuple[str, object]:
        if isinstance(spec, (str, Mapping)):
            name, settings = (spec, {}) if isinstance(spec, str) else split_spec(spec)
            info = self.load(name, kind=kind)
            md, legacy, target = _metadata(info), info.legacy, info.plugin
        elif spec is None or isinstance(spec, NOT_PLUGINS):  # a slip in a list (None, 5, a nested list)
            raise ConfigError(
                f'plugin spec {spec!r} does not say which plugin to use: give its name ("file"), a table with '
                '"type" ({"type": "file", ...}), or a plugin class or object',
                code="FL-CFG-010",
            )
        else:
            checked = inspect_plugin(spec, kind_hint=kind)
            md, legacy, target, settings = checked.metadata, checked.legacy, spec, {}
            own = getattr(spec, "name", None)
            name = own if isinstance(own, str) and not isinstance(spec, type) else md.name
        try:
            instance = _build(name, target, md, settings)
        except (ConfigError, PluginError) as exc:
            self._tracker.failed(name, md.kind, elapsed_ms(started), str(exc))
            raise
        if legacy and needs_async_adapter(instance, md.kind):
            from fapilog._registry.legacy import LegacySinkAdapter  # only a legacy plugin needs it

            instance = LegacySinkAdapter(instance, name)
        self._tracker.created(instance, name, md.kind, elapsed_ms(started))
        return name, instance

    def resolve_order(self, names: Iterable[str]) -> builtins.list[str]:
        """Order configured plugin names so each comes after the plugins its metadata ``requires``.

        Start plugins in this order and stop them in reverse. Loads the plugins (their ``requires`` lives
        in their code). Raises :class:`~fapilog.errors.PluginError` naming the chain for a missing
        dependency, a version outside the required range, or a cycle.
        """
        configured: dict[str, PluginMetadata] = {}
        for name in dict.fromkeys(names):
            configured[name] = _metadata(self.load(name))

        def is_known(name: str) -> bool:
            return name in self._known()

        def distribution_of(name: str) -> str | None:
            return self.get(name).distribution

        from fapilog._registry.dependencies import resolve_order  # only pipelines whose plugins require others

        return resolve_order(configured, is_known=is_known, distribution_of=distribution_of)

    async def start(self, instance: object) -> PluginInstanceInfo:
        """Call ``instance.start()`` (if it has one), recording the state and ``start_ms``.

        Raises :class:`~fapilog.errors.PluginError` with the plugin's exception chained; the instance is
        then in state ``failed`` and should still be passed to :meth:`stop`.
        """
        return await self._tracker.transition(instance, "start")

    async def stop(self, instance: object) -> PluginInstanceInfo:
        """Call ``instance.stop()`` and retire the instance's record; a never-started instance is not called.

        Raises :class:`~fapilog.errors.PluginError` (chained) when ``stop()`` fails; the record is retired
        either way so a broken plugin cannot block shutdown.
        """
        return await self._tracker.transition(instance, "stop")

    def instance_info(self, instance: object) -> PluginInstanceInfo | None:
        """The lifecycle record of one live instance (state, load/start times), or None if untracked."""
        return self._tracker.record_of(instance)

    def timings(self, instance: object) -> tuple[float | None, float | None]:
        """``(load_ms, start_ms)`` of one live instance (import, validation, construction; ``start()``), for
        stats(); ``None`` for what is not known."""
        info = self._tracker.record_of(instance)
        if info is None:
            return None, None
        start = round(info.start_ms, 3) if info.start_ms is not None else None
        return round(info.load_ms, 3), start

    def instances(self) -> builtins.list[PluginInstanceInfo]:
        """Lifecycle records of live instances, then of recently stopped or failed ones (oldest first)."""
        return self._tracker.records()


_default: PluginRegistry | None = None
_default_lock = threading.Lock()


def default_registry() -> PluginRegistry:
    """The process-wide registry the core configures from (created on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = PluginRegistry()
        return _default
