"""A worker turn of up to ``queue.batch_size`` (2048) events does not shrink the time a stage may spend per record:
each stage call gets at most ``CALL_RECORDS`` records within ``stage_timeout``, and a hang still costs one timeout
per batch."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import fapilog
from fapilog._engine.pipeline import CALL_RECORDS
from fapilog.builtins.sinks.memory import MemorySink
from fapilog.plugins import PluginMetadata

_EVENTS = 2048


class Gated:
    """Holds the worker on the first event (``gate``) until ``open`` is set, so what is logged meanwhile is taken
    as one full batch."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.held = threading.Event()

    async def wait(self, record: Mapping[str, Any]) -> None:
        if record.get("message") == "gate":
            self.held.set()
            await asyncio.to_thread(self.open.wait, 30.0)


class SlowLookup(Gated):
    """A per-record enricher that awaits a ~1 ms lookup for each record: slow, but never stuck."""

    metadata: ClassVar[PluginMetadata] = PluginMetadata(name="slow_lookup", version="1.0", kind="enricher")

    async def enrich(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        await self.wait(record)
        await asyncio.sleep(0.001)
        return {"looked_up": True}


class HangsAt(Gated):
    """A per-record enricher that hangs (cancellably) on the record whose ``i`` is ``at``."""

    metadata: ClassVar[PluginMetadata] = PluginMetadata(name="hangs_at", version="1.0", kind="enricher")

    def __init__(self, at: int) -> None:
        super().__init__()
        self.at = at
        self.calls = 0

    async def enrich(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        await self.wait(record)
        self.calls += 1
        if record.get("i") == self.at:
            await asyncio.sleep(3600)
        return {"enriched": True}


class BatchSizes(Gated):
    """A batch enricher that notes how many records each call got."""

    metadata: ClassVar[PluginMetadata] = PluginMetadata(name="batch_sizes", version="1.0", kind="enricher")

    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []

    async def enrich(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        return {}

    async def enrich_batch(self, records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        for record in records:
            await self.wait(record)
        self.sizes.append(len(records))
        return [{"sized": True} for _ in records]


def _burst(stage: Gated, stage_timeout: float) -> tuple[MemorySink, dict[str, Any]]:
    """Log ``_EVENTS`` events while the worker is held on a gate event, so the stage gets them as one batch."""
    sink = MemorySink()
    fapilog.configure(sinks=[sink], enrichers=[stage], stage_timeout=stage_timeout)
    assert fapilog.current_settings().queue.batch_size >= _EVENTS
    log = fapilog.get_logger("burst")
    log.info("gate")
    assert stage.held.wait(10.0)  # the worker is in the gate's batch: the events below queue up meanwhile
    for i in range(_EVENTS):
        log.info("event", i=i)
    stage.open.set()
    assert fapilog.flush(60.0).ok
    stats = fapilog.stats()
    fapilog.shutdown()
    return sink, stats


def test_a_slow_per_record_stage_is_not_timed_out_by_a_full_batch() -> None:
    """A per-record stage that needs ~1 ms a record enriches every event of a 2048-event batch when
    stage_timeout covers CALL_RECORDS of them (the whole batch would need about twice stage_timeout)."""
    sink, stats = _burst(SlowLookup(), stage_timeout=1.2)
    events = [r for r in sink.records if r["message"] == "event"]
    assert [r["i"] for r in events] == list(range(_EVENTS))
    assert all(r.get("looked_up") is True for r in events)
    assert stats["plugins"]["slow_lookup"]["errors"] == 0


def test_a_hang_in_a_full_batch_costs_one_timeout_and_keeps_what_was_done() -> None:
    """A per-record stage hanging on a record of the batch's second part: the records before it keep their
    enrichment, it and every later record of the batch go on unenriched without the stage being called again."""
    at = CALL_RECORDS + 10
    stage = HangsAt(at)
    sink, stats = _burst(stage, stage_timeout=0.5)
    events = [r for r in sink.records if r["message"] == "event"]
    assert [r["i"] for r in events] == list(range(_EVENTS))
    assert [r["i"] for r in events if r.get("enriched")] == list(range(at))
    assert stats["plugins"]["hangs_at"]["errors"] == 1
    assert stage.calls == at + 2  # the gate, the records before the hung one, and that one


def test_a_batch_form_gets_at_most_call_records_per_call() -> None:
    """A batch form is called with parts of at most CALL_RECORDS records that together cover the batch."""
    stage = BatchSizes()
    sink, _ = _burst(stage, stage_timeout=5.0)
    assert max(stage.sizes) == CALL_RECORDS and sum(stage.sizes) == _EVENTS + 1
    assert all(r.get("sized") is True for r in sink.records)
