"""Every built-in's settings are refused at configure time when a value has the wrong type or is out of range.

The cases are derived from each built-in's config model (its annotations and their constraints), so a field
added later is covered without touching this file, and a model whose annotations stop resolving fails here.
"""

from __future__ import annotations

import dataclasses
import importlib
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import pytest

import fapilog
from fapilog._coercion import fields_of
from fapilog._registry.builtin_names import BUILTIN_PLUGINS
from fapilog.errors import ConfigError
from fapilog.plugins.constraints import Level, Range
from fapilog.plugins.metadata import PluginMetadata

REQUIRED: dict[str, dict[str, Any]] = {
    "file": {"path": "app.log"},
    "http": {"url": "http://127.0.0.1:9/ingest"},
    "loki": {"url": "http://127.0.0.1:9"},
    "cloudwatch": {"log_group": "app"},
    "sampling": {"rate": 0.5},
}
"""A valid value for each required setting, so that only the field under test is wrong."""


def _metadata(target: str) -> PluginMetadata:
    module, name = target.split(":")
    md: PluginMetadata = getattr(importlib.import_module(module), name).metadata
    return md


def _split(hint: Any) -> tuple[Any, tuple[Any, ...]]:
    if typing.get_origin(hint) is Annotated:
        base, *marks = typing.get_args(hint)
        return base, tuple(marks)
    return hint, ()


def _options(hint: Any) -> list[Any]:
    base, _ = _split(hint)
    if typing.get_origin(base) in (Union, types.UnionType):
        return [_split(a)[0] for a in typing.get_args(base) if a is not type(None)]
    return [base]


def wrong_type(hint: Any) -> object:  # noqa: PLR0911 - one answer per kind of annotation
    """A value no option of ``hint`` accepts, or ``None`` when the field takes anything."""
    _, marks = _split(hint)
    if Level in marks:
        return "loud"
    options = _options(hint)
    if Any in options:
        return None
    if all(o in (int, float) for o in options):
        return "lots"
    if options == [bool]:
        return "maybe"
    if all(typing.get_origin(o) is Literal for o in options):
        return "no-such-choice"
    if all(typing.get_origin(o) in (list, tuple, Sequence) for o in options):
        items = [typing.get_args(o)[0] if typing.get_args(o) else Any for o in options]
        return None if Any in items else 5
    if all(typing.get_origin(o) in (dict, Mapping) for o in options):
        return ["not", "a", "table"]
    if str in options:
        return None if any(o in (int, float) for o in options) else 12345
    return None


def out_of_range(hint: Any) -> object:
    """A value just outside the field's ``Range``, or ``None`` when it has none."""
    base, marks = _split(hint)
    bounds = next((m for m in marks if isinstance(m, Range)), None)
    if bounds is None:
        for option in typing.get_args(base):
            bounds = next((m for m in _split(option)[1] if isinstance(m, Range)), None) or bounds
    if bounds is None:
        return None
    whole = int in _options(hint)
    if bounds.gt is not None:
        return bounds.gt
    if bounds.ge is not None:
        return bounds.ge - 1 if whole else bounds.ge - 0.5
    if bounds.le is not None:
        return bounds.le + 1
    return bounds.lt


def cases() -> list[Any]:
    found = []
    for builtin in BUILTIN_PLUGINS:
        md = _metadata(builtin.target)
        model = md.config_model
        assert model is not None and dataclasses.is_dataclass(model), f"{builtin.name} declares a dataclass model"
        for name, hint, _ in fields_of(model):
            for label, value in (("type", wrong_type(hint)), ("range", out_of_range(hint))):
                if value is not None:
                    found.append(pytest.param(md.kind, builtin.name, name, value, id=f"{builtin.name}.{name}-{label}"))
    return found


CASES = cases()


def test_every_builtin_model_resolves_and_most_fields_are_checked() -> None:
    """Each built-in's model annotations resolve (a failure would silently switch checks off)."""
    for builtin in BUILTIN_PLUGINS:
        model = _metadata(builtin.target).config_model
        hints = typing.get_type_hints(model, include_extras=True)
        assert set(hints) >= {f.name for f in dataclasses.fields(model)}  # type: ignore[arg-type]
    assert len(CASES) > 80


@pytest.mark.parametrize(("kind", "plugin", "field", "value"), CASES)
def test_a_wrong_value_is_refused_at_configure_time(
    kind: str, plugin: str, field: str, value: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrong type or an out-of-range value is a ConfigError naming the field as configured, said once."""
    monkeypatch.chdir(tmp_path)
    where = f"{kind}s[0]" if kind != "sink" else "sinks[0]"
    spec = {"type": plugin, **REQUIRED.get(plugin, {}), field: value}
    options: dict[str, Any] = {"sinks": [spec]} if kind == "sink" else {"sinks": ["memory"], f"{kind}s": [spec]}
    with pytest.raises(ConfigError) as caught:
        fapilog.configure(**options)
    message = str(caught.value)
    assert caught.value.field is not None and caught.value.field.startswith(f"{where}.{field}")
    assert message.startswith(f"{where}: ") and message.count(where) == 1
    assert f"plugin {plugin!r}: {plugin}." not in message  # the plugin is named once
    assert "clock" not in message

