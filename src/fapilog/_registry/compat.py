"""The version gate: does an installed plugin distribution accept the running fapilog core?

Every third-party plugin distribution declares ``Requires-Dist: fapilog>=3.0,<4.0`` (or similar). The gate
reads that line from the distribution's metadata, never from the plugin's code, so an incompatible plugin
is refused *before* it is imported: old code that would crash, or worse half-work, never runs.

>>> verdict = check_distribution(importlib.metadata.distribution("fapilog-splunk"))
>>> verdict.compatible, verdict.constraint
(True, '>=3.0,<4.0')
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import Distribution

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import Specifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from fapilog._registry.verdict import CORE_DISTRIBUTION, CompatVerdict
from fapilog._version import __version__
from fapilog.errors import PluginIncompatibleError

__all__ = [
    "CORE_DISTRIBUTION",
    "CompatVerdict",
    "check_constraint",
    "check_distribution",
    "core_requirement",
    "extra_requirements",
    "format_specifier",
    "incompatible_error",
]

# Lower bounds read first in messages ("fapilog>=3.0,<4"), the way people write ranges.
_OPERATOR_ORDER = {">": 0, ">=": 1, "~=": 2, "==": 3, "===": 4, "!=": 5, "<=": 6, "<": 7}


def format_specifier(specifier: SpecifierSet) -> str:
    """Render a specifier set lower bound first (``>=3.0,<4.0``) instead of packaging's sorted order."""
    ordered = sorted(specifier, key=lambda spec: (_OPERATOR_ORDER.get(spec.operator, 9), spec.version))
    return ",".join(str(spec) for spec in ordered)


def _applicable(requirement: Requirement, extra: str) -> bool:
    if requirement.marker is None:
        return True
    # An empty extra means "the base install": lines guarded by `extra == "x"` do not apply to it.
    return requirement.marker.evaluate({"extra": extra})


def _requirements(dist: Distribution) -> Iterable[Requirement]:
    for line in dist.requires or ():
        try:
            yield Requirement(line)
        except InvalidRequirement:
            continue  # a malformed line belongs to some other package's concern, not the gate's


def core_requirement(dist: Distribution) -> SpecifierSet | None:
    """The combined ``fapilog`` version range that applies to this environment, or ``None`` if undeclared.

    Lines behind an extra (``; extra == "x"``) are ignored and environment markers (``python_version``…)
    are evaluated, so only what pip would enforce here counts. Several applicable lines intersect.
    """
    combined: SpecifierSet | None = None
    for requirement in _requirements(dist):
        if canonicalize_name(requirement.name) != CORE_DISTRIBUTION or not _applicable(requirement, ""):
            continue
        spec = SpecifierSet(str(requirement.specifier), prereleases=True)
        combined = spec if combined is None else combined & spec
    return combined


def extra_requirements(dist: Distribution, extra: str) -> list[Requirement]:
    """Requirements that ``pip install "dist[extra]"`` adds on top of the base install."""
    return [
        requirement
        for requirement in _requirements(dist)
        if _applicable(requirement, extra) and not _applicable(requirement, "")
    ]


def check_constraint(constraint: SpecifierSet | str | None, core_version: str = __version__) -> CompatVerdict:
    """Check a ``fapilog`` version range against ``core_version`` (pre-releases count as in range)."""
    if constraint is None:
        return CompatVerdict(
            True,
            None,
            f"declares no fapilog requirement, so compatibility with fapilog {core_version} is not "
            "guaranteed; its authors should add a range such as 'fapilog>=3.0,<4.0' to its dependencies",
            core_version, code="FL-VER-004",
        )
    spec = SpecifierSet(str(constraint), prereleases=True)
    text = format_specifier(spec)
    try:
        version = Version(core_version)
    except InvalidVersion:
        return CompatVerdict(False, text, f"core version {core_version!r} is not a PEP 440 version", core_version,
                             code="FL-VER-003")
    if spec.contains(version, prereleases=True):
        return CompatVerdict(True, text, f"fapilog {core_version} satisfies '{text}'", core_version)
    direction = "a newer" if _wants_newer(spec, version) else "an older"
    return CompatVerdict(
        False,
        text,
        f"requires fapilog{text}, but fapilog {core_version} is installed (it was built for {direction} core)",
        core_version, code="FL-VER-001",
    )


def _wants_newer(spec: SpecifierSet, version: Version) -> bool:
    lower_bounds: list[Specifier] = [s for s in spec if s.operator in {">", ">=", "~=", "==", "==="}]
    return any(not s.contains(version, prereleases=True) for s in lower_bounds)


def check_distribution(dist: Distribution, core_version: str = __version__) -> CompatVerdict:
    """Run the gate on an installed distribution's metadata (no plugin code is imported).

    The core's own distribution is always compatible with itself.
    """
    if canonicalize_name(dist.name) == CORE_DISTRIBUTION:
        return CompatVerdict(True, None, "part of the fapilog core", core_version)
    return check_constraint(core_requirement(dist), core_version)


def incompatible_error(
    plugin: str, distribution: str, dist_version: str, verdict: CompatVerdict
) -> PluginIncompatibleError:
    """Build the error for a plugin the gate refused, with both ways out spelled as pip commands.

    The first fix keeps the installed core and lets pip pick the plugin release that supports it (an upgrade
    or a downgrade, whichever exists); the second installs the core range this plugin release asks for.
    """
    core = verdict.core_version
    core_major = core.split(".", 1)[0]
    return PluginIncompatibleError(
        f"plugin {plugin!r} from {distribution} {dist_version} {verdict.reason}.\n"
        f"Fix: install a release of {distribution} that supports fapilog {core}:\n"
        f'    pip install --upgrade "{distribution}" "fapilog=={core}"\n'
        f"or install a fapilog that {distribution} {dist_version} supports "
        f"(this changes the core under every other plugin, which may expect fapilog {core_major}.x):\n"
        f'    pip install "fapilog{verdict.constraint or ""}"',
        plugin=plugin, code="FL-VER-001",
    )
