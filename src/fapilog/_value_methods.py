"""The methods of frozen dataclasses, written once instead of generated for every class.

``@dataclasses.dataclass(frozen=True)`` writes each class's ``__init__``, ``__setattr__``, ``__delattr__``,
``__eq__``, ``__hash__`` and ``__repr__`` as source text and compiles it when the class is created, in every
process: about a third of a millisecond per class on the first log's path, where fapilog creates two dozen of
them (``docs/benchmarks.md``, "Start-up"). The classes created before a default pipeline's first event is
delivered (the core's settings models, the ``stdout``/``stderr`` and ``secrets`` settings, the public records and
results) are made by :func:`value_class` instead: a dataclass with none of those generated, inheriting them from
:class:`ValueMethods`, which behave as the generated ones (the constructor's parameters, defaults, factories and
``__post_init__``; assignment and deletion raise ``FrozenInstanceError``; compared and hashed by the fields'
values, in field order, only between instances of the very same class; repr ``Name(field=value, ...)``;
``tests/test_value_methods.py`` compares them with generated twins). ``dataclasses.fields``, ``replace``,
``asdict``, ``is_dataclass``, ``inspect.signature`` and ``__dataclass_params__`` (``frozen=True``) are as before,
and a frozen dataclass may subclass one.

The internal records that are not dataclasses at all (plain ``__slots__`` classes with a hand-written
``__init__``, which cost a hundredth of a millisecond to create) inherit :class:`RecordMethods` instead: the same
equality, hash and repr over the parameters of their ``__init__`` (each stored under its own name), so they
compare, hash and print as the frozen dataclasses they were.

    @dataclasses.dataclass(frozen=True, eq=False, repr=False)
    class QueueSettings(ValueMethods):
        capacity: int = 10_000
"""

from __future__ import annotations

import copy
import dataclasses
import reprlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, dataclass_transform

if TYPE_CHECKING:
    import inspect

__all__ = ["RecordMethods", "ValueMethods", "value_class"]

_C = TypeVar("_C", bound=type)
_NO_DEFAULT = dataclasses.MISSING
_FACTORY: Any = dataclasses._HAS_DEFAULT_FACTORY  # type: ignore[attr-defined]  # shown as <factory>, as generated


class _ByValue:
    """Equality, hash and repr over a class's fields, as ``@dataclass(frozen=True)`` generates them; a subclass
    says which fields take part (:meth:`_compared`, :meth:`_hashed`, :meth:`_shown`)."""

    __slots__ = ()

    def _compared(self) -> tuple[Any, ...]:
        raise NotImplementedError

    def _hashed(self) -> tuple[Any, ...]:
        return self._compared()

    def _shown(self) -> Iterable[str]:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._compared() == other._compared()

    def __hash__(self) -> int:
        return hash(self._hashed())

    @reprlib.recursive_repr()
    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._shown())
        return f"{self.__class__.__qualname__}({shown})"


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field,))
def value_class(cls: _C) -> _C:
    """``@dataclasses.dataclass(frozen=True)`` for a subclass of :class:`ValueMethods`, with every method inherited
    from it instead of generated (a tenth of the cost; see the module docstring)."""
    dataclasses.dataclass(init=False, repr=False, eq=False)(cls)
    params = copy.copy(cls.__dataclass_params__)  # type: ignore[attr-defined]  # set just above
    params.init = params.frozen = True  # what the class behaves as: a frozen dataclass may subclass it
    cls.__dataclass_params__ = params  # type: ignore[attr-defined]
    return cls


class _InitSignature:
    """``inspect.signature`` of a :func:`value_class`: the parameters its generated ``__init__`` would have."""

    def __get__(self, instance: object, owner: type) -> inspect.Signature:
        import inspect

        parameters = [
            inspect.Parameter(
                f.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=f.type,
                default=f.default if f.default is not _NO_DEFAULT else (
                    _FACTORY if f.default_factory is not _NO_DEFAULT else inspect.Parameter.empty),
            )
            for f in dataclasses.fields(owner) if f.init
        ]
        return inspect.Signature(parameters, return_annotation=None)


_Field = tuple[str, Any, "Callable[[], Any] | None"]
"""A field as ``__init__`` uses it: its name, its default (``MISSING`` if none) and its default factory."""


