"""The awaitable log calls (``await log.ainfo(...)``, ``await log.alog(level, ...)``): backpressure on a loop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import pytest
from tests._sinks import GateSink

import fapilog
from fapilog.testing import capture_events

EVENTS = 20_000
BURST = 1_000


class SlowSink:
    """A sink that takes 1 ms per write (blocking, as a slow disk or socket would), recording what it got."""

    name = "slow"

    def __init__(self) -> None:
        self.ids: list[int] = []

    async def write(self, record: Mapping[str, Any]) -> None:
        time.sleep(0.001)  # noqa: ASYNC251 - a blocking write on purpose; a sink runs on its own thread
        self.ids.append(record["i"])


def _slow_pipeline(**queue: Any) -> SlowSink:
    sink = SlowSink()
    fapilog.configure(
        sinks=[sink], queue={"capacity": 1_000, **queue}, sink_defaults={"buffer_capacity": 1_000}
    )
    return sink


async def _bursts(awaitable: bool) -> None:
    """20,000 events in bursts of 1,000 from one coroutine, yielding to the loop between bursts."""
    log = fapilog.get_logger("bursts")
    for start in range(0, EVENTS, BURST):
        for i in range(start, start + BURST):
            if awaitable:
                await log.ainfo("burst", i=i)
            else:
                log.info("burst", i=i)
        await asyncio.sleep(0)


def test_awaitable_form_loses_nothing_into_a_slow_sink_and_keeps_order() -> None:
    """20,000 events in bursts into a 1 ms-per-write sink: with `await log.ainfo` all arrive, in order."""
    sink = _slow_pipeline(wait_timeout=30.0)
    asyncio.run(_bursts(awaitable=True))
    assert fapilog.flush(120.0)
    stats = fapilog.stats()
    assert stats["dropped"]["total"] == 0
    assert sink.ids == list(range(EVENTS))


def test_sync_form_drops_in_the_same_workload_and_counts_every_drop() -> None:
    """The same workload with the sync call drops (never blocking the loop), and counts each drop."""
    sink = _slow_pipeline(wait_timeout=30.0)
    asyncio.run(_bursts(awaitable=False))
    assert fapilog.flush(120.0)
    stats = fapilog.stats()
    dropped = stats["dropped"]["by_reason"].get("queue_full", 0)
    assert dropped > 0
    assert len(sink.ids) + dropped == EVENTS
    assert sink.ids == sorted(sink.ids)


def _wedged(policy: str, *, wait_timeout: float = 30.0) -> GateSink:
    """A full capacity-2 queue behind a sink that holds the worker inside its first write."""
    gate = GateSink()
    fapilog.configure(
        sinks=[gate],
        queue={"capacity": 2, "policy": policy, "wait_timeout": wait_timeout, "batch_size": 1},
        sink_defaults={"buffer_capacity": 1, "buffer_policy": "wait"},
    )
    log = fapilog.get_logger("bp")
    log.info("first")
    assert gate.entered.wait(10)
    log.info("buffered")
    log.info("held")
    deadline = time.monotonic() + 10
    while fapilog.stats()["queue"]["depth"] and time.monotonic() < deadline:  # the worker takes "held"
        time.sleep(0.005)
    log.info("queued0")
    log.info("queued1")
    assert fapilog.stats()["queue"]["depth"] == 2
    return gate


def test_drop_newest_still_drops_with_the_awaitable_form() -> None:
    """Under drop_newest the awaitable call refuses the event at once, counted as queue_full."""
    gate = _wedged("drop_newest")
    log = fapilog.get_logger("bp")

    async def burst() -> None:
        for i in range(20):
            await log.ainfo(f"m{i}")

    asyncio.run(burst())  # never waits: the gate is still closed
    gate.release()
    assert fapilog.flush(10.0)
    stats = fapilog.stats()
    assert stats["dropped"]["by_reason"]["queue_full"] >= 15
    assert stats["dropped"]["total"] + stats["sinks"]["gate"]["delivered"] == stats["submitted"]


def test_awaitable_form_honours_wait_timeout_without_blocking_the_loop() -> None:
    """A full `wait` queue makes the awaitable call wait wait_timeout, then count queue_wait_timeout, while
    other tasks on the loop keep running."""
    gate = _wedged("wait", wait_timeout=0.2)
    log = fapilog.get_logger("bp")
    ticks: list[int] = []

    async def ticker() -> None:
        while True:
            ticks.append(1)
            await asyncio.sleep(0.005)

    async def main() -> int:
        task = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        before = len(ticks)
        await log.ainfo("no room")
        during = len(ticks) - before
        task.cancel()
        return during

    ticks_while_waiting = asyncio.run(main())
    gate.release()
    assert fapilog.flush(10.0)
    stats = fapilog.stats()
    assert stats["dropped"]["by_reason"]["queue_wait_timeout"] == 1
    assert ticks_while_waiting > 1  # the loop ran other tasks while the call waited
    assert "no room" not in gate.messages


def test_awaitable_form_waits_for_room_and_delivers_in_order() -> None:
    """With the worker wedged, awaitable calls wait; once the sink recovers every event arrives in order."""
    gate = _wedged("wait")
    log = fapilog.get_logger("bp")

    async def main() -> None:
        asyncio.get_running_loop().call_later(0.1, gate.release)
        for i in range(40):
            await log.alog("info", f"m{i}")

    asyncio.run(main())
    assert fapilog.flush(10.0)
    assert fapilog.stats()["dropped"]["total"] == 0
    assert gate.messages == ["first", "buffered", "held", "queued0", "queued1"] + [f"m{i}" for i in range(40)]


def test_cancelled_wait_is_counted() -> None:
    """An awaitable call cancelled while it waits for room is counted as queue_wait_cancelled."""
    gate = _wedged("wait")
    log = fapilog.get_logger("bp")

    async def main() -> None:
        task = asyncio.create_task(log.ainfo("cancelled"))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    gate.release()
    assert fapilog.flush(10.0)
    assert fapilog.stats()["dropped"]["by_reason"]["queue_wait_cancelled"] == 1


def test_errors_are_admitted_past_capacity_by_the_awaitable_form() -> None:
    """A full queue admits an awaited ERROR at once (overcommitted), as it does for the sync call."""
    gate = _wedged("wait")
    log = fapilog.get_logger("bp")
    asyncio.run(log.aerror("disk failing"))
    gate.release()
    assert fapilog.flush(10.0)
    assert fapilog.stats()["queue"]["overcommitted"] == 1
    assert gate.messages[-1] == "disk failing"


def test_with_room_the_awaitable_call_completes_without_suspending(memory: Any) -> None:
    """With room in the queue the coroutine finishes on its first step: it never yields to the loop."""
    coroutine = fapilog.get_logger("fast").ainfo("quick", n=1)
    with pytest.raises(StopIteration):
        coroutine.send(None)
    assert fapilog.flush(5.0)
    assert [(r["message"], r["n"]) for r in memory.records] == [("quick", 1)]


def test_disabled_level_is_skipped_by_the_awaitable_form(memory: Any) -> None:
    """An awaitable call below the threshold records nothing."""
    fapilog.set_level("warning")
    asyncio.run(fapilog.get_logger("quiet").ainfo("hidden"))
    assert fapilog.flush(5.0)
    assert memory.records == []


def test_awaitable_form_works_inside_capture_events() -> None:
    """`await log.ainfo` inside capture_events() is captured like the sync call, fields and level included."""
    log = fapilog.get_logger("captured")

    async def main() -> None:
        await log.ainfo("hello", user=7)
        await log.awarning("careful")
        await log.alog(40, "boom")

    with capture_events() as events:
        asyncio.run(main())
    expected = [("INFO", "hello"), ("WARNING", "careful"), ("ERROR", "boom")]
    assert [(e["level"], e["message"]) for e in events] == expected
    assert events.find("hello")["user"] == 7


def test_first_call_of_a_process_may_be_awaitable() -> None:
    """An awaitable call starts the pipeline lazily, like the sync call does."""
    fapilog.shutdown()
    sink_records: list[str] = []

    class Collect:
        name = "collect"

        async def write(self, record: Mapping[str, Any]) -> None:
            sink_records.append(record["message"])

    fapilog.configure(sinks=[Collect()])
    fapilog.shutdown()  # the next call starts a fresh pipeline with the same settings
    asyncio.run(fapilog.get_logger("lazy").ainfo("started by await"))
    assert fapilog.flush(5.0)
    assert "started by await" in sink_records


def test_a_call_waiting_across_a_shutdown_is_delivered_exactly_once() -> None:
    """An awaitable call waiting for room while shutdown() runs is delivered once (by that pipeline, or handed
    to the next): neither lost nor delivered twice."""
    gate = _wedged("wait")
    log = fapilog.get_logger("bp")

    async def main() -> None:
        task = asyncio.create_task(log.ainfo("waited through shutdown"))
        await asyncio.sleep(0.05)
        loop = asyncio.get_running_loop()
        loop.call_later(0.2, gate.release)
        await asyncio.to_thread(fapilog.shutdown, 10.0)
        await task

    asyncio.run(main())
    assert fapilog.flush(10.0)  # starts the next pipeline for the event that waited
    assert gate.messages.count("waited through shutdown") == 1
