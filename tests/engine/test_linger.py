"""The worker's linger: woken to a burst it waits before taking it, and every guarantee still holds."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

import fapilog
from fapilog._engine import state
from fapilog.builtins.sinks.memory import MemorySink
from fapilog.errors import ConfigError

_LONG = 10.0
"""The longest linger the settings allow; every wait below is shorter, so a test that passes did not wait it out."""


def _configure(sink: MemorySink, *, linger: float, **queue: object) -> None:
    fapilog.configure(level="DEBUG", sinks=[sink], queue={"linger": linger, **queue})
    assert fapilog.flush(10.0)  # the worker is up and asleep on an empty queue


@contextmanager
def _worker_held() -> Iterator[None]:
    """Hold the worker's loop busy so events queue up behind one wake-up; on exit it wakes to all of them."""
    runtime = state._runtime
    assert runtime is not None and runtime.worker is not None and runtime.worker.loop is not None
    entered, release = threading.Event(), threading.Event()

    async def hold() -> None:
        entered.set()
        release.wait(10)  # blocks the worker's loop on purpose: the wake-up waits behind it

    done = asyncio.run_coroutine_threadsafe(hold(), runtime.worker.loop)
    assert entered.wait(10)
    try:
        yield
    finally:
        release.set()
        done.result(10)


def _lingered() -> int:
    runtime = state._runtime
    assert runtime is not None and runtime.worker is not None
    return runtime.worker.lingered


def _wait_for(sink: MemorySink, count: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while len(sink.records) < count and time.monotonic() < deadline:
        time.sleep(0.002)


def test_a_lone_event_is_delivered_without_waiting_for_the_linger() -> None:
    """One event logged to an idle worker is taken at once, not after the linger (no flush needed)."""
    sink = MemorySink()
    _configure(sink, linger=_LONG)
    fapilog.get_logger("linger").info("alone")
    _wait_for(sink, 1, timeout=5.0)
    assert [r["message"] for r in sink.records] == ["alone"]
    assert _lingered() == 0


def test_flush_ends_a_linger_and_delivers_the_burst_in_order() -> None:
    """flush() during a linger does not wait it out: the burst is delivered, in order, and flush reports ok."""
    sink = MemorySink()
    _configure(sink, linger=_LONG)
    log = fapilog.get_logger("linger")
    with _worker_held():
        for i in range(20):
            log.info(f"m{i}")
    deadline = time.monotonic() + 10
    while _lingered() == 0 and time.monotonic() < deadline:
        time.sleep(0.002)
    assert _lingered() == 1  # the worker woke to 20 events and is lingering now
    assert fapilog.flush(5.0)  # a 10 s linger still running would make this flush time out
    assert [r["message"] for r in sink.records] == [f"m{i}" for i in range(20)]


def test_a_lingered_burst_is_delivered_when_the_linger_ends() -> None:
    """Without any flush, a burst the worker lingered on is delivered once the linger has passed."""
    sink = MemorySink()
    _configure(sink, linger=0.05)
    log = fapilog.get_logger("linger")
    with _worker_held():
        for i in range(5):
            log.info(f"m{i}")
    _wait_for(sink, 5)
    assert [r["message"] for r in sink.records] == [f"m{i}" for i in range(5)]
    assert _lingered() == 1


def test_a_full_queue_ends_the_linger_so_a_waiting_caller_loses_nothing() -> None:
    """A caller that fills the queue during a linger wakes the worker: no event times out waiting for room."""
    sink = MemorySink()
    _configure(sink, linger=_LONG, capacity=20, policy="wait", wait_timeout=5.0, batch_size=4)
    log = fapilog.get_logger("linger")
    with _worker_held():
        for i in range(3):
            log.info(f"m{i}")
    deadline = time.monotonic() + 10
    while _lingered() == 0 and time.monotonic() < deadline:
        time.sleep(0.002)
    assert _lingered() == 1
    for i in range(3, 200):  # ten times the capacity: without a wake, a caller would wait 5 s and drop
        log.info(f"m{i}")
    assert fapilog.flush(5.0)
    stats = fapilog.stats()
    assert stats["dropped"]["total"] == 0
    assert [r["message"] for r in sink.records] == [f"m{i}" for i in range(200)]


def test_shutdown_ends_a_linger_and_delivers_everything() -> None:
    """shutdown() while the worker lingers drains the burst instead of waiting the linger out."""
    sink = MemorySink()
    _configure(sink, linger=_LONG)
    log = fapilog.get_logger("linger")
    with _worker_held():
        for i in range(10):
            log.info(f"m{i}")
    report = fapilog.shutdown(timeout=5.0)
    assert report
    assert [r["message"] for r in sink.records] == [f"m{i}" for i in range(10)]


def test_linger_zero_turns_it_off() -> None:
    """queue.linger = 0: the worker takes a burst as soon as it wakes, never lingering."""
    sink = MemorySink()
    _configure(sink, linger=0)
    log = fapilog.get_logger("linger")
    with _worker_held():
        for i in range(10):
            log.info(f"m{i}")
    _wait_for(sink, 10)
    assert len(sink.records) == 10
    assert _lingered() == 0


@pytest.mark.parametrize("value", [-0.001, 11.0, "soon"])
def test_a_bad_linger_is_a_config_error_naming_the_field(value: object) -> None:
    """A negative, too long or non-numeric linger is refused by the settings engine, naming queue.linger."""
    with pytest.raises(ConfigError, match=r"queue\.linger"):
        fapilog.configure(sinks=[MemorySink()], queue={"linger": value})


def test_linger_is_read_from_the_environment() -> None:
    """FAPILOG_QUEUE__LINGER sets the linger like every other setting."""
    settings = fapilog.LoggingSettings.load(environ={"FAPILOG_QUEUE__LINGER": "0.002"})
    assert settings.queue.linger == 0.002
