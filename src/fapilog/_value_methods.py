"""Equality, hash and repr for frozen dataclasses, written once instead of generated for every class.

``@dataclasses.dataclass(frozen=True)`` writes each class's ``__eq__``, ``__hash__`` and ``__repr__`` as source
text and compiles it when the class is created, in every process: about a third of a millisecond per class on
the first log's path, where fapilog creates two dozen of them (``docs/benchmarks.md``, "Start-up"). The
classes created before a default pipeline's first event is delivered (the core's settings models, the
``stdout``/``stderr`` and ``secrets`` settings, the public records and results) instead say ``eq=False,
repr=False`` and inherit these methods, which give the same results as the generated ones (compared and hashed
by the fields' values, in field order, only between instances of the very same class; repr
``Name(field=value, ...)``; ``tests/test_value_methods.py`` compares them with generated twins).
``dataclasses.fields``, ``replace``, ``asdict`` and ``is_dataclass`` work as before; only
``__dataclass_params__`` tells the difference. The frozen ``__setattr__`` and ``__init__`` are still generated.

The internal records that are not dataclasses at all (plain ``__slots__`` classes with a hand-written
``__init__``, which cost a hundredth of a millisecond to create) inherit :class:`RecordMethods` instead: the same
equality, hash and repr over the parameters of their ``__init__`` (each stored under its own name), so they
compare, hash and print as the frozen dataclasses they were.

    @dataclasses.dataclass(frozen=True, eq=False, repr=False)
    class QueueSettings(ValueMethods):
        capacity: int = 10_000
"""

from __future__ import annotations

import dataclasses
import reprlib
from collections.abc import Iterable
from typing import Any, ClassVar

__all__ = ["RecordMethods", "ValueMethods"]


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


class ValueMethods(_ByValue):
    """For a ``@dataclass(frozen=True, eq=False, repr=False)``: its fields' ``compare``, ``hash`` and ``repr``
    flags decide, as in the generated methods."""

    __slots__ = ()

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
