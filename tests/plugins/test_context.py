"""Bound context across await, tasks and threads."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import fapilog
from fapilog.builtins.sinks.memory import MemorySink


def _by_message(sink: MemorySink) -> dict[str, dict[str, object]]:
    fapilog.flush(5.0)
    return {r["message"]: r for r in sink.records}


def test_scoped_binds_and_restores(memory: MemorySink) -> None:
    """Fields bound by scoped() are on events inside the block and gone after it."""
    log = fapilog.get_logger("c")
    with fapilog.scoped(request_id="r-1"):
        log.info("inside")
    log.info("outside")
    got = _by_message(memory)
    assert got["inside"]["request_id"] == "r-1"
    assert "request_id" not in got["outside"]


def test_bind_unbind_clear(memory: MemorySink) -> None:
    """bind adds, unbind removes one name, clear_context removes all."""
    log = fapilog.get_logger("c")
    fapilog.bind(a=1, b=2)
    log.info("both")
    fapilog.unbind("a")
    log.info("only b")
    fapilog.clear_context()
    log.info("none")
    got = _by_message(memory)
    assert (got["both"]["a"], got["both"]["b"]) == (1, 2)
    assert "a" not in got["only b"] and got["only b"]["b"] == 2
    assert "b" not in got["none"]


def test_context_follows_await_and_tasks(memory: MemorySink) -> None:
    """Each asyncio task keeps its own request_id across awaits, even interleaved."""
    log = fapilog.get_logger("c")

    async def handle(request_id: str) -> None:
        with fapilog.scoped(request_id=request_id):
            await asyncio.sleep(0)
            log.info(f"before {request_id}")
            await asyncio.sleep(0)
            log.info(f"after {request_id}")

    async def main() -> None:
        await asyncio.gather(*(handle(f"r{i}") for i in range(5)))

    asyncio.run(main())
    got = _by_message(memory)
    for i in range(5):
        assert got[f"before r{i}"]["request_id"] == f"r{i}"
        assert got[f"after r{i}"]["request_id"] == f"r{i}"


def test_context_wrap_carries_context_into_threads_and_executors(memory: MemorySink) -> None:
    """A plain thread does not inherit the context; context_wrap() carries it in."""
    log = fapilog.get_logger("c")
    with fapilog.scoped(job="j-9"):
        plain = threading.Thread(target=lambda: log.info("plain thread"))
        wrapped = threading.Thread(target=fapilog.context_wrap(lambda: log.info("wrapped thread")))
        for t in (plain, wrapped):
            t.start()
            t.join()
        with ThreadPoolExecutor(1) as pool:
            pool.submit(fapilog.context_wrap(log.info), "executor").result()
    got = _by_message(memory)
    assert "job" not in got["plain thread"]
    assert got["wrapped thread"]["job"] == "j-9"
    assert got["executor"]["job"] == "j-9"


def test_context_is_captured_at_call_time(memory: MemorySink) -> None:
    """Changing the context after a call does not change the event already logged."""
    log = fapilog.get_logger("c")
    fapilog.bind(step="one")
    log.info("first")
    fapilog.bind(step="two")
    got = _by_message(memory)
    assert got["first"]["step"] == "one"
