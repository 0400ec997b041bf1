"""The engine's and the registry's old import paths still work, warn, and nothing in src uses them."""

from __future__ import annotations

import subprocess
import sys
import warnings

import pytest
from tests._shims import assert_old_path_aliases

OLD_TO_NEW = {
    'fapilog.core.context': 'fapilog._kit.context',
    'fapilog.core.levels': 'fapilog._kit.levels',
    'fapilog.core.offload': 'fapilog._kit.offload',
    'fapilog.core.record': 'fapilog._kit.record',
    'fapilog.core.serialize': 'fapilog._kit.serialize',
    'fapilog.plugins.builtins': 'fapilog._registry.builtin_names',
    'fapilog.plugins.compat': 'fapilog._registry.compat',
    'fapilog.plugins.discovery': 'fapilog._registry.discovery',
    'fapilog.plugins.lifecycle': 'fapilog._registry.lifecycle',
    'fapilog.plugins.registry': 'fapilog._registry.registry',
}
"""Every old module path with a shim that aliases it (``fapilog.plugins.diagnostics`` renames a name: below)."""


@pytest.mark.parametrize(("old", "new"), sorted(OLD_TO_NEW.items()))
def test_old_path_warns_and_is_the_new_module(old: str, new: str) -> None:
    """Importing an old path raises a DeprecationWarning naming the new path and yields the very same module."""
    assert_old_path_aliases(old, new)


def test_old_report_name_still_answers() -> None:
    """``from fapilog.plugins.diagnostics import debug_plugins`` warns and gives the registry's report function."""
    code = (
        "import warnings\n"
        "warnings.simplefilter('error', DeprecationWarning)\n"
        "from fapilog.plugins.diagnostics import debug_plugins\n"
    )
    run = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
    assert run.returncode != 0
    assert "fapilog.plugins.diagnostics moved to fapilog._registry.report" in run.stderr
    from fapilog._registry.report import print_report

    with warnings.catch_warnings():  # warned above, in a fresh interpreter; here it may be imported already
        warnings.simplefilter("ignore", DeprecationWarning)
        from fapilog.plugins import diagnostics
    assert diagnostics.debug_plugins is print_report


def test_nothing_in_src_imports_an_old_path() -> None:
    """No module of the package (the shims aside) imports fapilog.core or an old registry path, even lazily."""
    import ast
    from pathlib import Path

    src = Path(__file__).resolve().parents[1] / "src" / "fapilog"
    old = {*OLD_TO_NEW, "fapilog.core", "fapilog.plugins.diagnostics"}
    offenders = []
    for path in sorted(src.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "from fapilog._moved import" in text:
            continue  # a shim
        for node in ast.walk(ast.parse(text)):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            offenders += [f"{path.relative_to(src)}:{node.lineno} {name}" for name in names
                          if name in old or name.startswith("fapilog.core.")]
    assert offenders == []


def test_public_homes_of_the_registry_helpers() -> None:
    """The registry helpers docs name are reachable from fapilog.plugins, as the objects of the private modules."""
    import fapilog.plugins
    from fapilog._registry import compat, discovery, registry

    assert fapilog.plugins.check_constraint is compat.check_constraint
    assert fapilog.plugins.missing_extra_error is discovery.missing_extra_error
    assert fapilog.plugins.default_registry is registry.default_registry
    assert fapilog.plugins.refresh is discovery.refresh
    assert issubclass(fapilog.plugins.LegacyPluginWarning, UserWarning)
