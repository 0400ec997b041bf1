"""A pipeline shut down before its worker built it is delivered by the shutdown itself, with no event loop.

Short scripts run in real child interpreters (what a process imported, its exit and its streams can only be
observed there); the in-process tests lengthen the start delay so the shutdown always comes first.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from typing import Any

import pytest
from tests._direct_delivery import ENV, child, direct_and_built, lazy_pipeline, without_timestamps

import fapilog
from fapilog._engine import state
from fapilog.builtins.redactors.secrets import SecretsRedactor

_EVENTS = """
import datetime, decimal, fapilog

class Odd:  # a value only the serializer's fallback writes (its repr), the same in every process
    def __repr__(self) -> str:
        return "<Odd>"

log = fapilog.get_logger("short").bind(request_id="r-1")
fapilog.bind(tenant="acme")
log.info("login", user_id=7, password="hunter2", ratio=0.5, flag=True, nothing=None, text="naïve ✓ \\u2028 end",
         nested={"token": "t0ps3cret", "items": [1, "two", {"api_key": "k"}]}, when=datetime.date(2026, 12, 7),
         price=decimal.Decimal("1.10"), url="https://bob:pw@example.com/x", odd=Odd())
log.warning("plain", n=1)
try:
    1 / 0
except ZeroDivisionError:
    log.exception("failed", step=3)
"""

_MODULES_AT_EXIT = """
import atexit, json, sys

def report():  # registered before fapilog's drain, so it runs after it (atexit runs in reverse order)
    watched = ("asyncio", "fapilog._engine.worker", "fapilog._engine.delivery", "fapilog._engine.pipeline")
    sys.stderr.write("MODULES " + json.dumps(sorted(m for m in watched if m in sys.modules)) + "\\n")

