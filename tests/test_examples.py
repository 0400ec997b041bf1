"""The examples in examples/ run and do what their docstrings say."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_quickstart_runs_and_delivers_every_event() -> None:
    """examples/quickstart.py exits 0 and reports as many file lines as events submitted."""
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "quickstart.py")], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "flush ok=True; 4 submitted, 4 lines" in proc.stdout


def test_network_sink_example_gets_retries_and_partial_rejections_from_the_core() -> None:
    """examples/network_sink.py delivers 9 events in order after a 503, with one rejected by the collector."""
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "network_sink.py")], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "collector stored 9 events in order: True" in proc.stdout
    assert "delivered=9 rejected={'bad_kind': 1} retried=1 circuit=closed" in proc.stdout
