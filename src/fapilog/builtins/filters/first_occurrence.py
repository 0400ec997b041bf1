"""``first_occurrence``: let the first of a repeated event through, drop its repeats for a while.

Where ``rate_limit`` keeps a trickle of a flood, this filter keeps exactly one event per key per ``window``
seconds: the first one. The key is the logger, the message template and the level, plus the values of any
``fields`` named (``fields=["user_id"]`` reports a repeated error once per user, not once overall). WARNING
and above are exempt by default::

    fapilog.configure(filters=[{"type": "first_occurrence", "window": 60, "fields": ["user_id"]}])

A window starts at a key's kept event, in event time (``record.ts_ns``); events of the key less than
``window`` seconds later are dropped (counted as ``filtered:first_occurrence``), and the first one at or
after the window's end is kept and starts a new window. With ``summary`` on (the default) the drops of one
window are reported once, as "suppressed N similar events" from the ``fapilog.first_occurrence`` logger, when
the window closes (the key's next event, a timer, eviction or ``stop()``; see
:mod:`fapilog.builtins.filters._summary`). At most ``max_keys`` keys are remembered, least recently seen
forgotten first (to within ``max_keys / 2`` new keys, as in ``rate_limit``), after its summary.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Annotated, Any

from fapilog._version import __version__
from fapilog.builtins.filters._flood import FloodFilter
from fapilog.builtins.filters._records import as_event, exempt_threshold
from fapilog.builtins.filters._summary import SUMMARY_LOGGERS, Pending
from fapilog.plugins import EventRecord
from fapilog.plugins.constraints import Level, NonEmpty, Positive, Range, SplitText, settings_from
from fapilog.plugins.metadata import PluginMetadata
from fapilog.plugins.protocols import Record

__all__ = ["FirstOccurrenceFilter", "FirstOccurrenceSettings"]

_NAME = "first_occurrence"


@dataclasses.dataclass(frozen=True)
class FirstOccurrenceSettings:
    """Settings of the ``first_occurrence`` filter.

    ``window``: seconds during which repeats of a kept event are dropped (``> 0``); ``fields``: record fields
    whose values are part of the key; ``exempt_level``: events at or above it always pass (``None``: none
    do); ``max_keys``: keys remembered at most; ``summary``: log "suppressed N similar events" summaries.
    """

    window: Annotated[float, Positive] = 60.0
    fields: Annotated[tuple[Annotated[str, NonEmpty], ...], SplitText] = ()
    exempt_level: Annotated[int | str | None, Level] = "WARNING"
    max_keys: Annotated[int, Range(ge=1)] = 10_000
    summary: bool = True


class FirstOccurrenceFilter(FloodFilter):
    """Keeps the first event of each key per window; drops and counts the repeats."""

    metadata = PluginMetadata(
        name=_NAME,
        version=__version__,
        kind="filter",
        description="Keeps the first of repeated events per time window, with 'suppressed N' summaries.",
        config_model=FirstOccurrenceSettings,
    )

    def __init__(
        self,
        settings: FirstOccurrenceSettings | None = None,
        /,
        *,
        clock: Callable[[], int] | None = None,
        **values: Any,
    ) -> None:
        """``settings`` (the registry passes the validated model) or the same fields as keywords.

        ``clock`` (not a setting; for tests) returns nanoseconds since the epoch, like ``time.time_ns``.
        """
        self.settings = settings = settings_from(FirstOccurrenceSettings, settings, root=_NAME, **values)
        super().__init__(_NAME, max_keys=settings.max_keys, max_delay=settings.window, clock=clock)
        self._exempt = exempt_threshold(settings.exempt_level)
        self._window_ns = max(1, round(settings.window * 1e9))

    async def filter(self, record: Record) -> Record | None:
        """``record`` if it is the first of its key in the current window (or exempt), else ``None``."""
        return record if await self.filter_batch([as_event(record)]) else None

    async def filter_batch(self, records: list[EventRecord]) -> list[EventRecord]:
        """The first occurrences and exempt records of the batch, in order."""
        exempt, window_ns, fields = self._exempt, self._window_ns, self.settings.fields
        single = fields[0] if len(fields) == 1 else ""
        seen, stale, added = self._keys, self._stale, self._added
        find, touch = seen.get, seen.move_to_end
        ledger, summary, never = self._ledger, self.settings.summary, SUMMARY_LOGGERS
        kept: list[EventRecord] = []
        append = kept.append
        for record in records:
            levelno = record.levelno
            if levelno >= exempt:
                append(record)
                continue
            logger = record.get("logger")
            if fields:  # one field is the common case, and building a tuple from an iterator costs more
                key: tuple[Any, ...] = (
                    (logger, record.get("message"), levelno, record.get(single))
                    if single
                    else (logger, record.get("message"), levelno, *map(record.get, fields))
                )
            else:
                key = (logger, record.get("message"), levelno)
            try:
                state = find(key)
            except TypeError:  # an unhashable message or field value: key it by reprs
                key = tuple(repr(part) for part in key)
                state = find(key)
            ts_ns = record.ts_ns
            if state is None:
                added += 1
                self._insert(key, [ts_ns, None, added])
                append(record)
                continue
            if added - state[2] > stale:  # least-recently-seen order, cheaply (see _flood)
                touch(key)
                state[2] = added
            pending: Pending | None = state[1]
            if ts_ns - state[0] >= window_ns:  # the window is over: this one is a first occurrence again
                if pending is not None:
                    ledger.emit(pending)
                    state[1] = None
                state[0] = ts_ns
                append(record)
            elif logger in never:
                append(record)
            elif summary:
                if pending is None or pending.done:
                    extra = {"suppressed_fields": {f: record.get(f) for f in fields}} if fields else None
                    pending = state[1] = ledger.open(record, state[0] + window_ns, extra)
                pending.count += 1
        self._added = added
        return kept
