"""Finding installed plugins: one cached scan of the ``fapilog.plugins`` entry-point group per process.

The scan reads metadata only (entry-point tables and ``Requires-Dist`` lines); no plugin code is imported
until :func:`load` is asked for a name, and then only after the version gate passed. One broken or
incompatible plugin never hides the others: it is reported by name with what to do.

Name conflicts, when two distributions offer the same plugin name:

* the core's own distribution (``fapilog``) wins over third parties for its built-in names; the loser is
  kept in :attr:`Scan.shadowed` so diagnostics can show it;
* between two third-party distributions nobody wins: configuring that name raises a
  :class:`~fapilog.errors.PluginError` naming both distributions (uninstall one, or register the class you
  want explicitly). Unconfigured, the conflict is only reported by diagnostics.
"""

from __future__ import annotations

import importlib
import re
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Literal

from fapilog._registry.builtin_names import BUILTIN_PLUGINS, EXTRA_REQUIREMENTS, BuiltinPlugin
from fapilog._registry.verdict import CORE_DISTRIBUTION, CORE_VERDICT, CompatVerdict
from fapilog._value_methods import RecordMethods
from fapilog._version import __version__
from fapilog.errors import PluginError, PluginLoadError, PluginNotFoundError

if TYPE_CHECKING:
    import importlib.metadata

    from packaging.requirements import Requirement

# ``importlib.metadata``, ``packaging`` and the version gate are imported by the functions that scan or gate,
# not here: resolving a built-in name (the default pipeline) needs none of them, and together they cost
# a short-lived process tens of milliseconds.

__all__ = [
    "GROUP",
    "Conflict",
    "DiscoveredPlugin",
    "Scan",
    "builtin_entry",
    "find",
    "load",
    "load_plugin",
    "missing_extra_error",
    "not_found_error",
    "refresh",
    "scan",
    "scan_count",
]

GROUP = "fapilog.plugins"
"""The entry-point group plugins register in: ``[project.entry-points."fapilog.plugins"]``."""

_DEBUG_HINT = 'python -c "import fapilog; fapilog.debug_plugins()"'


def _canonical(name: str) -> str:
    """A distribution name in its normalized form (the rule ``packaging.utils.canonicalize_name`` applies)."""
    return re.sub(r"[-_.]+", "-", name).lower()


class DiscoveredPlugin(RecordMethods):
    """One entry point as found on disk, before any import: where it points and whether it may load.

    ``missing`` lists requirements of the entry point's extras that are not installed: such a plugin is
    *unavailable*, which is only an error if it is configured. (This and the other records here are plain
    ``__slots__`` classes: every process defines them at start-up, where a dataclass or ``NamedTuple``
    costs 0.2-0.6 ms each to create and a plain class a hundredth of a millisecond; :class:`RecordMethods` gives them
    the equality, hash and repr they had as frozen dataclasses.)
    """

    __slots__ = ("attr", "dist_version", "distribution", "extras", "missing", "module", "name", "source", "verdict")

    def __init__(
        self,
        name: str,
        module: str,
        attr: str,
        distribution: str,
        dist_version: str,
        verdict: CompatVerdict,
        extras: tuple[str, ...] = (),
        missing: tuple[str, ...] = (),
        source: Literal["entry-point", "builtin-table"] = "entry-point",
    ) -> None:
        self.name = name
        self.module = module
        self.attr = attr
        self.distribution = distribution
        self.dist_version = dist_version
        self.verdict = verdict
        self.extras = extras
        self.missing = missing
        self.source = source

    @property
    def value(self) -> str:
        """The ``"module:attr"`` target."""
        return f"{self.module}:{self.attr}"

    @property
    def available(self) -> bool:
        """False when an extra this plugin needs is not installed."""
        return not self.missing

    @property
    def builtin(self) -> bool:
        """True for plugins shipped by the core distribution."""
        return _canonical(self.distribution) == CORE_DISTRIBUTION

    @property
    def install_hint(self) -> str:
        """The pip command that installs what this plugin needs (its distribution with its extras)."""
        extras = f"[{','.join(self.extras)}]" if self.extras else ""
        return f"pip install '{self.distribution}{extras}'"


