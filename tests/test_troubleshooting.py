"""Stable error codes: one table in ``fapilog.errors``, one section per code in docs/troubleshooting.md.

The table, the page and the source are kept equal: every code has a section (headed by the code, titled as in
the table), every section's code is in the table, every code is used in the source, every code the source
names is in the table, and no fapilog error is constructed without a code. Real mistakes then show their code
where users see it: in the traceback, on the command line, on stderr and in warnings.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import fapilog
import fapilog.errors
from fapilog.errors import ERROR_CODES, FapilogError
from fapilog.plugins.metadata import PluginMetadata

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "fapilog"
PAGE = ROOT / "docs" / "troubleshooting.md"
CODE = re.compile(r"FL-[A-Z]{3}-\d{3}")
ERROR_CLASSES = frozenset(
    name for name, obj in vars(fapilog.errors).items() if isinstance(obj, type) and issubclass(obj, FapilogError)
)

PENDING_VALIDATION_ENGINE: dict[str, frozenset[str]] = {}
"""``module -> functions`` whose errors take their class's default code for now (``FL-CFG-001`` for a
``ConfigError``): the settings validation engine is being rewritten, and its messages get specific codes
with it. ``"*"`` is the whole module."""


def _sections() -> dict[str, str]:
    """Each code section of the page: the code in its heading -> the title line under it."""
    found: dict[str, str] = {}
    lines = PAGE.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        heading = re.fullmatch(r"#{2,4} (\S+)", line)
        if heading and CODE.fullmatch(heading.group(1)):
            assert heading.group(1) not in found, f"two sections for {heading.group(1)}"
            title = next(text for text in lines[index + 1:] if text.strip())
            found[heading.group(1)] = title
    return found


def _sources() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def _relative(path: Path) -> str:
    return path.relative_to(SRC).as_posix()


def test_every_code_has_a_section_titled_as_in_the_table_and_every_section_a_code() -> None:
    """The page's code sections are exactly the table's codes, each under the table's title."""
    sections = _sections()
    assert sorted(set(ERROR_CODES) - set(sections)) == [], "codes without a section in docs/troubleshooting.md"
    assert sorted(set(sections) - set(ERROR_CODES)) == [], "sections for codes not in fapilog.errors.ERROR_CODES"
    for code, title in sections.items():
        assert title == "**" + ERROR_CODES[code].replace("*", "\\*") + "**", code


def test_codes_have_the_documented_shape_and_one_title_each() -> None:
    """Every code is FL-<area>-<three digits> and no two codes share a title."""
    assert all(CODE.fullmatch(code) for code in ERROR_CODES)
    assert len(set(ERROR_CODES.values())) == len(ERROR_CODES)


def test_every_code_in_the_table_is_used_in_the_source() -> None:
    """Each code is raised, warned or reported somewhere (a class default counts), not only listed."""
    table = ast.parse((SRC / "errors.py").read_text(encoding="utf-8"))
    listed = next(node for node in ast.walk(table) if isinstance(node, ast.AnnAssign)
                  and isinstance(node.target, ast.Name) and node.target.id == "ERROR_CODES")
    table_lines = set(range(listed.lineno, (listed.end_lineno or listed.lineno) + 1))
    used: set[str] = set()
    for path in _sources():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if path == SRC / "errors.py" and (number in table_lines or "default_code" not in line):
                continue  # the table itself and the docstring's examples; a class's default code is a use
            used.update(CODE.findall(line))
    assert sorted(set(ERROR_CODES) - used) == []


def test_every_code_the_source_names_is_in_the_table() -> None:
    """A code written in the source (a typo, a code not added to the table) fails here."""
    unknown = {
        f"{_relative(path)}: {code}"
        for path in _sources()
        for code in CODE.findall(path.read_text(encoding="utf-8"))
        if code not in ERROR_CODES
    }
    assert sorted(unknown) == []


def _call_name(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Call) and isinstance(func.func, ast.Name) and func.func.id == "type":
        return "type(...)"  # re-raising a caught error as its own class: it must pass the code on
    return None


