"""``rate_limit``: a token bucket per message template, with one "suppressed N similar events" per window.

A log flood is usually one line repeated: the same logger, the same message, the same level. fapilog
messages are templates (the variable parts travel as fields), so ``(logger, message, level)`` identifies
"the same line" without parsing anything. Each such key gets a token bucket holding up to ``burst`` events
and refilling at ``rate`` events per ``per`` seconds; an event finding its bucket empty is dropped (counted
as ``filtered:rate_limit`` in ``fapilog.stats()``). WARNING and above are exempt by default::

    fapilog.configure(filters=[{"type": "rate_limit", "rate": 10, "per": 1.0, "burst": 20}])

Time is event time (``record.ts_ns``), so the decision depends only on when events were logged, never on
when the worker got to them. The bucket is kept as the earliest time its next event is admitted (the
generic cell rate algorithm, equivalent to a token bucket) in exact integer arithmetic, with no float
drift. That gives a hard budget: **for one key, the events kept in any closed interval of L seconds number
at most ``burst + floor(L * rate / per)``, so at most ``burst + floor(rate)`` in any ``per`` seconds**, for
any sequence of event times, in any order (while the key stays in the table).

When a key's first event is dropped, a suppression window of ``per`` seconds opens; when it closes (the key's
next event after it, a timer for keys that went quiet, eviction or ``stop()``) one WARNING summary
``"suppressed N similar events"`` is logged by ``fapilog.rate_limit`` with ``suppressed: N`` and the key's
logger, message and level (see :mod:`fapilog.builtins.filters._summary`). At most ``max_keys`` keys are
tracked; the least recently seen (to within ``max_keys / 2`` new keys) is forgotten first, after its
summary, and a forgotten key starts again with a full bucket.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from fractions import Fraction
from typing import Annotated, Any

from fapilog._version import __version__
from fapilog.builtins.filters._flood import FloodFilter
from fapilog.builtins.filters._records import as_event, exempt_threshold
from fapilog.builtins.filters._summary import SUMMARY_LOGGERS, Pending
from fapilog.plugins import EventRecord
from fapilog.plugins.constraints import Level, Positive, Range, setting_error, settings_from
from fapilog.plugins.metadata import PluginHealth, PluginMetadata
from fapilog.plugins.protocols import Record

__all__ = ["RateLimitFilter", "RateLimitSettings"]

_NAME = "rate_limit"


@dataclasses.dataclass(frozen=True)
class RateLimitSettings:
    """Settings of the ``rate_limit`` filter.

    ``rate`` events per ``per`` seconds, per key (both ``> 0``); ``burst``: the bucket's capacity (a whole
    number ``>= 1``; default ``ceil(rate)``); ``exempt_level``: events at or above it always pass (``None``:
    none do); ``max_keys``: keys tracked at most; ``summary``: log "suppressed N similar events" summaries.
    """

    rate: Annotated[float, Positive] = 10.0
    per: Annotated[float, Positive] = 1.0
    burst: Annotated[int, Range(ge=1)] | None = None
    exempt_level: Annotated[int | str | None, Level] = "WARNING"
    max_keys: Annotated[int, Range(ge=1)] = 10_000
    summary: bool = True

    def __post_init__(self) -> None:
        if round(self.per * 1e9) < 1:
            raise setting_error("per", f"must be at least 1e-9 seconds, got {self.per!r}", code="FL-STG-001")


class RateLimitFilter(FloodFilter):
    """Token bucket per (logger, message, level); one summary per closed suppression window."""

    metadata = PluginMetadata(
        name=_NAME,
        version=__version__,
        kind="filter",
        description="Limits each repeated message to rate events per period, with 'suppressed N' summaries.",
        config_model=RateLimitSettings,
    )

    def __init__(
        self, settings: RateLimitSettings | None = None, /, *, clock: Callable[[], int] | None = None, **values: Any
    ) -> None:
        """``settings`` (the registry passes the validated model) or the same fields as keywords.

        ``clock`` (not a setting; for tests) returns nanoseconds since the epoch, like ``time.time_ns``.
        """
        self.settings = settings = settings_from(RateLimitSettings, settings, root=_NAME, **values)
        super().__init__(_NAME, max_keys=settings.max_keys, max_delay=settings.per, clock=clock)
        self.burst = settings.burst if settings.burst is not None else max(1, math.ceil(settings.rate))
        """The bucket's capacity: ``burst``, or ``ceil(rate)`` when it is not set."""
        self._exempt = exempt_threshold(settings.exempt_level)
        self._per_ns = round(settings.per * 1e9)
        # One token every per/rate seconds, as an exact fraction of nanoseconds: times are scaled by its
        # denominator so every comparison below is between integers. repr() gives the decimal the user
        # wrote (0.1, not its binary neighbour), which keeps the denominator small.
        interval = Fraction(self._per_ns) / Fraction(repr(float(settings.rate)))
        self._scale = interval.denominator
        self._step = interval.numerator
        self._tolerance = (self.burst - 1) * self._step

    async def health_check(self) -> PluginHealth:
        """Healthy, with how many keys are tracked, windows open and keys evicted."""
        return PluginHealth(
            "healthy",
            detail=f"{len(self._keys)} keys tracked, {self._ledger.open_windows} windows open, {self.evicted} evicted",
        )

    async def filter(self, record: Record) -> Record | None:
        """``record`` if its key's bucket has a token (or it is exempt), else ``None``."""
        return record if await self.filter_batch([as_event(record)]) else None

    async def filter_batch(self, records: list[EventRecord]) -> list[EventRecord]:
        """The records of the batch within their key's budget, or exempt, in order."""
        exempt, scale, step, tolerance = self._exempt, self._scale, self._step, self._tolerance
        scaled = scale != 1
        keys, stale, added = self._keys, self._stale, self._added
        find, touch = keys.get, keys.move_to_end
        ledger, summary, per_ns, never = self._ledger, self.settings.summary, self._per_ns, SUMMARY_LOGGERS
        kept: list[EventRecord] = []
        append = kept.append
        for record in records:
            levelno = record.levelno
            if levelno >= exempt:
                append(record)
                continue
            logger = record.get("logger")
            message = record.get("message")
            key = (logger, message, levelno)
            try:
                state = find(key)
            except TypeError:  # an unhashable message object: key it by its repr
                key = (logger, repr(message), levelno)
                state = find(key)
            ts_ns = record.ts_ns
            now = ts_ns * scale if scaled else ts_ns
            if state is None:
                added += 1
                self._insert(key, [now + step - tolerance, None, added])  # a full bucket, less this event's token
                append(record)
                continue
            if added - state[2] > stale:  # keep the table in least-recently-seen order, cheaply (see _flood)
                touch(key)
                state[2] = added
            pending: Pending | None = state[1]
            if pending is not None and (pending.done or ts_ns >= pending.due):
                ledger.emit(pending)
                state[1] = pending = None
            earliest = state[0]
            if now >= earliest:
                low = now - tolerance
                state[0] = (earliest if earliest > low else low) + step
                append(record)
            elif logger in never:
                append(record)
            elif summary:
                if pending is None:
                    pending = state[1] = ledger.open(record, ts_ns + per_ns)
                pending.count += 1
        self._added = added
        return kept
