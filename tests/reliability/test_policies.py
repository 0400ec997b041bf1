"""Backpressure policies and sink isolation keep their promises (reliability items 5 to 8 and 16)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

import fapilog
from fapilog._engine import state
from fapilog._engine.queue import EventQueue
from fapilog.builtins.sinks.memory import MemorySink


# -- item 5: a fast sink is not starved under drop policies ----------------------------------------------------
@pytest.mark.parametrize("policy", ["drop_newest", "drop_oldest", "wait"])
def test_a_sustained_producer_loses_nothing_to_a_fast_file_sink(policy: str, tmp_path: Path) -> None:
    """Bursts with short pauses (the sink is as fast as the producer on average): nothing is dropped, and the
    file holds exactly what stats() says was delivered. Before the fix the consume loop never let the file's
    drain run while the queue was non-empty, and the file sink shed thousands of records."""
    path = tmp_path / "app.log"
    fapilog.configure(sinks=[{"type": "file", "path": str(path)}], queue={"policy": policy})
    log = fapilog.get_logger("p")
    for burst in range(40):
        for i in range(500):
            log.info("e", burst=burst, i=i)
        time.sleep(0.01)
    assert fapilog.flush(30.0)
    stats = fapilog.stats()
    assert stats["dropped"]["total"] == 0, stats["dropped"]
    assert stats["sinks"]["file"]["delivered"] == 20_000
    assert len(path.read_bytes().splitlines()) == 20_000


def test_the_file_grows_while_a_flat_out_producer_keeps_the_queue_full(tmp_path: Path) -> None:
    """The drain runs while the queue never empties: the file grows during the load, not only after it."""
    path = tmp_path / "app.log"
    fapilog.configure(sinks=[{"type": "file", "path": str(path)}], queue={"policy": "drop_newest"})
    log = fapilog.get_logger("p")
    stop = threading.Event()

    def produce() -> None:
        while not stop.is_set():
            log.info("flood")

    producer = threading.Thread(target=produce)
    producer.start()
    try:
        time.sleep(0.3)
        first = path.stat().st_size if path.exists() else 0
        time.sleep(0.5)
        second = path.stat().st_size
    finally:
        stop.set()
        producer.join()
    assert second > first > 0
    fapilog.flush(30.0)
    stats = fapilog.stats()
    sink = stats["sinks"]["file"]
    assert len(path.read_bytes().splitlines()) == sink["delivered"]
    assert stats["submitted"] == sink["delivered"] + sink["failed"] + stats["dropped"]["total"]


# -- item 6: drop_oldest never evicts protected events, and the overcommit has a ceiling -------------------------
def test_drop_oldest_evicts_the_oldest_unprotected_event_never_an_error() -> None:
    queue = EventQueue(4, "drop_oldest", wait_timeout=0.0, protect_level=40)
    for i, level in enumerate([40, 20, 40, 20]):
        queue.items.append((0, level, "n", f"m{i}", {}, None, None, None, None))
    queue.put_full((0, 20, "n", "new", {}, None, None, None, None), 20)
    assert [item[3] for item in queue.items] == ["m0", "m2", "m3", "new"]
    assert queue.dropped == {"queue_full_oldest": 1}


def test_drop_oldest_refuses_the_newest_when_only_errors_are_queued() -> None:
    queue = EventQueue(3, "drop_oldest", wait_timeout=0.0, protect_level=40)
    for i in range(3):
        queue.items.append((0, 40, "n", f"e{i}", {}, None, None, None, None))
    queue.put_full((0, 20, "n", "info", {}, None, None, None, None), 20)
    assert [item[3] for item in queue.items] == ["e0", "e1", "e2"]
    assert queue.dropped == {"queue_full": 1}


def test_protected_events_overcommit_up_to_a_ceiling_then_are_counted() -> None:
    queue = EventQueue(2, "drop_newest", wait_timeout=0.0, protect_level=40, overcommit=3)
    for i in range(2):
        queue.items.append((0, 20, "n", f"i{i}", {}, None, None, None, None))
    for i in range(5):
        queue.put_full((0, 40, "n", f"e{i}", {}, None, None, None, None), 40)
    assert [item[3] for item in queue.items] == ["i0", "i1", "e0", "e1", "e2"]
    assert queue.overcommitted == 3 and queue.dropped == {"protected_overflow": 2}


def test_drop_oldest_under_load_delivers_every_error(tmp_path: Path) -> None:
    """The issue's load case: a blocked pipeline, a drop_oldest queue, errors among the flood."""
    gate = threading.Event()

    class Gate:
        name = "gate"
        runs_on_worker_loop = True

        def __init__(self) -> None:
            self.levels: list[str] = []

        async def write(self, record: Mapping[str, Any]) -> None:
            while not gate.is_set():  # noqa: ASYNC110 - a threading.Event, set from the test's thread
                await asyncio.sleep(0.005)
            self.levels.append(record["level"])

    sink = Gate()
    fapilog.configure(sinks=[sink], queue={"capacity": 100, "policy": "drop_oldest"})
    log = fapilog.get_logger("p")
    errors = 0
    for i in range(5000):
        if i % 10 == 0:
            log.error("err", i=i)
            errors += 1
        else:
            log.info("info", i=i)
    gate.set()
    assert fapilog.flush(30.0).timed_out is False
    assert sink.levels.count("ERROR") == errors


