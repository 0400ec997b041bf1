"""docs/architecture.md names only files and functions that exist, so the page a newcomer reads first cannot drift.

The page is parsed for spans in backticks. A span that looks like a file or folder (``_engine/logger.py``,
``builtins/sinks/``, ``docs/delivery.md``) must exist under the repository root or under ``src/fapilog/``. A span
that looks like a dotted Python name (``logger.route``, ``_engine.emit.make_emit``, ``SinkRunner.abandon``,
``fapilog.plugins``; a trailing ``()`` is allowed) is resolved without importing anything: its first part must be
a fapilog module (by a unique dotted suffix of its name), a fapilog class defined in exactly one module, or a
standard-library module, and every later part a name defined there (a function, class, assignment, import, or
for classes also a method or a ``self.<attribute>`` set in one). A bare ``name()`` must be defined somewhere in
``src/fapilog``. Anything else in backticks (settings values, drop reasons, prose) is not checked.
"""

from __future__ import annotations

import ast
import functools
import importlib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "fapilog"
PAGE = ROOT / "docs" / "architecture.md"

_SPAN = re.compile(r"`([^`\n]+)`")
_PATH = re.compile(r"^[\w.-]+(/[\w.-]+)*(\.(py|md|toml|yml|tmpl)|/)$")
_NAME = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*(\(\))?$")


# -- an index of the source tree, by AST -------------------------------------------------------------------
def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@functools.cache
def _modules() -> dict[str, Path]:
    """Every module of the fapilog package, by dotted name."""
    return {_module_name(path): path for path in PACKAGE.rglob("*.py")}


@functools.cache
def _tree(module: str) -> ast.Module:
    return ast.parse(_modules()[module].read_text(encoding="utf-8"))


def _assigned(node: ast.stmt) -> set[str]:
    names: set[str] = set()
    if isinstance(node, ast.Assign):
        for target in node.targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Name):
                    names.add(sub.id)
    elif isinstance(node, ast.AnnAssign | ast.AugAssign) and isinstance(node.target, ast.Name):
        names.add(node.target.id)
    return names


def _top_level(body: list[ast.stmt]) -> dict[str, ast.AST]:
    """Names a module (or class) body defines, including those inside module-level ``if``/``try`` blocks."""
    found: dict[str, ast.AST] = {}
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found[node.name] = node
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                found[(alias.asname or alias.name).split(".")[0]] = node
        elif isinstance(node, ast.If | ast.Try):
            blocks = [node.body, node.orelse]
            if isinstance(node, ast.Try):
                blocks += [node.finalbody, *[handler.body for handler in node.handlers]]
            for block in blocks:
                found.update(_top_level(block))
        else:
            found.update(dict.fromkeys(_assigned(node), node))
    return found


def _class_members(cls: ast.ClassDef) -> set[str]:
    members = set(_top_level(cls.body))
    for node in ast.walk(cls):
        target = None
        if isinstance(node, ast.Assign):
            for candidate in node.targets:
                if isinstance(candidate, ast.Attribute):
                    target = candidate
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Attribute):
            target = node.target
        if target is not None and isinstance(target.value, ast.Name) and target.value.id == "self":
            members.add(target.attr)
    for base in cls.bases:  # a mixin's members count too (SinkRunner inherits SinkIntake)
        if isinstance(base, ast.Name):
            for module in _modules():
                node = _top_level(_tree(module).body).get(base.id)
                if isinstance(node, ast.ClassDef):
                    members |= _class_members(node)
                    break
    return members


@functools.cache
def _classes() -> dict[str, list[str]]:
    """Modules defining each top-level class name."""
    found: dict[str, list[str]] = {}
    for module in _modules():
        for node in _tree(module).body:
            if isinstance(node, ast.ClassDef):
                found.setdefault(node.name, []).append(module)
    return found


