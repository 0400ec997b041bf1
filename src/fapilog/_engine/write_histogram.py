"""Fixed-bucket counts of how long a sink's write calls take, kept where the sink runner already times them.

One ``bisect`` and two additions per batch (never per event), so a scrape can show the latency distribution
(``fapilog_sink_write_duration_seconds``) instead of only the last/max/avg that ``stats()`` shows in
``latency_ms``. The bounds are fixed, in seconds, and cover a local file write (well under a millisecond) up
to a remote backend near its timeout.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fapilog._engine.stats_schema import WriteSecondsStats

__all__ = ["WRITE_SECONDS_BOUNDS", "WriteHistogram"]

WRITE_SECONDS_BOUNDS: tuple[float, ...] = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)
"""Upper bounds (inclusive, as Prometheus' ``le``) of the write-duration buckets, in seconds."""


class WriteHistogram:
    """Counts of write durations per bucket, their sum and their number (written by one drain task only)."""

    __slots__ = ("counts", "sum")

    def __init__(self) -> None:
        self.counts = [0] * (len(WRITE_SECONDS_BOUNDS) + 1)
        """Per bucket, not cumulative; the last one holds durations above the largest bound."""
        self.sum = 0.0

    def observe(self, seconds: float) -> None:
        """Count one write that took ``seconds``."""
        self.counts[bisect_left(WRITE_SECONDS_BOUNDS, seconds)] += 1
        self.sum += seconds

    def snapshot(self) -> WriteSecondsStats:
        """``{"le": bounds, "cumulative": counts at or below each bound, "count": n, "sum": seconds}``."""
        cumulative: list[int] = []
        running = 0
        for count in self.counts[:-1]:
            running += count
            cumulative.append(running)
        return {
            "le": list(WRITE_SECONDS_BOUNDS),
            "cumulative": cumulative,
            "count": running + self.counts[-1],
            "sum": round(self.sum, 6),
        }
