"""``LoggingSettings``: typed, validated configuration from code, ``FAPILOG_*`` variables or a file.

Plain frozen dataclasses with a small validator instead of pydantic: the core must import in a few
milliseconds and configure itself on the first log call without pulling in a 200 ms dependency. Every error
is a :class:`~fapilog.errors.ConfigError` naming the field (dotted path), the value given and what is accepted.

Precedence, lowest to highest: defaults, environment (``FAPILOG_LEVEL=debug``,
``FAPILOG_QUEUE__CAPACITY=50000`` — ``__`` nests; lists and tables are JSON), a settings file, then the
keyword arguments given to :func:`fapilog.configure`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, Union

from fapilog._sink_settings import CircuitSettings, RetrySettings, SinkDefaults
from fapilog.core.levels import parse_level
from fapilog.errors import ConfigError

__all__ = [
    "ENV_PREFIX", "CircuitSettings", "LoggingSettings", "MetricsSettings", "OpenTelemetrySettings", "PluginSettings",
    "QueueSettings", "RetrySettings",
    "SinkDefaults",
]

ENV_PREFIX = "FAPILOG_"


@dataclasses.dataclass(frozen=True)
class QueueSettings:
    """The queue between log calls and the worker."""

    capacity: int = 10_000
    """Events the queue holds before its policy applies (> 0)."""
    policy: Literal["wait", "drop_newest", "drop_oldest"] = "wait"
    """Full queue: block the caller up to ``wait_timeout`` (never on an event-loop thread), or drop."""
    wait_timeout: float = 0.5
    """Seconds a ``wait`` caller blocks before the event is dropped (>= 0)."""
    loop_overflow: Literal["drop_newest", "drop_oldest"] = "drop_newest"
    """What ``wait`` does instead on a thread running an event loop, which must never block."""
    protect_level: int | str = "ERROR"
    """Events at or above this level are never dropped by the queue or sink buffers."""
    batch_size: int = 256
    """Most events the worker takes per turn (> 0)."""


@dataclasses.dataclass(frozen=True)
class PluginSettings:
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


@dataclasses.dataclass(frozen=True)
class MetricsSettings:
    """A Prometheus endpoint serving ``fapilog.stats()`` (needs ``pip install "fapilog[metrics]"``)."""

    enabled: bool = False
    """Serve the metrics over HTTP from :func:`fapilog.configure` (see ``docs/metrics.md``)."""
    port: int = 9464
    """TCP port of the endpoint (0 picks a free one)."""
    addr: str = "127.0.0.1"
    """Address to listen on; loopback by default, ``0.0.0.0`` to let other hosts scrape."""


@dataclasses.dataclass(frozen=True)
class OpenTelemetrySettings:
    """OpenTelemetry integration (needs ``pip install "fapilog[opentelemetry]"`` when switched on)."""

    spans: bool = False
    """Emit a span for each plugin load, start and stop, through the global tracer provider."""


@dataclasses.dataclass(frozen=True)
class LoggingSettings:
    """Everything :func:`fapilog.configure` accepts. Build with :meth:`load` to get validation."""

    level: int | str = "INFO"
    """Global threshold: a name (``"debug"``) or a number."""
    loggers: dict[str, int | str] = dataclasses.field(default_factory=dict)
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
    exit_timeout: float = 5.0
    """Seconds the interpreter-exit drain may take before it reports what it could not deliver (> 0)."""
    start_timeout: float = 10.0
    """Seconds :func:`fapilog.configure` waits for plugins to start (> 0)."""

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


_T = typing.TypeVar("_T")


def _build(cls: type[_T], data: Mapping[str, Any] | Any, path: str) -> _T:
    if isinstance(data, cls):
        return data
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path or 'settings'}: expected a table of settings, got {data!r}", field=path)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        where = f"{path}." if path else ""
        raise ConfigError(
            f"{where}{unknown[0]}: unknown setting; accepted: {', '.join(sorted(fields))}",
            field=f"{where}{unknown[0]}",
        )
    values = {name: _coerce(data[name], hints[name], f"{path}.{name}" if path else name) for name in data}
    _check_ranges(values, path)
    return cls(**values)


def _coerce(value: Any, hint: Any, path: str) -> Any:  # noqa: PLR0911, PLR0912 - one branch per type
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, path)  # type: ignore[arg-type]
    if hint is Any:
        return value
    if origin is Literal:
        if value in args:
            return value
        accepted = ", ".join(repr(a) for a in args)
        raise ConfigError(f"{path}: got {value!r}; accepted: {accepted}", field=path)
    if origin in (Union, types.UnionType):
        if path.endswith("level") or ".loggers." in f".{path}":
            return _level(value, path)
        if value is None and type(None) in args:
            return None
        if type(None) in args:
            return _coerce(value, next(a for a in args if a is not type(None)), path)
        for option in args:
            if option in (int, str) and isinstance(value, option) and not isinstance(value, bool):
                return value
        return _coerce(value, args[0], path)
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{path}: expected a table, got {value!r}", field=path)
        return {str(k): _coerce(v, args[1], f"{path}.{k}") for k, v in value.items()}
    if hint is dict or origin is Mapping:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{path}: expected a table, got {value!r}", field=path)
        return dict(value)
    if origin is list:
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            raise ConfigError(f"{path}: expected a list, got {value!r}", field=path)
        return [_coerce(item, args[0], f"{path}[{i}]") for i, item in enumerate(value)] if args else list(value)
    if hint is bool:
        return _bool(value, path)
    if hint is int:
        return _number(value, int, path)
    if hint is float:
        return _number(value, float, path)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{path}: expected text, got {value!r}", field=path)
        return value
    return value


def coerce_setting(value: Any, hint: Any, path: str) -> Any:
    """Check and convert one setting ``value`` to the type ``hint`` (as for the core settings), or raise a
    ConfigError naming ``path``. Plugins' dataclass settings go through it too."""
    coerced = _coerce(value, hint, path)
    _check_ranges({path.rsplit(".", 1)[-1]: coerced}, path.rsplit(".", 1)[0] if "." in path else "")
    return coerced


