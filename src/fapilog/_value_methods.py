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
equality, hash and repr over the fields they name in ``_record_fields``, so they compare, hash and print as the
frozen dataclasses they were.

    @dataclasses.dataclass(frozen=True, eq=False, repr=False)
    class QueueSettings(ValueMethods):
        capacity: int = 10_000
"""

from __future__ import annotations

import dataclasses
import reprlib
from typing import Any, ClassVar

__all__ = ["RecordMethods", "ValueMethods"]


class ValueMethods:
    """Value equality, hash and repr over a dataclass's fields, as ``@dataclass(frozen=True)`` would generate."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return _values(self, "compare") == _values(other, "compare")

    def __hash__(self) -> int:
        return hash(_values(self, "hash"))

    @reprlib.recursive_repr()
    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in _fields(self) if f.repr)
        return f"{self.__class__.__qualname__}({shown})"


class RecordMethods:
    """Value equality, hash and repr over ``_record_fields`` (in constructor order), for plain ``__slots__`` records:
    what ``@dataclass(frozen=True)`` generated for them, and a pickle that rebuilds them through ``__init__``."""

    __slots__ = ()
    _record_fields: ClassVar[tuple[str, ...]] = ()

    def _record_values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._record_fields)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._record_values() == other._record_values()

    def __hash__(self) -> int:
        return hash(self._record_values())

    @reprlib.recursive_repr()
    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._record_fields)
        return f"{self.__class__.__qualname__}({shown})"

    def __reduce__(self) -> tuple[Any, ...]:
        return self.__class__, self._record_values()


def _fields(obj: Any) -> tuple[dataclasses.Field[Any], ...]:
    return dataclasses.fields(obj)


def _values(obj: object, use: str) -> tuple[Any, ...]:
    """The values of the fields that take part in comparison (``compare``) or hashing (``hash``, which follows
    ``compare`` unless a field sets ``hash`` itself), in field order."""
    if use == "compare":
        return tuple(getattr(obj, f.name) for f in _fields(obj) if f.compare)
    return tuple(getattr(obj, f.name) for f in _fields(obj) if (f.compare if f.hash is None else f.hash))
