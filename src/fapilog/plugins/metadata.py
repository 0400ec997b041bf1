"""What a plugin says about itself: :class:`PluginMetadata`, plus the kinds and the plugin API version.

A plugin class declares its metadata as a class attribute so the registry can validate it when the plugin
registers, before any instance exists::

    class ShoutProcessor:
        metadata = PluginMetadata(name="shout", version="1.2.0", kind="processor",
                                  description="Upper-cases the message")

        async def process(self, record):
            return {**record, "message": record["message"].upper()}

Validation happens in ``__post_init__`` so a malformed declaration fails when the plugin's module is
imported, with an error that names the plugin and the field, not later inside the worker.
"""

from __future__ import annotations

import dataclasses
import re
import sys
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, get_args

from fapilog._value_methods import ValueMethods, value_class
from fapilog.errors import PluginIncompatibleError, PluginValidationError

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet

__all__ = [
    "KINDS",
    "KIND_BY_NAME",
    "PLUGIN_API_VERSION",
    "PLUGIN_KINDS",
    "REQUIRED_METHODS",
    "HealthStatus",
    "KindSpec",
    "PluginHealth",
    "PluginKind",
    "PluginMetadata",
    "PluginRequirement",
    "metadata_of",
    "parse_requirement",
]

PLUGIN_API_VERSION = "1.0"
"""The plugin API this core provides. A plugin targeting ``X.Y`` loads when ``X`` equals this major and
``Y`` is at most this minor: minors only add, majors may break."""

PluginKind = Literal["sink", "processor", "enricher", "redactor", "filter"]
"""The pipeline stage a plugin serves (each kind has its place in the pipeline; see ``docs/plugins.md``)."""

PLUGIN_KINDS: tuple[PluginKind, ...] = get_args(PluginKind)



@value_class  # see fapilog._value_methods
class KindSpec(ValueMethods):
    """Everything the core knows about one kind of plugin, in one row of :data:`KINDS`."""

    kind: PluginKind
    method: str
    """The one ``async def`` method the kind must implement."""
    batch_method: str
    """The optional faster form that takes and returns a list of records."""
    settings_field: str
    """The :class:`~fapilog.settings.LoggingSettings` list that configures plugins of this kind."""
    failure_effect: str
    """What happens to the event when a plugin of this kind raises (the worker's warning says it)."""
    order: int
    """The kind's place in the pipeline; the worker runs stages by this, then in configured order."""
    line_method: str = ""
    """The optional form that takes the records' JSON lines (``bytes``) instead of records; empty when the kind
    has none (only sinks: ``write_lines``)."""


KINDS: tuple[KindSpec, ...] = (
    KindSpec("filter", "filter", "filter_batch", "filters", "kept, unfiltered", 0),
    KindSpec("enricher", "enrich", "enrich_batch", "enrichers", "without this enricher's fields", 1),
    KindSpec("redactor", "redact", "redact_batch", "redactors", "with every field masked, so nothing leaks", 2),
    KindSpec("processor", "process", "process_batch", "processors", "unprocessed", 3),
    KindSpec("sink", "write", "write_batch", "sinks", "counted as a failed delivery; the other sinks still get it", 4,
             "write_lines"),
)
"""The one table of kinds, in pipeline order: filters → enrichers → redactors → processors → sinks."""

KIND_BY_NAME: Mapping[PluginKind, KindSpec] = {spec.kind: spec for spec in KINDS}
""":data:`KINDS` by kind name."""

REQUIRED_METHODS: Mapping[PluginKind, str] = {kind: KIND_BY_NAME[kind].method for kind in PLUGIN_KINDS}
"""The one ``async def`` method each kind must implement (everything else is optional); a view of :data:`KINDS`."""

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
_API = re.compile(r"(\d+)\.(\d+)")
_REQUIREMENT = re.compile(r"\s*([a-z0-9][a-z0-9_-]*)\s*(.*?)\s*")


