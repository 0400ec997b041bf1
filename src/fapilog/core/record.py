"""The record the worker builds from what the caller captured, and the serialized form sinks share."""

from __future__ import annotations

import time
from typing import Any

__all__ = ["RESERVED_KEYS", "EventRecord", "IsoClock"]

RESERVED_KEYS = frozenset({"timestamp", "level", "logger", "message", "seq", "exception"})
"""Keys the core writes; a call field of the same name is kept under ``<name>_`` instead of overwriting."""


class EventRecord(dict[str, Any]):
    """A record on its way to the sinks: a plain ``dict`` that also carries its serialized JSON line.

    ``json`` is filled once by the worker after the last processor; every sink reuses it.
    ``ts_ns`` and ``levelno`` keep the exact capture time and numeric level for sinks that need them
    (CloudWatch and Loki want nanosecond timestamps, routers want numbers).
    """

    __slots__ = ("captured", "json", "levelno", "ts_ns")

    json: bytes
    ts_ns: int
    levelno: int
    captured: dict[str, Any] | None
    """Values call-site capture hooks took on the caller's thread, by enricher name (None when none ran)."""


class IsoClock:
    """Formats nanosecond timestamps as ISO 8601 UTC with microseconds, caching the current second.

    Within the cached second only one small-integer subtraction and one format remain per event (big-integer
    division is comparatively slow in CPython). Used only on the worker thread, so the cache needs no lock.
    """

    __slots__ = ("_base", "_limit", "_prefix")

    def __init__(self) -> None:
        self._base = -1
        self._limit = -1
        self._prefix = ""

    def format(self, ts_ns: int) -> str:
        if not self._base <= ts_ns < self._limit:
            second = ts_ns // 1_000_000_000
            self._base = second * 1_000_000_000
            self._limit = self._base + 1_000_000_000
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second))
        return "%s%06dZ" % (self._prefix, (ts_ns - self._base) // 1000)  # noqa: UP031 - measurably faster here
