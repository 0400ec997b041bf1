"""The shared equality, hash and repr of the start-up path's frozen dataclasses match what @dataclass generates."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from fapilog._constraints import Range
from fapilog._engine.results import FlushResult, ShutdownReport
from fapilog._registry.lifecycle import PluginInstanceInfo
from fapilog._registry.registry import PluginInfo
from fapilog._registry.verdict import CompatVerdict
from fapilog._sink_settings import CircuitSettings, RetrySettings, SinkDefaults
from fapilog._value_methods import ValueMethods
from fapilog.builtins.redactors.secrets import SecretsSettings
from fapilog.builtins.sinks.stream import StreamSinkSettings
from fapilog.plugins.metadata import KINDS, PluginHealth, PluginMetadata, PluginRequirement
from fapilog.plugins.outcomes import BatchResult
from fapilog.settings import (
    LoggingSettings,
    MetricsSettings,
    OpenTelemetrySettings,
    PluginSettings,
    QueueSettings,
)

_META = PluginMetadata(name="demo", version="1.0", kind="sink", description="d")

# Two different instances of each class (the first is also rebuilt equal), covering every user of ValueMethods.
SAMPLES: list[tuple[Any, Any]] = [
    (LoggingSettings(), LoggingSettings(level="DEBUG", sinks=["stderr"])),
    (QueueSettings(), QueueSettings(capacity=5)),
    (PluginSettings(), PluginSettings(disabled=["secrets"])),
    (MetricsSettings(), MetricsSettings(port=1)),
    (OpenTelemetrySettings(), OpenTelemetrySettings(spans=True)),
    (SinkDefaults(), SinkDefaults(retry=RetrySettings(max_attempts=2))),
    (RetrySettings(), RetrySettings(max_attempts=1)),
    (CircuitSettings(), CircuitSettings(failure_threshold=1)),
    (StreamSinkSettings(), StreamSinkSettings(format="json")),
    (SecretsSettings(), SecretsSettings(mask="#")),
    (Range(ge=0, le=1), Range(gt=0)),
    (FlushResult(ok=True), FlushResult(ok=False, timed_out=True, failed_sinks=("s",))),
    (ShutdownReport(ok=True), ShutdownReport(ok=False, undelivered=3, details={"queue": 3})),
    (CompatVerdict(True, None, "ok"), CompatVerdict(False, ">=9", "too new", code="FL-VER-001")),
    (PluginInfo("a", "loaded", "builtin"), PluginInfo("a", "failed", "builtin", error="boom")),
    (PluginInstanceInfo("a", "sink", "loaded", 1.0), PluginInstanceInfo("a", "sink", "failed", 1.0, error="x")),
    (_META, dataclasses.replace(_META, version="2.0")),
    (PluginHealth("healthy", "fine", checked_at=1.0), PluginHealth("degraded", "slow", checked_at=1.0)),
    (PluginRequirement("file", ">=1"), PluginRequirement("file", "")),
    (BatchResult(), BatchResult(rejected={0: "too big"})),
    (KINDS[0], KINDS[1]),
]


def _generated_twin(cls: type) -> type:
    """The same fields as ``cls``, with the methods @dataclass(frozen=True) generates."""
    fields = [(f.name, f.type, dataclasses.field(default=None, compare=f.compare, hash=f.hash, repr=f.repr))
              for f in dataclasses.fields(cls)]
    twin: type = dataclasses.make_dataclass(cls.__name__, fields, frozen=True)
    twin.__qualname__ = cls.__qualname__
    return twin


def _as_twin(obj: Any, twin: type) -> Any:
    return twin(**{f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)})


def _hash_or_error(obj: Any) -> object:
    try:
        return hash(obj)
    except TypeError as exc:
        return f"TypeError: {exc}"


@pytest.mark.parametrize(("first", "second"), SAMPLES, ids=[type(a).__name__ for a, _ in SAMPLES])
def test_value_methods_give_what_dataclass_generates(first: Any, second: Any) -> None:
    """Equality, inequality, hash (or its TypeError) and repr equal the generated methods' for two instances."""
    cls = type(first)
    assert issubclass(cls, ValueMethods) and dataclasses.is_dataclass(cls)
    twin = _generated_twin(cls)
    a, b, a_again = _as_twin(first, twin), _as_twin(second, twin), _as_twin(dataclasses.replace(first), twin)
    again = dataclasses.replace(first)
    assert (first == again, first == second, first != second) == (a == a_again, a == b, a != b) == (True, False, True)
    assert repr(first) == repr(a) and repr(second) == repr(b)
    assert _hash_or_error(first) == _hash_or_error(a)
    assert first.__eq__(object()) is NotImplemented


def test_every_value_methods_user_is_sampled() -> None:
    """Each class that inherits ValueMethods appears in SAMPLES, so none escapes the parity check."""
    users = set(_subclasses(ValueMethods))
    assert users == {type(a) for a, _ in SAMPLES}


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found
