"""Turns :class:`~fapilog.settings.LoggingSettings` into plugin instances, stage wrappers and sink runners."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from fapilog.core.delivery import BufferPolicy, SinkRunner
from fapilog.core.levels import parse_level
from fapilog.core.pipeline import Stage, StageKind
from fapilog.errors import ConfigError, PluginValidationError
from fapilog.plugins.loading import create_plugin
from fapilog.settings import LoggingSettings

__all__ = ["build_sinks", "build_stages"]

_DELIVERY_KEYS = {"buffer_capacity", "buffer_policy", "batch_size", "write_timeout", "flush_timeout"}
_STAGE_LISTS: tuple[tuple[StageKind, str], ...] = (
    ("filter", "filters"),
    ("enricher", "enrichers"),
    ("redactor", "redactors"),
    ("processor", "processors"),
)


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate = f"{name}#{n}"
        n += 1
    taken.add(candidate)
    return candidate


def build_stages(settings: LoggingSettings) -> list[Stage]:
    stages: list[Stage] = []
    taken: set[str] = set()
    for kind, field in _STAGE_LISTS:
        for index, spec in enumerate(getattr(settings, field)):
            name, obj = create_plugin(kind, spec, where=f"{field}[{index}]")
            try:
                stages.append(Stage(kind, _unique(name, taken), obj))
            except TypeError as exc:
                raise PluginValidationError(f"{field}[{index}]: {exc}", plugin=name) from exc
    return stages


def build_sinks(settings: LoggingSettings) -> list[SinkRunner]:
    defaults = settings.sink_defaults
    queue = settings.queue
    protect = parse_level(queue.protect_level, field="queue.protect_level")
    runners: list[SinkRunner] = []
    taken: set[str] = set()
    for index, configured in enumerate(settings.sinks):
        spec: Any = configured
        where = f"sinks[{index}]"
        delivery: Mapping[str, Any] = {}
        if isinstance(spec, Mapping):
            spec = dict(spec)
            delivery = spec.pop("delivery", None) or {}
            if not isinstance(delivery, Mapping) or not set(delivery) <= _DELIVERY_KEYS:
                raise ConfigError(
                    f"{where}.delivery: accepted keys are {', '.join(sorted(_DELIVERY_KEYS))}; got {delivery!r}",
                    field=f"{where}.delivery",
                )
            if spec.get("type") in ("stdout", "stderr") and "format" not in spec:
                spec["format"] = settings.format
        elif spec in ("stdout", "stderr"):
            spec = {"type": spec, "format": settings.format}
        name, sink = create_plugin("sink", spec, where=where)
        merged = {**_as_dict(defaults), **delivery}
        policy = merged["buffer_policy"]
        if policy == "inherit":
            policy = queue.policy
        checked = settings.replace(sink_defaults={**merged, "buffer_policy": policy}).sink_defaults
        try:
            runners.append(
                SinkRunner(
                    _unique(name, taken),
                    sink,
                    capacity=checked.buffer_capacity,
                    policy=_policy(checked.buffer_policy),
                    protect_level=protect,
                    batch_size=checked.batch_size,
                    write_timeout=checked.write_timeout,
                    flush_timeout=checked.flush_timeout,
                )
            )
        except TypeError as exc:
            raise PluginValidationError(f"{where}: {exc}", plugin=name) from exc
    return runners


def _policy(value: str) -> BufferPolicy:
    if value == "drop_newest":
        return "drop_newest"
    if value == "drop_oldest":
        return "drop_oldest"
    return "wait"


def _as_dict(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
