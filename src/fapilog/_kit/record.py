"""The record the worker builds from what the caller captured, and the serialized form sinks share."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fapilog._kit.levels import LEVEL_NAMES, level_name

__all__ = ["RESERVED_KEYS", "EventRecord", "IsoClock", "build_records"]

RESERVED_KEYS = frozenset({"timestamp", "level", "logger", "message", "seq", "exception"})
"""Keys the core writes; a call field of the same name is kept under ``<name>_`` instead of overwriting."""


class EventRecord(dict[str, Any]):
    """A record on its way to the sinks: a plain ``dict`` that also carries its serialized JSON line.

    ``json`` is filled once by the worker after the last processor (or, before a chain of copy-on-write stages
    such as the built-in redactors, for the records that chain passes on untouched); every sink reuses it, and
    the built-in redactors judge a flat record by it. Code that changes a serialized record in place must drop
    it (``del record.json``) or renew it: the bytes, not the dict, are what reaches the sinks.
    ``ts_ns`` and ``levelno`` keep the exact capture time and numeric level for sinks that need them
    (CloudWatch and Loki want nanosecond timestamps, routers want numbers).
    """

    __slots__ = ("captured", "json", "levelno", "ts_ns")

    json: bytes
    ts_ns: int
    levelno: int
    captured: dict[str, Any] | None
    """Values call-site capture hooks took on the caller's thread, by enricher name (None when none ran)."""

    def derive(  # not keyword-only: keyword-only defaults cost a dict lookup each on every call
        self, fields: Mapping[str, Any] | None = None, captured: bool = True, json: bool = False
    ) -> EventRecord:
        """A new record for the same event: ``fields`` (default: a shallow copy of this record's fields) with
        this record's capture attributes. The one way a record is copied (a redactor's copy-on-write, a sink's
        own copy for its processors, a masked stub, a plugin's returned mapping, the plugin bench's inputs).

        - ``ts_ns`` and ``levelno`` always carry over: they are the event's, whatever its fields become;
        - ``captured`` carries over unless ``captured=False`` (then ``None``: a masked stub keeps nothing the
          caller's hooks took);
        - ``json`` only with ``json=True``, for a copy whose fields are the same content: bytes made before a
          change would take the old content, secrets included, to every sink.

        An attribute never set on this record (one built by hand) stays unset on the copy.
        """
        copy = EventRecord(self) if fields is None else EventRecord(fields)
        try:
            copy.ts_ns, copy.levelno, copy.captured = self.ts_ns, self.levelno, self.captured
        except AttributeError:  # a record built by hand: carry over what it has
            for slot in ("ts_ns", "levelno", "captured"):
                if hasattr(self, slot):
                    setattr(copy, slot, getattr(self, slot))
        if not captured:
            copy.captured = None
        if json:
            try:
                copy.json = self.json
            except AttributeError:
                pass  # never serialized: nothing to carry over
        return copy


_DIGITS3 = tuple("%03d" % number for number in range(1000))  # noqa: UP031 - a table built once
"""``"000"`` to ``"999"``: the millisecond and microsecond parts of a timestamp, looked up instead of formatted."""


class IsoClock:
    """Formats nanosecond timestamps as ISO 8601 UTC with microseconds, caching the current millisecond.

    Within the cached millisecond one small-integer subtraction, one floor division and one table lookup
    remain per event (big-integer division and ``%06d`` formatting are comparatively slow in CPython); the
    cached second is kept too, so entering a new millisecond needs no ``strftime``. Used only on the worker
    thread (or under a lock), so the caches need none.
    """

    __slots__ = ("_base", "_limit", "_ms_base", "_ms_limit", "_ms_prefix", "_prefix")

    def __init__(self) -> None:
        self._base = self._limit = -1
        self._prefix = ""
        self._ms_base = self._ms_limit = -1
        self._ms_prefix = ""

    def format(self, ts_ns: int) -> str:
        if not self._ms_base <= ts_ns < self._ms_limit:
            if not self._base <= ts_ns < self._limit:
                second = ts_ns // 1_000_000_000
                self._base = second * 1_000_000_000
                self._limit = self._base + 1_000_000_000
                self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second))
            millis = (ts_ns - self._base) // 1_000_000
            self._ms_base = self._base + millis * 1_000_000
            self._ms_limit = self._ms_base + 1_000_000
            self._ms_prefix = self._prefix + _DIGITS3[millis]
        return f"{self._ms_prefix}{_DIGITS3[(ts_ns - self._ms_base) // 1000]}Z"


def _exception_field(exc: BaseException) -> dict[str, Any]:
    from fapilog._kit.exception_fields import structure_exception  # only events with an exception need it

    try:
        return structure_exception(exc)
    except Exception as err:  # noqa: BLE001 - keep the event even if its traceback cannot be read
        return {"type": type(exc).__name__, "error": repr(err)}


def _merge_renaming(record: EventRecord, source: Any, reserved: frozenset[str]) -> None:
    """Add ``source`` to ``record``, keeping a field named like a core key as ``<name>_``."""
    for key, value in source.items():
        record[f"{key}_" if key in reserved else key] = value


def build_records(  # noqa: PLR0912 - one loop with the merges inlined: it runs for every event
    items: Sequence[Any], seq: int, stamp: Callable[[int], str]
) -> tuple[list[EventRecord], int]:
    """Records from captured tuples, numbered from ``seq``; returns them and the next free ``seq``.

    One loop with everything it touches held in locals: the worker runs it for every batch, and
    :func:`fapilog.testing.capture_events` runs it on the caller's thread so tests see exactly what sinks would.
    When ``stamp`` is an :class:`IsoClock`'s ``format``, its cached millisecond is used inline: under load many
    events of a batch share one, and the method call per event cost as much as the formatting.
    """
    names = LEVEL_NAMES
    digits = _DIGITS3
    reserved = RESERVED_KEYS
    isdisjoint = reserved.isdisjoint
    clock = getattr(stamp, "__self__", None)
    if not isinstance(clock, IsoClock):
        clock = None
        base = limit = 0
        prefix = ""
    else:
        base, limit, prefix = clock._ms_base, clock._ms_limit, clock._ms_prefix
    new = EventRecord
    records: list[EventRecord] = []
    append = records.append
    for ts_ns, level, name, message, fields, context, bound, exc, captured in items:
        if base <= ts_ns < limit:
            timestamp = f"{prefix}{digits[(ts_ns - base) // 1000]}Z"
        else:
            timestamp = stamp(ts_ns)
            if clock is not None:
                base, limit, prefix = clock._ms_base, clock._ms_limit, clock._ms_prefix
        # Item stores into an empty record: measurably cheaper than the keyword call, which builds a
        # keyword dict first and then copies it.
        record = new()
        record["timestamp"] = timestamp
        record["level"] = names.get(level) or level_name(level)
        record["logger"] = name
        record["message"] = message
        record["seq"] = seq
        seq += 1
        record.ts_ns = ts_ns
        record.levelno = level
        record.captured = captured
        if context:
            if isdisjoint(context):
                record.update(context)
            else:
                _merge_renaming(record, context, reserved)
        if bound:
            if isdisjoint(bound):
                record.update(bound)
            else:
                _merge_renaming(record, bound, reserved)
        if fields:
            if isdisjoint(fields):
                record.update(fields)
            else:
                _merge_renaming(record, fields, reserved)
        if exc is not None:
            record["exception"] = _exception_field(exc)
        append(record)
    return records, seq
