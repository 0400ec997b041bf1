"""The pytest side of the kit, run the way a plugin author runs it: a separate pytest process that finds the
``fapilog`` pytest plugin through the installed ``pytest11`` entry point (no conftest, no ``-p``)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PLUGIN_TESTS = textwrap.dedent(
    '''
    from __future__ import annotations

    from collections.abc import Mapping
    from typing import Any

    import fapilog
    from fapilog.plugins.metadata import PluginMetadata
    from fapilog.testing import EnricherContract, ProcessorContract


    class ServiceEnricher:
        metadata = PluginMetadata(name="service", version="1.0.0", kind="enricher", description="Adds service")

        async def enrich(self, record: Mapping[str, Any]) -> dict[str, Any]:
            return {"service": "checkout"}


    class LengthProcessor:
        """Broken on purpose: assumes every message is a string."""

        metadata = PluginMetadata(name="length", version="1.0.0", kind="processor", description="Adds length")

        async def process(self, record: Mapping[str, Any]) -> dict[str, Any]:
            return {**record, "length": len(record["message"])}


    class TestServiceEnricher(EnricherContract):
        plugin_class = ServiceEnricher


    class TestLengthProcessor(ProcessorContract):
        plugin_class = LengthProcessor


    def test_events_fixture(fapilog_events):
        fapilog.get_logger("app").info("paid", amount=3)
        assert fapilog_events.find("paid")["amount"] == 3


    def test_record_fixture(fapilog_record):
        record = fapilog_record("hello", level="ERROR", user_id=1)
        assert (record["level"], record["user_id"], record.levelno) == ("ERROR", 1, 40)
    '''
)


def _pytest(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTEST_ADDOPTS", "PYTEST_PLUGINS"}}
    env["COLUMNS"] = "400"  # the short summary is cut to the terminal width
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", *args],
        cwd=directory, env=env, capture_output=True, text=True, timeout=300, check=False,
    )


def test_contract_suites_and_fixtures_in_a_plugin_authors_test_run(tmp_path: Path) -> None:
    (tmp_path / "test_plugin.py").write_text(PLUGIN_TESTS, encoding="utf-8")
    done = _pytest(tmp_path)
    out = done.stdout
    assert done.returncode == 1, out  # the broken processor must fail its run
    for check in ("metadata", "type_hints", "protocol", "settings", "lifecycle", "behaviour", "error_behaviour",
                  "concurrency", "pipeline"):
        assert f"PASSED test_plugin.py::TestServiceEnricher::test_{check}" in out
    skipped = [line for line in out.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 2  # batch_form, one per plugin: neither has a batch method
    assert skipped[0].endswith("no enrich_batch(); the core calls enrich() per record")
    assert skipped[1].endswith("no process_batch(); the core calls process() per record")
    assert "PASSED test_plugin.py::test_events_fixture" in out
    assert "PASSED test_plugin.py::test_record_fixture" in out
    failed = [line for line in out.splitlines() if line.startswith("FAILED")]
    assert failed == [
        "FAILED test_plugin.py::TestLengthProcessor::test_error_behaviour - Failed: length (processor) breaks the "
        "error_behaviour contract: process() raised TypeError: object of type 'NoneType' has no len() on a "
        "record with a None message; plugins must accept any record the core can produce"
    ]


def test_the_plugin_is_registered_through_the_pytest11_entry_point(tmp_path: Path) -> None:
    (tmp_path / "test_nothing.py").write_text("def test_ok():\n    pass\n", encoding="utf-8")
    done = _pytest(tmp_path, "--trace-config")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "fapilog-" in done.stdout and "fapilog/testing/pytest_plugin.py" in done.stdout


@pytest.mark.parametrize("fixture", ["fapilog_events", "fapilog_record"])
def test_fixtures_are_documented_in_pytest_fixtures_listing(tmp_path: Path, fixture: str) -> None:
    (tmp_path / "test_nothing.py").write_text("def test_ok():\n    pass\n", encoding="utf-8")
    done = _pytest(tmp_path, "--fixtures")
    assert fixture in done.stdout


def test_the_pytest_plugin_loads_the_kit_only_when_a_fixture_is_used() -> None:
    """Every pytest run with fapilog installed imports the plugin: it must not pay for the contract checks."""
    code = (
        "import sys, fapilog.testing.pytest_plugin, fapilog.testing as kit\n"
        "heavy = ['fapilog.testing.checks', 'fapilog.testing.bench', 'fapilog.testing.capture', 'cProfile']\n"
        "print([m for m in heavy if m in sys.modules]); kit.check_plugin\n"
        "print('fapilog.testing.checks' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.splitlines() == ["[]", "True"]
