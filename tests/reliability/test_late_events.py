"""Events logged after the exit drain are built and redacted like every other event: a secret never leaks.

An ``atexit`` function registered before fapilog is imported runs after fapilog's exit drain, so what it
logs is "late": no pipeline delivers it any more. It is written to stderr as one JSON line marked
``"late": true``, with the fields the worker would have written and through the same redactors. Each test
runs a real interpreter whose stderr goes to a real file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

SECRET = "S3CR-late-pw"
NORMAL_SECRET = "S3CR-normal-pw"

PRELUDE = """
import atexit, asyncio, sys

def log_late():
    import fapilog
    log = fapilog.get_logger("late").bind(user="ada")
    with fapilog.scoped(request_id="r-1"):
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("late-event", password="S3CR-late-pw", late_marker=1)

atexit.register(log_late)  # before fapilog registers its drain: runs after it
import fapilog
"""


def _run(tmp_path: Path, body: str, env: dict[str, str] | None = None) -> tuple[list[str], list[str], str]:
    """Run PRELUDE + body; returns the log file's lines, stderr's lines and the whole stderr text."""
    log_path = tmp_path / "app.log"
    err_path = tmp_path / "stderr.txt"
    with err_path.open("w") as err:
        proc = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(PRELUDE) + textwrap.dedent(body), str(log_path)],
            stdout=subprocess.DEVNULL, stderr=err, env={**os.environ, **(env or {})}, timeout=120, check=False,
        )
    text = err_path.read_text()
    assert proc.returncode == 0, text
    lines = log_path.read_text().splitlines() if log_path.exists() else []
    return lines, text.splitlines(), text


def _late_lines(stderr_lines: list[str]) -> list[dict[str, Any]]:
    records = [json.loads(line) for line in stderr_lines if line.startswith("{")]
    assert all(record.get("late") is True for record in records), records
    return records


def test_late_event_is_redacted_and_keeps_every_field(tmp_path: Path) -> None:
    """A late event goes through the configured field_mask and keeps timestamp, context, bound fields and
    the structured exception."""
    lines, stderr, text = _run(tmp_path, """
        fapilog.configure(sinks=[{"type": "file", "path": sys.argv[1]}],
                          redactors=[{"type": "field_mask", "fields": ["password"]}])
        fapilog.get_logger("late").info("normal", password="S3CR-normal-pw")
    """)
    assert len(lines) == 1
    assert json.loads(lines[0])["password"] == "***"
    (late,) = _late_lines(stderr)
    assert late["password"] == "***"
    assert late["message"] == "late-event" and late["level"] == "ERROR" and late["logger"] == "late"
    assert late["timestamp"].endswith("Z") and late["seq"] == 1  # numbered after the drained pipeline's
    assert late["request_id"] == "r-1" and late["user"] == "ada" and late["late_marker"] == 1
    assert late["exception"]["type"] == "ValueError" and late["exception"]["message"] == "boom"
    assert SECRET not in text and NORMAL_SECRET not in text and NORMAL_SECRET not in lines[0]


def test_late_event_without_any_earlier_pipeline_is_redacted(tmp_path: Path) -> None:
    """When nothing was logged before exit, the configured redactors are built for the late event."""
    lines, stderr, text = _run(tmp_path, """
        fapilog.configure(sinks=[{"type": "file", "path": sys.argv[1]}],
                          redactors=[{"type": "field_mask", "fields": ["password"]}])
    """)
    assert lines == []
    (late,) = _late_lines(stderr)
    assert late["password"] == "***" and late["seq"] == 0
    assert SECRET not in text


def test_late_event_after_shutdown_uses_the_stopped_pipelines_redactors(tmp_path: Path) -> None:
    """After an explicit shutdown(), a late event goes through the redactors of the pipeline it stopped."""
    lines, stderr, text = _run(tmp_path, """
        fapilog.configure(sinks=[{"type": "file", "path": sys.argv[1]}],
                          redactors=[{"type": "field_mask", "fields": ["password"]}])
        fapilog.get_logger("late").info("normal", password="S3CR-normal-pw")
        assert fapilog.shutdown(timeout=30.0)
    """)
    assert len(lines) == 1
    (late,) = _late_lines(stderr)
    assert late["password"] == "***" and late["seq"] == 1
    assert SECRET not in text


def test_late_event_with_default_settings_is_redacted_like_any_other(tmp_path: Path) -> None:
    """With no configure() at all, a late event gets exactly the redaction the default pipeline applies."""
    lines, stderr, text = _run(tmp_path, """
        fapilog.get_logger("late").info("normal", password="S3CR-normal-pw")
    """, env={"FAPILOG_SINKS": json.dumps([{"type": "file", "path": str(tmp_path / "app.log")}])})
    assert len(lines) == 1
    normal = json.loads(lines[0])
    (late,) = _late_lines(stderr)
    masked_normally = normal["password"] != NORMAL_SECRET
    assert (late["password"] != SECRET) is masked_normally
    if masked_normally:
        assert late["password"] == normal["password"] and SECRET not in text


def test_late_event_whose_redactor_needs_an_event_loop_is_masked(tmp_path: Path) -> None:
    """A redactor that would have to await something cannot run after the drain: the event is masked whole."""
    lines, stderr, text = _run(tmp_path, """
        class Waiting:
            name = "waiting"

            async def redact(self, record):
                await asyncio.sleep(0)  # suspends: needs a running loop
                return {k: ("***" if k == "password" else v) for k, v in record.items()}

        fapilog.configure(sinks=[{"type": "file", "path": sys.argv[1]}], redactors=[Waiting()])
        fapilog.get_logger("late").info("normal", password="S3CR-normal-pw")
    """)
    assert len(lines) == 1 and json.loads(lines[0])["password"] == "***"
    (late,) = _late_lines(stderr)
    assert late["message"] == "[REDACTION_FAILED]" and late["redaction_failed"] == "waiting"
    assert set(late) == {"timestamp", "level", "logger", "seq", "message", "redaction_failed", "late"}
    assert SECRET not in text


def test_late_event_whose_redactor_raises_is_masked(tmp_path: Path) -> None:
    """A redactor raising on a late event masks it, as in the pipeline."""
    lines, stderr, text = _run(tmp_path, """
        class Raising:
            name = "raising"
            armed = False

            async def redact(self, record):
                if Raising.armed:
                    raise RuntimeError("no")
                return {k: ("***" if k == "password" else v) for k, v in record.items()}

        fapilog.configure(sinks=[{"type": "file", "path": sys.argv[1]}], redactors=[Raising()])
        fapilog.get_logger("late").info("normal", password="S3CR-normal-pw")
        assert fapilog.flush(timeout=30.0)
        Raising.armed = True
    """)
    assert len(lines) == 1
    (late,) = _late_lines(stderr)
    assert late["message"] == "[REDACTION_FAILED]" and late["redaction_failed"] == "raising"
    assert SECRET not in text


def test_late_event_logged_by_a_redactor_is_masked_not_looped(tmp_path: Path) -> None:
    """A redactor that logs while redacting a late event: its own event is masked, the late one redacted."""
    lines, stderr, text = _run(tmp_path, """
        class Chatty:
            name = "chatty"

            async def redact(self, record):
                fapilog.get_logger("chatty").info("redacting", token="S3CR-late-pw")
                return {k: ("***" if k in ("password", "token") else v) for k, v in record.items()}

        fapilog.configure(sinks=[{"type": "file", "path": sys.argv[1]}], redactors=[Chatty()])
    """)
    assert lines == []
    inner, outer = _late_lines(stderr)
    assert inner["logger"] == "chatty" and inner["redaction_failed"] == "<reentrant>"
    assert outer["message"] == "late-event" and outer["password"] == "***"
    assert SECRET not in text
