"""Shared by the tests that build and install real packages into a throwaway venv, offline.

The venv has no pip or setuptools of its own (the ones bundled with ensurepip may be too old to build the
core); a ``.pth`` file lends it the test environment's packages instead, so nothing is downloaded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from collections.abc import Mapping
from pathlib import Path

from packaging.requirements import Requirement

from fapilog._registry.discovery import _missing

REPO = Path(__file__).resolve().parent.parent


def missing_build_requirements() -> list[str]:
    """The core's [build-system] requirements this test environment does not satisfy (builds run offline)."""
    wanted = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["build-system"]["requires"]
    return list(_missing(Requirement(text) for text in wanted))


def run(*args: str | Path, cwd: Path, env: Mapping[str, str] | None = None) -> str:
    """Run a command outside this test environment's Python settings; its stdout, or fail with its output."""
    clean = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}}
    done = subprocess.run(
        [str(a) for a in args], check=False, cwd=cwd, env={**clean, **(env or {})}, capture_output=True, text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{done.args} exited {done.returncode}:\n{done.stdout[-6000:]}\n{done.stderr[-6000:]}"
    return done.stdout


def copy_core(dest: Path) -> Path:
    """A copy of the core's sources and packaging files, so building leaves nothing in the working tree."""
    shutil.copytree(REPO / "src", dest / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, dest / name)
    return dest


def offline_venv(where: Path) -> tuple[Path, tuple[str | Path, ...], Path]:
    """A new venv at ``where``: its python, the pip command that installs into it offline, its site-packages."""
    run(sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", where, cwd=where.parent)
    python = where / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=where.parent)
    site = Path(purelib.strip())
    (site / "_fapilog_test_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", "utf-8")
    return python, (python, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", "--no-build-isolation"), site
