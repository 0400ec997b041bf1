"""Plugins written from the stories' appendix: protocol methods and an entry point, no metadata, no fapilog import."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.registry._dists import DistFactory, make

import fapilog
from fapilog._registry.registry import LegacyPluginWarning, PluginRegistry
from fapilog.builtins.sinks.memory import MemorySink
from fapilog.cli.main import main
from fapilog.errors import PluginValidationError

# The appendix's Processor protocol, implemented the way its reader would: nothing but the three methods.
APPENDIX_PROCESSOR = """
from typing import Any, Mapping


class Plugin:
    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.started = False

    async def process(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        return {**record, "audited": True}
"""

APPENDIX_SINK = """
from typing import Any, Mapping


class Plugin:
    def __init__(self) -> None:
        self.records: list[Mapping[str, Any]] = []

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def write(self, record: Mapping[str, Any]) -> None:
        self.records.append(record)
"""

# The appendix's FastAPIPlugin: an integration, with none of the stage methods.
INTEGRATION = """
class Plugin:
    def install(self, app):
        return app
"""

SYNC_SINK = APPENDIX_SINK.replace("async def write", "def write")

BOTH = APPENDIX_PROCESSOR + """
    async def write(self, record):
        pass
"""


@pytest.fixture
def dists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DistFactory]:
    yield from make(tmp_path, monkeypatch)


def test_appendix_processor_loads_by_name_and_processes_records_without_a_warning(dists: DistFactory) -> None:
    """A processor with only the appendix methods, configured by name, sees every record and warns nothing."""
    dists.plugin("audit-stamp", source=APPENDIX_PROCESSOR, summary="Stamps every record as audited.")
    memory = MemorySink()
    with warnings.catch_warnings():
        warnings.simplefilter("error", LegacyPluginWarning)
        fapilog.configure(processors=["audit-stamp"], sinks=[memory])
        fapilog.get_logger("app").info("user login", user_id=7)
        assert fapilog.flush(5.0)
    assert [(r["message"], r["user_id"], r["audited"]) for r in memory.records] == [("user login", 7, True)]


def test_metadata_is_derived_from_the_distribution(dists: DistFactory) -> None:
    """Name from the entry point, version and description from the distribution, kind from the methods."""
    dists.plugin("stamp", source=APPENDIX_PROCESSOR, dist="fapilog-stamp", version="1.4.2", summary="Stamps records.")
    info = PluginRegistry().load("stamp")
    assert info.metadata is not None
    md = info.metadata
    assert (md.name, md.version, md.kind, md.description) == ("stamp", "1.4.2", "processor", "Stamps records.")
    assert not info.legacy
    assert info.distribution == "fapilog-stamp"
    assert info.derived_from == "distribution fapilog-stamp 1.4.2"


def test_appendix_sink_is_inferred_as_a_sink(dists: DistFactory) -> None:
    """A class with the appendix's Sink methods is a sink, created by name without a warning."""
    dists.plugin("keep", source=APPENDIX_SINK)
    registry = PluginRegistry()
    with warnings.catch_warnings():
        warnings.simplefilter("error", LegacyPluginWarning)
        name, sink = registry.create("sink", "keep")
    assert name == "keep" and registry.get("keep").kind == "sink"
    assert callable(sink.write)
    assert registry.notices == ()


def test_plugin_check_passes_an_appendix_plugin_with_a_note(
    dists: DistFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    """`fapilog plugin check NAME` passes the appendix processor and notes what explicit metadata would add."""
    dists.plugin("stamp", source=APPENDIX_PROCESSOR, summary="Stamps records.")
    code = main(["plugin", "check", "stamp", "--json"])
    document = json.loads(capsys.readouterr().out)
    (report,) = document["plugins"]
    results = {r["name"]: r for r in report["results"]}
    assert code == 0 and report["ok"] and report["kind"] == "processor"
    assert results["metadata"]["skipped"]
    assert "enables more checks" in results["metadata"]["reason"]
    assert results["protocol"]["ok"] and not results["protocol"]["skipped"]
    assert results["pipeline"]["ok"]


def test_a_sync_sink_from_an_entry_point_still_warns(dists: DistFactory) -> None:
    """A plugin whose write() is synchronous gets the legacy notice: something really is missing."""
    dists.plugin("blocking", source=SYNC_SINK)
    with pytest.warns(LegacyPluginWarning, match="'blocking'"):
        PluginRegistry().create("sink", "blocking")


def test_a_non_stage_object_is_refused_naming_the_expected_methods(dists: DistFactory) -> None:
    """An integration object with no stage method is refused; the error names each kind's method."""
    dists.plugin("fastapi-integration", source=INTEGRATION)
    with pytest.raises(PluginValidationError) as caught:
        PluginRegistry().load("fastapi-integration")
    message = str(caught.value)
    assert "is not a pipeline stage" in message
    for method in ("write", "process", "enrich", "redact", "filter"):
        assert f"async def {method}(self, record)" in message


def test_an_ambiguous_object_needs_its_kind(dists: DistFactory) -> None:
    """An object with the methods of two kinds is refused unless it is configured under one of them."""
    dists.plugin("both", source=BOTH)
    with pytest.raises(PluginValidationError, match="ambiguous"):
        PluginRegistry().load("both")
    info = PluginRegistry().load("both", kind="processor")
    assert info.kind == "processor" and not info.legacy
