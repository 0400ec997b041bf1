"""fapilog-fastapi's own stable error codes (``FL-FAS-NNN``): one table in ``fapilog_fastapi.errors``, one
section per code in the README, every error and stderr line of the package carrying one, and each error's
note pointing at that section rather than at the core's page (which cannot list a separate distribution's
codes)."""

from __future__ import annotations

import ast
import asyncio
import re
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import fapilog
import pytest
from fapilog.errors import ERROR_CODES as CORE_CODES
from fapilog.plugins import PluginMetadata
from fastapi import FastAPI
from starlette.testclient import TestClient

from _helpers import build_app
from fapilog_fastapi import FastAPIPlugin, RequestLoggingMiddleware, logging_lifespan
from fapilog_fastapi.errors import ERROR_CODES, TROUBLESHOOTING_URL

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "fapilog_fastapi"
README = ROOT / "README.md"
ANY_CODE = re.compile(r"FL-[A-Z]{3}-\d{3}")


def _sections() -> dict[str, str]:
    """The README's code sections: the code in the heading -> the title line under it."""
    lines = README.read_text(encoding="utf-8").splitlines()
    found: dict[str, str] = {}
    for index, line in enumerate(lines):
        heading = re.fullmatch(r"#{2,4} (FL-[A-Z]{3}-\d{3})", line)
        if heading:
            found[heading.group(1)] = next(text for text in lines[index + 1:] if text.strip())
    return found


def test_the_codes_are_the_packages_own_family_with_one_title_each() -> None:
    """Every code is FL-FAS-<three digits>, none is a core code, and no two share a title."""
    assert ERROR_CODES and all(re.fullmatch(r"FL-FAS-\d{3}", code) for code in ERROR_CODES)
    assert not set(ERROR_CODES) & set(CORE_CODES)
    assert len(set(ERROR_CODES.values())) == len(ERROR_CODES)


def test_every_code_has_a_readme_section_titled_as_in_the_table_and_every_section_a_code() -> None:
    """The README's code sections are exactly the table's codes, each under the table's title."""
    sections = _sections()
    assert set(sections) == set(ERROR_CODES)
    for code, title in sections.items():
        assert title == f"**{ERROR_CODES[code]}**", code


def test_every_code_is_used_and_every_code_the_source_names_is_known() -> None:
    """Each table code is raised or written somewhere in the package; any code it names is its own or the core's."""
    named: set[str] = set()
    for path in SRC.glob("*.py"):
        if path.name != "errors.py":
            named.update(ANY_CODE.findall(path.read_text(encoding="utf-8")))
    assert set(ERROR_CODES) <= named
    assert named <= set(ERROR_CODES) | set(CORE_CODES)


def test_no_fapilog_error_is_built_without_a_code() -> None:
    """Every ConfigError/PluginError the package constructs passes code= (else it would carry a core default)."""
    uncoded = []
    for path in SRC.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id.endswith("Error")
                    and node.func.id != "AttributeError" and not any(k.arg == "code" for k in node.keywords)):
                uncoded.append(f"{path.name}:{node.lineno}: {node.func.id}(...)")
    assert uncoded == []


def _shows_its_code(error: fapilog.FapilogError, code: str) -> None:
    assert error.code == code
    shown = "".join(traceback.format_exception(error))
    assert f"{code}: see {TROUBLESHOOTING_URL}#{code.lower()}" in shown
    assert "docs/troubleshooting.md" not in shown  # the core's page has no section for it


def test_a_bad_enricher_setting_carries_fl_fas_001() -> None:
    """FastAPIPlugin(fields=...) with an unknown field raises a ConfigError coded FL-FAS-001, pointing at the README."""
    with pytest.raises(fapilog.ConfigError) as raised:
        FastAPIPlugin(fields=["route", "user"])
    _shows_its_code(raised.value, "FL-FAS-001")


@pytest.mark.parametrize(("option", "value"), [("sample_rate", 2), ("levels", {"2xx": "LOUD"}), ("skip_paths", ["x"])])
def test_a_bad_middleware_option_carries_fl_fas_002(option: str, value: Any) -> None:
    """A bad RequestLoggingMiddleware option raises a ConfigError coded FL-FAS-002 that names the option."""
    with pytest.raises(fapilog.ConfigError) as raised:
        RequestLoggingMiddleware(build_app(), **{option: value})
    assert (raised.value.field or "").startswith(option)
    _shows_its_code(raised.value, "FL-FAS-002")


class _StuckSink:
    """A sink whose write never finishes, so the lifespan's shutdown gives up at its deadline."""

    metadata = PluginMetadata(name="stuck", version="1.0", kind="sink")

    async def write(self, record: Mapping[str, Any]) -> None:
        await asyncio.Event().wait()  # never set


def test_the_lifespans_undelivered_line_carries_fl_fas_003(capsys: pytest.CaptureFixture[str]) -> None:
    """A lifespan shutdown that leaves events undelivered says so on stderr, ending with [FL-FAS-003]."""
    app = FastAPI(lifespan=logging_lifespan(sinks=[_StuckSink()], uvicorn_logs=False, shutdown_timeout=0.2))
    with TestClient(app):
        fapilog.get_logger("app").info("never written")
    line = next(line for line in capsys.readouterr().err.splitlines() if line.startswith("fapilog_fastapi:"))
    assert "undelivered" in line and line.endswith("[FL-FAS-003]")


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), "5", True])
def test_a_shutdown_timeout_that_would_drop_everything_carries_fl_fas_004(timeout: Any) -> None:
    """logging_lifespan(shutdown_timeout=0, -1, nan, ...) raises ConfigError FL-FAS-004 naming the option."""
    with pytest.raises(fapilog.ConfigError) as raised:
        logging_lifespan(sinks=["memory"], shutdown_timeout=timeout)
    assert raised.value.field == "shutdown_timeout"
    _shows_its_code(raised.value, "FL-FAS-004")
