"""``fapilog.stats()`` has the same keys before the first log call as while running and after shutdown.

Checked in a fresh interpreter (the only place nothing has started yet); a forked child, which has not
logged yet either, reports its own not-started pipeline rather than its parent's last one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

NAME_KEYED = frozenset({"sinks", "plugins", "by_reason", "errors", "processor_errors"})
"""Maps keyed by plugin, sink or reason name: their keys are data, not schema."""

SCRIPT = """
import json, os, sys
import fapilog

out = open(sys.argv[2], "w")
def dump(label):
    out.write(json.dumps({"label": label, "stats": fapilog.stats()}) + "\\n")
    out.flush()

dump("not started")
log = fapilog.get_logger("stats")
for i in range(10):
    log.info("event", i=i)
assert fapilog.flush(timeout=30.0)
dump("running")
assert fapilog.shutdown(timeout=30.0)
dump("stopped")
if hasattr(os, "fork"):
    pid = os.fork()
    if pid == 0:
        dump("child not started")
        out.close()
        os._exit(0)
    os.waitpid(pid, 0)
"""


def _schema(value: Any, key: str = "") -> Any:
    """Nested key sets; name-keyed maps count only as "a map"."""
    if isinstance(value, dict):
        if key in NAME_KEYED:
            return "map"
        return {k: _schema(v, k) for k, v in value.items()}
    return type(value).__name__ if isinstance(value, bool) else "value"


def test_stats_keys_are_the_same_before_the_first_log_call(tmp_path: Path) -> None:
    """Every key of a running pipeline's stats() exists before the first log call, with the settings' values."""
    log_path = tmp_path / "app.log"
    stats_path = tmp_path / "stats.jsonl"
    env = {
        **os.environ,
        "FAPILOG_SINKS": json.dumps([{"type": "file", "path": str(log_path)}]),
        "FAPILOG_QUEUE__CAPACITY": "777",
    }
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT), str(log_path), str(stats_path)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert len(log_path.read_text().splitlines()) == 10
    snapshots = {row["label"]: row["stats"] for row in map(json.loads, stats_path.read_text().splitlines())}

    before, running = snapshots["not started"], snapshots["running"]
    assert before["state"] == "not started" and running["state"] == "running"
    assert before["queue"]["capacity"] == running["queue"]["capacity"] == 777
    assert before["submitted"] == before["processed"] == before["queue"]["depth"] == 0
    assert before["sinks"] == {} and before["plugins"] == {}
    for label, snapshot in snapshots.items():
        assert _schema(snapshot) == _schema(running), label
    assert running["sinks"]["file"]["delivered"] == 10

    if "child not started" in snapshots:
        child = snapshots["child not started"]
        assert child["state"] == "not started" and child["submitted"] == 0 and child["sinks"] == {}
