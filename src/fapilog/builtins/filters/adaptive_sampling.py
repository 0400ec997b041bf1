"""``adaptive_sampling``: keep about ``target_eps`` events per second, whatever the load.

A fixed sampling rate is wrong twice: too low when the service is quiet (you lose the few events there are)
and too high in a surge (the sinks drown). This filter measures the rate of incoming events it may sample
(those below ``exempt_level``, WARNING by default) and keeps each with probability
``min(1, target_eps / observed)``, so a quiet service keeps everything and a surge is thinned to the
target. Exempt events pass on top of the target::

    fapilog.configure(filters=[{"type": "adaptive_sampling", "target_eps": 500}])

How it measures, in event time (``record.ts_ns``), so the result depends only on when events were logged:
the ``window`` is split into ten slots; when a slot ends, the observed rate is the larger of the last slot's
rate and the whole window's average (so a surge is seen within one slot, while a falling load is believed
only as the window empties), and the keep probability moves toward ``min(1, target/observed)`` by the
``smoothing`` factor per slot elapsed (``1.0``: jump straight there). After a quiet spell several slots pass
at once and the probability climbs back accordingly.

Like ``sampling``, events carrying a trace id (``key``) are kept or dropped by their trace id, so at a
steady probability a trace's events share one fate. The current probability is :attr:`current_rate` and
``health_check()`` reports it ("sampling at 12.50%").
"""

from __future__ import annotations

import dataclasses
import random
from collections import deque
from typing import Annotated, Any

from fapilog._version import __version__
from fapilog.builtins.filters._records import as_event, exempt_threshold
from fapilog.builtins.filters.sampling import trace_bound, trace_point
from fapilog.plugins import EventRecord
from fapilog.plugins.constraints import Level, NonEmpty, Positive, Range, setting_error, settings_from
from fapilog.plugins.metadata import PluginHealth, PluginMetadata
from fapilog.plugins.protocols import Record

__all__ = ["AdaptiveSamplingFilter", "AdaptiveSamplingSettings"]

_NAME = "adaptive_sampling"
SLOTS = 10
"""Slots per window: the probability is recomputed this many times per ``window`` of event time."""


@dataclasses.dataclass(frozen=True)
class AdaptiveSamplingSettings:
    """Settings of the ``adaptive_sampling`` filter.

    ``target_eps``: sampled events per second to aim for (``> 0``); ``window``: seconds over which the
    incoming rate is measured (``> 0``); ``smoothing``: how far the probability moves toward its new target
    per slot, in (0, 1]; ``key``: the trace-id field; ``exempt_level``: events at or above it always pass
    (``None``: none do); ``seed``: seeds the random choice for events without a trace id.
    """

    target_eps: Annotated[float, Positive] = 100.0
    window: Annotated[float, Positive] = 5.0
    smoothing: Annotated[float, Range(gt=0, le=1)] = 0.5
    key: Annotated[str, NonEmpty] = "trace_id"
    exempt_level: Annotated[int | str | None, Level] = "WARNING"
    seed: int | None = None

    def __post_init__(self) -> None:
        if round(self.window * 1e9) < SLOTS:
            raise setting_error("window", f"must be at least 1e-8 seconds, got {self.window!r}", code="FL-STG-001")


class AdaptiveSamplingFilter:
    """Samples events below ``exempt_level`` with a probability that tracks ``target_eps / incoming rate``."""

    metadata = PluginMetadata(
        name=_NAME,
        version=__version__,
        kind="filter",
        description="Samples events to keep about target_eps per second, adapting to the load.",
        config_model=AdaptiveSamplingSettings,
    )

    def __init__(self, settings: AdaptiveSamplingSettings | None = None, /, **values: Any) -> None:
        """``settings`` (the registry passes the validated model) or the same fields as keywords."""
        self.settings = settings = settings_from(AdaptiveSamplingSettings, settings, root=_NAME, **values)
        self._exempt = exempt_threshold(settings.exempt_level)
        self._slot_ns = round(settings.window * 1e9) // SLOTS
        self._random = random.Random(settings.seed)
        self._reset()

    def _reset(self) -> None:
        self.current_rate = 1.0
        """The probability an event below ``exempt_level`` is kept with right now."""
        self._bound = trace_bound(1.0)
        self._slot = -1
        """The slot (event time // slot length) being counted; -1 before the first event."""
        self._count = 0
        self._history: deque[tuple[int, int]] = deque()
        """(slot, events) of completed slots still inside the window."""
        self._first_slot = 0
        self._observed = 0.0

    @property
    def observed_eps(self) -> float:
        """The incoming rate the current probability was derived from (events/s, from completed slots)."""
        return self._observed

    async def start(self) -> None:
        """Start from a probability of 1 and no history."""
        self._reset()

    async def stop(self) -> None:
        """Nothing to close."""

    async def health_check(self) -> PluginHealth:
        """Healthy, with the current keep probability."""
        return PluginHealth("healthy", detail=f"sampling at {self.current_rate:.2%}")

    async def filter(self, record: Record) -> Record | None:
        """``record`` if it is sampled in at the current probability (or exempt), else ``None``."""
        return record if await self.filter_batch([as_event(record)]) else None

    async def filter_batch(self, records: list[EventRecord]) -> list[EventRecord]:
        """The sampled-in and exempt records of the batch, in order."""
        exempt, key, slot_ns = self._exempt, self.settings.key, self._slot_ns
        chance = self._random.random
        point = trace_point
        slot, count = self._slot, self._count
        rate, bound = self.current_rate, self._bound
        last_id: object = None
        last_keep = False
        kept: list[EventRecord] = []
        append = kept.append
        for record in records:
            if record.levelno >= exempt:
                append(record)
                continue
            now = record.ts_ns // slot_ns
            if now > slot:
                self._advance(slot, count, now)
                slot, count, last_id = now, 0, None
                rate, bound = self.current_rate, self._bound
            count += 1  # an event older than the current slot counts in it: arrival order is close enough
            if rate >= 1.0:
                append(record)
                continue
            trace_id = record.get(key)
            if trace_id is None:
                if chance() < rate:
                    append(record)
                continue
            if trace_id is not last_id:  # a trace's events share one id object: decide once per run of them
                last_id, last_keep = trace_id, point(trace_id) < bound
            if last_keep:
                append(record)
        self._slot, self._count = slot, count
        return kept

    def _advance(self, ended: int, events: int, now: int) -> None:
        """Slot ``ended`` closed with ``events``; ``now`` is the new slot. Re-estimate and move the probability."""
        if ended < 0:  # the very first event: nothing measured yet
            self._first_slot = now
            return
        history = self._history
        history.append((ended, events))
        while history and history[0][0] <= now - SLOTS:
            history.popleft()
        slot_s = self._slot_ns / 1e9
        span = min(SLOTS, now - self._first_slot)
        average = sum(n for _, n in history) / (span * slot_s)
        latest = events / slot_s if ended == now - 1 else 0.0
        observed = self._observed = max(average, latest)
        goal = 1.0 if observed <= self.settings.target_eps else self.settings.target_eps / observed
        steps = min(now - ended, SLOTS * 4)
        keep = (1.0 - self.settings.smoothing) ** steps
        rate = goal + (self.current_rate - goal) * keep
        self.current_rate = rate = 1.0 if rate > 0.999_999 else rate
        self._bound = trace_bound(rate)