@functools.cache
def _defined_anywhere() -> set[str]:
    names: set[str] = set()
    for module in _modules():
        for node in ast.walk(_tree(module)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
    return names


def _by_suffix(parts: list[str]) -> list[str]:
    dotted = ".".join(parts)
    return [m for m in _modules() if m == dotted or m.endswith("." + dotted)]


def _resolve_in(module: str, rest: list[str]) -> str | None:
    """None when ``rest`` names something defined in ``module``, else what is missing."""
    if not rest:
        return None
    node = _top_level(_tree(module).body).get(rest[0])
    if node is None:
        return f"{module} defines no {rest[0]!r}"
    if len(rest) == 1:
        return None
    if isinstance(node, ast.ClassDef):
        return _member_of(module, node, rest[1:])
    source = node.module if isinstance(node, ast.ImportFrom) else None
    if source in _modules():  # a name re-exported from another fapilog module: look there
        return _resolve_in(source, rest)  # type: ignore[arg-type]
    return f"cannot look inside {module}.{rest[0]}"


def _member_of(module: str, cls: ast.ClassDef, rest: list[str]) -> str | None:
    if rest[0] not in _class_members(cls):
        return f"{module}.{cls.name} has no {rest[0]!r}"
    return None if len(rest) == 1 else f"cannot check past {module}.{cls.name}.{rest[0]}"


def _by_module(parts: list[str]) -> str | None:
    """The check of a name whose first parts are a fapilog module; "" when none of its prefixes is one."""
    for cut in range(len(parts), 0, -1):  # the longest module prefix wins: `fapilog._engine.logger.route`
        modules = _by_suffix(parts[:cut])
        if len(modules) > 1:
            return f"{'.'.join(parts[:cut])!r} is ambiguous ({', '.join(sorted(modules))}); qualify it"
        if modules:
            return _resolve_in(modules[0], parts[cut:])
    return ""


def _by_class(parts: list[str]) -> str | None:
    """The check of a name that starts with a fapilog class; "" when no fapilog class has that name."""
    owners = _classes().get(parts[0], [])
    if len(owners) > 1:
        return f"class {parts[0]!r} is defined in {', '.join(owners)}; qualify it with its module"
    return _resolve_in(owners[0], parts) if owners else ""


def _by_stdlib(parts: list[str]) -> str | None:
    """The check of a name in a standard-library module (others are not checked)."""
    if parts[0] not in sys.stdlib_module_names:
        return None
    target: object = importlib.import_module(parts[0])
    for part in parts[1:]:
        if not hasattr(target, part):
            return f"the standard library's {parts[0]} has no {part!r}"
        target = getattr(target, part)
    return None


def _check_name(span: str) -> str | None:
    """None when the dotted name resolves (or is not one this test checks), else the problem."""
    bare = span.removesuffix("()")
    parts = bare.split(".")
    if len(parts) == 1:
        if span.endswith("()") and bare not in _defined_anywhere():
            return f"`{span}`: no function, method or class {bare!r} is defined in src/fapilog"
        return None
    for check in (_by_module, _by_class, _by_stdlib):
        problem = check(parts)
        if problem != "":
            return None if problem is None else f"`{span}`: {problem}"
    return None


def _check_path(span: str) -> str | None:
    relative = span.rstrip("/")
    for base in (ROOT, PACKAGE):
        candidate = base / relative
        if candidate.is_dir() if span.endswith("/") else candidate.is_file():
            return None
    return f"`{span}`: no such {'folder' if span.endswith('/') else 'file'} under the repository or src/fapilog/"


def problems(text: str) -> list[str]:
    """Every file, folder or Python name in backticks in ``text`` that does not exist."""
    found: list[str] = []
    for span in dict.fromkeys(_SPAN.findall(text)):
        if _PATH.match(span):
            problem = _check_path(span)
        elif _NAME.match(span):
            problem = _check_name(span)
        else:
            problem = None
        if problem is not None:
            found.append(problem)
    return found


# -- the tests ---------------------------------------------------------------------------------------------
def test_every_file_and_name_the_architecture_page_mentions_exists() -> None:
    """Each backticked path and dotted name on docs/architecture.md exists in the source tree."""
    found = problems(PAGE.read_text(encoding="utf-8"))
    assert not found, "docs/architecture.md mentions what does not exist:\n" + "\n".join(found)


def test_the_checker_rejects_a_missing_file_function_and_method() -> None:
    """The checker flags a missing file, a missing module function, a missing method and an unknown bare call."""
    text = "`core/nowhere.py` `logger.no_such_route` `SinkRunner.no_such_method` `no_such_function_anywhere()`"
    found = problems(text)
    assert len(found) == 4, found
    assert problems("`_engine/logger.py` `logger.route` `SinkRunner.abandon` `route()` `threading.Thread`") == []


def test_the_checker_refuses_an_ambiguous_module_name() -> None:
    """A module suffix shared by two modules (an old path's shim plugins.discovery, _registry.discovery) must be
    qualified."""
    assert problems("`discovery.scan`") and not problems("`_registry.discovery.scan`")


def test_the_page_names_every_core_module() -> None:
    """Each module of src/fapilog/_engine appears on the page as _engine/<module>.py, so the package map stays whole."""
    text = PAGE.read_text(encoding="utf-8")
    missing = [
        f"_engine/{path.name}"
        for path in sorted((PACKAGE / "_engine").glob("*.py"))
        if path.name != "__init__.py" and f"`_engine/{path.name}`" not in text
    ]
    assert not missing, "add these modules to the package map of docs/architecture.md: " + ", ".join(missing)


def test_the_page_spells_out_who_installs_the_emit_function() -> None:
    """The event path names the three places that decide where a log call goes: route(), state and capture."""
    text = PAGE.read_text(encoding="utf-8")
    for needed in ("`logger.route`", "`_engine/state.py`", "`_engine.emit.make_emit`", "`state._bootstrap_emit`"):
        assert needed in text, f"docs/architecture.md should name {needed}"
