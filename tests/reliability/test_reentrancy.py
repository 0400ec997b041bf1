"""Plugin code that logs through fapilog cannot loop the pipeline (reliability item 15).

The worker marks the context it runs plugin code in; ``asyncio.to_thread`` and executor calls copy it, and
a sink's own thread starts from it. An event logged there is written to stderr (rate-limited) and counted as
``reentrant`` instead of being fed back in.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from typing import Any

import pytest

import fapilog
from fapilog.builtins.sinks.memory import MemorySink


class _LoggingSink:
    """A sink that logs about every write, the way a client library's debug logging would."""

    def __init__(self, *, on_loop: bool) -> None:
        self.written: list[str] = []
        self.runs_on_worker_loop = on_loop
        self.name = f"chatty_{'loop' if on_loop else 'thread'}"  # stderr lines are rate-limited per logger

    async def write(self, record: Mapping[str, Any]) -> None:
        fapilog.get_logger(self.name).info("wrote a record", token="S3CR-reentrant")
        self.written.append(record["message"])


@pytest.mark.parametrize("on_loop", [True, False], ids=["worker-loop", "own-thread"])
def test_a_sink_that_logs_gets_each_event_once_and_its_own_events_are_counted(
    on_loop: bool, capfd: pytest.CaptureFixture[str]
) -> None:
    sink = _LoggingSink(on_loop=on_loop)
    fapilog.configure(sinks=[sink])
    for i in range(50):
        fapilog.get_logger("app").info("event", i=i)
    assert fapilog.flush(10.0)
    assert fapilog.flush(10.0)  # a loop would keep producing events: a second flush still finds only these
    assert sink.written == ["event"] * 50
    stats = fapilog.stats()
    assert stats["dropped"]["by_reason"]["reentrant"] == 50
    assert stats["sinks"][sink.name]["delivered"] == 50
    err = capfd.readouterr().err
    assert f"event logged by plugin code (logger {sink.name!r})" in err
    assert "S3CR-reentrant" not in err and "wrote a record" not in err  # never an unredacted payload


def test_an_enricher_that_logs_does_not_loop() -> None:
    class LoggingEnricher:
        name = "chatty_enricher"

        async def enrich(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
            fapilog.get_logger("enricher").warning("enriching")
            return {"enriched": True}

    sink = MemorySink()
    fapilog.configure(sinks=[sink], enrichers=[LoggingEnricher()])
    for i in range(20):
        fapilog.get_logger("app").info("event", i=i)
    assert fapilog.flush(10.0)
    assert [r["message"] for r in sink.records] == ["event"] * 20
    assert all(r["enriched"] for r in sink.records)
    assert fapilog.stats()["dropped"]["by_reason"]["reentrant"] == 20


def test_stdlib_logging_from_a_sinks_to_thread_io_does_not_loop() -> None:
    """As urllib3 does: the sink's I/O runs in asyncio.to_thread and logs through stdlib, which is captured."""
    stdlib = logging.getLogger("urllib3.connectionpool")

    class ThreadedSink:
        name = "threaded"
        runs_on_worker_loop = True

        def __init__(self) -> None:
            self.written = 0

        def _io(self) -> None:
            stdlib.warning("Retrying connection to %s", "intake.example")
            self.written += 1

        async def write(self, record: Mapping[str, Any]) -> None:
            await asyncio.to_thread(self._io)

    sink = ThreadedSink()
    fapilog.configure(sinks=[sink])
    fapilog.capture_stdlib()
    try:
        for i in range(30):
            fapilog.get_logger("app").info("event", i=i)
        assert fapilog.flush(10.0)
        assert fapilog.flush(10.0)
        assert sink.written == 30
        assert fapilog.stats()["dropped"]["by_reason"]["reentrant"] == 30
        stdlib.warning("from the application")  # the same stdlib logger outside plugin code is delivered
        assert fapilog.flush(10.0)
        assert sink.written == 31
    finally:
        fapilog.release_stdlib()


def test_a_logging_sink_in_a_real_process_ends_with_bounded_output() -> None:
    """End to end: a sink that logs on every write, 1,000 events, then exit: 1,000 lines, not an endless stream."""
    script = textwrap.dedent(
        """
        import fapilog

        class Chatty:
            name = "chatty"
            lines = 0

            async def write(self, record):
                fapilog.get_logger("chatty").info("wrote")
                Chatty.lines += 1

        fapilog.configure(sinks=[Chatty()])
        for i in range(1000):
            fapilog.get_logger("app").info("event", i=i)
        assert fapilog.flush(30.0)
        print(Chatty.lines, fapilog.stats()["dropped"]["by_reason"]["reentrant"])
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1000", "1000"]