atexit.register(report)
"""


def _without_time(line: str) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(line)  # one JSON line (split on "\n" only: U+2028 is inside a value)
    record.pop("timestamp")
    return record


def _lines(out: str) -> list[str]:
    return out.split("\n")[:-1]


def _modules(stderr: str) -> list[str]:
    [line] = [line for line in stderr.splitlines() if line.startswith("MODULES ")]
    found: list[str] = json.loads(line.removeprefix("MODULES "))
    return found


def test_a_short_script_is_delivered_at_exit_without_an_event_loop() -> None:
    """The default pipeline's events, logged just before exit, reach stdout redacted, numbered and in order,
    and neither asyncio nor the worker, the sink runners or the stage chain was ever imported."""
    proc = child(_MODULES_AT_EXIT + _EVENTS)
    assert proc.returncode == 0, proc.stderr
    lines = [_without_time(line) for line in _lines(proc.stdout)]
    assert [(r["message"], r["seq"]) for r in lines] == [("login", 0), ("plain", 1), ("failed", 2)]
    assert lines[0]["password"] == "***" and lines[0]["nested"]["token"] == "***"
    assert lines[0]["nested"]["items"][2] == {"api_key": "***"} and "pw@" not in lines[0]["url"]
    assert lines[2]["exception"]["type"] == "ZeroDivisionError" and lines[2]["step"] == 3
    assert _modules(proc.stderr) == []
    assert "fapilog:" not in proc.stderr  # nothing undelivered, nothing dropped


def test_the_lines_are_the_ones_the_worker_writes() -> None:
    """Byte for byte (the timestamps aside) what the same events become through a built pipeline: the flush
    after them builds the worker, which delivers them the usual way."""
    direct, built = direct_and_built(_MODULES_AT_EXIT + _EVENTS)
    assert "asyncio" in _modules(built.stderr)  # the comparison is with the worker's path indeed

    def bytes_but_time(out: str) -> list[str]:
        return [re.sub(r'^\{"timestamp":"[^"]+"', "", line) for line in _lines(out)]

    assert bytes_but_time(direct.stdout) == bytes_but_time(built.stdout)
    assert len(_lines(direct.stdout)) == 3


def test_the_console_format_is_written_as_the_sink_writes_it() -> None:
    """``format="console"`` (a terminal's default) is delivered without a worker too, line for line as the
    stream sink formats it."""
    env = {**ENV, "FAPILOG_FORMAT": "console"}
    direct, built = direct_and_built(_MODULES_AT_EXIT + _EVENTS, env=env)
    assert _modules(direct.stderr) == []
    shown = without_timestamps(direct.stdout)
    assert shown.splitlines() == without_timestamps(built.stdout).splitlines()
    assert "hunter2" not in shown and "ZeroDivisionError: division by zero" in shown


def test_other_plugins_still_build_the_worker_at_exit(tmp_path: Any) -> None:
    """A pipeline with any plugin the shutdown cannot run itself (a file sink, an enricher, a sink with
    delivery options) is built and delivered by its worker at exit, as before."""
    path = tmp_path / "out.log"
    cases = [
        {"FAPILOG_SINKS": json.dumps([{"type": "file", "path": str(path)}])},
        {"FAPILOG_ENRICHERS": '["runtime"]'},
        {"FAPILOG_SINKS": '[{"type": "stdout", "delivery": {"batch_size": 10}}]'},
    ]
    for extra in cases:
        proc = child(_MODULES_AT_EXIT + "import fapilog\nfapilog.get_logger('x').info('hi', password='p')\n",
                      env={**ENV, **extra})
        assert proc.returncode == 0, proc.stderr
        assert "asyncio" in _modules(proc.stderr), extra
        out = path.read_text() if "file" in extra.get("FAPILOG_SINKS", "") else proc.stdout
        [line] = out.splitlines()
        assert json.loads(line)["message"] == "hi" and json.loads(line)["password"] == "***", extra


def test_a_stream_nobody_reads_ends_the_process_within_exit_timeout() -> None:
    """stdout a full pipe that is never read: the writes wait only until exit_timeout, and stderr says how many
    events were not delivered (nothing is written on a thread that would outlive the process)."""
    read_end, write_end = os.pipe()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", "import fapilog\nlog = fapilog.get_logger('x')\n"
             "for i in range(3000): log.info('padding the pipe until it is full', i=i, text='x' * 40)\n"],
            stdout=write_end, stderr=subprocess.PIPE, text=True, env={**ENV, "FAPILOG_EXIT_TIMEOUT": "0.5"},
        )
        os.close(write_end)
        _, err = proc.communicate(timeout=60)  # reads stderr only: stdout stays full
    finally:
        os.close(read_end)
    assert proc.returncode == 0, err
    assert "exit drain gave up" in err and "not delivered" in err and "[FL-LOG-009]" in err
    lost = int(err.split(" event(s) not delivered")[0].rsplit(" ", 1)[1])
    assert 0 < lost < 3000  # the pipe took what it could hold, and the rest is counted


def test_a_broken_stdout_is_counted_and_reported_never_raised() -> None:
    """The reader of stdout is gone: the write fails, the events are counted as failed with the error's name,
    a summary line says so on stderr, and the process exits normally."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys, fapilog\nsys.stdin.read()\nfapilog.get_logger('x').info('lost', n=1)\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
    )
    assert proc.stdout is not None and proc.stdin is not None and proc.stderr is not None
    proc.stdout.close()  # the reader goes away before anything is written
    proc.stdin.close()
    err = proc.stderr.read()
    proc.wait(timeout=60)
    proc.stderr.close()
    assert "sink 'stdout' could not deliver 1 event(s) (BrokenPipeError)" in err and "[FL-LOG-005]" in err


def test_late_events_go_on_numbering_and_redacting_after_a_direct_delivery() -> None:
    """An event logged by an atexit function that runs after the drain continues the delivered events' seq,
    goes through the same redactors, and is written to stderr marked late."""
    code = """
        import atexit
        atexit.register(lambda: log.warning("after the drain", password="p"))  # before the drain's: runs after it
        import fapilog
        log = fapilog.get_logger("late")
        log.info("first")
        log.info("second")
    """
    proc = child(code)
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(line)["seq"] for line in proc.stdout.splitlines()] == [0, 1]
    [late] = [json.loads(line) for line in proc.stderr.splitlines() if line.startswith("{")]
    assert (late["message"], late["seq"], late["password"], late["late"]) == ("after the drain", 2, "***", True)


def test_a_child_forked_before_the_build_and_its_parent_each_deliver_their_own() -> None:
    """Fork right after the first log call, before any worker was built: the parent's event is written once
    (by the parent), the child's by the child."""
    code = """
        import os, sys, fapilog
        log = fapilog.get_logger("fork")
        log.info("parent-before")
        pid = os.fork()
        if pid == 0:
            log.info("child")
            sys.stdout.flush()
            sys.exit(0)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        log.info("parent-after")
    """
    proc = child(code)
    assert proc.returncode == 0, proc.stderr
    messages = sorted(json.loads(line)["message"] for line in proc.stdout.splitlines())
    assert messages == ["child", "parent-after", "parent-before"]


