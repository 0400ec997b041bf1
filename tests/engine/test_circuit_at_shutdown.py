"""A shutdown (or the exit) does not wait out an open circuit: the last batches go out as probes, paced by the retry
backoff and bounded by the retry budget and the shutdown's deadline, instead of being lost to ``reset_timeout``."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from tests._waiting import wait_for

import fapilog
from fapilog.plugins import PluginMetadata, RetryableSinkError

FAST = {"retry": {"initial_backoff": 0.01, "max_backoff": 0.05, "max_attempts": 20, "max_elapsed": 60.0},
        "circuit": {"failure_threshold": 3, "reset_timeout": 120.0}}


class FlakyUntil:
    """A batch sink whose backend refuses the first ``failures`` attempts (retryable), then accepts everything."""

    metadata: ClassVar[PluginMetadata] = PluginMetadata(name="flaky_until", version="1.0", kind="sink")

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts = 0
        self.written: list[int] = []

    async def write(self, record: Any) -> None:
        await self.write_batch([record])

    async def write_batch(self, records: Sequence[Any]) -> None:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise RetryableSinkError("backend restarting")
        self.written += [record["i"] for record in records]


def test_shutdown_sends_the_batches_an_open_circuit_holds() -> None:
    """With the circuit open for two minutes, shutdown(10) still delivers every event, in order, and counts none
    failed; the circuit is closed again by the probe's success."""
    sink = FlakyUntil(failures=3)
    fapilog.configure(sinks=[sink], sink_defaults=FAST)
    log = fapilog.get_logger("svc")
    for i in range(40):
        log.info("queued", i=i)
    assert wait_for(lambda: fapilog.stats()["sinks"]["flaky_until"]["circuit"] == "open", 10.0)
    report = fapilog.shutdown(10.0)
    stats = fapilog.stats()["sinks"]["flaky_until"]
    assert sink.written == list(range(40))
    assert stats["delivered"] == 40 and stats["failed"] == 0
    assert stats["circuit"] == "closed" and report.ok


def test_the_exit_drain_sends_the_batches_an_open_circuit_holds() -> None:
    """A process that exits with the circuit open delivers its events within exit_timeout (no FL-LOG-009 line)."""
    script = textwrap.dedent(f"""
        import atexit, sys, time
        sys.path.insert(0, {str(Path(__file__).parents[2])!r})
        SINK = []
        atexit.register(lambda: print("written", len(SINK[0].written), flush=True))  # first in, so it runs last
        import fapilog
        from tests.engine.test_circuit_at_shutdown import FAST, FlakyUntil
        sink = FlakyUntil(failures=3)
        SINK.append(sink)
        fapilog.configure(sinks=[sink], sink_defaults=FAST, exit_timeout=20.0)
        log = fapilog.get_logger("svc")
        for i in range(40):
            log.info("queued", i=i)
        while fapilog.stats()["sinks"]["flaky_until"]["circuit"] != "open":
            time.sleep(0.01)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "written 40" in proc.stdout, proc.stdout + proc.stderr
    assert "FL-LOG-009" not in proc.stderr
