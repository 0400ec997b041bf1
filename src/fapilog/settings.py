"""``LoggingSettings``: typed, validated configuration from code, ``FAPILOG_*`` variables or a file.

Plain frozen dataclasses checked by fapilog's one validation engine (:mod:`fapilog._coercion`, which
checks every plugin's settings too) instead of pydantic: the core must import in a few
milliseconds and configure itself on the first log call without pulling in a 200 ms dependency. Every error
is a :class:`~fapilog.errors.ConfigError` naming the field (dotted path), the value given and what is accepted.

Precedence, lowest to highest: defaults, environment (``FAPILOG_LEVEL=debug``,
``FAPILOG_QUEUE__CAPACITY=50000`` — ``__`` nests; lists and tables are JSON), a settings file, then the
keyword arguments given to :func:`fapilog.configure`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeVar

from fapilog._coercion import build, check_value
from fapilog._constraints import Duration, Level, Range, setting_error
from fapilog._kit.levels import parse_level
from fapilog._sink_settings import CircuitSettings, RetrySettings, SinkDefaults
from fapilog._value_methods import ValueMethods, value_class
from fapilog.errors import ConfigError

_T = TypeVar("_T")
LevelSetting = Annotated[int | str, Level]
"""A level name (``"debug"``, any case) or number; the setting keeps the spelling given."""

__all__ = [
    "ENV_PREFIX", "CircuitSettings", "LoggingSettings", "MetricsSettings", "OpenTelemetrySettings", "PluginSettings",
    "QueueSettings", "RetrySettings",
    "SinkDefaults",
]

ENV_PREFIX = "FAPILOG_"


@value_class  # see fapilog._value_methods
class QueueSettings(ValueMethods):
    """The queue between log calls and the worker."""

    capacity: Annotated[int, Range(gt=0, le=100_000_000)] = 10_000
    """Events the queue holds before its policy applies (> 0)."""
    policy: Literal["wait", "drop_newest", "drop_oldest"] = "wait"
    """Full queue: block the caller up to ``wait_timeout`` (never on an event-loop thread), or drop."""
    wait_timeout: Annotated[float, Range(ge=0, le=86_400)] = 0.5
    """Seconds a ``wait`` caller blocks before the event is dropped (>= 0)."""
    loop_overflow: Literal["drop_newest", "drop_oldest"] = "drop_newest"
    """What ``wait`` does instead on a thread running an event loop, which must never block."""
    protect_level: LevelSetting = "ERROR"
    """Events at or above this level are never dropped by the queue or sink buffers."""
    batch_size: Annotated[int, Range(gt=0, le=1_000_000)] = 2048
    """Most events the worker takes per turn (> 0). It takes what is queued, up to this many: turns this large
    happen only while the queue is behind, where they spread each turn's fixed costs (a loop turn, the hand-over
    to each sink, a write) over more events. A stage still gets at most 256 records per call, each call within
    ``stage_timeout``."""
    linger: Annotated[float, Range(ge=0, le=10.0)] = 0.005
    """Seconds the worker waits, when woken to a burst (two or more events queued), before taking it, so the
    burst's log calls run without it; a lone event is taken at once, and flush, shutdown, exit and a full queue
    end the wait early (>= 0, at most 10; 0 turns it off)."""


@value_class  # see fapilog._value_methods
class PluginSettings(ValueMethods):
    """Per-plugin settings and switches, by plugin name."""

    settings: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    """Settings for plugins configured by name: ``{"file": {"path": "app.log"}}``. A table in a stage list
    (``{"type": "file", "max_bytes": 1000}``) is merged over these and wins."""
    disabled: list[str] = dataclasses.field(default_factory=list)
    """Configured plugins switched off: skipped when the pipeline is built (shown by ``debug_plugins()``)."""
    allow: list[str] | None = None
    """When set, only these plugin names may be loaded; configuring any other is a ConfigError."""
    deny: list[str] = dataclasses.field(default_factory=list)
    """Plugin names that must never be loaded; configuring one is a ConfigError."""


@value_class  # see fapilog._value_methods
class MetricsSettings(ValueMethods):
    """A Prometheus endpoint serving ``fapilog.stats()`` (needs ``pip install "fapilog[metrics]"``)."""

    enabled: bool = False
    """Serve the metrics over HTTP from :func:`fapilog.configure` (see ``docs/metrics.md``)."""
    port: Annotated[int, Range(ge=0, le=65_535)] = 9464
    """TCP port of the endpoint (0 picks a free one)."""
    addr: str = "127.0.0.1"
    """Address to listen on; loopback by default, ``0.0.0.0`` to let other hosts scrape."""


@value_class  # see fapilog._value_methods
class OpenTelemetrySettings(ValueMethods):
    """OpenTelemetry integration (needs ``pip install "fapilog[opentelemetry]"`` when switched on)."""

    spans: bool = False
    """Emit a span for each plugin load, start and stop, through the global tracer provider."""


@value_class  # see fapilog._value_methods
class LoggingSettings(ValueMethods):
    """Everything :func:`fapilog.configure` accepts. Build with :meth:`load` to get validation."""

    level: LevelSetting = "INFO"
    """Global threshold: a name (``"debug"``) or a number."""
    loggers: dict[str, LevelSetting] = dataclasses.field(default_factory=dict)
    """Per-logger thresholds by name prefix: ``{"sqlalchemy": "WARNING"}`` covers ``sqlalchemy.engine``."""
    format: Literal["auto", "json", "console"] = "auto"
    """The stdout/stderr sinks' format; ``auto`` is coloured console on a TTY, JSON lines otherwise."""
    sinks: list[Any] = dataclasses.field(default_factory=lambda: ["stdout"])
    """Sink specs: a name (``"stdout"``), a table (``{"type": "file", "path": "app.log"}``) or an object."""
    filters: list[Any] = dataclasses.field(default_factory=list)
    """Filter specs, run first, in order: drop events early (``[{"type": "level", "level": "INFO"}]``)."""
    enrichers: list[Any] = dataclasses.field(default_factory=list)
    """Enricher specs, run after filters: add fields to every event (``["runtime"]``)."""
    redactors: list[Any] = dataclasses.field(default_factory=lambda: ["secrets"])
    """Redactor specs, run after enrichers: mask sensitive values. ``secrets`` (well-known secret field names
    and URL credentials) runs first in any non-empty list, named or not; ``[]`` turns redaction off and
    ``plugins.disabled=["secrets"]`` keeps yours without it (``docs/redaction.md``)."""
    processors: list[Any] = dataclasses.field(default_factory=list)
    """Processor specs, run last before the sinks: reshape or bound events (``["size_guard"]``)."""
    queue: QueueSettings = dataclasses.field(default_factory=QueueSettings)
    sink_defaults: SinkDefaults = dataclasses.field(default_factory=SinkDefaults)
    plugins: PluginSettings = dataclasses.field(default_factory=PluginSettings)
    metrics: MetricsSettings = dataclasses.field(default_factory=MetricsSettings)
    opentelemetry: OpenTelemetrySettings = dataclasses.field(default_factory=OpenTelemetrySettings)
    exit_timeout: Annotated[float, Duration] = 5.0
    """Seconds the interpreter-exit drain may take before it reports what it could not deliver (> 0)."""
    start_timeout: Annotated[float, Duration] = 10.0
    """Seconds :func:`fapilog.configure` waits for plugins to start (> 0)."""
    stage_timeout: Annotated[float, Duration] = 5.0
    """Seconds one call of a filter, enricher, redactor or processor (up to 256 records of a batch) may take; past
    it those records and the rest of the batch go on in that stage's failure state (unfiltered, unenriched,
    masked, unprocessed), counted (> 0)."""

    def __post_init__(self) -> None:
        if isinstance(self.sinks, list) and not self.sinks:
            raise setting_error(
                "sinks",
                "an empty list would discard every event without a trace; name at least one sink "
                "(e.g. ['stderr'] or ['memory']), or raise `level` to log less",
            )

    @classmethod
    def load(
        cls,
        overrides: Mapping[str, Any] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        file: str | os.PathLike[str] | None = None,
    ) -> LoggingSettings:
        """Defaults < environment < ``file`` < ``overrides``, validated; raises :class:`ConfigError`."""
        merged: dict[str, Any] = {}
        env = os.environ if environ is None else environ
        _deep_merge(merged, from_environ(env))
        later: dict[str, Any] = {}
        if file is not None:
            _deep_merge(later, read_file(file))
        if overrides:
            _deep_merge(later, dict(overrides))
        _deep_merge(merged, later)
        try:
            return _build(cls, merged, "")
        except ConfigError as exc:
            variable = _env_variable_for(exc.field, env, later)
            if variable is None:
                raise
            raise ConfigError(f"{exc} (from the environment variable {variable})", field=exc.field,
                              code=exc.code) from exc

    def replace(self, **changes: Any) -> LoggingSettings:
        """A validated copy with ``changes`` applied."""
        return _build(LoggingSettings, {**_as_dict(self), **changes}, "")

    @property
    def level_number(self) -> int:
        return parse_level(self.level)


