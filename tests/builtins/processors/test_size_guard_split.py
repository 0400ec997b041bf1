"""size_guard's split mode: an oversize event becomes chunk records that each fit and rebuild the field."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

import fapilog
from fapilog._kit.record import EventRecord
from fapilog._kit.serialize import Serializer
from fapilog.builtins.processors.size_guard import SizeGuardProcessor


def _event(**fields: object) -> EventRecord:
    record = EventRecord(timestamp="2026-11-23T10:00:00.000000Z", level="INFO", logger="t", message="m", seq=7)
    record.update(fields)
    record.ts_ns, record.levelno, record.captured = 0, 20, None
    return record


@settings(max_examples=60, deadline=None)
@given(text=st.text(min_size=1, max_size=6000), limit=st.integers(min_value=512, max_value=2048))
def test_chunks_fit_and_rebuild_the_field(text: str, limit: int) -> None:
    """Every chunk serializes within max_bytes, keeps the seq, and the chunks join back to the original."""
    guard = SizeGuardProcessor(max_bytes=limit, mode="split")
    out = asyncio.run(guard.process_batch([_event(body=text, user=1)]))
    encode = Serializer().encode
    assert all(len(encode(r)) <= limit for r in out)
    if len(out) > 1:
        assert [r["split"]["index"] for r in out] == list(range(len(out)))
        assert all(r["seq"] == 7 and r["user"] == 1 and r["split"]["field"] == "body" for r in out)
        assert "".join(r["body"] for r in out) == text


def test_split_through_the_pipeline_is_counted_and_ordered(tmp_path: Path) -> None:
    """A per-sink split delivers the chunks in order, between the neighbouring events, counted as split_extra."""
    path = tmp_path / "split.log"
    fapilog.configure(
        sinks=[{"type": "file", "path": str(path), "processors": [{"type": "size_guard", "max_bytes": 600,
                                                                     "mode": "split"}]}]
    )
    log = fapilog.get_logger("s")
    log.info("before")
    log.info("big", body="z" * 3000)
    log.info("after")
    assert fapilog.flush(5.0)
    lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert lines[0]["message"] == "before" and lines[-1]["message"] == "after"
    chunks = lines[1:-1]
    assert len(chunks) > 1 and "".join(c["body"] for c in chunks) == "z" * 3000
    stats = fapilog.stats()
    sink = stats["sinks"]["file"]
    assert sink["split_extra"] == len(chunks) - 1
    assert stats["submitted"] + sink["split_extra"] == sink["delivered"] + sink["failed"] + stats["dropped"]["total"]


def test_split_in_the_main_chain_reaches_every_sink(tmp_path: Path) -> None:
    """Split as a pipeline processor: every sink gets all chunks; stats()['split_extra'] counts the extras."""
    from fapilog.builtins.sinks.memory import MemorySink

    sink = MemorySink()
    fapilog.configure(sinks=[sink], processors=[{"type": "size_guard", "max_bytes": 700, "mode": "split"}])
    fapilog.get_logger("s").info("big", body="q" * 2500)
    assert fapilog.flush(5.0)
    records = sink.records
    stats = fapilog.stats()
    assert len(records) > 1 and stats["split_extra"] == len(records) - 1
    assert stats["submitted"] + stats["split_extra"] == stats["sinks"]["memory"]["delivered"]
