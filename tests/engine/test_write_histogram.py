"""Write durations in fixed buckets: what the sink runner counts per batch for the Prometheus histogram."""

from __future__ import annotations

import asyncio
from typing import Any

import fapilog
from fapilog._engine.write_histogram import WRITE_SECONDS_BOUNDS, WriteHistogram
from fapilog.plugins import RetryableSinkError


def test_a_duration_on_a_bound_counts_in_that_bucket() -> None:
    """Buckets are inclusive upper bounds (Prometheus' le): 5 ms lands in le=0.005, 5.1 ms in le=0.01."""
    histogram = WriteHistogram()
    for seconds in (0.005, 0.0051, 0.0, 99.0):
        histogram.observe(seconds)
    snap = histogram.snapshot()
    cumulative = dict(zip(snap["le"], snap["cumulative"], strict=True))
    assert cumulative[0.0001] == 1  # the zero-length write
    assert cumulative[0.0025] == 1 and cumulative[0.005] == 2 and cumulative[0.01] == 3
    assert cumulative[10.0] == 3 and snap["count"] == 4  # 99 s is only in +Inf
    assert snap["sum"] == round(0.005 + 0.0051 + 99.0, 6)
    assert snap["le"] == list(WRITE_SECONDS_BOUNDS) == sorted(WRITE_SECONDS_BOUNDS)


class SlowSink:
    """Takes 30 ms per write_batch call, so each batch lands in the 50 ms bucket but not the 25 ms one."""

    name = "slow"

    def __init__(self) -> None:
        self.batches = 0

    async def write_batch(self, records: Any) -> None:
        self.batches += 1
        await asyncio.sleep(0.03)

    async def write(self, record: Any) -> None:
        """Unused: the runner prefers write_batch."""


def test_the_sink_runner_counts_one_observation_per_batch() -> None:
    """stats() shows one observation per write call, none below the sleep the sink took."""
    sink = SlowSink()
    fapilog.configure(sinks=[sink])
    log = fapilog.get_logger("h")
    for i in range(50):
        log.info("e", i=i)
    assert fapilog.flush(10.0)
    stats = fapilog.stats()["sinks"]["slow"]
    histogram = stats["write_seconds"]
    cumulative = dict(zip(histogram["le"], histogram["cumulative"], strict=True))
    assert histogram["count"] == stats["batches"] == sink.batches >= 1
    assert cumulative[0.025] == 0  # every write slept 30 ms
    assert histogram["sum"] >= 0.03 * sink.batches


class FlakySink:
    """Sleeps 30 ms per write_batch call and refuses the first two calls as retryable (retry after 1 s)."""

    name = "flaky"

    def __init__(self) -> None:
        self.calls = 0

    async def write_batch(self, records: Any) -> None:
        self.calls += 1
        await asyncio.sleep(0.03)
        if self.calls <= 2:
            raise RetryableSinkError("busy", retry_after=1.0, reason="busy")

    async def write(self, record: Any) -> None:
        """Unused: the runner prefers write_batch."""


def test_a_retried_batch_counts_one_observation_per_attempt_without_the_backoff() -> None:
    """Three attempts of one batch are three observations; the two 1 s backoffs are in none of them."""
    sink = FlakySink()
    fapilog.configure(sinks=[sink], sink_defaults={"batch_max_age": 0.2})
    log = fapilog.get_logger("h")
    for i in range(5):
        log.info("e", i=i)
    assert fapilog.flush(10.0)
    stats = fapilog.stats()["sinks"]["flaky"]
    histogram = stats["write_seconds"]
    cumulative = dict(zip(histogram["le"], histogram["cumulative"], strict=True))
    assert sink.calls == 3 and stats["batches"] == 1 and stats["retried"] == 2 and stats["delivered"] == 5
    assert histogram["count"] == 3
    # Each attempt slept 30 ms; timing the whole delivery (2 s of backoff) would put it above 1 s.
    assert cumulative[0.025] == 0 and cumulative[1.0] == 3
    assert histogram["sum"] >= 0.09 and stats["latency_ms"]["max"] < 1000.0
