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
