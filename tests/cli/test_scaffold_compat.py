"""The scaffolded project develops against a local core checkout and generates its compatibility table in CI."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import yaml

from fapilog.cli.scaffold import core_requirement, new_plugin, oldest_core


def _steps(job: dict[str, object]) -> str:
    steps = job["steps"]
    assert isinstance(steps, list)
    return "\n".join(str(step.get("run", "")) + str(step.get("with", "")) for step in steps)


def test_ci_tests_the_oldest_and_newest_core_and_builds_the_table(tmp_path: Path) -> None:
    """ci.yml: a job per (python, oldest|newest core), each recording its result; a last job builds the table."""
    project = new_plugin("audit", "sink", tmp_path / "p")
    workflow = yaml.safe_load((project / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8"))
    test, table = workflow["jobs"]["test"], workflow["jobs"]["compatibility-table"]
    assert test["strategy"]["matrix"]["core"] == ["oldest", "newest"]
    script = _steps(test)
    assert f'pip install "{oldest_core()}"' in script
    assert f'pip install --upgrade "{core_requirement()}"' in script
    assert 'pip install "$FAPILOG_SOURCE"' in script  # a core checkout instead of the index, when set
    assert "scripts/compat_table.py row" in script
    assert table["needs"] == "test" and table["if"] == "always()"
    assert "scripts/compat_table.py table compat --out compatibility.md" in _steps(table)


def test_the_table_script_turns_job_results_into_the_compatibility_table(tmp_path: Path) -> None:
    """The generated scripts/compat_table.py records rows and collects them into compatibility.md and the summary."""
    project = new_plugin("audit", "sink", tmp_path / "p")
    summary = tmp_path / "summary.md"
    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary)}
    script = [sys.executable, "scripts/compat_table.py"]
    for core, python, outcome in (("oldest", "3.11", "pass"), ("newest", "3.12", "FAIL")):
        subprocess.run([*script, "row", "--core", core, "--python", python, "--outcome", outcome, "--out",
                        "compat"], cwd=project, env=env, check=True, timeout=60)
    subprocess.run([*script, "table", "compat", "--out", "compatibility.md"], cwd=project, env=env, check=True,
                   timeout=60)
    text = (project / "compatibility.md").read_text(encoding="utf-8")
    core = importlib.metadata.version("fapilog")
    assert f"| {core} | 3.12 | newest | FAIL |" in text
    assert f"| {core} | 3.11 | oldest | pass |" in text
    assert text.startswith("# Compatibility\n\n| plugin | fapilog | python | core under test | result |")
    assert summary.read_text(encoding="utf-8") == text


def test_readme_installs_a_local_core_checkout_first(tmp_path: Path) -> None:
    """The generated README shows `pip install -e ../fapilog` before installing the project itself."""
    readme = (new_plugin("audit", "sink", tmp_path / "p") / "README.md").read_text(encoding="utf-8")
    assert readme.index("pip install -e ../fapilog") < readme.index("pip install -e '.[dev]'\npython -c")
