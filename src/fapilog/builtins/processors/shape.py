"""``shape`` processor: renames fields and reshapes records into a vendor's JSON schema (ECS, Datadog, GCP).

``renames`` maps a top-level field to a new name; a dotted target nests (``{"level": "log.level"}`` gives
``{"log": {"level": ...}}``), and ``\\.`` is a literal dot (``"logging\\.googleapis\\.com/trace"``). A
``preset`` is a ready-made rename table that also converts values (GCP severities, exceptions as stack text,
trace ids in the vendor's format); ``renames`` are applied over it and win for the same source field.

Nothing is lost on a collision: when a renamed field lands where a field of the record already is, the
renamed one takes the place and the other moves to ``<name>_`` (the core's rule for reserved names), and
when a dotted target runs into a non-object value the target is written as one flat dotted key instead.
Field order follows the record. Run ``shape`` after ``exception`` and before ``size_guard``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from fapilog._version import __version__
from fapilog.builtins.processors.exception import render_stack
from fapilog.plugins.constraints import setting_error, settings_from
from fapilog.plugins.metadata import PluginMetadata

__all__ = ["ECS_VERSION", "Preset", "ShapeProcessor", "ShapeSettings", "gcp_severity", "parse_target"]

ECS_VERSION = "8.11.0"
"""The Elastic Common Schema version the ``ecs`` preset writes to ``ecs.version``."""

Preset = Literal["ecs", "datadog", "gcp"]
Path = tuple[str, ...]
Converter = Callable[[Any], list[tuple[Path, Any]]]
Rule = Path | Converter
"""A plain rename (the target path) or a converter returning the fields to write."""

_NAME = "shape"
_DOTS = re.compile(r"(?<!\\)\.")
_GCP = "logging.googleapis.com/"
_GCP_NAMES = {"DEBUG": "DEBUG", "INFO": "INFO", "WARNING": "WARNING", "WARN": "WARNING", "ERROR": "ERROR",
              "CRITICAL": "CRITICAL", "FATAL": "CRITICAL", "NOTSET": "DEFAULT"}


def gcp_severity(level: object) -> str:
    """Google Cloud Logging's severity for a fapilog level name or number (``LEVEL25`` becomes ``NOTICE``)."""
    if isinstance(level, str):
        name = level.upper()
        if name in _GCP_NAMES:
            return _GCP_NAMES[name]
        if not (name.startswith("LEVEL") and name[5:].isdigit()):
            return "DEFAULT"
        level = int(name[5:])
    if isinstance(level, bool) or not isinstance(level, int):
        return "DEFAULT"
    for floor, severity in ((50, "CRITICAL"), (40, "ERROR"), (30, "WARNING"), (21, "NOTICE"), (20, "INFO")):
        if level >= floor:
            return severity
    return "DEBUG" if level >= 10 else "DEFAULT"


def _to(*path: str) -> Path:
    return path


def _lower(*path: str) -> Converter:
    return lambda value: [(path, value.lower() if isinstance(value, str) else value)]


def _error(kind: str, stack: str) -> Converter:
    def rule(exc: Any) -> list[tuple[Path, Any]]:
        if not isinstance(exc, Mapping):
            return [(("error", "message"), exc)]
        return [(("error", kind), exc.get("type")), (("error", "message"), exc.get("message")),
                (("error", stack), render_stack(exc))]

    return rule


def _gcp_exception(exc: Any) -> list[tuple[Path, Any]]:
    if not isinstance(exc, Mapping):
        return [(("stack_trace",), str(exc))]
    out: list[tuple[Path, Any]] = [(("stack_trace",), render_stack(exc))]
    frames = exc.get("frames")
    if isinstance(frames, list) and frames and isinstance(frames[-1], Mapping):
        where = frames[-1]  # the innermost frame: where the exception was raised
        location = {"file": where.get("file"), "line": str(where.get("line")), "function": where.get("function")}
        out.append(((_GCP + "sourceLocation",), location))
    return out


