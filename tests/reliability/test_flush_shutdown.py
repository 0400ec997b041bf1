"""Flush and shutdown account for everything (reliability items 9, 10, 11 and 13)."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

import fapilog
from fapilog._engine import logger as logger_module
from fapilog._engine import state
from fapilog._kit.levels import INFO
from fapilog.builtins.sinks.memory import MemorySink


class _AlwaysFails:
    name = "always_fails"

    async def write(self, record: Mapping[str, Any]) -> None:
        raise ConnectionError("backend down")


# -- item 9 ---------------------------------------------------------------------------------------------------
def test_flush_names_a_sink_that_failed_every_event() -> None:
    fapilog.configure(sinks=[_AlwaysFails(), MemorySink()])
    for i in range(2000):
        fapilog.get_logger("f").info("e", i=i)
    result = fapilog.flush(30.0)
    assert not result.ok and not result.timed_out
    assert result.failed_sinks == ("always_fails",)
    assert fapilog.stats()["sinks"]["always_fails"]["failed"] == 2000


def test_flush_names_a_sink_that_dropped_events_and_the_next_clean_flush_is_ok() -> None:
    class Slow:
        name = "slow"
        runs_on_worker_loop = True

        async def write_batch(self, records: list[Mapping[str, Any]]) -> None:
            await asyncio.sleep(0.02)

        async def write(self, record: Mapping[str, Any]) -> None:
            await self.write_batch([record])

    fapilog.configure(sinks=[Slow()], queue={"policy": "drop_newest"},
                      sink_defaults={"buffer_capacity": 5, "batch_size": 5})
    for i in range(500):
        fapilog.get_logger("f").info("e", i=i)
    first = fapilog.flush(30.0)
    assert not first.ok and first.failed_sinks == ("slow",)
    fapilog.get_logger("f").info("one more")
    assert fapilog.flush(30.0)


# -- item 10 --------------------------------------------------------------------------------------------------
def test_shutdown_completes_while_threads_log_flat_out_and_late_events_go_to_the_next_pipeline(
    tmp_path: Path,
) -> None:
    path = tmp_path / "app.log"
    fapilog.configure(sinks=[{"type": "file", "path": str(path)}])
    log = fapilog.get_logger("flood")
    stop = threading.Event()
    counts = [0, 0, 0, 0]

    def produce(index: int) -> None:
        while not stop.is_set():
            log.info("e", t=index, n=counts[index])
            counts[index] += 1

    threads = [threading.Thread(target=produce, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    report = fapilog.shutdown(10.0)
    stop.set()
    for thread in threads:
        thread.join()
    assert report.ok and not report.timed_out and report.undelivered == 0
    first = state._last_stopped
    assert first is not None
    # What was logged during and after the shutdown waited for the next pipeline (up to the hand-over
    # limit; beyond it, counted as after_shutdown): flush() starts that pipeline and delivers it.
    assert fapilog.flush(30.0)
    second = state._runtime
    assert second is not None and second is not first
    assert fapilog.shutdown(30.0)
    lines = path.read_bytes().splitlines()
    dropped = first.stats()["dropped"]["total"] + second.stats()["dropped"]["total"]
    assert len(lines) + dropped == sum(counts)
    assert first.stats()["dropped"]["by_reason"].keys() <= {"after_shutdown"}
    # Each producer's events are in the file in the order it logged them.
    seen: dict[int, int] = {}
    for line in lines:
        record = json.loads(line)
        assert record["n"] > seen.get(record["t"], -1)
        seen[record["t"]] = record["n"]


def test_events_logged_during_a_shutdown_are_delivered_in_order_by_the_next_pipeline() -> None:
    sink = MemorySink()
    gate = threading.Event()

    class Stopper:
        """Keeps the first pipeline busy in stop() long enough for another thread to log during shutdown."""

        name = "stopper"

        async def enrich(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
            return {}

        async def stop(self) -> None:
            gate.set()
            await asyncio.sleep(0.3)

    fapilog.configure(sinks=[sink], enrichers=[Stopper()])
    log = fapilog.get_logger("s")
    log.info("before")
    during: list[int] = []

    def log_during() -> None:
        gate.wait(10)
        for i in range(100):
            log.info("during", i=i)
            during.append(i)

    thread = threading.Thread(target=log_during)
    thread.start()
    report = fapilog.shutdown(10.0)
    thread.join()
    assert report.ok
    assert [r["message"] for r in sink.records] == ["before"]
    log.info("after")  # the next pipeline takes the waiting events first, then this one
    assert fapilog.flush(10.0)
    messages = [(r["message"], r.get("i")) for r in sink.records]
    assert messages == [("before", None), *[("during", i) for i in range(100)], ("after", None)]


def test_a_caller_still_holding_a_stopped_pipelines_capture_function_reaches_the_next_pipeline() -> None:
    """An event appended to a stopped queue after the next pipeline started is delivered by it, in order."""
    sink = MemorySink()
    fapilog.configure(sinks=[sink])
    log = fapilog.get_logger("s")
    stale = logger_module._emit  # what a caller preempted inside a log call had read before the shutdown
    assert fapilog.shutdown(10.0)
    log.info("next")  # starts the next pipeline, which takes what was waiting
    stale(INFO, "s", "stale", {}, None, None)  # the preempted caller resumes and appends to the stopped queue
    log.info("after")  # that caller's next event
    assert fapilog.flush(10.0)
    assert [r["message"] for r in sink.records] == ["next", "stale", "after"]
    assert fapilog.stats()["dropped"]["total"] == 0


def test_a_caller_still_holding_the_draining_capture_function_reaches_the_next_pipeline() -> None:
    """An event handed over during a shutdown after the next pipeline took the waiting ones is delivered by it."""
    sink = MemorySink()
    gate = threading.Event()
    held: list[Any] = []

    class Stopper:
        """Holds the first pipeline in stop() while another thread reads the capture function of the drain."""

        name = "stopper"

        async def enrich(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
            return {}

        async def stop(self) -> None:
            gate.set()
            await asyncio.sleep(0.2)

    fapilog.configure(sinks=[sink], enrichers=[Stopper()])
    log = fapilog.get_logger("s")

    def read_during_shutdown() -> None:
        gate.wait(10)
        held.append(logger_module._emit)  # a caller preempted right after reading it

    thread = threading.Thread(target=read_during_shutdown)
    thread.start()
    assert fapilog.shutdown(10.0)
    thread.join()
    log.info("next")  # starts the next pipeline
    held[0](INFO, "s", "held", {}, None, None)  # the preempted caller resumes
    log.info("after")
    assert fapilog.flush(10.0)
    assert [r["message"] for r in sink.records] == ["next", "held", "after"]


def test_events_waiting_for_a_pipeline_at_exit_are_delivered(tmp_path: Path) -> None:
    import subprocess
    import sys
    import textwrap

    path = tmp_path / "exit.log"
    script = textwrap.dedent(
        f"""
        import threading, time, fapilog
        fapilog.configure(sinks=[{{"type": "file", "path": {str(path)!r}}}])
        log = fapilog.get_logger("x")
        stop = threading.Event()
        def produce():
            i = 0
            while not stop.is_set():
                log.info("e", i=i)
                i += 1
            print(i)
        t = threading.Thread(target=produce)
        t.start()
        time.sleep(0.2)
        fapilog.shutdown(10)
        stop.set()
        t.join()
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    logged = int(done.stdout.strip())
    lines = path.read_bytes().splitlines()
    # Beyond the hand-over limit events are counted, and the exit drain's pipeline reports the count.
    found = re.search(r"(\d+) event\(s\) were dropped in total \(after_shutdown=(\d+)\)", done.stderr)
    dropped = int(found.group(1)) if found else 0
    assert len(lines) + dropped == logged, done.stderr
    assert "not delivered" not in done.stderr