def _init_plan(cls: type) -> tuple[tuple[_Field, ...], tuple[_Field, ...]]:
    """Per class, once: the ``__init__`` parameters (the init fields) and the other fields, as the generated
    ``__init__`` would use them."""
    plan: tuple[tuple[_Field, ...], tuple[_Field, ...]] | None = cls.__dict__.get("_value_init_plan")
    if plan is None:
        init: list[_Field] = []
        rest: list[_Field] = []
        for f in dataclasses.fields(cls):
            factory = f.default_factory if f.default_factory is not _NO_DEFAULT else None
            (init if f.init else rest).append((f.name, f.default, factory))
        plan = (tuple(init), tuple(rest))
        type.__setattr__(cls, "_value_init_plan", plan)
    return plan


def _bind(cls: type, init: tuple[_Field, ...], args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
    """The values of ``init`` for ``cls(*args, **kwargs)``, with the generated ``__init__``'s errors."""
    if len(args) > len(init):
        high = len(init) + 1  # counting self, as Python's own message does
        low = high - sum(1 for _, default, factory in init if factory is not None or default is not _NO_DEFAULT)
        takes = f"{high} positional argument{'s' if high > 1 else ''}" if low == high else (
            f"from {low} to {high} positional arguments")
        raise TypeError(f"{cls.__name__}.__init__() takes {takes} but {len(args) + 1} were given")
    values = list(args)
    missing = []
    for name, default, factory in init[len(args):]:
        if name in kwargs:
            values.append(kwargs.pop(name))
        elif factory is not None:
            values.append(factory())
        elif default is not _NO_DEFAULT:
            values.append(default)
        else:
            missing.append(repr(name))
    for name, _, _ in init[:len(args)]:
        if name in kwargs:
            raise TypeError(f"{cls.__name__}.__init__() got multiple values for argument {name!r}")
    if kwargs:
        raise TypeError(f"{cls.__name__}.__init__() got an unexpected keyword argument {next(iter(kwargs))!r}")
    if missing:
        listed = " and ".join(missing) if len(missing) < 3 else f"{', '.join(missing[:-1])}, and {missing[-1]}"
        raise TypeError(f"{cls.__name__}.__init__() missing {len(missing)} required positional "
                        f"argument{'s' if len(missing) > 1 else ''}: {listed}")
    return values


class ValueMethods(_ByValue):
    """For a :func:`value_class`: the constructor and the frozen ``__setattr__``/``__delattr__`` of a frozen
    dataclass, and equality, hash and repr decided by its fields' ``compare``, ``hash`` and ``repr`` flags, as in
    the generated methods. (A ``@dataclass(frozen=True, eq=False, repr=False)`` may inherit it too.)"""

    __slots__ = ()
    __signature__ = _InitSignature()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls = type(self)
        init, rest = _init_plan(cls)
        setter = object.__setattr__
        for (name, _, _), value in zip(init, _bind(cls, init, args, kwargs), strict=True):
            setter(self, name, value)
        for name, default, factory in rest:
            if factory is not None:
                setter(self, name, factory())
            elif default is not _NO_DEFAULT:
                setter(self, name, default)
        post_init = getattr(self, "__post_init__", None)
        if post_init is not None:
            post_init()

    def __setattr__(self, name: str, value: Any) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")

    def _compared(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f.name) for f in dataclasses.fields(self) if f.compare)  # type: ignore[arg-type]

    def _hashed(self) -> tuple[Any, ...]:
        # ``hash`` follows ``compare`` unless a field sets it itself
        fields = dataclasses.fields(self)  # type: ignore[arg-type]  # a dataclass, by this class's contract
        return tuple(getattr(self, f.name) for f in fields if (f.compare if f.hash is None else f.hash))

    def _shown(self) -> Iterable[str]:
        return (f.name for f in dataclasses.fields(self) if f.repr)  # type: ignore[arg-type]


class RecordMethods(_ByValue):
    """For a plain ``__slots__`` record: its ``__init__`` parameters, in order, are its fields (each stored under
    its own name); pickling rebuilds it through ``__init__``."""

    __slots__ = ()
    _record_fields: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        code = cls.__init__.__code__
        cls._record_fields = code.co_varnames[1:code.co_argcount]  # the parameters after ``self``

    def _compared(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._record_fields)

    def _shown(self) -> Iterable[str]:
        return self._record_fields

    def __reduce__(self) -> tuple[Any, ...]:
        return self.__class__, self._compared()
