"""The shape of ``fapilog.stats()``: one set of TypedDicts, and the constructors every producer builds it with.

``stats()`` is built in three places (the runtime's totals, each sink runner's snapshot, each sink ledger's
counters) and read by the Prometheus collector. Typing all of them with these classes lets ``mypy --strict``
check every key, and building the not-started form with the same constructors (zero counters, no sinks yet)
keeps it from drifting away from the running one: ``stats()["queue"]["capacity"]`` exists before the first
log call because :func:`queue_stats` is the only way to make a ``queue`` section.

The schema is documented key by key in ``docs/observability.md``; a test compares that page with these
classes.
"""

from __future__ import annotations

from typing import TypedDict

__all__ = [
    "DROP_REASONS",
    "DroppedStats",
    "LatencyStats",
    "LedgerCounters",
    "PluginStats",
    "QueueStats",
    "SerializationStats",
    "SinkStats",
    "Stats",
    "WriteSecondsStats",
    "dropped_stats",
    "queue_stats",
]


DROP_REASONS = {
    "queue_full": "a full queue refused the newest event (drop_newest, or wait on an event-loop thread)",
    "queue_full_oldest": "a full queue evicted its oldest event to admit a new one (drop_oldest)",
    "queue_wait_timeout": "the caller waited wait_timeout for room and none came (wait)",
    "queue_wait_cancelled": "an awaitable log call was cancelled while it waited for room (wait)",
    "protected_overflow": "a protected (ERROR+) event found the queue full past its overcommit ceiling",
    "after_shutdown": "logged after the pipeline stopped taking events, with no pipeline left to take it",
    "internal_error": "the log call hit an error inside fapilog itself: counted, the caller unharmed",
    "worker_dead": "logged after the worker died too often to be restarted (FL-RUN-009), until configure()",
}
"""The queue's own reasons in ``stats()["dropped"]["by_reason"]`` (the others name a filter, a sink or a plugin)."""


class QueueStats(TypedDict):
    """``stats()["queue"]``: the bounded queue between the log call and the worker."""

    depth: int
    capacity: int
    high_water: int
    policy: str
    overcommitted: int


class DroppedStats(TypedDict):
    """``stats()["dropped"]``: every drop, intentional (filters) or not, and by reason."""

    total: int
    intentional: int
    unintentional: int
    by_reason: dict[str, int]


class LedgerCounters(TypedDict):
    """A sink ledger's counters: where each record handed to the sink is now."""

    delivered: int
    failed: int
    dropped: int
    dropped_protected: int
    buffered: int
    in_flight: int
    errors: dict[str, int]
    retried: int
    rejected: dict[str, int]
    fallback: int
    late_delivered: int


class LatencyStats(TypedDict):
    """Milliseconds of one write call: the last, the longest, the mean."""

    last: float
    max: float
    avg: float


class WriteSecondsStats(TypedDict):
    """Write durations in fixed buckets, cumulative as Prometheus histograms are."""

    le: list[float]
    cumulative: list[int]
    count: int
    sum: float


class SinkStats(LedgerCounters):
    """``stats()["sinks"][name]``: the ledger's counters and the runner's own figures for one sink."""

    capacity: int
    processor_errors: dict[str, int]
    processor_degraded: dict[str, int]
    split_extra: int
    batches: int
    circuit: str
    stalled: bool
    latency_ms: LatencyStats
    write_seconds: WriteSecondsStats


class PluginStats(TypedDict):
    """``stats()["plugins"][name]``: one running stage or sink instance."""

    kind: str
    errors: int
    load_ms: float | None
    start_ms: float | None


class SerializationStats(TypedDict):
    """``stats()["serialization"]``."""

    degraded: int


class Stats(TypedDict):
    """``fapilog.stats()``: the whole snapshot."""

    state: str
    restarts: int
    submitted: int
    processed: int
    queue: QueueStats
    dropped: DroppedStats
    sinks: dict[str, SinkStats]
    plugins: dict[str, PluginStats]
    serialization: SerializationStats
    split_extra: int


def queue_stats(*, depth: int, capacity: int, high_water: int, policy: str, overcommitted: int) -> QueueStats:
    """The ``queue`` section (the only constructor of one, for the running and the not-started form alike)."""
    return {"depth": depth, "capacity": capacity, "high_water": high_water, "policy": policy,
            "overcommitted": overcommitted}


def dropped_stats(by_reason: dict[str, int], intentional: int) -> DroppedStats:
    """The ``dropped`` section: totals derived from ``by_reason`` so they always add up."""
    total = sum(by_reason.values())
    return {"total": total, "intentional": intentional, "unintentional": total - intentional,
            "by_reason": by_reason}
