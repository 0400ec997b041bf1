"""A filter, enricher, redactor or processor that never finishes costs its batch ``stage_timeout``, not the pipeline:
the events go on in that stage's failure state (kept, unenriched, masked, unprocessed), counted, and later batches
and the application's log calls are unaffected."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import pytest

import fapilog
from fapilog._engine import state
from fapilog.builtins.sinks.memory import MemorySink
from fapilog.errors import ConfigError
from fapilog.plugins import PluginMetadata

_FOREVER = 3600.0


_METHODS = {"filter": ("filter", "filter_batch"), "enricher": ("enrich", "enrich_batch"),
            "redactor": ("redact", "redact_batch"), "processor": ("process", "process_batch")}


class _HangsOnce:
    """A stage whose batch form never returns for the first batch it sees, then behaves (see :func:`hangs_once`)."""

    kind: ClassVar[str]

    def __init__(self) -> None:
        self.calls = 0

    async def one(self, record: Mapping[str, Any]) -> Any:
        return {"enriched": True} if self.kind == "enricher" else record

    async def batch(self, records: Sequence[Mapping[str, Any]]) -> Any:
        self.calls += 1
        if self.calls == 1:
            await asyncio.sleep(_FOREVER)
        return [{"enriched": True} for _ in records] if self.kind == "enricher" else list(records)


def hangs_once(kind: str) -> Any:
    """An instance of a ``kind`` stage class named ``hangs_<kind>`` that hangs on its first batch."""
    one, batch = _METHODS[kind]
    cls = type(f"Hangs{kind.title()}", (_HangsOnce,), {
        "kind": kind, "metadata": PluginMetadata(name=f"hangs_{kind}", version="1.0", kind=kind),
        one: _HangsOnce.one, batch: _HangsOnce.batch,
    })
    return cls()


class HangsOnRecord:
    """A per-record enricher that never returns for the record whose ``i`` is 3 (no batch form)."""

    metadata: ClassVar[PluginMetadata] = PluginMetadata(name="hangs_on_record", version="1.0", kind="enricher")

    async def enrich(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        if record.get("i") == 3:
            await asyncio.sleep(_FOREVER)
        return {"enriched": True}


def _run(stage: object, kind: str, events: int = 10, *, one_batch: bool = False) -> tuple[MemorySink, dict[str, Any]]:
    sink = MemorySink()
    fapilog.configure(sinks=[sink], stage_timeout=0.2, **{f"{kind}s": [stage]})
    log = fapilog.get_logger("svc")
    runtime = state._runtime
    assert runtime is not None
    # one_batch: the worker takes a batch under the queue's lock, so holding it while logging (the log call
    # appends without it) hands the worker every event in one turn, however the threads are scheduled.
    with runtime.queue.lock if one_batch else contextlib.nullcontext():
        for i in range(events):
            log.info("event", i=i, password="hunter2")
    assert fapilog.flush(20.0).ok
    log.info("after", i=events)
    assert fapilog.flush(20.0).ok
    stats = fapilog.stats()
    fapilog.shutdown()
    return sink, stats


@pytest.mark.parametrize("kind", ["filter", "enricher", "processor"])
def test_a_stage_that_hangs_costs_one_batch_and_its_events_go_on(kind: str) -> None:
    """The hung batch is delivered in the stage's failure state and counted; the next batch goes through it."""
    stage = hangs_once(kind)
    sink, stats = _run(stage, kind)
    assert [r["i"] for r in sink.records] == list(range(11))
    assert stats["plugins"][f"hangs_{kind}"]["errors"] >= 1
    assert stage.calls >= 2  # the stage ran again on a later batch
    if kind == "enricher":
        assert "enriched" not in sink.records[0] and sink.records[-1]["enriched"] is True


def test_a_redactor_that_hangs_masks_its_batch() -> None:
    """A hung redactor's events are delivered masked, never as they were: nothing it should hide gets out."""
    sink, _ = _run(hangs_once("redactor"), "redactor")
    first = sink.records[0]
    assert first["message"] == "[REDACTION_FAILED]" and "password" not in first
    assert all("hunter2" not in str(record) for record in sink.records)


def test_a_per_record_stage_that_hangs_keeps_what_it_finished() -> None:
    """Without a batch form the timeout covers the whole batch: records before the hung one keep their enrichment,
    the hung one and those after it go on unenriched."""
    sink, stats = _run(HangsOnRecord(), "enricher", events=6)
    first_batch = [r for r in sink.records if r["i"] < 6]
    assert [r["i"] for r in first_batch] == list(range(6))
    assert [("enriched" in r) for r in first_batch] == [True, True, True, False, False, False]
    assert stats["plugins"]["hangs_on_record"]["errors"] == 1


def test_stage_timeout_must_be_positive_seconds() -> None:
    """stage_timeout=0 (or a negative number) is refused naming the setting."""
    with pytest.raises(ConfigError) as refused:
        fapilog.configure(sinks=[MemorySink()], stage_timeout=0)
    assert "stage_timeout" in str(refused.value)


