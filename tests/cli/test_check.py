"""`fapilog plugin check`: the quality gate passes good plugins and fails broken ones with precise reasons."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.registry._dists import DistFactory, make

import fapilog.testing
from fapilog.cli.main import main

pytestmark = pytest.mark.skipif(
    not hasattr(fapilog.testing, "check_plugin"), reason="the testing kit's check_plugin has not landed yet"
)

CONSOLE_SCRIPT = Path(sys.executable).parent / "fapilog"

GOOD_SINK = """
from collections.abc import Mapping
from typing import Any

from fapilog.plugins.metadata import PluginMetadata


class Plugin:
    metadata = PluginMetadata(name="{name}", version="{version}", kind="sink", description="Keeps records in a list.")

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def write(self, record: Mapping[str, Any]) -> None:
        self.records.append(dict(record))
"""

NO_METADATA = "\n".join(line for line in GOOD_SINK.splitlines() if "metadata = " not in line)

SYNC_WRITE = GOOD_SINK.replace("    async def write(", "    def write(")

BROKEN_IMPORT = "import fapilog_no_such_dependency\n"


@pytest.fixture
def dists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DistFactory]:
    yield from make(tmp_path, monkeypatch)


def _check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    """Run `plugin check ... --json` in process; returns the exit code and the report of the only plugin."""
    code = main(["plugin", "check", *args, "--json"])
    document = json.loads(capsys.readouterr().out)
    (report,) = document["plugins"]
    assert document["ok"] is report["ok"]
    return code, report


def _results(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {result["name"]: result for result in report["results"]}


def test_builtin_passes_every_check(capsys: pytest.CaptureFixture[str]) -> None:
    """A built-in filter passes: its constraint is the core itself, and every contract check passes."""
    code, report = _check(capsys, "level")
    results = _results(report)
    assert code == 0 and report["ok"] is True and report["kind"] == "filter"
    assert list(results)[:2] == ["version_constraint", "load"]
    assert set(fapilog.testing.CHECKS) <= set(results)
    assert results["version_constraint"]["reason"] == "part of the fapilog core"
    assert all(result["ok"] and not result["skipped"] for result in results.values())


@pytest.mark.skipif(not CONSOLE_SCRIPT.exists(), reason="the fapilog console script is not installed in this venv")
def test_console_script_prints_one_line_per_check(tmp_path: Path) -> None:
    """The human report is `PASS name` per check and a summary; a stateful plugin needs --stateful (real process)."""
    proc = subprocess.run(
        [str(CONSOLE_SCRIPT), "plugin", "check", "sampling", "--setting", "rate=0.5", "--stateful"],
        capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("sampling (filter, fapilog.builtins.filters.sampling:SamplingFilter")
    assert lines[1:-1] == [f"PASS {name}" for name in ("version_constraint", "load", *fapilog.testing.CHECKS)]
    assert lines[-1] == f"ok: {len(lines) - 2} passed, 0 failed, 0 skipped"


def test_installed_plugin_with_bounded_constraint_passes(
    dists: DistFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    """A third-party plugin declaring fapilog>=3.0,<4.0 passes the constraint check, naming the range."""
    dists.plugin("chk-good", source=GOOD_SINK)
    code, report = _check(capsys, "chk-good")
    assert code == 0, report
    assert _results(report)["version_constraint"]["reason"] == (
        f"distribution fapilog-chk-good 1.0.0 requires 'fapilog>=3.0,<4.0', which admits the running fapilog "
        f"{fapilog.__version__}"
    )


@pytest.mark.parametrize(
    ("requires", "reason"),
    [
        ((), "declares no fapilog requirement; add 'fapilog>=3.0,<4.0'"),
        (("fapilog>=3.0",), "requires 'fapilog>=3.0', which has no upper bound"),
    ],
    ids=["none", "unbounded"],
)
def test_missing_or_unbounded_constraint_fails(
    dists: DistFactory, capsys: pytest.CaptureFixture[str], requires: tuple[str, ...], reason: str
) -> None:
    """No fapilog requirement, or one without an upper bound, fails the gate with the range to use."""
    name = f"chk-{uuid.uuid4().hex[:6]}"
    dists.plugin(name, source=GOOD_SINK, requires=requires)
    code, report = _check(capsys, name)
    result = _results(report)["version_constraint"]
    assert code == 1 and report["ok"] is False
    assert result["ok"] is False and reason in result["reason"]
    assert [r["name"] for r in report["results"] if not r["ok"]] == ["version_constraint"]


def test_missing_metadata_is_derived_from_the_distribution_with_a_note(
    dists: DistFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    """An installed plugin class without PluginMetadata passes; `metadata` is skipped with a note that
    declaring it enables more checks."""
    dists.plugin("chk-nometa", source=NO_METADATA)
    code, report = _check(capsys, "chk-nometa")
    assert code == 0
    metadata = _results(report)["metadata"]
    assert metadata["skipped"]
    assert "Declaring `metadata = PluginMetadata(...)` enables more checks" in metadata["reason"]


def test_sync_method_fails_the_protocol_check(dists: DistFactory, capsys: pytest.CaptureFixture[str]) -> None:
    """A sink whose write() is not `async def` fails `protocol`, and the reason names the method."""
    dists.plugin("chk-sync", source=SYNC_WRITE)
    code, report = _check(capsys, "chk-sync")
    reason = _results(report)["protocol"]["reason"]
    assert code == 1 and "write" in reason and "async def" in reason


def test_import_failure_fails_load_and_skips_the_contract(
    dists: DistFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    """A plugin that cannot be imported fails `load` with the missing module and skips the contract checks."""
    dists.plugin("chk-noimport", source=BROKEN_IMPORT)
    code, report = _check(capsys, "chk-noimport")
    results = _results(report)
    assert code == 1 and list(results) == ["version_constraint", "load", "contract"]
    assert "fapilog_no_such_dependency" in results["load"]["reason"]
    assert results["contract"]["skipped"] is True


def test_incompatible_plugin_is_refused_before_import(dists: DistFactory, capsys: pytest.CaptureFixture[str]) -> None:
    """A plugin for another core major fails the constraint and load checks; its code never runs."""
    module = dists.plugin("chk-future", source=GOOD_SINK, requires=["fapilog>=4.0,<5.0"])
    code, report = _check(capsys, "chk-future")
    results = _results(report)
    assert code == 1
    assert "requires fapilog>=4.0,<5.0, but fapilog" in results["version_constraint"]["reason"]
    assert results["load"]["ok"] is False and not dists.imported(module)


def test_human_output_lists_failures_with_reasons(dists: DistFactory, capsys: pytest.CaptureFixture[str]) -> None:
    """Without --json: `FAIL name: reason` lines and a FAILED summary, exit 1."""
    dists.plugin("chk-human", source=SYNC_WRITE, requires=())
    assert main(["plugin", "check", "chk-human"]) == 1
    lines = capsys.readouterr().out.splitlines()
    expected = "FAIL version_constraint: distribution fapilog-chk-human 1.0.0 declares no fapilog requirement"
    assert any(line.startswith(expected) for line in lines)
    assert any(line.startswith("FAIL protocol: ") for line in lines)
    assert "PASS load" in lines
    assert lines[-1].startswith("FAILED: ")


def _project(root: Path, *, dependencies: list[str], entry_points: dict[str, str] | None = None) -> str:
    """A plugin project directory (pyproject.toml + src/<package>/sink.py); returns the package name."""
    package = f"chk_project_{uuid.uuid4().hex[:8]}"
    source = root / "src" / package
    source.mkdir(parents=True)
    (source / "__init__.py").write_text("", encoding="utf-8")
    (source / "sink.py").write_text(GOOD_SINK.replace("{name}", "project-sink").replace("{version}", "0.1.0"), "utf-8")
    points = entry_points if entry_points is not None else {"project-sink": f"{package}.sink:Plugin"}
    table = "".join(f'"{name}" = "{value}"\n' for name, value in points.items())
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""\
            [project]
            name = "fapilog-project-sink"
            version = "0.1.0"
            dependencies = {json.dumps(dependencies)}

            [project.entry-points."fapilog.plugins"]
            """
        )
        + table,
        encoding="utf-8",
    )
    return package


