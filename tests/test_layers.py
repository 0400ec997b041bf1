"""The package's layers form a ladder with no arrow back up: each module imports only its own layer or lower.

Ladder, bottom to top (``docs/architecture.md``, "The layer ladder"):

0. base: ``errors``, ``_version``, ``_lazy``, ``_moved`` — leaves every layer may use;
1. kit: ``fapilog.plugins`` (protocols, metadata, outcomes, health), what plugin authors import, ``fapilog._kit``
   (the record helpers it re-exports, which the engine imports without loading the whole kit) and the other
   top-level helpers ``RUNG_BY_TOP`` places there;
2. settings and registry: ``settings.py``, ``_sink_settings.py`` and ``fapilog._registry``;
3. engine: ``fapilog._engine``;
4. built-ins: ``builtins/``;
5. facade, testing, integrations, metrics: ``fapilog/__init__.py``, ``plugin_api.py``, ``testing/``,
   ``integrations/``, ``metrics/``;
6. cli: ``cli/``, ``__main__``, and the deprecation shims of old paths (they point up on purpose).

Imports are read with ``ast``, function-level and ``TYPE_CHECKING`` ones included: a lazy import is still an
arrow. What crosses upward today is listed in ``ALLOWED`` with the reason; keep that list short.
"""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "fapilog"

LAYERS = ("base", "kit", "settings/registry", "engine", "built-ins", "facade/testing/integrations", "cli")

SRC_SHIM_MARK = "from fapilog._moved import"
"""A module whose source contains this is a deprecation shim of an old path."""
SHIM_KINDS = ("sinks", "filters", "enrichers", "redactors", "processors")

ALLOWED: dict[tuple[str, str], str] = {
    ("fapilog.plugins", "fapilog._registry.compat"): (
        "TYPE_CHECKING only: the kit's lazily loaded check_constraint, loaded on first use"
    ),
    ("fapilog.plugins", "fapilog._registry.discovery"): (
        "TYPE_CHECKING only: the kit's lazily loaded missing_extra_error, refresh, loaded on first use"
    ),
    ("fapilog.plugins", "fapilog._registry.registry"): (
        "TYPE_CHECKING only: the kit's public names of the registry (PluginRegistry, PluginInfo, "
        "PluginInstanceInfo, default_registry), loaded on first use"
    ),
    ("fapilog.plugins", "fapilog._registry.validation"): (
        "TYPE_CHECKING only: the kit's lazily loaded LegacyPluginWarning, loaded on first use"
    ),
    ("fapilog._engine.state", "fapilog.integrations.observability"): (
        "inside a function, only when metrics or spans are configured: applying those settings belongs to the"
        " integrations, and the engine must start them"
    ),
}
"""(importer, imported) pairs that go up the ladder today, each with why; the test fails when one is no longer
needed, so the list only shrinks."""


def module_names() -> dict[str, Path]:
    """Every module of the package, by dotted name."""
    names = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


RUNG_BY_TOP = {
    "errors": 0, "_version": 0, "_lazy": 0, "_moved": 0,
    "_constraints": 1, "_coercion": 1, "_value_methods": 1, "plugins": 1, "_kit": 1,
    "settings": 2, "_sink_settings": 2, "_registry": 2,
    "_engine": 3,
    "builtins": 4,
    "integrations": 5, "metrics": 5, "testing": 5, "plugin_api": 5,
    "cli": 6, "__main__": 6,
}
"""The rung of each top-level module or folder of the package; ``fapilog`` itself (the facade) is on rung 5,
deprecation shims of old paths (``fapilog.core``, ``fapilog.plugins.sinks``…) on the top rung."""


@functools.cache
def shims() -> frozenset[str]:
    """The deprecation shims of old import paths, found by what they import."""
    return frozenset(name for name, path in module_names().items()
                     if SRC_SHIM_MARK in path.read_text(encoding="utf-8"))


def layer_of(module: str) -> int:
    """The rung of one module of the package."""
    parts = module.split(".")
    if module in shims() or (len(parts) > 2 and parts[1] == "plugins" and parts[2] in SHIM_KINDS):
        return 6  # deprecation shims: they point up at the modules' new homes on purpose
    return RUNG_BY_TOP.get(parts[1], 6) if len(parts) > 1 else 5