def _uncoded_sites() -> list[str]:
    """Constructions of fapilog errors without ``code=``, and non-healthy health answers or refusing verdicts
    without one, outside the modules pending the validation engine."""
    missing = []
    for path in _sources():
        module = _relative(path)
        if module == "errors.py":
            continue
        pending = PENDING_VALIDATION_ENGINE.get(module, frozenset())
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or any(k.arg == "code" for k in node.keywords):
                continue
            name = _call_name(node)
            first = node.args[0] if node.args else None
            literal = first.value if isinstance(first, ast.Constant) else None
            coded = (
                name in ERROR_CLASSES
                or name == "type(...)"
                or (name == "PluginHealth" and literal != "healthy")
                or (name == "CompatVerdict" and literal is not True)
            )
            if not coded:
                continue
            enclosing = [f.name for f in functions if f.lineno <= node.lineno <= (f.end_lineno or f.lineno)]
            if "*" in pending or pending.intersection(enclosing):
                continue
            missing.append(f"{module}:{node.lineno}: {name}(...)")
    return missing


def test_no_error_health_answer_or_refusing_verdict_is_built_without_a_code() -> None:
    """Every ``FapilogError`` construction (re-raises included), non-healthy ``PluginHealth`` and refusing
    ``CompatVerdict`` in the source passes ``code=``."""
    assert _uncoded_sites() == []