def from_environ(environ: Mapping[str, str]) -> dict[str, Any]:
    """``FAPILOG_*`` variables as a nested mapping (``__`` separates levels; JSON values are parsed)."""
    result: dict[str, Any] = {}
    for key, raw in environ.items():
        if not key.startswith(ENV_PREFIX):
            continue
        path = [part.lower() for part in key[len(ENV_PREFIX) :].split("__") if part]
        if not path:
            continue
        value: Any = raw
        stripped = raw.strip()
        if stripped[:1] in ("[", "{"):
            import json  # here: most processes set no JSON-valued variable, and start-up skips the module

            try:
                value = json.loads(stripped)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{key}: not valid JSON ({exc.msg} at column {exc.colno})", field=key,
                                  code="FL-CFG-002") from exc
        node = result
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"{key}: {'.'.join(path[:-1])} is set both as a value and a table", field=key,
                                  code="FL-CFG-002")
        node[path[-1]] = value
    return result


def _env_variable_for(field: str | None, environ: Mapping[str, str], later: Mapping[str, Any]) -> str | None:
    """The ``FAPILOG_*`` variable that set ``field`` (a dotted path, maybe indexed), unless a file or an
    argument set it afterwards."""
    if not field:
        return None
    parts = [part.split("[", 1)[0] for part in field.split(".")]
    for depth in range(len(parts), 0, -1):
        node: Any = later
        for part in parts[:depth]:
            node = node.get(part) if isinstance(node, Mapping) else None
        if node is not None:
            return None  # the file or the arguments gave the value
        variable = ENV_PREFIX + "__".join(part.upper() for part in parts[:depth])
        if variable in environ:
            return variable
    return None


