"""A sink's own processors (``sinks[].processors``): what they fail to do is counted for that sink only, and
every sink's ledger identity holds next to a sink without them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

import fapilog
from fapilog.plugins.metadata import PluginMetadata

if TYPE_CHECKING:
    from fapilog._engine.stats_schema import Stats


class RaisingProcessor:
    """A processor that raises on every record (one-record form only)."""

    metadata = PluginMetadata(name="raising", version="1.0", kind="processor", description="raises on every record")

    async def start(self) -> None:
        """Nothing to open."""

    async def stop(self) -> None:
        """Nothing to close."""

    async def process(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        raise RuntimeError("cannot process")


class ShrinkingProcessor:
    """A processor whose batch form breaks the contract by returning one record fewer than it was given."""

    metadata = PluginMetadata(name="shrinking", version="1.0", kind="processor",
                              description="returns fewer records than given")

    async def start(self) -> None:
        """Nothing to open."""

    async def stop(self) -> None:
        """Nothing to close."""

    async def process(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        return {**record, "touched": True}

    async def process_batch(self, records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        return [{**record, "touched": True} for record in records[1:]]


def _configure(tmp_path: Path, processor: object) -> tuple[Path, Path]:
    plain, own = tmp_path / "plain.log", tmp_path / "own.log"
    fapilog.configure(sinks=[
        {"type": "file", "name": "plain", "path": str(plain)},
        {"type": "file", "name": "own", "path": str(own), "processors": [processor]},
    ])
    return plain, own


def _lines(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def _identity_holds(stats: Stats, sink: str) -> bool:
    counts = stats["sinks"][sink]
    return (stats["submitted"] + stats["split_extra"] + counts["split_extra"]
            == counts["delivered"] + counts["failed"] + stats["dropped"]["total"])


def test_a_raising_sink_processor_counts_every_record_it_let_through_unprocessed(tmp_path: Path) -> None:
    """Each record a sink's own processor raised on is counted for that sink and that processor, not the other sink."""
    plain, own = _configure(tmp_path, RaisingProcessor())
    log = fapilog.get_logger("p")
    for i in range(5):
        log.info("event", i=i)
    assert fapilog.flush(5.0)
    stats = fapilog.stats()
    assert [r["i"] for r in _lines(own)] == list(range(5))  # delivered, unprocessed: the processor's failure state
    assert stats["sinks"]["own"]["processor_degraded"] == {"raising@own": 5}
    assert stats["sinks"]["plain"]["processor_degraded"] == {}
    assert stats["plugins"]["raising@own"]["kind"] == "processor"
    assert stats["plugins"]["raising@own"]["errors"] == 5
    assert len(_lines(plain)) == 5
    assert _identity_holds(stats, "own") and _identity_holds(stats, "plain")


def test_a_failed_batch_of_a_sink_processor_counts_each_record_of_the_batch(tmp_path: Path) -> None:
    """A sink processor's batch form that fails (here: returns too few) counts every record of the batch it spoiled."""
    _plain, own = _configure(tmp_path, ShrinkingProcessor())
    log = fapilog.get_logger("p")
    for i in range(4):
        log.info("event", i=i)
    assert fapilog.flush(5.0)
    stats = fapilog.stats()
    records = _lines(own)
    assert [r["i"] for r in records] == list(range(4)) and not any("touched" in r for r in records)
    assert stats["sinks"]["own"]["processor_degraded"] == {"shrinking@own": 4}
    assert stats["sinks"]["own"]["processor_errors"]["shrinking@own"] >= 1
    assert _identity_holds(stats, "own") and _identity_holds(stats, "plain")


def test_a_working_sink_processor_reports_no_degraded_record(tmp_path: Path) -> None:
    """A sink processor that does its job is listed under plugins with no error and no degraded record."""
    _plain, own = _configure(tmp_path, {"type": "size_guard", "max_bytes": 600})
    fapilog.get_logger("p").info("big", payload="y" * 5_000)
    assert fapilog.flush(5.0)
    stats = fapilog.stats()
    assert "_truncated" in _lines(own)[0]
    assert stats["sinks"]["own"]["processor_degraded"] == {"size_guard@own": 0}
    assert stats["plugins"]["size_guard@own"]["errors"] == 0
    assert _identity_holds(stats, "own") and _identity_holds(stats, "plain")
