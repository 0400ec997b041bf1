"""The built-ins' old import paths (``fapilog.plugins.sinks.file``…) still work, warn, and nothing in src uses them."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from tests._shims import assert_old_path_aliases

SRC = Path(__file__).resolve().parents[1] / "src" / "fapilog"
KINDS = ("sinks", "filters", "enrichers", "redactors", "processors")
SHIM_PACKAGES = tuple(f"fapilog.plugins.{kind}" for kind in KINDS)


def _shims() -> list[str]:
    """Every shim module: the public modules of the old per-kind folders under ``plugins/``."""
    names = []
    for kind in KINDS:
        for path in sorted((SRC / "plugins" / kind).glob("*.py")):
            if path.stem != "__init__":
                names.append(f"fapilog.plugins.{kind}.{path.stem}")
    return names


def test_every_public_builtin_module_has_a_shim() -> None:
    """Each public module of fapilog.builtins.<kind> is importable under its old fapilog.plugins.<kind> path."""
    for kind in KINDS:
        public = {p.stem for p in (SRC / "builtins" / kind).glob("*.py") if not p.stem.startswith("_")}
        shims = {p.stem for p in (SRC / "plugins" / kind).glob("*.py") if p.stem != "__init__"}
        assert public == shims, kind


@pytest.mark.parametrize("old", ["fapilog.plugins.sinks.file", "fapilog.plugins.filters.rate_limit"])
def test_old_path_warns_and_is_the_new_module(old: str) -> None:
    """Importing an old path raises DeprecationWarning naming the new path, and yields the very same module."""
    assert_old_path_aliases(old, old.replace("fapilog.plugins.", "fapilog.builtins."))


def test_old_package_attribute_warns_and_resolves() -> None:
    """``from fapilog.plugins.filters import LevelFilter`` is the built-in class, with a DeprecationWarning."""
    code = (
        "import warnings\n"
        "warnings.simplefilter('error', DeprecationWarning)\n"
        "from fapilog.plugins.filters import LevelFilter\n"
    )
    run = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
    assert run.returncode != 0
    assert "fapilog.plugins.filters moved to fapilog.builtins.filters" in run.stderr
    from fapilog.builtins.filters import LevelFilter

    assert LevelFilter.__module__ == "fapilog.builtins.filters.level"


def test_nothing_in_src_imports_a_shim() -> None:
    """No module of the package (shims aside) imports an old built-in path, even inside a function."""
    shims = set(_shims()) | set(SHIM_PACKAGES)
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        if rel.parts[0] == "plugins" and len(rel.parts) > 2 and rel.parts[1] in KINDS:
            continue  # the shims themselves
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            offenders += [f"{rel}:{node.lineno} {name}" for name in names if name in shims]
    assert offenders == []
