"""Queue policies for a full queue, and their counters."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from tests._sinks import AsyncGateSink, GateSink

import fapilog
from fapilog.builtins.sinks.memory import MemorySink


def _blocked(policy: str, *, capacity: int = 10, wait_timeout: float = 0.05) -> GateSink:
    """Configure a 1-record sink buffer behind a gate and wedge the worker inside the first write."""
    gate = GateSink()
    fapilog.configure(
        sinks=[gate],
        queue={"capacity": capacity, "policy": policy, "wait_timeout": wait_timeout, "batch_size": 1},
        sink_defaults={"buffer_capacity": 1, "buffer_policy": "wait"},
    )
    fapilog.get_logger("bp").info("first")
    assert gate.entered.wait(10)
    return gate


def _fill_sink_buffer() -> None:
    """One event for the (single-slot) sink buffer, one the worker holds waiting for room."""
    log = fapilog.get_logger("bp")
    log.info("buffered")
    log.info("held")


def test_drop_newest_counts_every_refused_event() -> None:
    """drop_newest keeps the first `capacity` events and counts the rest as queue_full."""
    gate = _blocked("drop_newest")
    log = fapilog.get_logger("bp")
    for i in range(50):
        log.info(f"m{i}")
    gate.release()
    assert fapilog.flush(10.0)
    stats = fapilog.stats()
    delivered = stats["sinks"]["gate"]["delivered"]
    dropped = stats["dropped"]["by_reason"]["queue_full"]
    assert delivered + dropped == 51 == stats["submitted"]
    assert stats["dropped"]["unintentional"] == dropped
    assert gate.messages[0] == "first"
    kept = [int(m[1:]) for m in gate.messages[1:]]
    assert kept == sorted(kept) and kept[0] == 0  # the oldest survive, in order


def test_drop_oldest_keeps_the_newest_events() -> None:
    """drop_oldest evicts from the front, so the last events logged are the ones delivered."""
    gate = _blocked("drop_oldest")
    _fill_sink_buffer()
    deadline = time.monotonic() + 10.0
    while fapilog.stats()["queue"]["depth"] and time.monotonic() < deadline:
        time.sleep(0.005)  # the worker now holds an event it cannot place: nothing leaves the queue on its own
    log = fapilog.get_logger("bp")
    for i in range(50):
        log.info(f"m{i}")
    gate.release()
    assert fapilog.flush(10.0)
    stats = fapilog.stats()
    assert stats["dropped"]["by_reason"]["queue_full_oldest"] + stats["sinks"]["gate"]["delivered"] == 53
    assert gate.messages[-1] == "m49"
    assert "m0" not in gate.messages


def test_wait_policy_times_out_then_counts() -> None:
    """wait blocks a plain thread for wait_timeout and then counts the event as queue_wait_timeout."""
    gate = _blocked("wait", capacity=3, wait_timeout=0.01)
    log = fapilog.get_logger("bp")
    for i in range(8):
        log.info(f"m{i}")
    gate.release()
    assert fapilog.flush(10.0)
    stats = fapilog.stats()
    assert stats["dropped"]["by_reason"].get("queue_wait_timeout", 0) >= 1
    assert stats["dropped"]["total"] + stats["sinks"]["gate"]["delivered"] == stats["submitted"] == 9


def test_wait_policy_loses_nothing_when_the_sink_recovers() -> None:
    """A waiting caller is admitted once the worker makes room: nothing is dropped."""
    gate = _blocked("wait", capacity=2, wait_timeout=30.0)
    # The release time only decides how long the caller waits, never whether anything is lost.
    releaser = threading.Timer(0.1, gate.release)
    releaser.start()
    log = fapilog.get_logger("bp")
    for i in range(40):
        log.info(f"m{i}")
    releaser.join()
    assert fapilog.flush(10.0)
    stats = fapilog.stats()
    assert stats["dropped"]["total"] == 0
    assert gate.messages == ["first"] + [f"m{i}" for i in range(40)]


def test_wait_never_blocks_an_event_loop_thread() -> None:
    """On a thread running an event loop, wait falls back to dropping (counted) instead of blocking."""
    gate = _blocked("wait", capacity=2, wait_timeout=30.0)
    log = fapilog.get_logger("bp")

    async def burst() -> None:
        for i in range(20):
            log.info(f"m{i}")

    asyncio.run(burst())  # would take 18 x 30 s if it blocked
    gate.release()
    assert fapilog.flush(10.0)
    assert fapilog.stats()["dropped"]["by_reason"]["queue_full"] >= 15


def test_errors_are_never_dropped_by_default() -> None:
    """With a full drop_newest queue, ERROR events are still admitted (counted as overcommitted)."""
    gate = _blocked("drop_newest", capacity=2)
    log = fapilog.get_logger("bp")
    for i in range(10):
        log.info(f"info{i}")
    for i in range(5):
        log.error(f"error{i}")
    gate.release()
    assert fapilog.flush(10.0)
    stats = fapilog.stats()
    assert [m for m in gate.messages if m.startswith("error")] == [f"error{i}" for i in range(5)]
    assert stats["queue"]["overcommitted"] >= 5 - 2


def _stuck_beside_healthy(**settings: Any) -> tuple[AsyncGateSink, MemorySink, fapilog.Logger]:
    """A gate sink (5-event buffer, drop_newest) stuck in its first write, beside a healthy memory sink."""
    gate = AsyncGateSink()
    healthy = MemorySink()
    fapilog.configure(
        sinks=[gate, healthy],
        queue={"policy": "drop_newest"},
        sink_defaults={"buffer_capacity": 5},
        **settings,
    )
    log = fapilog.get_logger("bp")
    log.info("first")
    assert gate.entered.wait(10)
    return gate, healthy, log


def test_sink_buffer_drop_policy_sheds_only_that_sink() -> None:
    """A stuck sink with drop_newest sheds its own overflow while a healthy sink gets everything."""
    gate, healthy, log = _stuck_beside_healthy()
    for i in range(100):
        log.info(f"m{i}")
    # the healthy sink keeps up while the gate sink is stuck
    assert fapilog.flush(0.5).failed_sinks == ("gate",)
    assert len(healthy.records) == 101
    gate.release()
    assert fapilog.flush(10.0)
    stats = fapilog.stats()
    assert stats["sinks"]["gate"]["dropped"] > 0
    assert stats["sinks"]["gate"]["delivered"] + stats["sinks"]["gate"]["dropped"] == 101
    assert stats["dropped"]["by_reason"]["sink_buffer_full:gate"] == stats["sinks"]["gate"]["dropped"]


def test_each_sink_accounts_for_every_event_with_upstream_and_other_sinks_drops() -> None:
    """With two sinks, each one's identity (its own counters plus the drops before the fan-out) holds exactly,
    as docs/observability.md states it, though dropped.total also counts the other sink's buffer drops."""
    gate, healthy, log = _stuck_beside_healthy(filters=[{"type": "level", "level": "INFO"}], level="DEBUG")
    for i in range(100):
        log.info(f"m{i}")
        log.debug(f"filtered {i}")  # dropped before the fan-out, by the filter
    gate.release()
    flushed = fapilog.flush(10.0)  # not ok: the gate sink shed records since the last flush, and says so
    assert not flushed.timed_out and flushed.failed_sinks == ("gate",) and not flushed.pending
    stats = fapilog.stats()
    sinks = stats["sinks"]
    upstream = stats["dropped"]["total"] - sum(sink["dropped"] for sink in sinks.values())
    assert upstream == 100 and sinks["gate"]["dropped"] > 0 and sinks[healthy.name]["dropped"] == 0
    for name, sink in sinks.items():
        counted = sink["delivered"] + sink["failed"] + sink["dropped"] + upstream
        assert stats["submitted"] + stats["split_extra"] == counted, name
    assert len(healthy.records) == 101
