"""fapilog's one validation engine: a table of settings checked and converted against a dataclass model.

The core's :class:`~fapilog.settings.LoggingSettings` and every plugin's ``config_model`` go through
:func:`build`. What a field accepts comes from its annotation alone: the type (``int``, ``float``, ``bool``,
``str``, literals, optionals and unions, lists, tuples, tables, nested dataclasses) and the constraints of
:mod:`fapilog._constraints` riding in ``Annotated``. Text is converted where a type asks for more
(``"5"`` for an ``int``, ``"true"`` for a ``bool``), because environment variables and some files deliver
only text. Every error is made by :func:`~fapilog._constraints.setting_error`.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import inspect
import math
import os
import sys
import types
import typing
import weakref
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, TypeVar, Union

from fapilog._constraints import Level, NonEmpty, Range, SplitText, location, setting_error
from fapilog._kit.levels import parse_level
from fapilog._value_methods import RecordMethods
from fapilog.errors import ConfigError

__all__ = ["build", "check_value", "fields_of", "is_validated", "parse_bool"]

_M = TypeVar("_M")

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def parse_bool(value: object) -> bool | None:
    """``True``/``False``, or their text as environment variables deliver it (``"yes"``, ``"0"``...); else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return None


class _Where(RecordMethods):
    """Where a value sits: ``path`` within the user's table (``.field``), ``root`` in front in messages."""

    __slots__ = ("path", "root")

    def __init__(self, path: str, root: str) -> None:
        self.path = path
        self.root = root

    def child(self, name: str) -> _Where:
        return _Where(f"{self.path}.{name}" if self.path else name, self.root)


def _fail(where: _Where, problem: str, code: str = "FL-CFG-001") -> ConfigError:
    """The engine's errors, all made by :func:`~fapilog._constraints.setting_error`."""
    return setting_error(where.path, problem, root=where.root, code=code)


def fields_of(model: type[Any]) -> tuple[tuple[str, Any, bool], ...]:
    """``(name, annotation, required)`` of each field of the dataclass ``model`` its constructor takes."""
    return _fields_of(model)  # type: ignore[arg-type]  # a class is hashable; mypy sees only type[Any]


