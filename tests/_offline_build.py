"""Shared by the tests that build and install real packages into a throwaway venv, offline."""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parent.parent


def missing_build_requirements() -> list[str]:
    """The core's [build-system] requirements this test environment does not satisfy (builds run offline)."""
    wanted = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["build-system"]["requires"]
    missing = []
    for text in wanted:
        requirement = Requirement(text)
        try:
            found = importlib.metadata.version(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(text)
            continue
        if not requirement.specifier.contains(found, prereleases=True):
            missing.append(f"{text} (found {found})")
    return missing
