"""The serializer's fallbacks: only the bad value degrades, and it is counted."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

import fapilog
from fapilog._kit.serialize import Serializer
from fapilog.builtins.sinks.memory import MemorySink


class Colour(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")


def _encode(value: Any) -> tuple[Any, int]:
    serializer = Serializer()
    decoded = orjson.loads(serializer.encode({"v": value, "ok": 1}))
    assert decoded["ok"] == 1
    return decoded["v"], serializer.degraded


def test_common_types_encode_without_degrading() -> None:
    """datetime, UUID, Decimal, bytes, Enum, Path, set, dataclass become natural JSON values."""
    cases: list[tuple[Any, Any]] = [
        (dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC), "2026-01-02T03:04:05Z"),
        (uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),
        (Decimal("1.10"), "1.10"),
        (b"plain", "plain"),
        (b"\xff\x00", "base64:/wA="),
        (Colour.RED, "red"),
        (Path("/tmp/x"), "/tmp/x"),
        ({3, 1, 2}, [1, 2, 3]),
        (Point(1, 2), {"x": 1, "y": 2}),
        (frozenset({"a"}), ["a"]),
    ]
    for value, expected in cases:
        assert _encode(value) == (expected, 0), value


def test_pydantic_models_are_dumped_when_pydantic_is_installed() -> None:
    """A pydantic model becomes its JSON-mode dump."""
    import pytest

    pydantic = pytest.importorskip("pydantic")

    class User(pydantic.BaseModel):
        id: int
        when: dt.date

    assert _encode(User(id=1, when=dt.date(2026, 1, 1))) == ({"id": 1, "when": "2026-01-01"}, 0)


def test_unknown_objects_become_repr_and_are_counted() -> None:
    """An arbitrary object is written as its repr and counted once."""
    value, degraded = _encode(complex(1, 2))
    assert value == "(1+2j)" and degraded == 1


def test_broken_repr_still_yields_a_value() -> None:
    """An object whose __repr__ raises is named by type instead of costing the event."""
    value, degraded = _encode(Unprintable())
    assert value.startswith("<unrepresentable Unprintable") and degraded == 1


def test_record_level_failures_degrade_only_the_bad_field() -> None:
    """A 65-bit int, a lone surrogate and a reference cycle each degrade only their own field."""
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    serializer = Serializer()
    out = orjson.loads(serializer.encode({"big": 2**70, "text": "bad \ud800", "cycle": cyclic, "fine": "yes"}))
    assert out["fine"] == "yes"
    assert out["big"] == str(2**70)
    assert "bad" in out["text"]
    assert out["cycle"] == "[[...]]"
    assert serializer.degraded == 3


def test_keys_that_are_not_text_are_written_as_text() -> None:
    """Integer keys, at the top and nested, become JSON strings without degrading anything."""
    serializer = Serializer()
    assert serializer.encode({1: "a", "b": {2: 3}}) == b'{"1":"a","b":{"2":3}}'
    assert serializer.degraded == 0


def test_a_value_is_counted_once_when_its_record_needs_a_second_pass() -> None:
    """An unknown object in a record that also has a non-text key (or a 65-bit int) is counted once."""
    serializer = Serializer()
    assert orjson.loads(serializer.encode({"v": complex(1, 2), 7: "k"})) == {"v": "(1+2j)", "7": "k"}
    assert serializer.degraded == 1
    assert orjson.loads(serializer.encode({"v": complex(1, 2), "big": 2**70}))["big"] == str(2**70)
    assert serializer.degraded == 3


def test_a_field_written_whole_as_its_repr_is_counted_once() -> None:
    """An unknown object inside a field that then degrades whole (a 65-bit int beside it) counts as one value."""
    serializer = Serializer()
    out = orjson.loads(serializer.encode({"f": {"v": complex(1, 2), "big": 2**70}}))
    assert out["f"] == repr({"v": complex(1, 2), "big": 2**70})
    assert serializer.degraded == 1


def test_degraded_values_are_visible_in_stats(memory: MemorySink) -> None:
    """A logged unserializable value reaches the sink as repr and shows in stats()."""
    fapilog.get_logger("s").info("odd value", value=complex(0, 1), fine=1)
    assert fapilog.flush(5.0)
    (record,) = memory.records
    assert record["value"] == "1j" and record["fine"] == 1
    assert fapilog.stats()["serialization"]["degraded"] == 1