_PLAIN_RELEASE = re.compile(r"[0-9]+(?:\.[0-9]+)*")
"""A plain release number (``1``, ``3.0.0``): always a valid PEP 440 version."""


def _specifier_set(text: str) -> SpecifierSet:
    # packaging is imported here rather than at module top so ``import fapilog`` stays light.
    from packaging.specifiers import SpecifierSet

    return SpecifierSet(text, prereleases=True)


@value_class  # see fapilog._value_methods
class PluginRequirement(ValueMethods):
    """One parsed entry of :attr:`PluginMetadata.requires`: another plugin's name and a version range."""

    name: str
    specifier: SpecifierSet

    def __str__(self) -> str:
        return f"{self.name}{self.specifier}"


def parse_requirement(text: str) -> PluginRequirement:
    """Parse ``"name"`` or ``"name>=1.0,<2"`` into a :class:`PluginRequirement`.

    Raises :class:`~fapilog.errors.PluginValidationError` when the text is not a plugin name followed by an
    optional PEP 440 version specifier.
    """
    from packaging.specifiers import InvalidSpecifier

    match = _REQUIREMENT.fullmatch(text)
    if match is None:
        raise PluginValidationError(
            f"invalid plugin requirement {text!r}: expected a plugin name such as 'file' or 'file>=1.0,<2'",
            code="FL-VAL-001"
        )
    try:
        specifier = _specifier_set(match.group(2))
    except InvalidSpecifier as exc:
        raise PluginValidationError(
            f"invalid version range in plugin requirement {text!r}: {exc}; use PEP 440 specifiers such as '>=1.0,<2'",
            code="FL-VAL-001"
        ) from exc
    return PluginRequirement(match.group(1), specifier)


def _is_pydantic_model(obj: object) -> bool:
    # A class can only be a pydantic model if pydantic is already imported; never import it just to check.
    pydantic = sys.modules.get("pydantic")
    return pydantic is not None and isinstance(obj, type) and issubclass(obj, pydantic.BaseModel)


def _is_dataclass_type(obj: object) -> bool:
    return isinstance(obj, type) and dataclasses.is_dataclass(obj)


