"""Metadata for a plugin that declares none, derived from the distribution that ships it.

A plugin written from the protocols alone (``async def process(self, record)``, an entry point, no
``PluginMetadata`` and no fapilog import) already says who it is in its distribution's metadata: the entry-point
name is the plugin's name, the distribution's ``Version`` and ``Summary`` are its version and description, and its
``Requires-Dist`` line for ``fapilog`` is what the version gate checked before importing it. Its kind follows from
the one stage method it implements. Such a plugin loads without a warning; only what cannot be derived
(a settings model, the plugins it requires) needs a declaration, and the checks say so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import importlib.metadata

    from fapilog.plugins.metadata import PluginKind, PluginMetadata

__all__ = [
    "DistributionFacts",
    "derived_note",
    "facts_from_distribution",
    "facts_from_project",
    "metadata_from_facts",
]


class DistributionFacts(NamedTuple):
    """What the providing distribution says about one entry point (no plugin code is involved)."""

    entry_name: str
    distribution: str
    version: str
    summary: str = ""
    author: str = ""
    homepage: str = ""
    core_requirement: str = ""
    """The distribution's ``fapilog`` range (``">=3.0,<4.0"``), empty when it declares none."""

    @property
    def where(self) -> str:
        return f"distribution {self.distribution} {self.version}"


def facts_from_distribution(entry_name: str, distribution: str, version: str) -> DistributionFacts:
    """Read the installed distribution's ``Summary``, author, home page and ``fapilog`` range."""
    import importlib.metadata  # here, not at import: a pipeline of built-ins never reads distribution metadata

    from fapilog._registry.compat import core_requirement, format_specifier

    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return DistributionFacts(entry_name, distribution, version)
    meta = dist.metadata
    spec = core_requirement(dist)
    return DistributionFacts(
        entry_name,
        distribution,
        version,
        summary=_field(meta, "Summary"),
        author=_field(meta, "Author") or _field(meta, "Author-email"),
        homepage=_field(meta, "Home-page") or _first_url(meta.get_all("Project-URL") or []),
        core_requirement=format_specifier(spec) if spec is not None else "",
    )


def facts_from_project(entry_name: str, project: dict[str, Any], version: str) -> DistributionFacts:
    """The same facts from a project's ``[project]`` table (``fapilog plugin check PATH``)."""
    authors = project.get("authors") or []
    author = ""
    if isinstance(authors, list) and authors and isinstance(authors[0], dict):
        author = str(authors[0].get("name") or authors[0].get("email") or "")
    urls = project.get("urls") or {}
    homepage = str(next(iter(urls.values()), "")) if isinstance(urls, dict) else ""
    return DistributionFacts(
        entry_name, str(project.get("name", entry_name)), version, _text(project.get("description")), author, homepage
    )


def metadata_from_facts(facts: DistributionFacts, kind: PluginKind) -> PluginMetadata | None:
    """The plugin's metadata from ``facts``; None when the facts do not make valid metadata (a bad version)."""
    from fapilog.errors import PluginValidationError
    from fapilog.plugins.metadata import PluginMetadata

    try:
        return PluginMetadata(
            name=facts.entry_name,
            version=facts.version,
            kind=kind,
            description=facts.summary,
            author=facts.author,
            homepage=facts.homepage,
        )
    except PluginValidationError:
        return None


def derived_note(md: PluginMetadata) -> str:
    """What a check says about derived metadata: where it came from, and what declaring it would add."""
    return (
        f"no PluginMetadata declared; using what its distribution says (name {md.name!r}, version {md.version}, "
        f"kind {md.kind!r} inferred from its methods). Declaring `metadata = PluginMetadata(...)` enables more "
        "checks: a config_model validating settings at configure time, and the plugins it requires"
    )


def _field(meta: importlib.metadata.PackageMetadata, name: str) -> str:
    values = meta.get_all(name) or []
    return _text(values[0]) if values else ""


def _text(value: object) -> str:
    if not isinstance(value, str) or value.strip() in ("", "UNKNOWN"):
        return ""
    return value.strip()


def _first_url(lines: list[str]) -> str:
    for line in lines:  # "Homepage, https://..."
        _, _, url = line.partition(",")
        if url.strip():
            return url.strip()
    return ""