# -- item 11 --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call", ["shutdown", "configure"])
def test_a_plugin_calling_shutdown_or_configure_is_refused_and_the_pipeline_is_untouched(call: str) -> None:
    errors: list[BaseException] = []

    class Meddler:
        name = "meddler"

        def __init__(self) -> None:
            self.messages: list[str] = []

        async def write(self, record: Mapping[str, Any]) -> None:
            if record["message"] == "meddle":
                try:
                    if call == "shutdown":
                        fapilog.shutdown(1.0)
                    else:
                        fapilog.configure(sinks=["stderr"])
                except RuntimeError as exc:
                    errors.append(exc)
            self.messages.append(record["message"])

    sink = Meddler()
    fapilog.configure(sinks=[sink])
    log = fapilog.get_logger("m")
    log.info("meddle")
    for i in range(5000):
        log.info("e", i=i)
    assert fapilog.flush(30.0)
    assert len(errors) == 1 and "worker" in str(errors[0])
    assert fapilog.stats()["state"] == "running"
    assert len(sink.messages) == 5001
    report = fapilog.shutdown(10.0)
    assert report.ok


# -- item 13 --------------------------------------------------------------------------------------------------
def test_shutdown_holds_its_deadline_with_a_hanging_sink() -> None:
    class Hanging:
        name = "hanging"

        async def write(self, record: Mapping[str, Any]) -> None:
            await asyncio.Event().wait()

    fapilog.configure(sinks=[Hanging()])
    for i in range(10):
        fapilog.get_logger("d").info("e", i=i)
    time.sleep(0.1)
    started = time.monotonic()
    report = fapilog.shutdown(0.1)
    took = time.monotonic() - started
    assert report.timed_out and report.undelivered + report.in_flight == 10
    assert took < 0.1 + 0.5  # the issue measured 1.6 s of fixed internal waits; the grace is 50 ms


def test_a_write_still_running_at_the_deadline_is_counted_by_what_really_happened(tmp_path: Path) -> None:
    """The in-flight batch is reported as in flight, and counted as delivered once its write completes."""
    release = threading.Event()

    class SlowBatch:
        name = "slow_batch"

        def __init__(self) -> None:
            self.written = 0

        async def write_batch(self, records: list[Mapping[str, Any]]) -> None:
            await asyncio.get_running_loop().run_in_executor(None, release.wait, 10)
            self.written += len(records)

        async def write(self, record: Mapping[str, Any]) -> None:
            await self.write_batch([record])

    sink = SlowBatch()
    fapilog.configure(sinks=[sink])
    for i in range(50):
        fapilog.get_logger("d").info("e", i=i)
    deadline = time.monotonic() + 10
    while fapilog.stats()["sinks"]["slow_batch"]["in_flight"] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    report = fapilog.shutdown(0.1)
    assert report.timed_out and report.in_flight >= 1
    assert report.undelivered + report.in_flight == 50
    release.set()
    deadline = time.monotonic() + 10
    while fapilog.stats()["sinks"]["slow_batch"]["in_flight"] and time.monotonic() < deadline:
        time.sleep(0.01)
    stats = fapilog.stats()["sinks"]["slow_batch"]
    assert stats["delivered"] == sink.written == report.in_flight
    assert stats["delivered"] + stats["failed"] == 50