def test_the_uncoded_site_check_finds_a_site_without_a_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The AST check reports an error built without ``code=`` and accepts one built with it."""
    fake = tmp_path / "src" / "fapilog"
    (fake / "plugins").mkdir(parents=True)
    (fake / "plugins" / "sample.py").write_text(
        "def bad():\n    raise PluginError('x')\n"
        "def good():\n    raise PluginError('x', code='FL-PLG-007')\n"
        "def rewrap(exc):\n    raise type(exc)(f'where: {exc}')\n"
        "def sick():\n    return PluginHealth('degraded', 'x')\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(sys.modules[__name__], "SRC", fake)
    assert _uncoded_sites() == [
        "plugins/sample.py:2: PluginError(...)",
        "plugins/sample.py:6: type(...)(...)",
        "plugins/sample.py:8: PluginHealth(...)",
    ]


# -- real mistakes show their code ---------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"<[A-Za-z][^<>]*>")
_LOCATION = re.compile(r"^(?:[a-z_]+\[\d+\](?:\.[a-z_]+\[\d+\])*|load_plugin|reload_plugin\('[^']*'\)): ")


def documented_forms() -> list[re.Pattern[str]]:
    """Each line, and each whole block, of the page's ``text`` blocks as a pattern (``<...>`` matches a value)."""
    blocks = re.findall(r"```text\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.DOTALL)
    forms = [*blocks, *(line for block in blocks for line in block.splitlines())]

    def pattern(form: str) -> re.Pattern[str]:
        literal = [re.escape(part) for part in _PLACEHOLDER.split(form.strip())]
        return re.compile(".+?".join(literal), re.DOTALL)

    return [pattern(form) for form in forms if form.strip()]


def _raised(action: Callable[[], object]) -> FapilogError:
    try:
        action()
    except FapilogError as exc:
        return exc
    raise AssertionError("expected a FapilogError")


def _metadata(**fields: Any) -> PluginMetadata:
    return PluginMetadata(**{"name": "demo", "version": "1.0.0", "kind": "sink", **fields})


class _SyncWrite:
    metadata = PluginMetadata(name="sync-write", version="1.0.0", kind="sink")

    def write(self, record: object) -> None:
        pass


class _Ready:
    metadata = PluginMetadata(name="ready", version="1.0.0", kind="sink")

    async def write(self, record: object) -> None:
        pass


def _incompatible() -> None:
    from fapilog._registry.compat import check_constraint, incompatible_error

    raise incompatible_error("splunk", "fapilog-splunk", "0.9.0", check_constraint(">=2.0,<3.0"))


def _cycle() -> None:
    from fapilog._registry.dependencies import resolve_order

    resolve_order({"a": _metadata(name="a", requires=("b",)), "b": _metadata(name="b", requires=("a",))})


def _sync_write() -> None:
    from fapilog._registry.registry import PluginRegistry

    PluginRegistry([_SyncWrite])


def _reload_object() -> None:
    fapilog.configure(sinks=[_Ready()])
    fapilog.reload_plugin("ready")


REAL_ERRORS: dict[str, tuple[str, Callable[[], object]]] = {
    "not found, with a suggestion": ("FL-PLG-001", lambda: fapilog.configure(sinks=["stdot"])),
    "unknown plugin setting": ("FL-CFG-001", lambda: fapilog.configure(sinks=[{"type": "file", "max_byte": 1}])),
    "built-in's own check": ("FL-CFG-001", lambda: fapilog.configure(filters=[{"type": "sampling", "rate": 5}])),
    "wrong stage list": ("FL-PLG-006", lambda: fapilog.configure(processors=["file"])),
    "denied": ("FL-CFG-004", lambda: fapilog.configure(sinks=["stdout"], plugins={"deny": ["stdout"]})),
    "not allowed": ("FL-CFG-005", lambda: fapilog.configure(sinks=["stdout"], plugins={"allow": ["file"]})),
    "spec without type": ("FL-CFG-010", lambda: fapilog.configure(sinks=[{"path": "app.log"}])),
    "bad level": ("FL-CFG-007", lambda: fapilog.configure(level="loud")),
    "delivery keys": ("FL-CFG-008", lambda: fapilog.configure(sinks=[{"type": "memory", "delivery": {"x": 1}}])),
    "http sink url": ("FL-SNK-003", lambda: fapilog.configure(sinks=[{"type": "http", "url": "ftp://x"}])),
    "version gate": ("FL-VER-001", _incompatible),
    "plugin API": ("FL-VER-002", lambda: _metadata(api_version="2.0")),
    "metadata kind": ("FL-VAL-001", lambda: _metadata(kind="sinks")),
    "sync method": ("FL-VAL-002", _sync_write),
    "dependency cycle": ("FL-DEP-003", _cycle),
    "load_plugin kind": ("FL-CFG-009", lambda: fapilog.load_plugin("alerter", "memory")),
    "reload an object": ("FL-RUN-004", _reload_object),
}


@pytest.mark.parametrize("case", list(REAL_ERRORS))
def test_a_real_mistake_carries_its_code_and_a_documented_message(case: str) -> None:
    """The error a real mistake raises has the expected code, shows it in its traceback, and its message
    (with or without the location prefix, or the original error it wraps) matches a form on the page."""
    code, action = REAL_ERRORS[case]
    exc = _raised(action)
    assert exc.code == code
    printed = "".join(traceback.format_exception(exc))
    assert f"{code}: see " in printed and f"troubleshooting.md#{code.lower()}" in printed
    message = str(exc)
    assert code not in message, "str() stays the message alone"
    original: BaseException = exc
    while isinstance(original.__cause__, FapilogError):
        original = original.__cause__  # a wrapped error's own message is documented where it is raised
    candidates = {message, _LOCATION.sub("", message), str(original)}
    assert any(form.fullmatch(text) for form in documented_forms() for text in candidates), message


def test_the_command_line_prints_the_code_after_the_message(tmp_path: Path) -> None:
    """`fapilog plugin check` of an unknown plugin ends its error line with the code."""
    done = subprocess.run([sys.executable, "-m", "fapilog", "plugin", "check", "zzzzzz"], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path, check=False)
    first = done.stderr.splitlines()[0]
    assert first.startswith("fapilog: error: no plugin named 'zzzzzz'") and first.endswith("[FL-PLG-001]"), done


def test_a_stderr_line_ends_with_its_code(capsys: pytest.CaptureFixture[str]) -> None:
    """A sink that raises produces the rate-limited stderr line with its code at the end."""

    class Broken:
        metadata = PluginMetadata(name="broken-sink", version="1.0.0", kind="sink")

        async def write(self, record: object) -> None:
            raise RuntimeError("disk on fire")

    fapilog.configure(sinks=[Broken()])
    fapilog.get_logger("t").info("hello")
    fapilog.flush(5.0)
    line = next(line for line in capsys.readouterr().err.splitlines() if "broken-sink" in line)
    assert "raised RuntimeError: disk on fire" in line and line.endswith("[FL-LOG-002]"), line


def test_a_warning_ends_with_its_code() -> None:
    """The loki sink's label warning is a ConfigWarning whose text ends with its code."""
    pytest.importorskip("httpx")
    from fapilog.builtins.sinks.loki import LokiSink

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        LokiSink(url="http://127.0.0.1:9/loki/api/v1/push", labels={"service": "api", "request_id": "x"})
    shown = [w for w in caught if issubclass(w.category, fapilog.errors.ConfigWarning)]
    assert shown and str(shown[0].message).endswith("[FL-SNK-010]")
    assert shown[0].message.code == "FL-SNK-010"  # type: ignore[union-attr]


def test_a_health_answer_that_is_not_healthy_carries_its_code() -> None:
    """A health check that raises is unhealthy with FL-HLT-001, and healthy answers carry no code."""
    import asyncio

    from fapilog.plugins.health import check_health

    class Raises:
        async def health_check(self) -> bool:
            raise ConnectionError("backend refused")

    report = asyncio.run(check_health({"bad": Raises(), "none": object()}, timeout=5.0))
    assert (report["bad"].status, report["bad"].code) == ("unhealthy", "FL-HLT-001")
    assert (report["none"].status, report["none"].code) == ("healthy", None)