@value_class  # see fapilog._value_methods
class PluginMetadata(ValueMethods):
    """A plugin's identity and contract, validated on creation.

    ``name`` is what users configure (``sinks=["file"]``); ``version`` is the plugin's own PEP 440 version;
    ``api_version`` is the plugin API it was written against (see :data:`PLUGIN_API_VERSION`); ``requires``
    lists other plugins that must be configured alongside it (``("context>=1.0",)``), started first;
    ``config_model`` (a pydantic model or a dataclass) validates the plugin's settings, so a typo fails at
    configuration time with the plugin and field named.
    """

    name: str
    version: str
    kind: PluginKind
    description: str = ""
    author: str = ""
    homepage: str = ""
    api_version: str = "1.0"
    """The plugin API this plugin was written against. It defaults to "1.0" (not to the running core's
    version), so a plugin that never declares it is still checked when the core's API major moves on."""
    requires: tuple[str, ...] = ()
    config_model: type[Any] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or _NAME.fullmatch(self.name) is None:
            raise PluginValidationError(
                f"invalid plugin name {self.name!r}: use lowercase letters, digits, '_' and '-', "
                "starting with a letter or digit (e.g. 'file', 'my-sink')",
                plugin=str(self.name), code="FL-VAL-001",
            )
        self._check_version()
        if self.kind not in PLUGIN_KINDS:
            raise self._invalid(f"kind {self.kind!r} is not one of {', '.join(PLUGIN_KINDS)}")
        for field in ("description", "author", "homepage"):
            if not isinstance(getattr(self, field), str):
                raise self._invalid(f"{field} must be a string")
        self._check_api_version()
        self._check_requires()
        model = self.config_model
        if model is not None and not (_is_pydantic_model(model) or _is_dataclass_type(model)):
            raise self._invalid(
                f"config_model must be a pydantic BaseModel subclass or a dataclass type, got {model!r}"
            )

    def _invalid(self, problem: str) -> PluginValidationError:
        return PluginValidationError(f"plugin {self.name!r}: metadata {problem}", plugin=self.name, code="FL-VAL-001")

    def _check_version(self) -> None:
        if not isinstance(self.version, str) or not self.version:
            raise self._invalid("version must be a non-empty string such as '1.0.0'")
        if _PLAIN_RELEASE.fullmatch(self.version):
            return  # "3.0.0" is valid PEP 440: the common case needs no import of packaging
        from packaging.version import InvalidVersion, Version

        try:
            Version(self.version)
        except InvalidVersion as exc:
            raise self._invalid(f"version {self.version!r} is not a PEP 440 version") from exc

    def _check_api_version(self) -> None:
        wanted = _API.fullmatch(self.api_version) if isinstance(self.api_version, str) else None
        if wanted is None:
            raise self._invalid(f"api_version {self.api_version!r} must look like 'MAJOR.MINOR' (e.g. '1.0')")
        core_major, core_minor = (int(part) for part in PLUGIN_API_VERSION.split("."))
        major, minor = int(wanted.group(1)), int(wanted.group(2))
        if major != core_major or minor > core_minor:
            from fapilog._version import __version__

            raise PluginIncompatibleError(
                f"plugin {self.name!r} {self.version} targets plugin API {self.api_version}, but fapilog "
                f"{__version__} provides plugin API {PLUGIN_API_VERSION}. Install a release of the plugin "
                f"written for plugin API {core_major}.x, or a fapilog version that provides API "
                f"{self.api_version}.",
                plugin=self.name, code="FL-VER-002",
            )

    def _check_requires(self) -> None:
        requires: object = self.requires
        if isinstance(requires, str) or not isinstance(requires, (tuple, list)):
            raise self._invalid(f"requires must be a tuple of strings such as ('file>=1.0',), got {requires!r}")
        for item in requires:
            if not isinstance(item, str):
                raise self._invalid(f"requires entries must be strings, got {item!r}")
            requirement = parse_requirement(item)
            if requirement.name == self.name:
                raise self._invalid(f"plugin {self.name!r} cannot require itself")
        # Accept a list for convenience but store a tuple: the dataclass is frozen and hashable.
        object.__setattr__(self, "requires", tuple(requires))

    @property
    def requirements(self) -> tuple[PluginRequirement, ...]:
        """:attr:`requires` parsed into names and version ranges."""
        return tuple(parse_requirement(item) for item in self.requires)


def metadata_of(plugin: object) -> PluginMetadata | None:
    """Return the ``metadata`` class attribute of a plugin class or instance, or ``None`` if it has none.

    Only the class is consulted, so an instance attribute that happens to be called ``metadata`` never
    counts. Any other value there is a mistake worth reporting rather than silently treating the plugin as
    a legacy one.
    """
    cls = plugin if isinstance(plugin, type) else type(plugin)
    declared = getattr(cls, "metadata", None)
    if declared is None or isinstance(declared, PluginMetadata):
        return declared
    raise PluginValidationError(
        f"{cls.__qualname__}.metadata must be a fapilog.plugins.PluginMetadata, got "
        f"{type(declared).__name__}; declare `metadata = PluginMetadata(name=..., version=..., kind=...)`",
        code="FL-VAL-001"
    )


HealthStatus = Literal["healthy", "degraded", "unhealthy"]


@value_class  # see fapilog._value_methods
class PluginHealth(ValueMethods):
    """The answer of one health check: a status, a human-readable detail, and when it was taken.

    ``code`` is a stable code for the detail (fapilog's own checks use :data:`fapilog.errors.ERROR_CODES`, so the
    troubleshooting page explains them); a plugin may leave it ``None``.
    """

    status: HealthStatus
    detail: str = ""
    checked_at: float = dataclasses.field(default_factory=time.time)
    code: str | None = None

    @property
    def healthy(self) -> bool:
        """True only for ``"healthy"``: a degraded plugin works but needs attention."""
        return self.status == "healthy"
