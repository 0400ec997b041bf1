"""The repository's own external plugin, fapilog-fastapi, as installed: the real CLI lists and checks it.

scripts/test installs it from plugins/fapilog-fastapi (editable), so these tests run the `fapilog` command in a
subprocess against real installed metadata: the same path any third-party `fapilog-*` distribution takes.
"""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys

import pytest

INSTALL = "pip install -e plugins/fapilog-fastapi"


@pytest.fixture(scope="module", autouse=True)
def _installed() -> None:
    try:
        importlib.metadata.distribution("fapilog-fastapi")
    except importlib.metadata.PackageNotFoundError:
        pytest.fail(f"fapilog-fastapi is not installed in this environment; run: {INSTALL} (scripts/test does)")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fapilog", "plugin", *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_plugin_list_shows_it_with_its_distribution() -> None:
    """`fapilog plugin list --json` shows the fastapi enricher from fapilog-fastapi 1.x, compatible and loaded."""
    proc = _cli("list", "--json")
    assert proc.returncode == 0, proc.stderr
    (row,) = [r for r in json.loads(proc.stdout) if r["name"] == "fastapi"]
    assert row["distribution"] == "fapilog-fastapi" and row["version"].startswith("1.")
    assert (row["kind"], row["compatible"], row["state"]) == ("enricher", True, "loaded")


def test_plugin_check_passes_on_it() -> None:
    """`fapilog plugin check fastapi` passes every check, the version constraint included."""
    proc = _cli("check", "fastapi")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASS version_constraint" in proc.stdout and "FAIL" not in proc.stdout
    assert "fapilog-fastapi 1.0.0" in proc.stdout


def test_core_extra_pulls_in_the_distribution() -> None:
    """The core's `fastapi` extra requires fapilog-fastapi 1.x and FastAPI, as the plugin model says."""
    requires = importlib.metadata.distribution("fapilog").requires or []
    extra = sorted(r.split(";")[0].replace(" ", "") for r in requires if 'extra == "fastapi"' in r)
    assert extra in (["fapilog-fastapi<2.0,>=1.0", "fastapi>=0.115"], ["fapilog-fastapi>=1.0,<2.0", "fastapi>=0.115"])