def _hex_to_decimal(value: Any, digits: int) -> str | None:
    """Datadog's form of an OpenTelemetry id: the low 64 bits, in decimal."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value & 0xFFFF_FFFF_FFFF_FFFF)
    if isinstance(value, str) and len(value) == digits:
        try:
            return str(int(value[-16:], 16))
        except ValueError:
            return None
    return None


def _datadog_id(name: str, digits: int) -> Converter:
    def rule(value: Any) -> list[tuple[Path, Any]]:
        converted = _hex_to_decimal(value, digits)
        kept: list[tuple[Path, Any]] = [((name,), value)]
        return kept if converted is None else [(("dd", name), converted), *kept]

    return rule


def _sampled(flags: Any) -> list[tuple[Path, Any]]:
    if isinstance(flags, str):
        try:
            flags = int(flags, 16)
        except ValueError:
            return [(("trace_flags",), flags)]
    return [((_GCP + "trace_sampled",), bool(flags & 1)) if isinstance(flags, int) else (("trace_flags",), flags)]


def _preset_rules(preset: Preset | None, project: str | None) -> tuple[dict[str, Rule], dict[Path, Any]]:
    """The rename rules of a preset and the constant fields it adds."""
    if preset == "ecs":
        return {
            "timestamp": _to("@timestamp"), "level": _lower("log", "level"), "logger": _to("log", "logger"),
            "seq": _to("event", "sequence"), "exception": _error("type", "stack_trace"),
            "trace_id": _to("trace", "id"), "span_id": _to("span", "id"), "service": _to("service", "name"),
            "environment": _to("service", "environment"), "version": _to("service", "version"),
            "host": _to("host", "hostname"), "pid": _to("process", "pid"),
        }, {("ecs", "version"): ECS_VERSION}
    if preset == "datadog":
        return {
            "level": _lower("status"), "logger": _to("logger", "name"), "exception": _error("kind", "stack"),
            "trace_id": _datadog_id("trace_id", 32), "span_id": _datadog_id("span_id", 16),
            "environment": _to("env"),
        }, {}
    if preset == "gcp":
        prefix = f"projects/{project}/traces/" if project else ""
        return {
            "level": lambda value: [(("severity",), gcp_severity(value))], "timestamp": _to("time"),
            "exception": _gcp_exception, "trace_id": lambda value: [((_GCP + "trace",), f"{prefix}{value}")],
            "span_id": _to(_GCP + "spanId"), "trace_flags": _sampled,
        }, {}
    return {}, {}


def parse_target(target: str) -> Path:
    """``"log.level"`` → ``("log", "level")``; ``\\.`` stays a dot inside a name."""
    return tuple(part.replace("\\.", ".") for part in _DOTS.split(target))


@dataclasses.dataclass(frozen=True)
class ShapeSettings:
    """Settings of the ``shape`` processor (validated on creation)."""

    renames: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """Top-level field → new name; dots in the new name nest (``\\.`` for a literal dot)."""
    preset: Preset | None = None
    """``ecs``, ``datadog`` or ``gcp``; ``renames`` apply over it."""
    project: str | None = None
    """GCP project id, so ``trace_id`` becomes ``projects/<project>/traces/<id>`` (``gcp`` preset only)."""

    def __post_init__(self) -> None:
        for source, target in self.renames.items():
            if not source or "" in parse_target(target):
                raise setting_error(
                    "renames", f"{source!r} -> {target!r}: expected a non-empty field name mapped to a "
                    "non-empty name, dotted for nesting (e.g. 'log.level')", root=_NAME, code="FL-STG-003")
        object.__setattr__(self, "renames", dict(self.renames))
        if self.project is not None and (not self.project or self.preset != "gcp"):
            raise setting_error("project", "expected a GCP project id, used with preset 'gcp' only; got "
                                           f"{self.project!r} with preset {self.preset!r}",
                                root=_NAME, code="FL-STG-003")


class ShapeProcessor:
    """Renames and reshapes fields for a vendor schema; see the module docstring for the collision rules."""

    metadata = PluginMetadata(
        name=_NAME,
        version=__version__,
        kind="processor",
        description="Renames fields and applies vendor presets (Elastic ECS, Datadog, Google Cloud Logging).",
        config_model=ShapeSettings,
    )

    def __init__(self, settings: ShapeSettings | None = None, /, **values: Any) -> None:
        """``settings`` (the registry passes the validated model) or the same fields as keywords."""
        self.settings = settings = settings_from(ShapeSettings, settings, root=_NAME, **values)
        self.renames: Mapping[str, str] = settings.renames
        self.preset = settings.preset
        self.project = settings.project
        rules, self._constants = _preset_rules(settings.preset, settings.project)
        rules.update({source: _to(*parse_target(target)) for source, target in settings.renames.items()})
        self._rules = rules

    async def start(self) -> None:
        """Nothing to open."""

    async def stop(self) -> None:
        """Nothing to close."""

    async def process(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        """The record in the configured shape (returned as it is when nothing applies)."""
        return self._shape(record)

    async def process_batch(self, records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """:meth:`process` for a whole batch."""
        shape = self._shape
        return [shape(record) for record in records]

    def _shape(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        rules = self._rules
        if not self._constants and rules.keys().isdisjoint(record):
            return record
        out: dict[str, Any] = {}
        owned: set[int] = set()
        for key, value in record.items():
            rule = rules.get(key)
            if rule is None:
                if key in out:
                    _collide(out, owned, key, value)
                else:
                    out[key] = value
            elif type(rule) is tuple:
                _put(out, owned, record, rules, rule, value)
            else:
                for path, converted in rule(value):  # type: ignore[operator]  # a Converter, not a Path
                    _put(out, owned, record, rules, path, converted)
        for path, constant in self._constants.items():
            _put(out, owned, record, rules, path, constant)
        return out


def _copied(out: dict[str, Any], record: Mapping[str, Any], rules: Mapping[str, Rule], key: str) -> bool:
    """Whether ``out[key]`` is a field copied unchanged from the record (which a renamed field may displace)."""
    return key not in rules and key in record and out[key] is record[key]


def _put(
    out: dict[str, Any], owned: set[int], record: Mapping[str, Any], rules: Mapping[str, Rule], path: Path, value: Any
) -> None:
    """Write a renamed field at ``path``, creating the objects on the way (and remembering them as ours)."""
    if len(path) == 1 and path[0] not in out:
        out[path[0]] = value
        return
    node = out
    for segment in path[:-1]:
        child = node.get(segment, _ABSENT)
        if child is _ABSENT or (node is out and _copied(out, record, rules, segment)):
            fresh: dict[str, Any] = {}
            if child is not _ABSENT:
                if isinstance(child, Mapping):
                    fresh.update(child)  # the record's own object: keep its content, add to it
                else:
                    node[_free(node, segment)] = child
            node[segment] = fresh
            owned.add(id(fresh))
            child = fresh
        elif id(child) not in owned:
            path = (".".join(path),)  # a value is in the way: write one flat dotted key instead
            node = out
            break
        node = child
    key = path[-1]
    if key in node:
        if node is out and _copied(out, record, rules, key):
            node[_free(node, key)] = node[key]  # the record's field makes way for the renamed one
        else:
            key = _free(node, key)
    node[key] = value


def _collide(out: dict[str, Any], owned: set[int], key: str, value: Any) -> None:
    """A record field whose name a renamed field already took: merge into our object, or move to ``key_``."""
    current = out[key]
    if id(current) in owned and isinstance(value, Mapping):
        for name, inner in value.items():
            current[_free(current, name)] = inner
    else:
        out[_free(out, key)] = value


_ABSENT: Any = object()


def _free(node: Mapping[str, Any], key: str) -> str:
    while key in node:
        key += "_"
    return key