# -- item 7: a hanging or blocking sink is isolated -----------------------------------------------------------
class _Hanging:
    def __init__(self, mode: str) -> None:
        self.name = f"hang_{mode}"
        self.mode = mode
        self.release = threading.Event()

    async def write(self, record: Mapping[str, Any]) -> None:
        if self.mode == "async":
            while not self.release.is_set():  # noqa: ASYNC110 - a threading.Event, set from the test's thread
                await asyncio.sleep(0.01)
        else:
            self.release.wait(60)  # blocks its thread, as time.sleep(3600) would


@pytest.mark.parametrize("mode", ["async", "blocking"])
def test_a_hanging_sink_neither_blocks_callers_nor_starves_other_sinks(mode: str) -> None:
    hanging, memory = _Hanging(mode), MemorySink()
    fapilog.configure(sinks=[hanging, memory], sink_defaults={"write_timeout": 0.5})
    log = fapilog.get_logger("iso")
    slowest = 0.0
    try:
        for i in range(2000):
            started = time.perf_counter()
            log.info("e", i=i)
            slowest = max(slowest, time.perf_counter() - started)
        deadline = time.monotonic() + 20
        while len(memory.records) < 2000 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(memory.records) == 2000
        assert slowest < 0.4  # generous: a caller blocked on the hanging sink would wait wait_timeout (0.5 s)
        deadline = time.monotonic() + 20
        while fapilog.stats()["sinks"][hanging.name]["errors"].get("timeout", 0) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert fapilog.stats()["sinks"][hanging.name]["errors"]["timeout"] >= 1
    finally:
        hanging.release.set()


def test_a_sink_blocking_inside_async_def_cannot_stall_the_exit(tmp_path: Path) -> None:
    """The issue's case: time.sleep(3600) in async def write; the exit drain still ends within its deadline
    (plus interpreter start-up) and says what was not delivered, and the memory-like file sink got everything."""
    path = tmp_path / "ok.log"
    script = textwrap.dedent(
        f"""
        import time, fapilog
        class Blocking:
            name = "blocking"
            async def write(self, record):
                time.sleep(3600)
        fapilog.configure(sinks=[Blocking(), {{"type": "file", "path": {str(path)!r}}}], exit_timeout=1.0)
        log = fapilog.get_logger("x")
        for i in range(2000):
            log.info("e", i=i)
        """
    )
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert len(path.read_bytes().splitlines()) == 2000
    assert "exit drain gave up" in done.stderr and "2000 event(s) not delivered" in done.stderr
    assert elapsed < 20  # was 27.7 s before (fixed internal waits, and the blocked loop); the deadline is 1 s


# -- item 8: write_timeout bounds one write call --------------------------------------------------------------
def test_write_timeout_bounds_each_write_call_not_the_whole_batch() -> None:
    class TenMs:
        name = "ten_ms"

        def __init__(self) -> None:
            self.count = 0

        async def write(self, record: Mapping[str, Any]) -> None:
            await asyncio.sleep(0.01)
            self.count += 1

    sink = TenMs()
    fapilog.configure(sinks=[sink], sink_defaults={"write_timeout": 1.0})
    for i in range(300):
        fapilog.get_logger("t").info("e", i=i)
    assert fapilog.flush(60.0)
    stats = fapilog.stats()["sinks"]["ten_ms"]
    assert stats["failed"] == 0 and stats["delivered"] == 300 == sink.count


def test_a_hanging_per_record_sink_costs_one_timeout_per_batch_not_one_per_record() -> None:
    hanging = _Hanging("async")
    fapilog.configure(sinks=[hanging], sink_defaults={"write_timeout": 0.2})
    try:
        for i in range(100):
            fapilog.get_logger("t").info("e", i=i)
        result = fapilog.flush(10.0)  # 100 records x 0.2 s would be 20 s
        assert not result.timed_out and result.failed_sinks == (hanging.name,)
        stats = fapilog.stats()["sinks"][hanging.name]
        assert stats["failed"] == 100 and stats["errors"] == {"timeout": 100}
    finally:
        hanging.release.set()


# -- item 16: every drop reason is reported, and a final total at exit ----------------------------------------
def test_sink_buffer_drops_are_reported_on_stderr_and_totalled_at_exit(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import asyncio, fapilog
        class Slow:
            name = "slow"
            runs_on_worker_loop = True
            async def write_batch(self, records):
                await asyncio.sleep(0.05)
            async def write(self, record):
                await self.write_batch([record])
        fapilog.configure(sinks=[Slow()], queue={"policy": "drop_newest"},
                          sink_defaults={"buffer_capacity": 10, "batch_size": 5})
        log = fapilog.get_logger("x")
        for i in range(3000):
            log.info("e", i=i)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "sink_buffer_full:slow" in done.stderr
    assert "event(s) were dropped in total (" in done.stderr
    total_line = next(line for line in done.stderr.splitlines() if "dropped in total" in line)
    total = int(total_line.split("fapilog: ")[1].split()[0])
    assert total > 2000  # a 10-record buffer behind a 50 ms sink sheds most of 3,000 events


def test_the_runtime_state_is_visible_in_stats_before_and_after() -> None:
    assert state._runtime is None or state._runtime.state in ("running", "stopped")
    memory = MemorySink()
    fapilog.configure(sinks=[memory])
    assert fapilog.stats()["state"] == "running"
    fapilog.shutdown(5.0)
    assert fapilog.stats()["state"] == "stopped"