def read_file(file: str | os.PathLike[str]) -> dict[str, Any]:
    """A TOML or JSON settings file; the settings may sit at the top or under ``[tool.fapilog]``/``[fapilog]``."""
    from pathlib import Path  # only a settings file needs it: `import fapilog` and the default pipeline do not

    path = Path(file)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"settings file {str(path)!r}: cannot read it ({exc.strerror})", field="file",
                          code="FL-CFG-003") from exc
    try:
        if path.suffix.lower() == ".json":
            import json

            data = json.loads(text)
        else:
            import tomllib

            data = tomllib.loads(text)
    except ValueError as exc:
        raise ConfigError(f"settings file {str(path)!r}: {exc}", field="file", code="FL-CFG-003") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"settings file {str(path)!r}: expected a table at the top", field="file", code="FL-CFG-003")
    for nest in (("tool", "fapilog"), ("fapilog",)):
        node: Any = data
        for part in nest:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            return node
    return data


def _deep_merge(into: dict[str, Any], other: Mapping[str, Any]) -> None:
    for key, value in other.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _deep_merge(into[key], value)
        elif isinstance(value, Mapping) and not dataclasses.is_dataclass(value):
            into[key] = dict(value)
        else:
            into[key] = value


def _as_dict(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def coerce_setting(value: Any, hint: Any, path: str) -> Any:
    """Check and convert one setting ``value`` to the annotation ``hint`` (a dataclass for a whole table), or
    raise a ConfigError naming ``path``: the engine of :mod:`fapilog._coercion`, as for every field."""
    return check_value(value, hint, path)


def _build(cls: type[_T], data: Mapping[str, Any] | Any, path: str) -> _T:
    built: _T = build(cls, data, path=path)
    return built
