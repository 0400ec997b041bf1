"""`fapilog plugin new audit` as the stories write it: no --kind, asked on a terminal, a clear error without one."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from fapilog.cli.scaffold import KINDS

FAPILOG = [sys.executable, "-m", "fapilog"]


def _on_a_terminal(args: list[str], answer: bytes, cwd: Path) -> tuple[int, str]:
    """Run the CLI with a real pseudo-terminal as stdin/stdout, type ``answer`` at the prompt."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([*FAPILOG, *args], stdin=follower, stdout=follower, stderr=follower, cwd=cwd)
    os.close(follower)
    output = b""
    answered = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
            if not answered and b"Kind [" in output:
                os.write(leader, answer)
                answered = True
        elif proc.poll() is not None:
            break
    os.close(leader)
    return proc.wait(timeout=60), output.decode(errors="replace")


def test_without_a_terminal_the_error_lists_the_kinds_and_the_flag(tmp_path: Path) -> None:
    """`fapilog plugin new audit` in a script exits 2, naming every kind and how to pass one."""
    proc = subprocess.run(
        [*FAPILOG, "plugin", "new", "audit"], cwd=tmp_path, stdin=subprocess.DEVNULL, capture_output=True,
        text=True, timeout=60, check=False,
    )
    assert proc.returncode == 2
    error, hint = proc.stderr.splitlines()
    assert error.startswith("fapilog: error: ") and all(kind in error for kind in KINDS)
    assert "--kind" in hint and "fapilog plugin new audit --kind sink" in hint
    assert not (tmp_path / "fapilog-audit").exists()


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_on_a_terminal_the_kind_is_asked_for(tmp_path: Path) -> None:
    """On a terminal the prompt lists the kinds; answering `processor` scaffolds a processor project."""
    code, output = _on_a_terminal(["plugin", "new", "audit"], b"processor\n", tmp_path)
    assert code == 0, output
    assert all(kind in output for kind in KINDS)
    assert "Created fapilog-audit, a processor plugin project" in output
    project = tomllib.loads((tmp_path / "fapilog-audit" / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["entry-points"]["fapilog.plugins"] == {"audit": "fapilog_audit.plugin:AuditProcessor"}


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_enter_at_the_prompt_picks_the_documented_default(tmp_path: Path) -> None:
    """Pressing Enter at the prompt picks `sink`, the default docs/cli.md documents."""
    code, output = _on_a_terminal(["plugin", "new", "audit"], b"\n", tmp_path)
    assert code == 0, output
    assert "Created fapilog-audit, a sink plugin project" in output
