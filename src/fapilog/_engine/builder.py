"""Turns :class:`~fapilog.settings.LoggingSettings` into a ready pipeline: stage wrappers and sink runners.

Every plugin — built-in, third-party or an object passed in — is created through the plugin registry, so
there is one path: version gate, validation, settings checked by the plugin's config model, lifecycle
bookkeeping. Errors name where the plugin was configured (``sinks[1]``) and what to do.

Secure by default: the ``secrets`` redactor runs first in every pipeline whose ``redactors`` list is not
empty, whether the list names it or not, so configuring a redactor of your own never loses it by accident.
``redactors=[]`` turns redaction off altogether; ``plugins.disabled=["secrets"]`` (or ``plugins.deny``)
removes only the default. ``plugins.allow`` need not name it: it is part of the core, not third-party code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fapilog._constraints import prefixed
from fapilog._kit.levels import parse_level
from fapilog._registry.registry import default_registry
from fapilog._value_methods import RecordMethods
from fapilog.errors import ConfigError, FapilogError, PluginError, PluginValidationError
from fapilog.plugins.metadata import KINDS, PluginMetadata, metadata_of
from fapilog.settings import LoggingSettings, PluginSettings

if TYPE_CHECKING:  # imported where used: they bring asyncio, which a pipeline delivered directly never needs
    from fapilog._engine.delivery import BufferPolicy, SinkRunner
    from fapilog._engine.pipeline import Pipeline, Stage, StageKind

__all__ = [
    "DEFAULT_REDACTOR",
    "BuiltPipeline",
    "build_pipeline",
    "build_sink",
    "build_stage",
    "check_switches",
    "instantiate_sink",
    "instantiate_stage",
    "start_order",
    "unique_name",
]

DEFAULT_REDACTOR = "secrets"
"""The redactor every pipeline runs first unless ``redactors=[]`` or the plugin is disabled or denied."""
_DEFAULT_REDACTOR_WHERE = f"plugins.settings.{DEFAULT_REDACTOR}"


def _spec_name(spec: Any) -> str | None:
    if isinstance(spec, str):
        return spec
    if isinstance(spec, Mapping):
        name = spec.get("type") or spec.get("name")
        return name if isinstance(name, str) else None
    return None


def _check_allowed(name: str, plugins: PluginSettings, where: str) -> None:
    if name in plugins.deny:
        raise ConfigError(f"{where}: plugin {name!r} is listed in plugins.deny; remove it from one of the two",
                          field=where, code="FL-CFG-004")
    if plugins.allow is not None and name not in plugins.allow:
        raise ConfigError(
            f"{where}: plugin {name!r} is not in plugins.allow ({', '.join(plugins.allow) or 'empty'}); "
            "add it there or remove it from the configuration",
            field=where, code="FL-CFG-005",
        )


class _Merged(dict[str, Any]):
    """A spec with ``plugins.settings[name]`` merged under it, remembering which keys came from there, so an
    error about one of them names ``plugins.settings.<name>.<key>``, where the user wrote it."""

    def __init__(self, table: Mapping[str, Any], name: str, inherited: frozenset[str]) -> None:
        super().__init__(table)
        self.name = name
        self.inherited = inherited

    def copy(self) -> _Merged:
        return _Merged(self, self.name, self.inherited)


def _with_settings(spec: Any, plugins: PluginSettings) -> Any:
    """Merge ``plugins.settings[name]`` under a named spec (the spec's own table wins)."""
    name = _spec_name(spec)
    if name is None or name not in plugins.settings:
        return spec
    own = {k: v for k, v in spec.items() if k not in ("type", "name")} if isinstance(spec, Mapping) else {}
    shared = plugins.settings[name]
    return _Merged({"type": name, **shared, **own}, name, frozenset(shared) - frozenset(own))


def _written_at(spec: Any, exc: ConfigError, where: str) -> str:
    """Where the setting ``exc`` names was written: the spec's place, or ``plugins.settings.<name>``."""
    if isinstance(spec, _Merged) and exc.field:
        key = exc.field.split(".", 1)[0].split("[", 1)[0]
        if key in spec.inherited:
            return f"plugins.settings.{spec.name}"
    return where


def _instantiate(kind: StageKind | str, spec: Any, where: str) -> tuple[str, object]:
    try:
        name, obj = default_registry().create(kind, spec)  # type: ignore[arg-type]
        own = getattr(obj, "name", None)
        # A second instance configured with its own name ({"type": "memory", "name": "audit"}) goes by it.
        return (own if isinstance(own, str) and own else name), obj
    except ConfigError as exc:
        raise prefixed(exc, _written_at(spec, exc, where)) from exc
    except FapilogError as exc:
        # fapilog's own plugin errors keep their class; anything else (a plugin's own error class, whose
        # constructor may take other arguments) is reported as a PluginError, its own error chained.
        cls: type[PluginError] = PluginError
        if isinstance(exc, PluginError) and type(exc).__module__ == PluginError.__module__:
            cls = type(exc)
        raise cls(f"{where}: {exc}", plugin=getattr(exc, "plugin", None) or _spec_name(spec),
                  code=exc.code) from exc


def _plugin_name(spec: Any) -> str | None:
    name = _spec_name(spec)
    if name is None:
        md = metadata_of(spec)
        name = md.name if md is not None else None
    return name


def check_switches(spec: Any, plugins: PluginSettings, where: str) -> bool:
    """False for a disabled plugin; ConfigError for a denied or not-allowed one; True otherwise.

    The default redactor is the exception: denying it switches it off like ``disabled`` does, and
    ``plugins.allow`` need not name it.
    """
    name = _plugin_name(spec)
    if name is None:
        return True
    if name in plugins.disabled:
        return False
    if name == DEFAULT_REDACTOR:
        return name not in plugins.deny
    _check_allowed(name, plugins, where)
    return True


def stage_specs(settings: LoggingSettings, field: str) -> list[tuple[str, Any]]:
    """``(where, spec)`` of every plugin a stage list configures, the default redactor included.

    ``redactors`` gets ``secrets`` in front unless the list is empty (redaction explicitly off) or already
    names it (then its place and settings are the ones given).
    """
    specs = [(f"{field}[{index}]", spec) for index, spec in enumerate(getattr(settings, field))]
    if field != "redactors" or not specs:
        return specs
    if all(_plugin_name(spec) != DEFAULT_REDACTOR for _, spec in specs):
        specs.insert(0, (_DEFAULT_REDACTOR_WHERE, DEFAULT_REDACTOR))
    # The bare name (the setting's default) takes its settings from plugins.settings.secrets: errors say so.
    return [(_DEFAULT_REDACTOR_WHERE if spec == DEFAULT_REDACTOR else where, spec) for where, spec in specs]


def unique_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name#2``, ``name#3``... when taken; added to ``taken`` (the names stages and sinks run by)."""
    candidate, n = name, 2
    while candidate in taken:
        candidate = f"{name}#{n}"
        n += 1
    taken.add(candidate)
    return candidate


def build_stage(kind: StageKind, spec: Any, settings: LoggingSettings, taken: set[str], where: str) -> Stage:
    """One stage plugin, created and wrapped; ``taken`` keeps names unique within the pipeline."""
    from fapilog._engine.pipeline import Stage

    name, obj = _instantiate(kind, _with_settings(spec, settings.plugins), where)
    try:
        return Stage(kind, unique_name(name, taken), obj, spec, timeout=settings.stage_timeout)
    except TypeError as exc:
        raise PluginValidationError(f"{where}: {exc}", plugin=name, code="FL-VAL-002") from exc


def build_sink(spec: Any, settings: LoggingSettings, taken: set[str], where: str) -> SinkRunner:
    """One sink plugin with its runner (buffer, batching, timeouts) from ``sink_defaults`` + ``delivery``."""
    runner = _build_sink(spec, settings, taken, where)
    runner.spec = spec
    return runner


def instantiate_sink(spec: Any, settings: LoggingSettings, where: str) -> tuple[str, object]:
    """Only the sink object (for reloading a running sink, and for a pipeline delivered without its worker), made
    as :func:`build_sink` makes it: ``plugins.settings`` merged first, the global ``format`` filling in only what
    neither the spec nor those settings set."""
    if isinstance(spec, Mapping):
        spec = {k: v for k, v in spec.items() if k != "delivery"}
    return _instantiate("sink", _stream_format(_with_settings(spec, settings.plugins), settings), where)


def instantiate_stage(kind: StageKind, spec: Any, settings: LoggingSettings, where: str) -> tuple[str, object]:
    """Only the stage object (for reloading a running stage with new settings)."""
    return _instantiate(kind, _with_settings(spec, settings.plugins), where)


def _stream_format(spec: Any, settings: LoggingSettings) -> Any:
    if isinstance(spec, Mapping) and spec.get("type") in ("stdout", "stderr") and "format" not in spec:
        formatted = spec.copy() if isinstance(spec, _Merged) else dict(spec)
        formatted["format"] = settings.format
        return formatted
    if isinstance(spec, str) and spec in ("stdout", "stderr"):
        return {"type": spec, "format": settings.format}
    return spec


def _build_sink(spec: Any, settings: LoggingSettings, taken: set[str], where: str) -> SinkRunner:
    from fapilog._engine.delivery import SinkRunner
    from fapilog._engine.delivery_options import check_delivery, runner_options

    delivery: Mapping[str, Any] = {}
    own_processors: list[Any] = []
    spec = _with_settings(spec, settings.plugins)
    if isinstance(spec, Mapping):
        spec = spec.copy() if isinstance(spec, _Merged) else dict(spec)
        own_processors = spec.pop("processors", None) or []
        if not isinstance(own_processors, list):
            raise ConfigError(f"{where}.processors: expected a list of processors, got {own_processors!r}",
                              field=f"{where}.processors", code="FL-CFG-008")
        delivery = check_delivery(spec.pop("delivery", None), where)
    name, sink = _instantiate("sink", _stream_format(spec, settings), where)

    def instantiate_fallback(fallback: Any, at: str) -> object:
        return _instantiate("sink", _with_settings(_stream_format(fallback, settings), settings.plugins), at)[1]

    checked, options = runner_options(sink, delivery, settings, where, instantiate_fallback)
    unique = unique_name(name, taken)
    stages_taken: set[str] = set()
    own = [
        build_stage("processor", p, settings, stages_taken, f"{where}.processors[{i}]")
        for i, p in enumerate(own_processors)
    ]
    for stage in own:
        stage.name = f"{stage.name}@{unique}"
    try:
        runner = SinkRunner(
            unique,
            sink,
            capacity=checked.buffer_capacity,
            policy=_policy(checked.buffer_policy),
            protect_level=parse_level(settings.queue.protect_level, field="queue.protect_level"),
            batch_size=checked.batch_size,
            write_timeout=checked.write_timeout,
            flush_timeout=checked.flush_timeout,
            **options,
        )
    except TypeError as exc:
        raise PluginValidationError(f"{where}: {exc}", plugin=name, code="FL-VAL-002") from exc
    runner.processors = own
    return runner


class BuiltPipeline(RecordMethods):
    """What the worker runs: the stage chain, the sink runners, and every plugin in start order.

    ``start_order`` holds (name, plugin) with every plugin after the plugins it ``requires``; stop in reverse.
    A plain ``__slots__`` class: it is defined at every start-up, where a dataclass costs tens of times more.
    """

    __slots__ = ("pipeline", "sinks", "start_order")

    def __init__(self, pipeline: Pipeline, sinks: list[SinkRunner], start_order: list[tuple[str, object]]) -> None:
        self.pipeline = pipeline
        self.sinks = sinks
        self.start_order = start_order


def build_pipeline(settings: LoggingSettings) -> BuiltPipeline:
    """Every configured plugin, created, validated and ordered; raises the first configuration error."""
    from fapilog._engine.pipeline import Pipeline

    plugins = settings.plugins
    stages: list[Stage] = []
    taken: set[str] = set()
    for kind_spec in KINDS:
        if kind_spec.kind == "sink":
            continue  # the sinks are built below, as runners
        kind: StageKind = kind_spec.kind
        for where, spec in stage_specs(settings, kind_spec.settings_field):
            if check_switches(spec, plugins, where):
                stages.append(build_stage(kind, spec, settings, taken, where))
    runners: list[SinkRunner] = []
    taken_sinks: set[str] = set()
    for index, spec in enumerate(settings.sinks):
        where = f"sinks[{index}]"
        if check_switches(spec, plugins, where):
            runners.append(build_sink(spec, settings, taken_sinks, where))
    everything = [(s.name, s.obj) for s in stages]
    for runner in runners:
        everything += [(p.name, p.obj) for p in runner.processors]
        everything.append((runner.name, runner.sink))
    return BuiltPipeline(Pipeline(stages), runners, start_order(everything))


def start_order(plugins: list[tuple[str, object]]) -> list[tuple[str, object]]:
    """``plugins`` reordered so each starts after what its metadata ``requires`` (configured order otherwise).

    Raises PluginError for a required plugin that is not configured, a version outside the required range,
    or a cycle — at configuration time, before anything starts.
    """
    declared: dict[str, PluginMetadata] = {}
    for _, obj in plugins:
        md = metadata_of(obj)
        if md is not None:
            declared.setdefault(md.name, md)
    if not any(md.requires for md in declared.values()):
        return plugins
    from fapilog._registry.dependencies import resolve_order  # only when a plugin requires another

    order = {name: i for i, name in enumerate(resolve_order(declared, is_known=_registered_or_installed))}
    position = {id(obj): i for i, (_, obj) in enumerate(plugins)}

    def key(item: tuple[str, object]) -> tuple[int, int]:
        md = metadata_of(item[1])
        return (order.get(md.name, -1) if md is not None else -1, position[id(item[1])])

    return sorted(plugins, key=key)


def _registered_or_installed(name: str) -> bool:
    try:
        default_registry().get(name)
    except FapilogError:
        return False
    return True


def _policy(value: str) -> BufferPolicy:
    if value == "drop_newest":
        return "drop_newest"
    if value == "drop_oldest":
        return "drop_oldest"
    return "wait"
