"""What a sink's buffer holds: the records themselves, or, for a sink that takes lines, ``(levelno, line)`` pairs.

A sink that only needs each record's JSON line offers ``write_lines`` (see :mod:`fapilog.plugins.protocols`).
Its runner keeps only what it needs: the serialized line and the numeric level (for ``protect_level`` and the
``drop_oldest`` victim choice). A pair of an ``int`` and ``bytes`` holds no container, so the collector stops
tracking it at its first collection, while an :class:`~fapilog._kit.record.EventRecord` (a ``dict``) stays
tracked as long as it lives: a deep buffer of records is walked again by every collection, a buffer of pairs is
not, and the records themselves are freed right after the fan-out.

Everything that handles buffer items (admission, batch cutting, the retry loop, the fallback) works on either
form through the helpers here, so there is one code path for both.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from fapilog._kit.levels import INFO, parse_level
from fapilog._kit.record import EventRecord
from fapilog._kit.serialize import dumps, json_lines
from fapilog.errors import ConfigError

__all__ = ["Item", "LineItem", "as_line_items", "as_records", "lines_of", "level_of", "line_writer", "size_of"]

LineItem = tuple[int, bytes]
"""``(levelno, JSON line)``: one event in the buffer of a sink that takes lines."""

Item = EventRecord | LineItem
"""One event in a sink's buffer, in the form its sink takes."""

_LEVELNO = operator.attrgetter("levelno")
_LINE = operator.itemgetter(1)


def as_line_items(records: Sequence[EventRecord]) -> list[LineItem]:
    """Each record's ``(levelno, line)``; in one pass in C for records the worker built and serialized."""
    try:
        levels = list(map(_LEVELNO, records))
    except AttributeError:  # a record built by hand: its level from its ``level`` field
        levels = [_level_of_record(record) for record in records]
    return list(zip(levels, json_lines(records), strict=True))


def _level_of_record(record: EventRecord) -> int:
    levelno = getattr(record, "levelno", None)
    if isinstance(levelno, int):
        return levelno
    try:
        return parse_level(record.get("level", INFO))
    except ConfigError:
        return INFO


def level_of(item: Item) -> int:
    """The numeric level of one buffer item."""
    if type(item) is tuple:
        return item[0]
    return item.levelno  # type: ignore[union-attr]


def size_of(item: Item) -> int:
    """Serialized bytes of one buffer item (0 for a record not serialized yet)."""
    if type(item) is tuple:
        return len(item[1])
    encoded = getattr(item, "json", None)
    return len(encoded) if isinstance(encoded, bytes) else 0


def lines_of(items: Sequence[Item]) -> list[bytes]:
    """The JSON line of every item (a record's as :func:`~fapilog._kit.serialize.dumps` gives it)."""
    if items and type(items[0]) is tuple:
        return list(map(_LINE, items))
    return [item[1] if isinstance(item, tuple) else dumps(item) for item in items]


def as_records(items: Sequence[Item]) -> list[EventRecord]:
    """Records for items (for a fallback sink that takes records): a line is parsed back into a record that
    carries its line as ``json`` and its level as ``levelno``."""
    records: list[EventRecord] = []
    for item in items:
        if not isinstance(item, tuple):
            records.append(item)
            continue
        levelno, line = item
        try:
            fields = orjson.loads(line)
        except orjson.JSONDecodeError:
            fields = None
        record = EventRecord(fields if isinstance(fields, dict) else {"message": line.decode("utf-8", "replace")})
        record.levelno = levelno
        record.json = line
        records.append(record)
    return records


def line_writer(write_lines: Callable[[list[bytes]], Any]) -> Callable[[Sequence[Item]], Any]:
    """A batch call over buffer items that hands the sink only their lines (``write_lines``)."""

    def write(items: Sequence[Item]) -> Any:
        return write_lines(lines_of(items))

    write.__qualname__ = f"line_writer({getattr(write_lines, '__qualname__', 'write_lines')})"
    return write
