"""What the built-in filters read from a record (and the exemption threshold they compare its level with).

In the pipeline every record is an :class:`~fapilog._kit.record.EventRecord` carrying ``levelno`` and
``ts_ns``, and the batch forms read those attributes directly (that is what keeps them fast). The per-record
``filter(record)`` form is also public, and a test or another library may call it with a plain ``dict``;
:func:`as_event` gives such a mapping the two attributes, from its ``level`` name and the current time.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from fapilog.errors import ConfigError
from fapilog.plugins import NOTSET, EventRecord, parse_level

__all__ = ["NO_EXEMPTION", "as_event", "exempt_threshold"]

NO_EXEMPTION = 1 << 62
"""A threshold no level reaches: what ``exempt_level=None`` turns into."""


def exempt_threshold(level: int | str | None) -> int:
    """The numeric level at or above which events bypass a filter (``None``: none do); ``level`` is a
    validated setting, so this only converts it."""
    return NO_EXEMPTION if level is None else parse_level(level)


def as_event(record: Mapping[str, Any]) -> EventRecord:
    """``record`` itself when it is an EventRecord, else a copy with ``levelno`` and ``ts_ns`` filled in."""
    if type(record) is EventRecord:
        return record
    event = EventRecord(record)
    levelno = getattr(record, "levelno", None)
    if not isinstance(levelno, int):
        try:
            levelno = parse_level(record.get("level", NOTSET))
        except ConfigError:
            levelno = NOTSET  # an unknown level name: treat it as the lowest, so filters may drop it
    event.levelno = levelno
    ts_ns = getattr(record, "ts_ns", None)
    event.ts_ns = ts_ns if isinstance(ts_ns, int) else time.time_ns()
    return event