def _level(value: Any, path: str) -> int | str:
    parse_level(value, field=path)  # validates; the setting keeps the spelling the user gave
    return value  # type: ignore[no-any-return]


def _bool(value: Any, path: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
        return value.strip().lower() in {"1", "true", "yes", "on"}
    raise ConfigError(f"{path}: expected true or false, got {value!r}", field=path)


def _number(value: Any, kind: type[int] | type[float], path: str) -> int | float:
    if isinstance(value, bool):
        raise ConfigError(f"{path}: expected a number, got {value!r}", field=path)
    number: int | float | None = None
    if isinstance(value, (int, float)) and (kind is float or isinstance(value, int)):
        number = kind(value)
    elif isinstance(value, str):
        try:
            number = kind(value.strip())
        except ValueError:
            pass
    if number is not None:
        if not math.isfinite(number):
            raise ConfigError(f"{path}: expected a finite number, got {value!r}", field=path)
        return number
    noun = "a whole number" if kind is int else "a number"
    raise ConfigError(f"{path}: expected {noun}, got {value!r}", field=path)


_POSITIVE = {
    "capacity", "batch_size", "buffer_capacity", "write_timeout", "flush_timeout", "exit_timeout",
    "start_timeout", "max_attempts", "failure_threshold", "reset_timeout", "max_backoff", "max_elapsed",
}
_NON_NEGATIVE = {"wait_timeout", "port", "batch_max_bytes", "batch_max_age", "initial_backoff", "max_retry_after"}


_MAXIMUM: dict[str, int | float] = {
    # Beyond these a value is a typo or a unit mistake, not a setting: a day for a timeout, 100 million
    # events for a buffer (several GB of memory), a million records for one batch.
    "capacity": 100_000_000, "buffer_capacity": 100_000_000, "batch_size": 1_000_000,
    "write_timeout": 86_400.0, "flush_timeout": 86_400.0, "exit_timeout": 86_400.0, "start_timeout": 86_400.0,
    "wait_timeout": 86_400.0, "port": 65_535, "batch_max_bytes": 1_000_000_000, "batch_max_age": 86_400.0,
    "max_attempts": 1_000, "failure_threshold": 1_000_000, "reset_timeout": 86_400.0, "initial_backoff": 86_400.0,
    "max_backoff": 86_400.0, "max_elapsed": 86_400.0, "max_retry_after": 86_400.0,
}


def _check_ranges(values: Mapping[str, Any], path: str) -> None:
    for name, value in values.items():
        full = f"{path}.{name}" if path else name
        if name == "sinks" and not path and isinstance(value, list) and not value:
            raise ConfigError(
                "sinks: an empty list would discard every event without a trace; name at least one sink "
                "(e.g. ['stderr'] or ['memory']), or raise `level` to log less",
                field="sinks",
            )
        limit = _MAXIMUM.get(name)
        if limit is not None and isinstance(value, (int, float)) and value > limit:
            raise ConfigError(f"{full}: at most {limit:,} is accepted, got {value!r}", field=full)
        if name in _POSITIVE and isinstance(value, (int, float)) and value <= 0:
            raise ConfigError(f"{full}: must be greater than 0, got {value!r}", field=full)
        if name in _NON_NEGATIVE and isinstance(value, (int, float)) and value < 0:
            raise ConfigError(f"{full}: must be 0 or more, got {value!r}", field=full)