@pytest.mark.usefixtures("long_delay")
def test_shutdown_before_the_build_reports_and_counts_what_it_delivered(capfd: pytest.CaptureFixture[str]) -> None:
    """stats() after such a shutdown holds the same identities as after a worker's: every event processed and
    delivered by its sink, and no worker was ever built."""
    lazy_pipeline(sinks=["stdout"])
    log = fapilog.get_logger("inproc")
    for i in range(5):
        log.info("event", i=i, secret="s")
    runtime = state._runtime
    assert runtime is not None
    report = fapilog.shutdown(timeout=5.0)
    assert report.ok and report.undelivered == 0 and not report.timed_out
    assert runtime.worker is None and runtime.direct is not None
    stats = runtime.stats()
    assert stats["processed"] == stats["submitted"] == 5
    assert stats["sinks"]["stdout"]["delivered"] == 5 and stats["sinks"]["stdout"]["failed"] == 0
    assert set(stats["plugins"]) == {"secrets", "stdout"}
    lines = [json.loads(line) for line in capfd.readouterr().out.splitlines()]
    assert [(r["i"], r["secret"]) for r in lines] == [(i, "***") for i in range(5)]


@pytest.mark.usefixtures("long_delay")
def test_a_flush_ends_the_start_delay(capfd: pytest.CaptureFixture[str]) -> None:
    """flush() needs the worker: it builds the pipeline at once instead of waiting out the delay."""
    lazy_pipeline(sinks=["stdout"])
    fapilog.get_logger("inproc").info("flushed")
    started = time.monotonic()
    result = fapilog.flush(timeout=30.0)
    assert result.ok and time.monotonic() - started < 30.0  # not the 60 s delay: never a timing assertion
    runtime = state._runtime
    assert runtime is not None and runtime.worker is not None
    assert json.loads(capfd.readouterr().out)["message"] == "flushed"


@pytest.mark.usefixtures("long_delay")
def test_a_full_queue_ends_the_start_delay(capfd: pytest.CaptureFixture[str]) -> None:
    """A burst that fills the queue before the build builds the pipeline, and the policy (wait) loses nothing."""
    fapilog.configure(sinks=["stdout"], queue={"capacity": 16, "policy": "wait", "wait_timeout": 30.0})
    fapilog.shutdown(timeout=5.0)
    log = fapilog.get_logger("inproc")
    for i in range(200):
        log.info("burst", i=i)
    assert fapilog.flush(timeout=30.0).ok
    assert [json.loads(line)["i"] for line in capfd.readouterr().out.splitlines()] == list(range(200))


def test_without_a_shutdown_the_worker_builds_itself_after_the_delay(capfd: pytest.CaptureFixture[str]) -> None:
    """A service that logs and runs on gets its events without any flush: the delay only postpones the build."""
    lazy_pipeline(sinks=["stdout"])
    fapilog.get_logger("inproc").info("on its own")
    deadline = time.monotonic() + 30.0
    out = ""
    while '"on its own"' not in out and time.monotonic() < deadline:
        time.sleep(0.01)
        out += capfd.readouterr().out
    assert json.loads(out)["message"] == "on its own"


@pytest.mark.usefixtures("long_delay")
def test_a_redactor_that_fails_leaves_the_events_to_the_worker(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """A redactor that raises on the shutdown's path: nothing is written there, the worker is built and handles
    the failure as it always does (the event is masked, never leaked)."""
    calls: list[int] = []

    async def failing(self: SecretsRedactor, records: list[Any]) -> list[Any]:
        calls.append(len(records))
        raise RuntimeError("broken redactor")

    monkeypatch.setattr(SecretsRedactor, "redact_batch", failing)
    lazy_pipeline(sinks=["stdout"])
    fapilog.get_logger("inproc").info("masked", password="hunter2")
    runtime = state._runtime
    assert runtime is not None
    fapilog.shutdown(timeout=10.0)
    assert runtime.direct is None and runtime.worker is not None and calls  # tried here first, then the worker
    out = capfd.readouterr().out
    assert "hunter2" not in out and json.loads(out)["redaction_failed"] == "secrets"
