"""The shared equality, hash and repr of the start-up path's frozen dataclasses match what @dataclass generates."""

from __future__ import annotations

import dataclasses
import inspect
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


def _constructor_twin(cls: type) -> type:
    """The same fields as ``cls`` (defaults and factories included), with everything @dataclass(frozen=True)
    generates: its ``__init__`` is the reference for the one :func:`value_class` classes inherit."""
    fields = []
    for f in dataclasses.fields(cls):
        options: dict[str, Any] = {"compare": f.compare, "hash": f.hash, "repr": f.repr, "init": f.init}
        if f.default is not dataclasses.MISSING:
            options["default"] = f.default
        if f.default_factory is not dataclasses.MISSING:
            options["default_factory"] = f.default_factory
        fields.append((f.name, f.type, dataclasses.field(**options)))
    twin: type = dataclasses.make_dataclass(cls.__name__, fields, frozen=True, eq=False, repr=False)
    return twin


def _outcome(make: Any) -> object:
    """What a constructor call gives: the fields' values, or the error's type and message."""
    try:
        obj = make()
    except TypeError as exc:
        return ("TypeError", str(exc).split("__init__() ", 1)[-1])  # the generated names the twin's qualname
    # a factory's value may differ call by call (a timestamp): its type is compared
    return {f.name: getattr(obj, f.name) if f.default_factory is dataclasses.MISSING else type(getattr(obj, f.name))
            for f in dataclasses.fields(obj)}


@pytest.mark.parametrize("cls", sorted({type(a) for a, _ in SAMPLES}, key=lambda c: c.__name__),
                         ids=lambda c: c.__name__)
def test_the_inherited_constructor_takes_what_the_generated_one_takes(cls: type) -> None:
    """Defaults, factories (a fresh object each time), positional and keyword arguments, and the errors for
    too many, missing, repeated or unknown arguments are those of the generated ``__init__``."""
    twin = _constructor_twin(cls)
    params = [f for f in dataclasses.fields(cls) if f.init]
    required = [f for f in params if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    sample = next(a for a, _ in SAMPLES if type(a) is cls)
    given = {f.name: getattr(sample, f.name) for f in params}
    positional = [given[f.name] for f in params]
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
        ((), dict(given)),
        (tuple(positional), {}),
        (tuple(positional[:1]), {f.name: given[f.name] for f in params[1:]}),
        ((), {f.name: given[f.name] for f in required}),
        ((*positional, None), {}),
        ((), {**given, "no_such_field": 1}),
        (tuple(positional[:1]), {params[0].name: positional[0]}),
        ((), {}),
    ]
    for args, kwargs in calls:
        assert _outcome(lambda a=args, k=kwargs: cls(*a, **k)) == _outcome(
            lambda a=args, k=kwargs: twin(*a, **k)), (args, kwargs)
    factories = [f.name for f in params if f.default_factory is not dataclasses.MISSING]
    if factories:
        least = {f.name: given[f.name] for f in required}
        first, second = cls(**least), cls(**least)
        assert all(getattr(first, name) is not getattr(second, name) for name in factories
                   if isinstance(getattr(first, name), (list, dict, set)))


@pytest.mark.parametrize(("first", "second"), SAMPLES[:3], ids=[type(a).__name__ for a, _ in SAMPLES[:3]])
def test_instances_stay_frozen_and_describe_themselves_as_generated(first: Any, second: Any) -> None:
    """Assignment and deletion raise FrozenInstanceError; the signature, params and replace() are a frozen
    dataclass's; a frozen dataclass may subclass one and its instances are frozen too."""
    cls = type(first)
    name = dataclasses.fields(cls)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(first, name, getattr(second, name))
    with pytest.raises(dataclasses.FrozenInstanceError):
        delattr(first, name)
    assert str(inspect.signature(cls)) == str(inspect.signature(_constructor_twin(cls)))
    params = cls.__dataclass_params__
    assert (params.init, params.frozen, params.eq, params.repr) == (True, True, False, False)
    assert dataclasses.replace(first, **{name: getattr(second, name)}) == _with(first, name, getattr(second, name))

    @dataclasses.dataclass(frozen=True)
    class Sub(cls):  # type: ignore[misc, valid-type]
        extra: int = 1

    sub = Sub()
    assert sub.extra == 1 and getattr(sub, name) == getattr(cls(), name)
    with pytest.raises(dataclasses.FrozenInstanceError):
        sub.extra = 2  # type: ignore[misc]


def _with(obj: Any, name: str, value: Any) -> Any:
    values = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if f.init}
    values[name] = value
    return type(obj)(**values)