def test_project_directory_is_checked_from_its_sources(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A PATH is read from pyproject.toml: its entry point is imported from src/ and the whole gate passes."""
    project = tmp_path / "fapilog-project-sink"
    _project(project, dependencies=["fapilog>=3.0,<4.0", "orjson>=3"])
    before = list(sys.path)
    code, report = _check(capsys, str(project))
    assert code == 0, report
    assert (report["plugin"], report["distribution"], report["version"]) == (
        "project-sink",
        "fapilog-project-sink",
        "0.1.0",
    )
    assert "fapilog-project-sink (pyproject.toml) requires 'fapilog>=3.0,<4.0'" in (
        _results(report)["version_constraint"]["reason"]
    )
    assert sys.path == before  # src/ was only on sys.path while the plugin was checked


def test_project_without_fapilog_dependency_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A project whose [project].dependencies lacks fapilog fails the constraint check."""
    _project(tmp_path / "proj", dependencies=["orjson>=3"])
    code, report = _check(capsys, str(tmp_path / "proj"))
    assert code == 1
    assert "declares no fapilog requirement" in _results(report)["version_constraint"]["reason"]


def test_project_errors_are_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A directory without pyproject.toml, or without a fapilog.plugins table, exits 2 in two lines."""
    assert main(["plugin", "check", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err.startswith("fapilog: error: cannot read ")
    _project(tmp_path / "empty", dependencies=["fapilog>=3.0,<4.0"], entry_points={})
    assert main(["plugin", "check", str(tmp_path / "empty")]) == 2
    error, hint = capsys.readouterr().err.splitlines()
    assert 'declares no [project.entry-points."fapilog.plugins"] table' in error and hint.startswith("hint: add one")


def test_unknown_name_exits_three(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown plugin name is a plugin error (exit 3), with close matches suggested."""
    assert main(["plugin", "check", "levle"]) == 3
    error = capsys.readouterr().err.splitlines()[0]
    assert "no plugin named 'levle'" in error and "'level'" in error


def test_json_stays_clean_when_the_plugin_prints(tmp_path: Path) -> None:
    """Checking the stdout sink sends its records to stderr: stdout is exactly one JSON document (real process)."""
    proc = subprocess.run(
        [sys.executable, "-m", "fapilog", "plugin", "check", "stdout", "--json"],
        capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    document = json.loads(proc.stdout)
    assert document["ok"] is True and document["plugins"][0]["plugin"] == "stdout"
    assert '"message":"contract event 0"' in proc.stderr  # the plugin's own output, kept out of the report


def test_ambiguous_kind_asks_for_kind(dists: DistFactory, capsys: pytest.CaptureFixture[str]) -> None:
    """Without metadata and with two kinds' methods, the check needs --kind (exit 2); with it, the checks run."""
    source = (
        "class Plugin:\n"
        "    async def write(self, record):\n        pass\n\n"
        "    async def filter(self, record):\n        return record\n"
    )
    dists.plugin("chk-twokinds", source=source)
    assert main(["plugin", "check", "chk-twokinds"]) == 2
    error, hint = capsys.readouterr().err.splitlines()
    assert "cannot tell which contract" in error and "--kind" in hint
    code, report = _check(capsys, "chk-twokinds", "--kind", "sink")
    assert code == 1 and report["kind"] == "sink"  # its methods lack type hints
    assert _results(report)["metadata"]["skipped"]  # with the kind given, metadata comes from the distribution
