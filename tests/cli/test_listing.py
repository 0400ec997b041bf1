"""`fapilog plugin list`, `fapilog debug` and `fapilog plugin health` against real installed-plugin metadata."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.registry._dists import DistFactory, make

import fapilog
from fapilog._registry.builtin_names import BUILTIN_PLUGINS
from fapilog.cli.main import main

HEALTH_SOURCE = """
from fapilog.plugins.metadata import PluginHealth, PluginMetadata


class Plugin:
    metadata = PluginMetadata(name="{name}", version="{version}", kind="sink", description="reports its disk")

    def __init__(self, *, status: str = "healthy") -> None:
        self.status = status
        self.started = False

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.started = False

    async def write(self, record) -> None:
        pass

    async def health_check(self) -> PluginHealth:
        return PluginHealth(self.status, "disk full" if self.status != "healthy" else f"started={self.started}")
"""

FAILS_TO_START = """
from fapilog.plugins.metadata import PluginMetadata


class Plugin:
    metadata = PluginMetadata(name="{name}", version="{version}", kind="enricher", description="cannot connect")

    async def start(self) -> None:
        raise ConnectionRefusedError("agent not listening on 127.0.0.1:9")

    async def enrich(self, record):
        return {}
"""

BROKEN_IMPORT = """
raise RuntimeError("this plugin is broken at import")
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


def _by_name(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in rows}


