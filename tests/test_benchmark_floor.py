"""The floor benchmark still runs: its child writes every event's line and passes the benchmark's plain event."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_the_floor_child_writes_one_line_per_event_and_reports_each_part() -> None:
    """``floor.py --child`` checks its own output (a line per event, the gate passed) and reports call and worker."""
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "floor.py"), "--child", "--events", "3000"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(report) == {"call_ns", "worker_ns", "total_ns"}
    assert report["call_ns"] > 0 and report["worker_ns"] > 0
    assert report["total_ns"] == pytest.approx(report["call_ns"] + report["worker_ns"])