class Conflict(RecordMethods):
    """Two or more third-party distributions offering the same plugin name."""

    __slots__ = ("candidates", "name")

    def __init__(self, name: str, candidates: tuple[DiscoveredPlugin, ...]) -> None:
        self.name = name
        self.candidates = candidates

    def error(self) -> PluginError:
        """The error raised when the conflicting name is configured."""
        listed = "; ".join(f"{c.distribution} {c.dist_version} ({c.value})" for c in self.candidates)
        return PluginError(
            f"plugin name {self.name!r} is provided by {len(self.candidates)} distributions: {listed}. "
            f"Uninstall the one you do not want (pip uninstall {self.candidates[-1].distribution}), or "
            f"register the class you want explicitly: registry.register(TheClass, name={self.name!r}).",
            plugin=self.name, code="FL-PLG-002",
        )


class Scan(RecordMethods):
    """The result of one scan: usable plugins by name, unresolved conflicts, and shadowed entries."""

    __slots__ = ("conflicts", "plugins", "shadowed")

    def __init__(
        self,
        plugins: Mapping[str, DiscoveredPlugin],
        conflicts: Mapping[str, Conflict],
        shadowed: tuple[DiscoveredPlugin, ...] = (),
    ) -> None:
        self.plugins = plugins
        self.conflicts = conflicts
        self.shadowed = shadowed

    def names(self) -> list[str]:
        """Every name a user could configure or has to resolve, sorted."""
        return sorted({*self.plugins, *self.conflicts})


_lock = threading.Lock()
_cached: Scan | None = None
_scans = 0


def scan() -> Scan:
    """Return the process's scan of the ``fapilog.plugins`` group, scanning on first use only."""
    global _cached, _scans
    with _lock:
        if _cached is None:
            _cached = _scan()
            _scans += 1
        return _cached


def refresh() -> None:
    """Forget the cached scan so the next :func:`scan` reads installed metadata again (tests, hot installs)."""
    global _cached
    with _lock:
        _cached = None


def scan_count() -> int:
    """How many scans this process has made: lets tests and diagnostics see that the cache works."""
    return _scans


