"""`fapilog plugin health NAME` against plugins that hang: every step has a deadline, the command always ends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.registry._dists import DistFactory, make

HANGS_IN = """
import asyncio
import time

from fapilog.plugins.metadata import PluginMetadata


class Plugin:
    metadata = PluginMetadata(name="{name}", version="{version}", kind="sink", description="hangs")

    async def start(self) -> None:
        if "{name}".endswith("-start"):
            await asyncio.Event().wait()  # waits for a connection that never comes
        if "{name}".endswith("-blocks"):
            time.sleep(3600)  # a synchronous call inside an async method: the event loop is stuck

    async def stop(self) -> None:
        if "{name}".endswith("-stop"):
            await asyncio.Event().wait()

    async def write(self, record) -> None:
        pass
"""


@pytest.fixture
def dists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DistFactory]:
    yield from make(tmp_path, monkeypatch)


def _health(dists: DistFactory, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m fapilog plugin health` in a fresh process that sees the test distributions."""
    path = os.pathsep.join([str(dists.root), os.environ.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "fapilog", "plugin", "health", *args, "--timeout", "0.5"],
        capture_output=True, text=True, timeout=120, check=False, env={**os.environ, "PYTHONPATH": path},
    )


def test_a_start_that_never_finishes_is_unhealthy_and_the_others_are_still_reported(dists: DistFactory) -> None:
    """A start() awaiting forever is `unhealthy` after --timeout, beside a healthy plugin; exit 1, not a hang."""
    dists.plugin("waits-in-start", source=HANGS_IN)
    proc = _health(dists, "memory", "waits-in-start", "--json")
    assert proc.returncode == 1, proc.stderr
    rows = {row["name"]: row for row in json.loads(proc.stdout)}
    assert rows["memory"]["healthy"] is True
    assert rows["waits-in-start"]["status"] == "unhealthy"
    assert "start() did not finish within 0.5 s" in rows["waits-in-start"]["detail"]


def test_a_stop_that_never_finishes_makes_a_healthy_plugin_unhealthy(dists: DistFactory) -> None:
    """A stop() awaiting forever turns the row unhealthy, saying stop() did not finish; the command ends."""
    dists.plugin("waits-in-stop", source=HANGS_IN)
    proc = _health(dists, "waits-in-stop", "--json")
    assert proc.returncode == 1, proc.stderr
    (row,) = json.loads(proc.stdout)
    assert row["status"] == "unhealthy" and "stop() did not finish within 0.5 s" in row["detail"]


@pytest.mark.slow
def test_a_start_that_blocks_the_event_loop_ends_the_command_naming_it(dists: DistFactory) -> None:
    """A start() calling time.sleep blocks the loop: the command exits 1 naming the plugin and start()."""
    dists.plugin("sleeps-blocks", source=HANGS_IN)
    proc = _health(dists, "sleeps-blocks")
    assert proc.returncode == 1
    error, hint = proc.stderr.strip().splitlines()[-2:]
    assert error.startswith("fapilog: error: plugin 'sleeps-blocks' blocked the command in start()")
    assert hint == "hint: run 'fapilog plugin check sleeps-blocks' to see which method blocks"