@functools.lru_cache(maxsize=256)
def _fields_of(model: Any) -> tuple[tuple[str, Any, bool], ...]:
    try:
        hints = typing.get_type_hints(model, include_extras=True)
    except Exception:  # noqa: BLE001 - one name that does not resolve (imported only for type checkers)
        hints = {f.name: _one_hint(model, f.name) for f in dataclasses.fields(model)}
    return tuple(
        (f.name, hints.get(f.name, Any), f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
        for f in dataclasses.fields(model)
        if f.init
    )


def _one_hint(model: type[Any], name: str) -> Any:
    """The annotation of field ``name`` alone, so a name that does not resolve costs only its own field's checks
    (``Any``), not every field's: a ``rate: float`` beside a ``Decimal`` imported under ``TYPE_CHECKING``."""
    for owner in model.__mro__:
        annotation = inspect.get_annotations(owner).get(name)
        if annotation is None:
            continue
        alone = type(owner.__name__, (), {"__annotations__": {name: annotation}, "__module__": owner.__module__})
        try:
            return typing.get_type_hints(alone, localns=dict(vars(owner)), include_extras=True)[name]
        except Exception:  # noqa: BLE001 - this field's name does not resolve: the model's own checks decide
            return Any
    return Any


def build(model: type[_M], data: Mapping[str, Any] | _M, *, root: str = "", path: str = "") -> _M:
    """An instance of the dataclass ``model`` from ``data``, every value checked against its annotation.

    Unknown keys and missing required fields are refused (a silently ignored typo is how a logging setup
    goes quietly wrong). A ConfigError raised by the model's own ``__post_init__`` gets the location added.
    """
    built = _build(model, data, _Where(path, root))
    key = id(built)

    def forget(_: weakref.ref[Any]) -> None:
        _validated.pop(key, None)

    try:
        _validated[key] = weakref.ref(built, forget)
    except TypeError:  # a slotted model has no weak references: not remembered, a plugin's settings_from rechecks it
        return built
    return built


def is_validated(instance: object) -> bool:
    """Whether ``instance`` was made by :func:`build`, so a plugin handed it by the registry need not check it
    again (a model built by hand is checked when the plugin receives it)."""
    ref = _validated.get(id(instance))
    return ref is not None and ref() is instance


_validated: dict[int, weakref.ref[Any]] = {}
"""Instances :func:`build` made, by identity (models may hold tables, so they cannot be hashed)."""


def check_value(value: Any, hint: Any, path: str, *, root: str = "") -> Any:
    """``value`` checked and converted to the annotation ``hint``, or a ConfigError naming ``path``."""
    return _coerce(value, hint, _Where(path, root))


def _build(model: type[_M], data: Any, where: _Where) -> _M:
    if isinstance(data, model):
        if is_validated(data):
            return data
        # built by hand (``QueueSettings(capacity=-1)``): its constructor checked nothing, so check its fields
        data = {f.name: getattr(data, f.name) for f in dataclasses.fields(data) if f.init}  # type: ignore[arg-type]
    if not isinstance(data, Mapping):
        raise _fail(where, f"expected a table of settings, got {data!r}")
    fields = fields_of(model)
    names = [name for name, _, _ in fields]
    for key in data:
        if key not in names:
            raise _key_error(where, str(key), f"unknown setting; {_accepted(where, names)}")
    values: dict[str, Any] = {}
    for name, hint, required in fields:
        if name in data:
            values[name] = _coerce(data[name], hint, where.child(name))
        elif required:
            raise _key_error(where, name, "required setting is missing")
    try:
        return model(**values)
    except ConfigError as exc:  # the model's own cross-field check, naming its field relative to the model
        if not where.path and not where.root:
            raise
        field = exc.field or ""
        target = where.child(field) if field else where
        text = str(exc)
        for said in (f"{location(target.path, target.root)}: ", f"{field}: "):  # its own location, said once
            if field and text.startswith(said):
                text = text[len(said):]
                break
        raise _fail(target, text, exc.code) from None  # the check's own stable code is kept


def _accepted(where: _Where, names: list[str]) -> str:
    listed = ", ".join(sorted(names) if not where.root else names)
    if where.root and not where.path:
        return f"accepted fields: {listed or '(none: this plugin takes no settings)'}"
    return f"accepted: {listed}"


def _key_error(where: _Where, key: str, problem: str) -> ConfigError:
    target = where.child(key)
    if where.root and not where.path:  # a plugin's own table: name the plugin and the field apart
        return setting_error(target.path, problem, shown=f"plugin {where.root!r}: field {key!r}")
    return _fail(target, problem)


def _split(hint: Any) -> tuple[Any, tuple[Any, ...]]:
    if typing.get_origin(hint) is Annotated:
        base, *marks = typing.get_args(hint)
        return base, tuple(marks)
    return hint, ()


def _coerce(value: Any, hint: Any, where: _Where) -> Any:
    base, marks = _split(hint)
    if Level in marks:
        return _level(value, base, where)
    return _marked(value, base, where, marks)


def _marked(value: Any, base: Any, where: _Where, marks: tuple[Any, ...]) -> Any:
    """``value`` as the type ``base``, then held to the value constraints among ``marks``."""
    if SplitText in marks and isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    result = _by_type(value, base, where, marks)
    if NonEmpty in marks and isinstance(result, (str, list, tuple, dict)) and not (
        result.strip() if isinstance(result, str) else result
    ):
        raise _fail(where, f"must not be empty, got {value!r}")
    return result


def _level(value: Any, base: Any, where: _Where) -> Any:
    optional = type(None) in typing.get_args(base)
    if optional and (value is None or (isinstance(value, str) and value.strip().lower() == "none")):
        return None
    shown = location(where.path, where.root)
    try:
        parse_level(value, field=shown)
    except ConfigError as exc:
        raise _fail(where, str(exc)[len(shown) + 2 :], exc.code) from None
    return value


def _by_type(value: Any, hint: Any, where: _Where, marks: tuple[Any, ...]) -> Any:  # noqa: PLR0911, PLR0912 - one branch per type
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any or hint is object:
        return value
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _build(hint, value, where)
    if origin is Literal:
        # equal and of the same type: True == 1 and 1.0 == 1, but neither is the literal 1
        if any(value == a and (type(value) is type(a) or (isinstance(value, str) and isinstance(a, str)))
               for a in args):
            return value
        raise _fail(where, f"got {value!r}; accepted: {', '.join(repr(a) for a in args)}")
    if origin in (Union, types.UnionType):
        return _union(value, args, where, marks)
    if origin in (dict, Mapping) or hint is dict:
        if not isinstance(value, Mapping):
            raise _fail(where, f"expected a table, got {value!r}")
        if not args:
            return dict(value)
        return {str(k): _coerce(v, args[1], where.child(str(k))) for k, v in value.items()}
    if origin in (list, tuple, Sequence) or hint in (list, tuple):
        return _sequence(value, hint, origin, args, where)
    if hint is bool:
        flag = parse_bool(value)
        if flag is None:
            raise _fail(where, f"must be true or false, got {value!r}")
        return flag
    if hint is int or hint is float:
        return _number(value, hint, where, next((m for m in marks if isinstance(m, Range)), None))
    if hint is str:
        if not isinstance(value, str):
            raise _fail(where, f"must be text, got {value!r}")
        return value
    if isinstance(hint, type) and isinstance(hint, enum.EnumMeta):
        return _member(value, hint, where)
    pathlib = sys.modules.get("pathlib")  # loaded whenever a model names Path; `import fapilog` does not load it
    if pathlib is not None and hint in (pathlib.Path, pathlib.PurePath):
        if isinstance(value, (str, os.PathLike)) and str(value).strip():
            return pathlib.Path(value)
        raise _fail(where, f"must be a path (non-empty text), got {value!r}")
    return value  # a type the engine does not know: the model's own checks decide


def _member(value: Any, kind: enum.EnumMeta, where: _Where) -> Any:
    """The member of the enum ``kind`` that ``value`` names, by value (``"fast"``) or by name (``"FAST"``)."""
    members: list[enum.Enum] = list(kind)
    for member in members:
        if value is member or (value == member.value and type(value) is type(member.value)):
            return member
    for member in members:
        if isinstance(value, str) and value == member.name:
            return member
    raise _fail(where, f"got {value!r}; accepted: {', '.join(repr(m.value) for m in members)}")


def _union(value: Any, args: tuple[Any, ...], where: _Where, marks: tuple[Any, ...]) -> Any:
    if value is None and type(None) in args:
        return None
    options = [_split(a) for a in args if a is not type(None)]
    for base, own in options:  # a value already of one of the types stays as it is: 5 for int | str stays 5
        if base in (int, float, str) and isinstance(value, base) and not isinstance(value, bool):
            return _marked(value, base, where, (*marks, *own))
    first: ConfigError | None = None
    for base, own in options:
        try:
            return _marked(value, base, where, (*marks, *own))
        except ConfigError as exc:
            first = first or exc
    assert first is not None  # a union has at least one option besides None
    raise first


def _sequence(value: Any, hint: Any, origin: Any, args: tuple[Any, ...], where: _Where) -> Any:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise _fail(where, f"expected a list, got {value!r}")
    fixed = origin is tuple and bool(args) and args[-1] is not Ellipsis  # tuple[str, int]: one type per place
    if fixed and len(value) != len(args):
        raise _fail(where, f"expected a list of {len(args)} entries, got {value!r}")
    items = []
    for index, entry in enumerate(value):
        at = _Where(f"{where.path}[{index}]", where.root)
        try:
            items.append(_coerce(entry, args[index] if fixed else (args[0] if args else Any), at))
        except ConfigError as exc:
            if exc.field != at.path:  # a setting inside a table entry: its own path, ``routes[1].weight``
                raise
            # the entry itself is wrong: the list is one setting, so keep its field and say which entry
            said = f"{location(at.path, at.root)}: "
            text = str(exc)[len(said):] if str(exc).startswith(said) else str(exc)
            raise _fail(where, f"entry {index} {text}", exc.code) from None
    return items if origin is list or hint is list else tuple(items)


def _number(value: Any, kind: type[int] | type[float], where: _Where, bounds: Range | None) -> int | float:
    noun = "a whole number" if kind is int else "a number"
    wanted = noun + (bounds.describe() if bounds is not None else "")
    number: float | int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, (int, float)):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            number = int(text) if kind is int and text.lstrip("+-").isdigit() else float(text)
        except ValueError:
            number = None
    if kind is float and isinstance(number, int):
        try:
            number = float(number)
        except OverflowError:  # an integer beyond any float: refused as a float's infinity is
            number = math.inf
    if isinstance(number, float) and not math.isfinite(number) and kind is float:
        raise _fail(where, f"must be a finite number{wanted[len(noun):]}, got {value!r}")
    whole = isinstance(number, int) or (isinstance(number, float) and math.isfinite(number) and number.is_integer())
    if number is None or (kind is int and not whole):
        raise _fail(where, f"must be {wanted}, got {value!r}")
    converted = kind(number)
    if bounds is not None and not bounds.admits(converted):
        raise _fail(where, f"must be {wanted}, got {value!r}")
    return converted
