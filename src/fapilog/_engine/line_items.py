"""What a sink's buffer holds: the records themselves, or, for a sink that takes lines, their JSON lines.

A sink that only needs each record's JSON line offers ``write_lines`` (see :mod:`fapilog.plugins.protocols`).
Its runner keeps only what it needs: the serialized line, and whether the event is protected (at or above
``protect_level``, which the ``drop_oldest`` victim choice and the full-buffer policy need). A line below the
protected level is kept as the bare ``bytes``; a protected one as a ``(levelno, line)`` pair. Neither holds a
container the collector must walk (bytes are never tracked; a pair of an ``int`` and ``bytes`` is untracked at
its first collection), while an :class:`~fapilog._kit.record.EventRecord` (a ``dict``) stays tracked as long as
it lives: a deep buffer of records is walked again by every collection, a buffer of lines is not, and the
records themselves are freed right after the fan-out. The lines are buffered as exact-size copies: the encoder's
output can sit in a much larger allocation (``docs/benchmarks.md``, round 4), which a deep buffer would hold.

Everything that handles buffer items (admission, batch cutting, the retry loop, the fallback) works on every
form through the helpers here, so there is one code path for all.
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

__all__ = ["Item", "ProtectedLine", "as_line_items", "as_records", "compacted_lines", "is_protected", "levels_of",
           "line_writer", "lines_of", "protected", "size_of"]

ProtectedLine = tuple[int, bytes]
"""``(levelno, JSON line)``: a protected event in the buffer of a sink that takes lines."""

Item = EventRecord | bytes | ProtectedLine
"""One event in a sink's buffer, in the form its sink takes: a record, a line, or a protected line."""

_LEVELNO = operator.attrgetter("levelno")
_BARE = frozenset({bytes})


def as_line_items(records: Sequence[EventRecord], protect_level: int) -> list[bytes | ProtectedLine]:
    """Each record's JSON line, paired with its level when it is protected; in C for the usual batch (the worker
    built and serialized the records, none is protected)."""
    return protected(compacted_lines(records), levels_of(records), protect_level)


def compacted_lines(records: Sequence[EventRecord]) -> list[bytes]:
    """Each serialized record's JSON line as an exact-size copy (see :func:`_compact`)."""
    return _compact(json_lines(records))


def levels_of(records: Sequence[EventRecord]) -> list[int]:
    """Each record's numeric level (from its ``level`` field for a record built by hand)."""
    try:
        return list(map(_LEVELNO, records))
    except AttributeError:
        return [_level_of_record(record) for record in records]


def protected(lines: list[bytes], levels: Sequence[int], protect_level: int) -> list[bytes | ProtectedLine]:
    """Buffer items for lines and their levels: a bare line, or a ``(level, line)`` pair at or above
    ``protect_level``. The usual batch (nothing protected) is ``lines`` itself: callers never change it."""
    if not levels or max(levels) < protect_level:
        return lines  # type: ignore[return-value]  # list is invariant; every item is bytes
    return [(level, line) if level >= protect_level else line for level, line in zip(levels, lines, strict=True)]


def _compact(lines: list[bytes]) -> list[bytes]:
    """The same lines as exact-size copies: an encoder's output may keep a larger allocation behind a short
    line, which a deep buffer of lines would hold page by page. One join and one split, in C; a line with a
    newline in it (not JSON from the serializer) keeps the lines as they are."""
    compact = b"\n".join(lines).split(b"\n")
    return compact if len(compact) == len(lines) else lines


def _level_of_record(record: EventRecord) -> int:
    levelno = getattr(record, "levelno", None)
    if isinstance(levelno, int):
        return levelno
    try:
        return parse_level(record.get("level", INFO))
    except ConfigError:
        return INFO


def is_protected(item: Item, protect_level: int) -> bool:
    """Whether one buffer item is at or above ``protect_level`` (a bare line never is: see above)."""
    if isinstance(item, bytes):
        return False
    if isinstance(item, tuple):
        return item[0] >= protect_level
    return item.levelno >= protect_level


def size_of(item: Item) -> int:
    """Serialized bytes of one buffer item (0 for a record not serialized yet)."""
    if isinstance(item, bytes):
        return len(item)
    if isinstance(item, tuple):
        return len(item[1])
    encoded = getattr(item, "json", None)
    return len(encoded) if isinstance(encoded, bytes) else 0


def _line(item: Item) -> bytes:
    if isinstance(item, bytes):
        return item
    if isinstance(item, tuple):
        return item[1]
    return dumps(item)


def lines_of(items: Sequence[Item]) -> list[bytes]:
    """The JSON line of every item (a record's as :func:`~fapilog._kit.serialize.dumps` gives it)."""
    if set(map(type, items)) <= _BARE:  # the usual batch of a sink that takes lines: no protected event in it
        return list(items)  # type: ignore[arg-type]  # every item is bytes
    return list(map(_line, items))


def as_records(items: Sequence[Item]) -> list[EventRecord]:
    """Records for items (for a fallback sink that takes records): a line is parsed back into a record that
    carries its line as ``json`` and its level as ``levelno`` (from its ``level`` field for a bare line)."""
    records: list[EventRecord] = []
    for item in items:
        if not isinstance(item, (bytes, tuple)):
            records.append(item)
            continue
        levelno, line = item if isinstance(item, tuple) else (-1, item)
        try:
            fields = orjson.loads(line)
        except orjson.JSONDecodeError:
            fields = None
        record = EventRecord(fields if isinstance(fields, dict) else {"message": line.decode("utf-8", "replace")})
        record.levelno = levelno if levelno >= 0 else _level_of_record(record)
        record.json = line
        records.append(record)
    return records


def line_writer(write_lines: Callable[[list[bytes]], Any]) -> Callable[[Sequence[Item]], Any]:
    """A batch call over buffer items that hands the sink only their lines (``write_lines``)."""

    def write(items: Sequence[Item]) -> Any:
        return write_lines(lines_of(items))

    write.__qualname__ = f"line_writer({getattr(write_lines, '__qualname__', 'write_lines')})"
    return write
