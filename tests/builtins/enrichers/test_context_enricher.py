"""The built-in ``context`` enricher: filters bound context keys and nests them, using the call-site snapshot."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import pytest

import fapilog
from fapilog._kit.record import EventRecord
from fapilog._registry.registry import PluginRegistry
from fapilog.builtins.enrichers.context import ContextEnricher
from fapilog.builtins.sinks.memory import MemorySink
from fapilog.errors import ConfigError


def built(context: Mapping[str, Any], **fields: Any) -> EventRecord:
    """A record as the worker builds it: context merged at the top level (reserved names get '_'), then fields."""
    reserved = {"timestamp", "level", "logger", "message", "seq", "exception"}
    rec = EventRecord(timestamp="t", level="INFO", logger="app", message="m", seq=0)
    rec.update({f"{k}_" if k in reserved else k: v for k, v in context.items()})
    rec.update(fields)
    rec.captured = {"context": MappingProxyType(dict(context))}
    return rec


def enrich(enricher: ContextEnricher, rec: EventRecord) -> EventRecord:
    """Run the batch form and merge its output the way the core does (existing keys win)."""
    (extra,) = asyncio.run(enricher.enrich_batch([rec]))
    for key, value in extra.items():
        rec.setdefault(key, value)
    return rec


def test_include_removes_the_other_bound_keys() -> None:
    """Only the listed context keys stay; call fields are untouched."""
    rec = enrich(ContextEnricher(include=["request_id"]), built({"request_id": "r1", "user": "ada"}, order=5))
    assert rec == {"timestamp": "t", "level": "INFO", "logger": "app", "message": "m", "seq": 0,
                   "request_id": "r1", "order": 5}


def test_prefix_nests_the_bound_keys() -> None:
    """prefix='ctx' moves the context keys under one object, leaving the call's fields at the top."""
    rec = enrich(ContextEnricher(prefix="ctx"), built({"request_id": "r1", "user": "ada"}, order=5))
    assert rec["ctx"] == {"request_id": "r1", "user": "ada"}
    assert "request_id" not in rec and "user" not in rec and rec["order"] == 5


def test_include_and_prefix_together() -> None:
    """Filtered-out keys vanish, kept ones are nested."""
    rec = enrich(ContextEnricher(include=["user"], prefix="ctx"), built({"request_id": "r1", "user": "ada"}))
    assert rec["ctx"] == {"user": "ada"} and "request_id" not in rec and "user" not in rec


def test_a_call_field_of_the_same_name_stays_where_it_is() -> None:
    """The core lets a call field win over a bound key; the enricher leaves that field alone."""
    rec = enrich(ContextEnricher(prefix="ctx", include=["user"]), built({"user": "bound"}, user="from-call"))
    assert rec["user"] == "from-call" and "ctx" not in rec


def test_a_reserved_name_is_moved_under_its_own_name() -> None:
    """A bound 'message' sits in the record as 'message_'; nested, it is 'message' again."""
    rec = enrich(ContextEnricher(prefix="ctx"), built({"message": "bound text"}))
    assert rec["ctx"] == {"message": "bound text"} and "message_" not in rec and rec["message"] == "m"


def test_an_existing_prefix_field_is_never_overwritten() -> None:
    """When the record already has the prefix field, kept context keys stay at the top level."""
    rec = enrich(ContextEnricher(prefix="ctx", include=["a"]), built({"a": 1, "b": 2}, ctx="mine"))
    assert rec["ctx"] == "mine" and rec["a"] == 1 and "b" not in rec


def test_records_without_a_snapshot_are_left_alone() -> None:
    """Nothing captured (a record built by hand): nothing is removed or added."""
    rec = EventRecord(message="m", request_id="r1")
    assert asyncio.run(ContextEnricher(prefix="ctx").enrich(rec)) == {}
    assert rec == {"message": "m", "request_id": "r1"}


def test_capture_returns_the_bound_context_of_the_caller() -> None:
    """capture() is the current context snapshot; without options there is nothing to capture."""
    enricher = ContextEnricher(prefix="ctx")
    with fapilog.scoped(request_id="r9"):
        assert dict(enricher.capture()) == {"request_id": "r9"}
    assert enricher.capture_enabled and not ContextEnricher().capture_enabled


@pytest.mark.parametrize(
    ("options", "start"),
    [
        ({"prefix": "message"}, "context.prefix: expected a field name other than"),
        ({"prefix": ""}, "context.prefix:"),
        ({"include": "request_id"}, "context.include: expected a list"),
        ({"include": ["ok", 3]}, "context.include:"),
    ],
)
def test_bad_settings_name_the_field(options: dict[str, Any], start: str) -> None:
    """Invalid settings raise ConfigError starting with '<plugin>.<field>:'."""
    with pytest.raises(ConfigError) as caught:
        ContextEnricher(**options)
    assert str(caught.value).startswith(start)


def test_settings_by_table_reach_the_constructor() -> None:
    """The registry validates a table with the config model and builds the enricher from it."""
    registry = PluginRegistry([ContextEnricher], entry_points=False)
    _, instance = registry.create("enricher", {"type": "context", "include": ["request_id"], "prefix": "ctx"})
    assert isinstance(instance, ContextEnricher) and instance.include == frozenset({"request_id"})


def test_end_to_end_with_the_call_site_capture() -> None:
    """Through the pipeline: bound keys from scoped() are filtered and nested; a thread's own context is used."""
    sink = MemorySink()
    fapilog.configure(sinks=[sink], enrichers=[ContextEnricher(include=["request_id"], prefix="ctx")])
    log = fapilog.get_logger("e2e")
    with fapilog.scoped(request_id="r1", user="ada"):
        log.info("in request", order=5)

        def other_thread() -> None:
            with fapilog.scoped(request_id="r2"):
                log.info("in thread")

        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    log.info("outside")
    assert fapilog.flush(5.0)
    first, second, third = sink.records
    assert first["ctx"] == {"request_id": "r1"} and "user" not in first and first["order"] == 5
    assert second["ctx"] == {"request_id": "r2"}
    assert "ctx" not in third