def _missing(requirements: Iterable[Requirement]) -> tuple[str, ...]:
    import importlib.metadata

    missing: list[str] = []
    for requirement in requirements:
        wanted = f"{requirement.name}{requirement.specifier}"  # without the `extra == ...` marker
        try:
            found = importlib.metadata.version(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(wanted)
            continue
        if not requirement.specifier.contains(found, prereleases=True):
            missing.append(f"{wanted} (found {found})")
    return tuple(missing)


def _extras(value: str) -> tuple[str, ...]:
    """The extras of an entry point's ``module:attr [extra1, extra2]`` value.

    Parsed here rather than taken from ``EntryPoint.extras``: on Python 3.11 that property splits on every
    non-word character, so ``[fp-sink]`` came back as ``fp`` and ``sink``.
    """
    _, bracket, rest = value.partition("[")
    if not bracket:
        return ()
    return tuple(part.strip() for part in rest.rstrip().removesuffix("]").split(",") if part.strip())


def _from_entry_point(ep: importlib.metadata.EntryPoint, verdicts: dict[str, CompatVerdict]) -> DiscoveredPlugin:
    from fapilog._registry.compat import check_distribution, extra_requirements

    dist = ep.dist
    dist_name = dist.name if dist is not None else "<unknown distribution>"
    dist_version = dist.version if dist is not None else "?"
    if dist is None:
        verdict = CompatVerdict(True, None, "providing distribution unknown; not checked", code="FL-VER-005")
    else:
        if dist_name not in verdicts:
            verdicts[dist_name] = check_distribution(dist)
        verdict = verdicts[dist_name]
    extras = _extras(ep.value)
    needed = [req for extra in extras for req in extra_requirements(dist, extra)] if dist is not None else []
    return DiscoveredPlugin(ep.name, ep.module, ep.attr, dist_name, dist_version, verdict, extras, _missing(needed))


_SOURCE_TREE = CompatVerdict(True, None, "part of the fapilog core (source tree)")


def _builtin_table() -> list[DiscoveredPlugin]:
    return [_from_row(row, _SOURCE_TREE) for row in BUILTIN_PLUGINS]


def _from_row(row: BuiltinPlugin, verdict: CompatVerdict) -> DiscoveredPlugin:
    module, _, attr = row.target.partition(":")
    extras = (row.extra,) if row.extra else ()
    missing: tuple[str, ...] = ()
    if extras:  # only a built-in with an extra needs the requirement parser and installed metadata
        from packaging.requirements import Requirement

        missing = _missing([Requirement(text) for extra in extras for text in EXTRA_REQUIREMENTS.get(extra, ())])
    return DiscoveredPlugin(
        row.name, module, attr, CORE_DISTRIBUTION, __version__, verdict, extras, missing, "builtin-table"
    )


_BUILTIN_ROWS = {row.name: row for row in BUILTIN_PLUGINS}


def builtin_entry(name: str) -> DiscoveredPlugin | None:
    """The core's own entry for a built-in ``name``, from the static table without any scan; None otherwise.

    A built-in name always resolves to the core's plugin (a third-party entry point reusing it is shadowed,
    see :func:`scan`), so the answer is the scan's answer, at the cost of a dict lookup. A test keeps the
    table equal to ``pyproject.toml``'s entry points.
    """
    row = _BUILTIN_ROWS.get(name)
    return None if row is None else _from_row(row, CORE_VERDICT)


def _scan() -> Scan:
    import importlib.metadata

    verdicts: dict[str, CompatVerdict] = {}
    found = [_from_entry_point(ep, verdicts) for ep in importlib.metadata.entry_points(group=GROUP)]
    if not any(entry.builtin for entry in found):
        found.extend(_builtin_table())  # running from a source tree: no installed core metadata
    by_name: dict[str, list[DiscoveredPlugin]] = {}
    for entry in found:
        same = by_name.setdefault(entry.name, [])
        if all(other.distribution != entry.distribution for other in same):
            same.append(entry)
    plugins: dict[str, DiscoveredPlugin] = {}
    conflicts: dict[str, Conflict] = {}
    shadowed: list[DiscoveredPlugin] = []
    for name, candidates in by_name.items():
        core = [c for c in candidates if c.builtin]
        if core:
            plugins[name] = core[0]
            shadowed.extend(c for c in candidates if not c.builtin)
        elif len(candidates) == 1:
            plugins[name] = candidates[0]
        else:
            conflicts[name] = Conflict(name, tuple(candidates))
    return Scan(plugins, conflicts, tuple(shadowed))


def not_found_error(name: str, known: Iterable[str]) -> PluginNotFoundError:
    """The error for an unknown plugin name: close matches, and which pip package might provide it."""
    import difflib

    matches = difflib.get_close_matches(name, sorted(set(known)), n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(repr(m) for m in matches)}?" if matches else ""
    return PluginNotFoundError(
        f"no plugin named {name!r} is installed or registered.{hint} If a separate package provides it, install "
        f"that package (its documentation names it); to list installed plugins run: {_DEBUG_HINT}",
        plugin=name, code="FL-PLG-001",
    )


def find(name: str) -> DiscoveredPlugin:
    """The discovered entry for ``name``; raises for unknown names and unresolved conflicts."""
    result = scan()
    if name in result.conflicts:
        raise result.conflicts[name].error()
    if name not in result.plugins:
        raise not_found_error(name, result.names())
    return result.plugins[name]


def load(name: str) -> object:
    """Gate, import and return the object an installed plugin's entry point names."""
    return load_plugin(find(name))


def missing_extra_error(
    plugin: str, distribution: str, extras: Iterable[str], exc: ModuleNotFoundError
) -> PluginLoadError:
    """The error for a plugin whose optional extra is not installed: names the extra's pip command."""
    wanted = ",".join(extras)
    return PluginLoadError(
        f"plugin {plugin!r} needs the optional dependency {exc.name!r}, which is not installed. "
        f"Install the extra that provides it: pip install '{distribution}[{wanted}]'",
        plugin=plugin, code="FL-IMP-003",
    )


def load_plugin(entry: DiscoveredPlugin) -> object:
    """Import ``entry``'s module and return its attribute, refusing an incompatible distribution first.

    Failures become :class:`~fapilog.errors.PluginLoadError` (or the plugin's own ``PluginError``) naming the
    plugin and its distribution, with the original exception chained as the cause.
    """
    where = f"plugin {entry.name!r} ({entry.distribution} {entry.dist_version}, {entry.value})"
    if not entry.verdict.compatible:
        from fapilog._registry.compat import incompatible_error

        raise incompatible_error(entry.name, entry.distribution, entry.dist_version, entry.verdict)
    if not entry.attr:
        raise PluginLoadError(
            f"{where}: the entry point must name an attribute as 'module:Class', not just a module; "
            f'fix the [project.entry-points."{GROUP}"] table of {entry.distribution}',
            plugin=entry.name, code="FL-IMP-005",
        )
    try:
        module = importlib.import_module(entry.module)
    except ModuleNotFoundError as exc:
        raise _module_not_found(entry, where, exc) from exc
    except PluginError as exc:  # raised by the plugin's own metadata declaration: already specific
        # fapilog's classes are kept; a plugin's own subclass may take other constructor arguments.
        cls = type(exc) if type(exc).__module__ == PluginError.__module__ else PluginError
        raise cls(f"{where}: {exc}", plugin=entry.name, code=exc.code) from exc
    except (Exception, SystemExit) as exc:  # sys.exit() at import is the plugin's bug, never the application's exit
        problem = (f"called sys.exit({exc.code!r}) while being imported: a plugin must never end the process"
                   if isinstance(exc, SystemExit) else
                   f"failed to import: {type(exc).__name__}: {exc}. The traceback is chained below")
        raise PluginLoadError(
            f"{where} {problem}; report it to the plugin's authors, and meanwhile remove {entry.name!r} from your "
            f"configuration or uninstall it (pip uninstall {entry.distribution}).",
            plugin=entry.name, code="FL-IMP-004",
        ) from exc
    target: object = module
    for part in entry.attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError as exc:
            raise PluginLoadError(
                f"{where}: module {entry.module!r} has no attribute {entry.attr!r}; the entry point of "
                f"{entry.distribution} is wrong, or the installed release is incomplete (reinstall it)",
                plugin=entry.name, code="FL-IMP-005",
            ) from exc
    return target


def _module_not_found(entry: DiscoveredPlugin, where: str, exc: ModuleNotFoundError) -> PluginError:
    missing = exc.name or ""
    if missing == entry.module or entry.module.startswith(f"{missing}."):
        return PluginLoadError(
            f"{where}: module {entry.module!r} does not exist; the distribution is broken or its entry point "
            f"is wrong. Reinstall it: pip install --force-reinstall {entry.distribution}",
            plugin=entry.name, code="FL-IMP-001",
        )
    if entry.extras:
        return missing_extra_error(entry.name, entry.distribution, entry.extras, exc)
    return PluginLoadError(
        f"{where} needs module {missing!r}, which is not installed. Reinstall the plugin with its "
        f"dependencies: pip install --force-reinstall {entry.distribution}",
        plugin=entry.name, code="FL-IMP-002",
    )
