"""One sink's accounting: every record handed to it, and where each one is now.

The runner that owns a sink is the only writer, through the methods below, so one invariant holds at every
point between two of them::

    admitted == delivered + failed + dropped + buffered + in_flight

``admitted`` counts the records that reached the sink's buffer (or were dropped or counted at its door);
``pending_put`` the records still in the stage chain on their way to it. ``failed`` includes ``rejected``
(refused by the backend, by reason) and the records failed by a shutdown deadline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fapilog._engine.stats_schema import LedgerCounters

__all__ = ["SinkLedger"]


class SinkLedger:
    """Counters of one sink, written only through its methods (by the sink's runner)."""

    __slots__ = (
        "admitted", "buffered", "delivered", "dropped", "dropped_protected", "errors", "failed", "fallback",
        "in_flight", "late_delivered", "pending_put", "rejected", "retried",
    )

    def __init__(self) -> None:
        self.admitted = 0
        self.delivered = 0
        self.failed = 0
        self.dropped = 0
        self.dropped_protected = 0
        """Protected (ERROR+) records shed because this sink stalled with a full buffer of protected records."""
        self.buffered = 0
        self.in_flight = 0
        """Records taken from the buffer whose outcome is not known yet (in a write, or waiting for a retry)."""
        self.pending_put = 0
        """Records on their way to this sink's buffer (in the stage chain, or waiting for room)."""
        self.errors: dict[str, int] = {}
        """Failed records by reason, plus lifecycle failures (start/stop/flush) by exception type."""
        self.rejected: dict[str, int] = {}
        """Records the backend refused for good, by reason (also in ``failed``)."""
        self.retried = 0
        """Batches sent again after a retryable failure."""
        self.fallback = 0
        """Undeliverable records handed to the sink's fallback."""
        self.late_delivered = 0
        """Records already counted as ``failed`` (their write was given up) that the sink delivered afterwards.
        Outside the invariant: each record keeps its one place (``failed``); this says the backend has it too."""

    # -- on the way -------------------------------------------------------------------------------------
    def expect(self, count: int) -> None:
        """``count`` records entered the stage chain for this sink (a shutdown counts them if they never arrive)."""
        self.pending_put += count

    def unexpect(self, count: int) -> None:
        """``count`` expected records will not arrive (filtered, or counted by a shutdown already) or just did."""
        self.pending_put -= count

    # -- the buffer -------------------------------------------------------------------------------------
    def admit(self, count: int = 1) -> None:
        """``count`` records entered the buffer."""
        self.admitted += count
        self.buffered += count

    def drop_incoming(self, *, protected: bool) -> None:
        """One arriving record was shed by the full-buffer policy."""
        self.admitted += 1
        self.dropped += 1
        if protected:
            self.dropped_protected += 1

    def drop_buffered(self) -> None:
        """One buffered record was evicted to make room (``drop_oldest``)."""
        self.buffered -= 1
        self.dropped += 1

    def take(self, count: int) -> None:
        """``count`` records left the buffer for a write."""
        self.buffered -= count
        self.in_flight += count

    # -- outcomes ---------------------------------------------------------------------------------------
    def deliver(self, count: int) -> None:
        self.in_flight -= count
        self.delivered += count

    def deliver_late(self, count: int) -> None:
        """``count`` records already counted as failed turned out delivered (a write that ended after it was
        given up)."""
        self.late_delivered += max(0, count)

    def fail(self, count: int, reason: str) -> None:
        """``count`` in-flight records are lost for ``reason``."""
        if count > 0:
            self.in_flight -= count
            self.failed += count
            self.errors[reason] = self.errors.get(reason, 0) + count

    def reject(self, count: int, reason: str) -> None:
        """``count`` in-flight records were refused by the backend for good."""
        if count > 0:
            self.in_flight -= count
            self.failed += count
            self.rejected[reason] = self.rejected.get(reason, 0) + count

    def fail_arrival(self, reason: str) -> None:
        """One record arrived after the sink was given up on: counted as failed at its door."""
        self.admitted += 1
        self.failed += 1
        self.errors[reason] = self.errors.get(reason, 0) + 1

    def abandon(self, *, arriving: int, buffered: int, unsent: int, reason: str) -> int:
        """A deadline gave up: records still on their way, in the buffer, and taken but never sent are failed.

        ``arriving`` records are admitted now (so the report is complete when shutdown returns); they are not
        counted again when they reach the door. Returns how many records this counted.
        """
        self.admitted += arriving
        self.pending_put -= arriving
        self.buffered -= buffered
        self.in_flight -= unsent
        lost = arriving + buffered + unsent
        if lost:
            self.failed += lost
            self.errors[reason] = self.errors.get(reason, 0) + lost
        return lost

    def retry(self) -> None:
        self.retried += 1

    def to_fallback(self, count: int) -> None:
        self.fallback += count

    def error(self, exc: BaseException, *, prefix: str = "") -> None:
        """A lifecycle failure (start, stop, flush) of the sink or its fallback, by exception type; no record is
        lost by it."""
        key = prefix + type(exc).__name__
        self.errors[key] = self.errors.get(key, 0) + 1

    # -- reading ----------------------------------------------------------------------------------------
    def unbalanced(self) -> int:
        """How far the invariant is off (0 when every record is accounted for)."""
        return self.admitted - (self.delivered + self.failed + self.dropped + self.buffered + self.in_flight)

    def counters(self) -> LedgerCounters:
        """The counters ``stats()`` shows for this sink (``admitted`` and ``pending_put`` stay internal)."""
        return {
            "delivered": self.delivered,
            "failed": self.failed,
            "dropped": self.dropped,
            "dropped_protected": self.dropped_protected,
            "buffered": self.buffered,
            "in_flight": self.in_flight,
            "errors": dict(self.errors),
            "retried": self.retried,
            "rejected": dict(self.rejected),
            "fallback": self.fallback,
            "late_delivered": self.late_delivered,
        }