def test_list_json_shows_kind_verdict_and_state_of_every_plugin(dists: DistFactory) -> None:
    """`plugin list --json` loads compatible plugins for their kind; incompatible and broken ones keep a reason."""
    dists.plugin("cli-good", version="1.2.0")
    dists.plugin("cli-old", requires=["fapilog>=1.0,<2.0"])
    broken = dists.plugin("cli-broken", source=BROKEN_IMPORT)
    proc = _cli(dists, "plugin", "list", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = _by_name(json.loads(proc.stdout))
    good, old, bad = rows["cli-good"], rows["cli-old"], rows["cli-broken"]
    assert (good["kind"], good["version"], good["distribution"], good["state"]) == (
        "sink",
        "1.2.0",
        "fapilog-cli-good",
        "loaded",
    )
    assert good["compatible"] is True and good["description"] == "test sink"
    assert (old["state"], old["compatible"], old["kind"]) == ("incompatible", False, "?")
    assert "requires fapilog>=1.0,<2.0" in old["reason"]
    assert (bad["state"], bad["kind"]) == ("failed", "?")
    assert "this plugin is broken at import" in bad["reason"]
    assert dists.imported(broken)  # it really was tried
    for row in BUILTIN_PLUGINS:
        assert rows[row.name]["state"] == "loaded" and rows[row.name]["kind"] != "?"


def test_list_table_puts_reasons_under_the_table(dists: DistFactory, capsys: pytest.CaptureFixture[str]) -> None:
    """The human listing is a table, then one line per plugin that is not loaded saying why, then a summary."""
    dists.plugin("cli-old-table", requires=["fapilog<3"])
    assert main(["plugin", "list", "--json"]) == 0
    # Other plugins installed in this environment count too: the summary is checked against the same listing.
    incompatible = sum(row["state"] == "incompatible" for row in json.loads(capsys.readouterr().out))
    assert main(["plugin", "list"]) == 0
    out = capsys.readouterr().out
    header, *_ = out.splitlines()
    assert header.split() == ["NAME", "KIND", "VERSION", "DISTRIBUTION", "COMPATIBLE", "STATE"]
    note = next(line for line in out.splitlines() if line.startswith("cli-old-table (fapilog-cli-old-table):"))
    assert "incompatible" in note and "requires fapilog<3" in note
    assert incompatible >= 1
    assert "loaded" in out.splitlines()[-1] and f"{incompatible} incompatible" in out.splitlines()[-1]


def test_list_kind_keeps_only_that_kind(capsys: pytest.CaptureFixture[str]) -> None:
    """`--kind filter` lists exactly the filters."""
    assert main(["plugin", "list", "--kind", "filter", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {row["kind"] for row in rows} == {"filter"}
    assert {"level", "sampling", "rate_limit"} <= {row["name"] for row in rows}


def test_debug_json_is_the_debug_plugins_report(dists: DistFactory) -> None:
    """`fapilog debug --json` prints the rows of fapilog.debug_plugins(), including a shadowed built-in name."""
    dists.plugin("cli-debug")
    dists.dist("fapilog-rogue-file", entry_points={"file": "nowhere:Sink"})
    proc = _cli(dists, "debug", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    # Same rows as the library function (whose states depend on what this test process already loaded).
    expected = fapilog.debug_plugins(file=io.StringIO())
    assert [(r["name"], r["distribution"]) for r in rows] == [(r["name"], r["distribution"]) for r in expected]
    documented = {"name", "kind", "version", "distribution", "compatible", "reason", "state", "source", "health"}
    assert documented <= set(rows[0]) and documented <= set(expected[0])
    assert _by_name(rows)["cli-debug"]["state"] == "discovered"  # a fresh process imports nothing to report
    shadowed = next(r for r in rows if r["state"] == "shadowed")
    assert shadowed["distribution"] == "fapilog-rogue-file" and "takes precedence" in shadowed["reason"]


def test_debug_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    """`fapilog debug` prints the same table as fapilog.debug_plugins()."""
    assert main(["debug"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == [
        "NAME", "KIND", "VERSION", "DISTRIBUTION", "COMPATIBLE", "STATE", "HEALTH", "LOAD_MS", "START_MS"
    ]
    assert any(line.startswith("stdout ") for line in out.splitlines())


def test_health_of_named_plugins(dists: DistFactory, capsys: pytest.CaptureFixture[str]) -> None:
    """Named plugins are created with --setting values, started, asked, and stopped; all healthy exits 0."""
    dists.plugin("cli-disk", source=HEALTH_SOURCE)
    assert main(["plugin", "health", "cli-disk", "memory", "--json"]) == 0
    rows = _by_name(json.loads(capsys.readouterr().out))
    assert rows["cli-disk"] == {
        "name": "cli-disk",
        "kind": "sink",
        "status": "healthy",
        "healthy": True,
        "detail": "started=True",
    }
    assert rows["memory"]["status"] == "healthy"


def test_unhealthy_plugin_exits_one(dists: DistFactory, capsys: pytest.CaptureFixture[str]) -> None:
    """A setting parsed from --setting makes the plugin unhealthy: the table shows it and the exit code is 1."""
    dists.plugin("cli-sick", source=HEALTH_SOURCE)
    assert main(["plugin", "health", "cli-sick", "--setting", "status=degraded"]) == 1
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("cli-sick"))
    assert line.split()[:3] == ["cli-sick", "sink", "degraded"] and line.endswith("disk full")


def test_plugin_that_fails_to_start_is_unhealthy(dists: DistFactory, capsys: pytest.CaptureFixture[str]) -> None:
    """A start() that raises is reported as unhealthy with the reason, not as a crash."""
    dists.plugin("cli-nostart", source=FAILS_TO_START)
    assert main(["plugin", "health", "cli-nostart", "--json"]) == 1
    (row,) = json.loads(capsys.readouterr().out)
    assert row["status"] == "unhealthy" and "agent not listening" in row["detail"]


def test_health_of_the_configured_pipeline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without names, the pipeline of a --config file is built, asked and shut down."""
    config = tmp_path / "fapilog.toml"
    log = tmp_path / "app.log"
    config.write_text(f'sinks = ["memory", {{type = "file", path = "{log.as_posix()}"}}]\n', encoding="utf-8")
    assert main(["plugin", "health", "--config", str(config), "--json"]) == 0
    rows = _by_name(json.loads(capsys.readouterr().out))
    # `secrets` is the default redactor every pipeline runs (docs/redaction.md).
    assert set(rows) == {"memory", "file", "secrets"} and all(row["healthy"] for row in rows.values())
    assert fapilog.stats()["state"] != "running"  # shut down again


def test_health_reads_the_environment(dists: DistFactory) -> None:
    """Without names or --config, FAPILOG_* variables say what to build (a real process)."""
    path = os.pathsep.join([str(dists.root), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path, "FAPILOG_SINKS": '["memory", "stderr"]', "FAPILOG_FILTERS": '["level"]'}
    proc = subprocess.run(
        [sys.executable, "-m", "fapilog", "plugin", "health"],
        capture_output=True, text=True, timeout=60, check=False, env=env,
    )
    assert proc.returncode == 0, proc.stderr
    names = {line.split()[0]: line.split()[1] for line in proc.stdout.splitlines()[1:]}
    assert names == {"memory": "sink", "stderr": "sink", "level": "filter", "secrets": "redactor"}


def test_health_errors_use_the_documented_exit_codes(dists: DistFactory, capsys: pytest.CaptureFixture[str]) -> None:
    """Missing settings exit 2, unknown and incompatible plugins exit 3, each as two lines on stderr."""
    dists.plugin("cli-ancient", requires=["fapilog<2"])
    assert main(["plugin", "health", "file"]) == 2
    assert "'path': required setting is missing" in capsys.readouterr().err
    assert main(["plugin", "health", "no_such_plugin"]) == 3
    assert main(["plugin", "health", "cli-ancient"]) == 3
    error, hint = capsys.readouterr().err.splitlines()[-2:]
    assert error.startswith("fapilog: error: plugin 'cli-ancient'") and "requires fapilog<2" in error
    assert hint.startswith("hint: Fix: install a release of fapilog-cli-ancient")


def test_configured_pipeline_that_cannot_start_exits_three(
    dists: DistFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without names the pipeline starts all or nothing: a plugin failing to start ends the command with exit 3."""
    dists.plugin("cli-cfgfail", source=FAILS_TO_START)
    config = tmp_path / "fapilog.json"
    config.write_text(json.dumps({"sinks": ["memory"], "enrichers": ["cli-cfgfail"]}), encoding="utf-8")
    assert main(["plugin", "health", "--config", str(config)]) == 3
    error, hint = capsys.readouterr().err.splitlines()
    assert "'cli-cfgfail' failed to start" in error and "agent not listening" in error
    assert hint.startswith("hint: ")
