"""Measurement helpers used inside a child process: RSS peak sampling, CPU time, percentiles."""

from __future__ import annotations

import math
import threading
import time

import psutil

MB = 1024 * 1024


class RssSampler:
    """Samples this process's RSS every ``interval`` seconds on a daemon thread and keeps the peak."""

    def __init__(self, interval: float = 0.01) -> None:
        self._proc = psutil.Process()
        self._interval = interval
        self._stop = threading.Event()
        self.baseline = self._proc.memory_info().rss
        self.peak = self.baseline
        self.samples = 0
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            rss = self._proc.memory_info().rss
            self.samples += 1
            self.peak = max(self.peak, rss)

    def __enter__(self) -> RssSampler:
        self.baseline = self._proc.memory_info().rss
        self.peak = self.baseline
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.baseline) / MB


def cpu_seconds() -> float:
    """User + system CPU time of the whole process (all threads) so far.

    ``time.process_time`` reads CLOCK_PROCESS_CPUTIME_ID (nanosecond resolution); psutil's cpu_times
    would only give 10 ms clock ticks, too coarse for an idle window.
    """
    return time.process_time()


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (``pct`` in 0..100); 0.0 for an empty list."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]