class SwallowsCancel:
    """A redactor that hangs on its first batch and, when cancelled, swallows the cancellation and passes the
    records on untouched (as a "never lose a log line" plugin might)."""

    metadata: ClassVar[PluginMetadata] = PluginMetadata(name="swallows_cancel", version="1.0", kind="redactor")

    def __init__(self) -> None:
        self.calls = 0

    async def redact(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        return {k: v for k, v in record.items() if k != "password"}

    async def redact_batch(self, records: Sequence[Mapping[str, Any]]) -> Any:
        self.calls += 1
        if self.calls == 1:
            try:
                await asyncio.sleep(_FOREVER)
            except asyncio.CancelledError:
                return list(records)
        return [await self.redact(record) for record in records]


class SwallowsCancelPerRecord:
    """A per-record redactor (no batch form) that hangs on the record whose ``i`` is 2 and, when cancelled, swallows
    the cancellation and passes that record on untouched."""

    metadata: ClassVar[PluginMetadata] = PluginMetadata(name="swallows_cancel_each", version="1.0", kind="redactor")

    async def redact(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        if record.get("i") == 2:
            try:
                await asyncio.sleep(_FOREVER)
            except asyncio.CancelledError:
                return record
        return {k: v for k, v in record.items() if k != "password"}


def test_a_redactor_that_swallows_its_cancellation_still_masks_its_batch() -> None:
    """A batch redactor that catches the stage_timeout's cancellation and returns the records untouched has timed
    out all the same: its batch is delivered masked and the timeout is counted against it."""
    sink, stats = _run(SwallowsCancel(), "redactor")
    assert "password" not in sink.records[0]  # this redactor's own job: drop the field
    assert sink.records[0]["message"] == "[REDACTION_FAILED]"
    assert stats["plugins"]["swallows_cancel"]["errors"] == 1


def test_a_per_record_redactor_that_swallows_its_cancellation_masks_the_rest_of_its_batch() -> None:
    """Without a batch form, the record whose call swallowed the cancellation and those after it go on masked."""
    sink, stats = _run(SwallowsCancelPerRecord(), "redactor", events=5)
    assert all("password" not in record for record in sink.records)
    first_batch = [record.get("message") for record in sink.records[:5]]
    assert first_batch == ["event", "event"] + ["[REDACTION_FAILED]"] * 3
    assert stats["plugins"]["swallows_cancel_each"]["errors"] == 1


class RaisesOnCancel:
    """A per-record enricher that hangs on the record whose ``i`` is 2 and turns its cancellation into a
    RuntimeError."""

    metadata: ClassVar[PluginMetadata] = PluginMetadata(name="raises_on_cancel", version="1.0", kind="enricher")

    async def enrich(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        if record.get("i") == 2:
            try:
                await asyncio.sleep(_FOREVER)
            except asyncio.CancelledError:
                raise RuntimeError("interrupted") from None
        return {"enriched": True}


def test_a_per_record_stage_that_turns_its_cancellation_into_an_error_is_timed_out() -> None:
    """A call that answers the stage_timeout's cancellation with another exception ends the batch's turn like a
    hang: that record and the rest go on unenriched, one error is counted, every event is delivered."""
    sink, stats = _run(RaisesOnCancel(), "enricher", events=5, one_batch=True)
    assert [record["i"] for record in sink.records] == list(range(6))
    assert [("enriched" in record) for record in sink.records[:5]] == [True, True, False, False, False]
    assert sink.records[5]["enriched"] is True
    assert stats["plugins"]["raises_on_cancel"]["errors"] == 1


class NeverStops:
    """A redactor whose first batch call catches every cancellation and goes on waiting until ``release`` is set
    (a retry loop around ``except BaseException``), then returns the records untouched; later calls redact."""

    metadata: ClassVar[PluginMetadata] = PluginMetadata(name="never_stops", version="1.0", kind="redactor")

    def __init__(self) -> None:
        self.calls = 0
        self.swallowed = 0
        self.release = threading.Event()
        self.ended = threading.Event()

    async def redact(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        return {k: v for k, v in record.items() if k != "password"}

    async def redact_batch(self, records: Sequence[Mapping[str, Any]]) -> Any:
        self.calls += 1
        if self.calls == 1:
            while not self.release.is_set():
                try:
                    await asyncio.sleep(0.01)
                except asyncio.CancelledError:
                    self.swallowed += 1
            self.ended.set()
            return list(records)
        return [await self.redact(record) for record in records]


class NeverStopsOnRecord:
    """A per-record enricher whose call for the record with ``i`` 2 catches every cancellation and goes on
    waiting until ``release`` is set."""

    metadata: ClassVar[PluginMetadata] = PluginMetadata(name="never_stops_each", version="1.0", kind="enricher")

    def __init__(self) -> None:
        self.release = threading.Event()
        self.ended = threading.Event()
        self.calls = 0

    async def enrich(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        self.calls += 1
        if record.get("i") == 2:
            while not self.release.is_set():
                try:
                    await asyncio.sleep(0.01)
                except asyncio.CancelledError:
                    pass
            self.ended.set()
        return {"enriched": True}


def _log_and_flush(log: Any, start: int, stop: int) -> None:
    for i in range(start, stop):
        log.info("event", i=i, password="hunter2")
    assert fapilog.flush(20.0).ok


def test_a_redactor_that_will_not_be_cancelled_is_left_behind_and_skipped_until_its_call_ends() -> None:
    """A call that catches every cancellation no longer stalls the pipeline: past stage_timeout (and a short grace)
    the worker leaves it running on its loop, delivers its batch masked, and masks the next batches without
    calling the stage while that call runs; once it ends (its late result ignored) the stage is called again."""
    stage = NeverStops()
    sink = MemorySink()
    fapilog.configure(sinks=[sink], stage_timeout=0.2, redactors=[stage])
    log = fapilog.get_logger("svc")
    try:
        _log_and_flush(log, 0, 5)  # the stuck call's batch
        _log_and_flush(log, 5, 8)  # while it runs: the stage is not called
        assert stage.calls == 1 and stage.swallowed >= 1
        assert len(sink.records) == 8  # masked: every field but the core keys replaced, in order
        assert all(r["message"] == "[REDACTION_FAILED]" and "password" not in r for r in sink.records)
        assert fapilog.stats()["plugins"]["never_stops"]["errors"] >= 2  # the timeout, then each skipped batch
        stage.release.set()
        assert stage.ended.wait(10)
        time.sleep(0.05)  # its task's end reaches the stage on the worker's loop
        _log_and_flush(log, 8, 10)
        assert stage.calls >= 2  # called again (once per batch: the worker may take 8 and 9 apart)
        seqs = [r["seq"] for r in sink.records]
        assert len(seqs) == 10 and seqs == sorted(seqs)
        assert [(r["message"], r["i"]) for r in sink.records[8:]] == [("event", 8), ("event", 9)]  # by the stage
        assert all("hunter2" not in str(record) for record in sink.records)
    finally:
        stage.release.set()
        fapilog.shutdown()


def test_a_per_record_stage_that_will_not_be_cancelled_keeps_what_it_finished_and_is_skipped_meanwhile() -> None:
    """Without a batch form: the records before the stuck one keep their enrichment, it and the rest go on
    unenriched, later batches too until the stuck call ends; then the stage enriches again."""
    stage = NeverStopsOnRecord()
    sink = MemorySink()
    fapilog.configure(sinks=[sink], stage_timeout=0.2, enrichers=[stage])
    log = fapilog.get_logger("svc")
    try:
        _log_and_flush(log, 0, 5)
        _log_and_flush(log, 5, 7)
        assert [("enriched" in r) for r in sink.records] == [True, True] + [False] * 5
        assert stage.calls == 3  # records 0, 1 and the stuck 2: none after it, none in the next batch
        stage.release.set()
        assert stage.ended.wait(10)
        time.sleep(0.05)
        _log_and_flush(log, 7, 9)
        assert [r["i"] for r in sink.records] == list(range(9))
        assert [("enriched" in r) for r in sink.records[7:]] == [True, True]
    finally:
        stage.release.set()
        fapilog.shutdown()


def test_shutdown_ends_the_worker_thread_while_a_call_it_left_behind_still_runs() -> None:
    """A call left behind at stage_timeout that never ends does not keep the stopped pipeline's worker thread (and
    its loop) alive after shutdown(): the thread ends, the call is abandoned with its loop."""
    from fapilog._engine import state

    stage = NeverStops()
    fapilog.configure(sinks=[MemorySink()], stage_timeout=0.2, redactors=[stage])
    log = fapilog.get_logger("svc")
    try:
        _log_and_flush(log, 0, 3)
        assert stage.swallowed >= 1 and not stage.ended.is_set()  # left behind, still running
        runtime = state._runtime
        assert runtime is not None and runtime.thread is not None
        assert fapilog.shutdown(10.0).ok
        runtime.thread.join(30.0)
        assert not runtime.thread.is_alive()
        assert not stage.ended.is_set()  # abandoned, not waited for
    finally:
        stage.release.set()


def test_the_interpreter_exits_with_every_event_while_a_call_left_behind_never_ends(tmp_path: Any) -> None:
    """A process whose redactor call catches every cancellation forever still exits on its own (no shutdown()
    call), its events delivered masked: the exit drain does not wait for the call left behind."""
    import json
    import subprocess
    import sys
    import textwrap

    path = tmp_path / "out.log"
    script = textwrap.dedent(
        """
        import asyncio, sys, fapilog
        from fapilog.plugins import PluginMetadata

        class Forever:
            metadata = PluginMetadata(name="forever", version="1.0", kind="redactor")

            async def redact(self, record):
                return record

            async def redact_batch(self, records):
                while True:
                    try:
                        await asyncio.sleep(0.01)
                    except BaseException:
                        pass

        fapilog.configure(sinks=[{"type": "file", "path": sys.argv[1]}], stage_timeout=0.2, redactors=[Forever()])
        log = fapilog.get_logger("exit")
        log.info("first", password="hunter2")
        assert fapilog.flush(20.0).ok
        log.info("second", password="hunter2")
        """
    )
    proc = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["message"] for line in lines] == ["[REDACTION_FAILED]"] * 2
    assert "hunter2" not in path.read_text()
