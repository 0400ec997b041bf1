"""A plugin that calls ``sys.exit()`` while it is imported: the CLI reports it instead of ending with its status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.registry._dists import DistFactory, make

EXITS_AT_IMPORT = """
import sys

sys.exit(7)
"""


@pytest.fixture
def dists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DistFactory]:
    yield from make(tmp_path, monkeypatch)


def _cli(dists: DistFactory, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m fapilog` in a fresh process that sees the test distributions."""
    path = os.pathsep.join([str(dists.root), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    return subprocess.run(
        [sys.executable, "-m", "fapilog", *args], capture_output=True, text=True, timeout=60, check=False, env=env
    )


def test_list_shows_a_plugin_that_exits_at_import_as_failed_beside_the_others(dists: DistFactory) -> None:
    """`plugin list --json` exits 0 with a `failed` row naming sys.exit, and still lists every other plugin."""
    dists.plugin("cli-exits")
    dists.plugin("cli-fine")
    module = dists.plugin("cli-exits-too", source=EXITS_AT_IMPORT)
    proc = _cli(dists, "plugin", "list", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = {row["name"]: row for row in json.loads(proc.stdout)}
    assert dists.imported(module)
    exiting = rows["cli-exits-too"]
    assert (exiting["state"], exiting["kind"]) == ("failed", "?")
    assert "sys.exit(7)" in exiting["reason"] and "fapilog-cli-exits-too" in exiting["reason"]
    assert rows["cli-fine"]["state"] == "loaded" and rows["cli-exits"]["state"] == "loaded"


def test_check_fails_the_load_step_of_a_plugin_that_exits_at_import(dists: DistFactory) -> None:
    """`plugin check NAME` reports FAIL load (exit 1) for a plugin calling sys.exit at import, not exit 7."""
    dists.plugin("cli-check-exits", source=EXITS_AT_IMPORT)
    proc = _cli(dists, "plugin", "check", "cli-check-exits", "--json")
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    load = next(r for r in report["plugins"][0]["results"] if r["name"] == "load")
    assert load["ok"] is False and "sys.exit(7)" in load["reason"]


def test_check_of_a_project_whose_module_exits_at_import_fails_load(tmp_path: Path) -> None:
    """`plugin check PATH` reports FAIL load for a project module that calls sys.exit when imported."""
    project = tmp_path / "fapilog-quits"
    (project / "src" / "fapilog_quits").mkdir(parents=True)
    (project / "src" / "fapilog_quits" / "__init__.py").write_text(EXITS_AT_IMPORT, encoding="utf-8")
    (project / "pyproject.toml").write_text(
        '[project]\nname = "fapilog-quits"\nversion = "0.1.0"\ndependencies = ["fapilog>=3.0,<4.0"]\n'
        '[project.entry-points."fapilog.plugins"]\nquits = "fapilog_quits:Plugin"\n',
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "fapilog", "plugin", "check", str(project), "--json"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == 1, proc.stderr
    load = next(r for r in json.loads(proc.stdout)["plugins"][0]["results"] if r["name"] == "load")
    assert load["ok"] is False and "sys.exit(7)" in load["reason"]


def test_a_command_ended_by_plugin_code_exits_3_with_two_lines(dists: DistFactory) -> None:
    """`plugin docs` of a plugin exiting at import ends with exit 3 and the CLI's two lines, not the plugin's 7."""
    dists.plugin("cli-docs-exits", source=EXITS_AT_IMPORT)
    proc = _cli(dists, "plugin", "docs", "cli-docs-exits")
    assert proc.returncode == 3
    error, hint = proc.stderr.strip().splitlines()
    assert error.startswith("fapilog: error: ") and "sys.exit(7) while being imported" in error
    assert hint.startswith("hint: ")
    assert proc.stdout == ""