def imports_of(module: str, path: Path, known: set[str]) -> list[tuple[str, int]]:
    """The package's modules that ``module`` imports anywhere in its body, with the line of each import."""
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        for name in targets:
            target = name
            while target and target not in known:  # "from fapilog._kit.levels import INFO": the module, not INFO
                target = target.rpartition(".")[0]
            if target.startswith("fapilog"):
                found.append((target, node.lineno))
    return found


def upward_imports() -> dict[tuple[str, str], str]:
    """Every import from a lower rung to a higher one, with where it is."""
    modules = module_names()
    known = set(modules)
    crossings = {}
    for module, path in modules.items():
        for target, line in imports_of(module, path, known):
            if layer_of(target) > layer_of(module):
                where = f"{path.relative_to(PACKAGE)}:{line}"
                crossings[(module, target)] = (
                    f"{where}: {LAYERS[layer_of(module)]} -> {LAYERS[layer_of(target)]}"
                )
    return crossings


def test_no_import_goes_up_the_ladder() -> None:
    """No module imports a module of a higher layer, except the pairs listed in ALLOWED."""
    crossings = upward_imports()
    unexpected = sorted(f"{a} imports {b} ({where})" for (a, b), where in crossings.items() if (a, b) not in ALLOWED)
    assert unexpected == []


def test_every_allowed_crossing_is_still_needed() -> None:
    """An ALLOWED pair that no longer exists is removed from the list, so the exceptions only shrink."""
    stale = sorted(f"{a} -> {b}" for a, b in ALLOWED if (a, b) not in upward_imports())
    assert stale == []


BUILTIN_REACHES: dict[tuple[str, str], str] = {
    ("fapilog.builtins.filters._summary", "fapilog._engine.logger"): "the flood filters' summaries are log events: "
    "they are logged through the logger like any other",
    ("fapilog.builtins.filters._summary", "fapilog._engine.reentry"): "a summary logged from the worker must enter "
    "the pipeline as a new event, not be diverted as reentrant",
    ("fapilog.builtins.redactors._walker", "fapilog._engine.notices"): "the rate-limited stderr line that reports "
    "a redaction rule failing",
    ("fapilog.builtins.sinks.cloudwatch", "fapilog._engine.notices"): "the rate-limited stderr line for AWS "
    "answers the sink retries",
}
"""Built-in modules that reach past the kit into the engine (allowed by the ladder, but not what a third-party
plugin can do), each with why; the kit has no public form of these yet."""


def builtin_reaches() -> set[tuple[str, str]]:
    """Every import from a built-in module to a module outside the base, the kit and the built-ins."""
    modules = module_names()
    known = set(modules)
    return {
        (module, target)
        for module, path in modules.items()
        if module.startswith("fapilog.builtins")
        for target, _ in imports_of(module, path, known)
        if layer_of(target) not in (0, 1) and not target.startswith("fapilog.builtins")
    }


def test_builtins_import_only_the_kit() -> None:
    """Built-in plugins import the kit and the base modules, as a third-party plugin would, except the listed ones."""
    reaches = builtin_reaches()
    assert sorted(reaches - set(BUILTIN_REACHES)) == []
    assert sorted(set(BUILTIN_REACHES) - reaches) == []  # a listed exception that is gone is removed from the list


def test_every_module_of_the_ladder_imports() -> None:
    """Each module the ladder places imports cleanly in a fresh interpreter (the map names real modules)."""
    old = tuple(f"fapilog.plugins.{kind}" for kind in SHIM_KINDS)  # the tests of the moved modules import those
    names = [name for name in module_names()
             if not name.startswith(old) and name not in shims() and name != "fapilog.__main__"]
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\nprint('ok')\n"
    run = subprocess.run([sys.executable, "-c", code, *names], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "ok"


MAX_MODULE_LINES = 400
"""The house limit on a module's length (STYLE.md: small modules named for what they own)."""


def test_no_module_of_the_package_is_longer_than_the_house_limit() -> None:
    """Every module under src/fapilog has at most MAX_MODULE_LINES lines: a growing one gets split by responsibility."""
    long = {
        str(path.relative_to(SRC)): count
        for path in module_names().values()
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"split these modules by responsibility (limit {MAX_MODULE_LINES} lines): {long}"
