"""multiprocessing children deliver every event they log, with every start method this platform has.

Fork and forkserver children end with ``os._exit()``, so ``atexit`` never runs in them; the drain is hooked
into the end of their bootstrap instead. Each test runs a real script (a file, so that spawn and forkserver
children can import its functions) that starts real processes, and counts the lines in the real file all of
them append to.
"""

from __future__ import annotations

import collections
import json
import multiprocessing
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

START_METHODS = multiprocessing.get_all_start_methods()
EVENTS = 2000
TASKS = 4

SCRIPT = """
import asyncio, concurrent.futures, multiprocessing, sys
import fapilog

EVENTS = 2000


def work(tag):
    log = fapilog.get_logger("child")
    for i in range(EVENTS):
        log.info("child", tag=tag, i=i)
    return tag


def work_then_flush(tag):
    work(tag)
    assert fapilog.flush(timeout=60.0)
    return tag


class Hanging:
    name = "hanging"

    async def write(self, record):
        await asyncio.Event().wait()


def log_to_a_hanging_sink(tag):
    fapilog.configure(sinks=[Hanging()], exit_timeout=0.3)
    for i in range(5):
        fapilog.get_logger("child").info("lost", i=i)


if __name__ == "__main__":
    path, mode, method = sys.argv[1:4]
    ctx = multiprocessing.get_context(method)
    # Fork children inherit these settings; spawn and forkserver children read the same FAPILOG_SINKS.
    fapilog.configure(sinks=[{"type": "file", "path": path}])
    log = fapilog.get_logger("parent")
    log.info("parent-before")
    tags = [f"task-{n}" for n in range(4)]
    if mode == "process":
        child = ctx.Process(target=work, args=("process",))
        child.start()
        child.join(120)
        assert child.exitcode == 0, child.exitcode
    elif mode == "hanging-sink":
        child = ctx.Process(target=log_to_a_hanging_sink, args=("hanging",))
        child.start()
        child.join(120)
        assert child.exitcode == 0, child.exitcode
    elif mode == "pool-close-join":
        pool = ctx.Pool(2)
        assert pool.map(work, tags) == tags
        pool.close()
        pool.join()
    elif mode == "pool-maxtasksperchild":
        pool = ctx.Pool(2, maxtasksperchild=1)
        assert pool.map(work, tags) == tags
        pool.close()
        pool.join()
    elif mode == "pool-terminate-after-flush":
        with ctx.Pool(2) as pool:  # __exit__ calls terminate(): SIGTERM to every worker
            assert pool.map(work_then_flush, tags) == tags
    elif mode == "process-pool-executor":
        with concurrent.futures.ProcessPoolExecutor(2, mp_context=ctx) as executor:
            assert list(executor.map(work, tags)) == tags
    log.info("parent-after")
"""


def _run(tmp_path: Path, mode: str, method: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    script = tmp_path / "app.py"
    script.write_text(textwrap.dedent(SCRIPT))
    path = tmp_path / "app.log"
    env = {**os.environ, "FAPILOG_SINKS": json.dumps([{"type": "file", "path": str(path)}])}
    proc = subprocess.run(
        [sys.executable, str(script), str(path), mode, method],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )
    return proc, path


def _counts(path: Path) -> dict[tuple[str, str], int]:
    """(message, tag) -> number of lines; every line must be one whole JSON record."""
    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    for line in path.read_text().splitlines():
        record = json.loads(line)
        counts[(record["message"], record.get("tag", ""))] += 1
    return dict(counts)


def _expected(tags: list[str]) -> dict[tuple[str, str], int]:
    return {("parent-before", ""): 1, ("parent-after", ""): 1, **{("child", tag): EVENTS for tag in tags}}


TASK_TAGS = [f"task-{n}" for n in range(TASKS)]


WAYS_TO_END = {
    # mode -> the tags whose events must all be there
    "process": ["process"],  # a Process that logs 2,000 events and returns
    "pool-close-join": TASK_TAGS,  # Pool workers stopped by close() and join()
    "pool-maxtasksperchild": TASK_TAGS,  # each worker ends after one task, replaced from a thread
    "process-pool-executor": TASK_TAGS,  # ProcessPoolExecutor workers, shut down by the with block
    # `with Pool()` terminates its workers (SIGTERM, no Python code runs): a task's flush() keeps its events
    "pool-terminate-after-flush": TASK_TAGS,
}


@pytest.mark.parametrize("mode", list(WAYS_TO_END))
@pytest.mark.parametrize("method", START_METHODS)
def test_child_processes_deliver_every_event_however_they_end(tmp_path: Path, method: str, mode: str) -> None:
    """Every way a multiprocessing child ends, with every start method: every event of every task is there."""
    proc, path = _run(tmp_path, mode, method)
    assert proc.returncode == 0, proc.stderr
    assert _counts(path) == _expected(WAYS_TO_END[mode])


@pytest.mark.parametrize("method", START_METHODS)
def test_child_exit_drain_runs_once_within_exit_timeout(tmp_path: Path, method: str) -> None:
    """A child whose sink hangs ends anyway, and reports its undelivered events exactly once."""
    proc, path = _run(tmp_path, "hanging-sink", method)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("exit drain gave up") == 1, proc.stderr
    assert "5 event(s) not delivered" in proc.stderr
    assert _counts(path) == {("parent-before", ""): 1, ("parent-after", ""): 1}


def test_main_process_still_drains_after_its_threads_end(tmp_path: Path) -> None:
    """In a plain process, a non-daemon thread logging after the main thread finished is still delivered."""
    path = tmp_path / "threads.log"
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(
            """
            import sys, threading, time
            import fapilog

            fapilog.configure(sinks=[{"type": "file", "path": sys.argv[1]}])
            log = fapilog.get_logger("thread")

            def late_worker():
                while threading.main_thread().is_alive():  # until threading's shutdown hooks have run
                    time.sleep(0.01)
                for i in range(1000):
                    log.info("after-main", i=i)

            threading.Thread(target=late_worker).start()
            """
        ), str(path)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert '"late":true' not in proc.stderr
    assert len(path.read_text().splitlines()) == 1000
