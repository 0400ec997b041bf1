"""Delivery at interpreter exit and in forked children, checked in real subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest


def _run(script: str, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_script_that_exits_without_flushing_delivers_every_event(tmp_path: Path) -> None:
    """A process that logs 100k events and simply exits leaves all 100k lines in the file."""
    path = tmp_path / "exit.log"
    proc = _run(
        """
        import sys, fapilog
        fapilog.configure(sinks=[{"type": "file", "path": sys.argv[1]}])
        log = fapilog.get_logger("exit")
        for i in range(100_000):
            log.info("event", i=i)
        """,
        str(path),
    )
    assert proc.returncode == 0, proc.stderr
    lines = path.read_bytes().splitlines()
    assert len(lines) == 100_000
    assert lines[-1].endswith(b'"i":99999}')


def test_exit_drain_reports_what_it_could_not_deliver(tmp_path: Path) -> None:
    """With a sink that hangs, exit ends within exit_timeout and stderr says how many events were lost."""
    proc = _run(
        """
        import asyncio, fapilog
        class Hanging:
            name = "hanging"
            async def write(self, record):
                await asyncio.Event().wait()
        fapilog.configure(sinks=[Hanging()], exit_timeout=0.3)
        log = fapilog.get_logger("exit")
        for i in range(5):
            log.info("event", i=i)
        """
    )
    assert proc.returncode == 0
    assert "exit drain gave up" in proc.stderr and "5 event(s) not delivered" in proc.stderr


def test_lazy_default_pipeline_prints_json_to_stdout() -> None:
    """Without configure(), the first log call starts a pipeline that writes JSON lines to stdout."""
    proc = _run(
        """
        import fapilog
        fapilog.get_logger("lazy").info("hello", n=1)
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert '"message":"hello"' in proc.stdout and '"n":1' in proc.stdout


def test_environment_configures_the_lazy_pipeline() -> None:
    """FAPILOG_LEVEL and FAPILOG_SINKS apply without any configure() call."""
    env = {**os.environ, "FAPILOG_LEVEL": "warning", "FAPILOG_SINKS": '["stderr"]'}
    proc = subprocess.run(
        [sys.executable, "-c", "import fapilog\nlog = fapilog.get_logger('env')\nlog.info('no')\nlog.warning('yes')"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )
    assert proc.returncode == 0
    assert proc.stdout == ""
    assert '"message":"yes"' in proc.stderr and '"message":"no"' not in proc.stderr


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_gets_a_fresh_pipeline(tmp_path: Path) -> None:
    """A forked child's events are delivered by its own worker; the parent's are neither lost nor doubled."""
    path = tmp_path / "fork.log"
    proc = _run(
        """
        import os, sys, fapilog
        fapilog.configure(sinks=[{"type": "file", "path": sys.argv[1]}])
        log = fapilog.get_logger("fork")
        for i in range(1000):
            log.info("parent-before", i=i)
        pid = os.fork()
        if pid == 0:
            for i in range(500):
                log.info("child", i=i)
            sys.exit(0)  # normal exit: the child's atexit drain delivers
        for i in range(1000):
            log.info("parent-after", i=i)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        """,
        str(path),
    )
    assert proc.returncode == 0, proc.stderr
    import json

    counts: dict[str, int] = {}
    for line in path.read_text().splitlines():
        message = json.loads(line)["message"]
        counts[message] = counts.get(message, 0) + 1
    assert counts == {"parent-before": 1000, "child": 500, "parent-after": 1000}


def test_broken_environment_settings_never_crash_the_app() -> None:
    """Invalid FAPILOG_* values or an unknown sink are reported on stderr and events still reach stderr."""
    for env_extra in ({"FAPILOG_QUEUE__CAPACITY": "lots"}, {"FAPILOG_SINKS": '["kafka"]'}):
        env = {**os.environ, **env_extra}
        proc = subprocess.run(
            [sys.executable, "-c", "import fapilog\nfapilog.get_logger('env').warning('still logged', n=1)"],
            capture_output=True, text=True, env=env, timeout=60, check=False,
        )
        assert proc.returncode == 0, proc.stderr
        assert "fapilog:" in proc.stderr and '"message":"still logged"' in proc.stderr, env_extra
