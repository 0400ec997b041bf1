""""suppressed N similar events": the one summary per closed suppression window, shared by the flood filters.

A filter that drops repeats (``rate_limit``, ``first_occurrence``) opens a :class:`Pending` count for a key
when it drops the key's first event, adds one per further drop, and asks the :class:`SummaryLedger` to emit
it when the key's window closes. A window closes, whichever comes first:

* when the next event for the key arrives at or after the window's end (event time; the filter checks);
* when a timer on the worker's loop fires at the window's end, so a key that went quiet is reported too;
* when the key is evicted from the filter's bounded table, or the filter stops.

Each Pending is emitted at most once (``done``), so every dropped event is counted in exactly one summary.

The summary is a WARNING logged through ``fapilog.get_logger("fapilog.<plugin>")`` from the worker thread:
it enters the queue like any event, passes the same filters (WARNING is exempt from the flood filters by
default, and summary loggers are never suppressed by them) and reaches every sink. Windows are defined in
event time (``record.ts_ns``, nanoseconds since the epoch), so the timer compares due times with a clock on
the same base, ``time.time_ns`` unless a test injects one; a wall-clock step moves when a summary is sent,
never what it counts.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable, Mapping
from typing import Any

from fapilog._engine.logger import get_logger
from fapilog._engine.reentry import outside_pipeline
from fapilog.plugins import EventRecord, level_name

__all__ = ["SUMMARY_LOGGERS", "Pending", "SummaryLedger", "summary_logger"]


def summary_logger(plugin: str) -> str:
    """The logger a flood filter's summaries are logged under."""
    return f"fapilog.{plugin}"


SUMMARY_LOGGERS = frozenset({summary_logger("rate_limit"), summary_logger("first_occurrence")})
"""Events from these loggers are never suppressed by a flood filter, whatever its ``exempt_level``: a
summary that could itself be summarized would make the count of a flood depend on another flood."""


class Pending:
    """The suppressed count of one key's open window, and what the summary says about the key."""

    __slots__ = ("count", "done", "due", "extra", "first", "level", "logger", "message")

    def __init__(self, record: EventRecord, due: int, extra: Mapping[str, Any] | None) -> None:
        self.count = 0
        self.done = False
        self.due = due
        """When the window closes, in event time (ns since the epoch)."""
        self.logger = record.get("logger")
        self.message = record.get("message")
        self.level = record.get("level") or level_name(record.levelno)
        self.first = record.get("timestamp")
        self.extra = extra


class SummaryLedger:
    """Open windows of one filter instance, their timer, and the emission of their summaries.

    Only the worker's loop touches a ledger (the filter's batch form and the timer both run there), so it
    needs no lock. ``max_delay`` caps one timer wait, so a backwards clock step cannot postpone a summary
    by more than that before the due time is checked again.
    """

    def __init__(self, plugin: str, *, max_delay: float, clock: Callable[[], int] | None = None) -> None:
        self.plugin = plugin
        self.emitted = 0
        """How many summaries this ledger sent (for tests and health details)."""
        self._logger = summary_logger(plugin)
        self._clock = clock or time.time_ns
        self._max_delay = max_delay
        self._heap: list[tuple[int, int, Pending]] = []
        self._order = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_due = 0
        self._timer_loop: asyncio.AbstractEventLoop | None = None

    @property
    def open_windows(self) -> int:
        """Windows with a count not yet emitted."""
        return sum(1 for _, _, pending in self._heap if not pending.done)

    def open(self, record: EventRecord, due: int, extra: Mapping[str, Any] | None = None) -> Pending:
        """Start counting for the key of ``record`` (the first dropped one) until event time ``due``."""
        pending = Pending(record, due, extra)
        heapq.heappush(self._heap, (due, next(self._order), pending))
        self._schedule(due)
        return pending

    def emit(self, pending: Pending) -> None:
        """Send the summary of ``pending`` unless it was sent already (or counted nothing)."""
        if pending.done:
            return
        pending.done = True
        if pending.count:
            self._send(pending)

    def emit_all(self) -> None:
        """Close every open window now, oldest first (the filter stops)."""
        self._cancel_timer()
        heap, self._heap = self._heap, []
        for _, _, pending in sorted(heap):
            self.emit(pending)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _schedule(self, due: int) -> None:
        loop = asyncio.get_running_loop()
        if self._timer is not None and self._timer_loop is loop and self._timer_due <= due:
            return  # an earlier (or equal) sweep is already due; it reschedules for the rest
        self._cancel_timer()
        delay = min(max((due - self._clock()) / 1e9, 0.0), self._max_delay)
        self._timer = loop.call_later(delay, self._sweep)
        self._timer_due = due
        self._timer_loop = loop

    def _sweep(self) -> None:
        self._timer = None
        now = self._clock()
        heap = self._heap
        while heap and heap[0][0] <= now:
            self.emit(heapq.heappop(heap)[2])
        while heap and heap[0][2].done:  # closed by a later event: nothing left to time
            heapq.heappop(heap)
        if heap:
            self._schedule(heap[0][0])

    def _send(self, pending: Pending) -> None:
        self.emitted += 1
        message = f"suppressed {pending.count} similar events"
        fields: dict[str, Any] = {
            "suppressed": pending.count,
            "suppressed_logger": pending.logger,
            "suppressed_message": pending.message,
            "suppressed_level": pending.level,
            "first_suppressed_at": pending.first,
        }
        if pending.extra:
            fields.update(pending.extra)
        # Logged from the worker into its own pipeline: while a shutdown drains, log calls still reach the
        # stopping pipeline, and stages are stopped (and their last summaries drained) before the sinks.
        # Logged on purpose from plugin code: outside_pipeline() exempts it from the re-entrancy guard.
        with outside_pipeline():
            get_logger(self._logger).warning(message, **fields)
