"""The plugin kinds are exactly the pipeline's five stages: no kind is accepted that nothing runs."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from typing import Any

import pytest

import fapilog
from fapilog._engine.pipeline import Pipeline, Stage, StageKind
from fapilog._kit.record import EventRecord
from fapilog._registry.registry import PluginRegistry
from fapilog.errors import ConfigError, PluginValidationError
from fapilog.plugins import metadata
from fapilog.plugins.metadata import KINDS, PLUGIN_KINDS, REQUIRED_METHODS, KindSpec, PluginMetadata
from fapilog.plugins.protocols import BatchSink, Enricher, Filter, Processor, Redactor
from fapilog.settings import LoggingSettings


def test_the_kinds_are_the_five_stages() -> None:
    """PLUGIN_KINDS and REQUIRED_METHODS list the five stages the worker runs, nothing provisional."""
    assert set(PLUGIN_KINDS) == {"sink", "processor", "enricher", "redactor", "filter"} == set(REQUIRED_METHODS)
    assert not hasattr(metadata, "PROVISIONAL_KINDS")


def test_an_alerter_is_refused_at_declaration() -> None:
    """PluginMetadata(kind="alerter") is invalid metadata, named as such."""
    with pytest.raises(PluginValidationError, match="kind 'alerter' is not one of sink, processor"):
        PluginMetadata(name="pager", version="1.0", kind="alerter")  # type: ignore[arg-type]


def test_an_alerter_kind_cannot_be_created_or_configured() -> None:
    """The registry refuses the kind, and `alerters=` is an unknown setting of configure()."""
    with pytest.raises(ConfigError, match="unknown plugin kind 'alerter'"):
        PluginRegistry(entry_points=False).create("alerter", "memory")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="alerters"):
        fapilog.configure(alerters=["pager"])


PROTOCOLS = {"filter": Filter, "enricher": Enricher, "redactor": Redactor, "processor": Processor, "sink": BatchSink}


@pytest.mark.parametrize("spec", KINDS, ids=lambda spec: spec.kind)
def test_each_kind_method_is_an_async_method_of_its_protocol(spec: KindSpec) -> None:
    """A KINDS row names the async method and batch method its protocol in plugins.protocols defines."""
    protocol = PROTOCOLS[spec.kind]
    assert inspect.iscoroutinefunction(getattr(protocol, spec.method))
    assert spec.batch_method == f"{spec.method}_batch"
    if spec.kind == "sink":  # the stages' batch forms are optional and documented only in prose
        assert inspect.iscoroutinefunction(getattr(protocol, spec.batch_method))
    assert REQUIRED_METHODS[spec.kind] == spec.method


def test_kinds_table_is_in_the_documented_pipeline_order() -> None:
    """KINDS lists every kind once, filters → enrichers → redactors → processors → sinks, each with its setting."""
    assert [spec.kind for spec in KINDS] == ["filter", "enricher", "redactor", "processor", "sink"]
    assert [spec.order for spec in KINDS] == sorted(spec.order for spec in KINDS)
    assert sorted(spec.kind for spec in KINDS) == sorted(PLUGIN_KINDS)
    fields = {field.name for field in dataclasses.fields(LoggingSettings)}
    assert [spec.settings_field for spec in KINDS] == ["filters", "enrichers", "redactors", "processors", "sinks"]
    assert {spec.settings_field for spec in KINDS} <= fields


class _Stamp:
    """A minimal stage plugin (real object, every method) that appends its name to a record field."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def filter(self, record: Any) -> Any:
        return self._stamp(record)

    async def enrich(self, record: Any) -> Any:
        self._stamp(record)
        return {}

    async def redact(self, record: Any) -> Any:
        return self._stamp(record)

    async def process(self, record: Any) -> Any:
        return self._stamp(record)

    def _stamp(self, record: Any) -> Any:
        record["seen"] = [*record.get("seen", []), self.name]
        return record


def test_pipeline_runs_stages_by_kind_order_then_configured_order() -> None:
    """Stages given out of order run filters → enrichers → redactors → processors, configured order within a kind."""
    given: list[tuple[StageKind, str]] = [
        ("processor", "p1"), ("redactor", "r1"), ("enricher", "e1"), ("filter", "f1"), ("processor", "p2"),
        ("filter", "f2"),
    ]
    pipeline = Pipeline([Stage(kind, name, _Stamp(name)) for kind, name in given])
    assert [stage.name for stage in pipeline.stages] == ["f1", "f2", "e1", "r1", "p1", "p2"]
    records = asyncio.run(pipeline.run([EventRecord({"message": "m"})]))
    assert records[0]["seen"] == ["f1", "f2", "e1", "r1", "p1", "p2"]
