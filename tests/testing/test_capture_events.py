"""capture_events(): synchronous capture of log calls, with no worker, exactly as the pipeline would build them."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import orjson
import pytest

import fapilog
from fapilog.builtins.sinks.memory import MemorySink
from fapilog.testing import CapturedEvents, capture_events


def test_records_are_built_on_the_calling_thread_without_a_worker() -> None:
    fapilog.shutdown()
    log = fapilog.get_logger("app.orders")
    before = set(threading.enumerate())
    with capture_events() as events:
        log.info("order placed", order_id=42)
        # Available immediately: no flush, and no worker thread was started for it.
        assert events.find("order placed")["order_id"] == 42
        assert not [t for t in set(threading.enumerate()) - before if t.name == "fapilog-worker"]
    record = events[0]
    assert (record["level"], record["logger"], record["seq"], record.levelno) == ("INFO", "app.orders", 0, 20)
    assert record["timestamp"].endswith("Z")
    assert orjson.loads(record.json) == dict(record)


def test_context_bound_fields_and_reserved_names_match_the_worker() -> None:
    log = fapilog.get_logger("app").bind(tenant="acme")
    with capture_events() as events, fapilog.scoped(request_id="r-1"):
        log.warning("slow", level="user-level", duration_ms=12)
    record = events.find("slow")
    assert record["request_id"] == "r-1" and record["tenant"] == "acme" and record["duration_ms"] == 12
    assert record["level"] == "WARNING" and record["level_"] == "user-level"


def test_exceptions_are_structured_and_unserializable_values_degrade_visibly() -> None:
    log = fapilog.get_logger("app")

    class Opaque:
        def __repr__(self) -> str:
            return "<Opaque>"

    with capture_events() as events:
        try:
            raise KeyError("missing")
        except KeyError:
            log.exception("lookup failed", value=Opaque())
    record = events.find("lookup failed", level="ERROR")
    assert record["exception"]["type"] == "KeyError"
    assert events.lines[0]["value"] == "<Opaque>"


def test_debug_is_captured_by_default_and_level_none_keeps_configured_thresholds() -> None:
    fapilog.configure(level="INFO", sinks=[MemorySink()])
    log = fapilog.get_logger("app.debugging")
    with capture_events() as events:
        log.debug("visible")
    assert events.messages == ["visible"]
    with capture_events(level=None) as events:
        log.debug("hidden")
        log.info("shown")
    assert events.messages == ["shown"]
    assert log.level == fapilog.INFO  # thresholds are restored when the block ends


def test_filter_and_find_select_by_level_logger_prefix_and_fields() -> None:
    with capture_events() as events:
        fapilog.get_logger("db").info("query", table="users")
        fapilog.get_logger("db.pool").warning("exhausted", size=10)
        fapilog.get_logger("dbx").info("other")
    assert [r["message"] for r in events.filter(logger="db")] == ["query", "exhausted"]
    assert events.filter(level="WARNING", size=10)[0]["message"] == "exhausted"
    assert events.filter(table="orders") == []
    with pytest.raises(AssertionError, match=r"no captured event matches .*captured:\n  INFO db: 'query'"):
        events.find("never logged")
    events.clear()
    assert len(events) == 0


def test_nothing_reaches_the_pipeline_while_capturing_and_logging_resumes_after() -> None:
    sink = MemorySink()
    fapilog.configure(sinks=[sink])
    log = fapilog.get_logger("app")
    with capture_events() as events:
        log.info("captured only")
    log.info("delivered")
    fapilog.flush()
    assert events.messages == ["captured only"]
    assert [r["message"] for r in sink.records] == ["delivered"]


def test_configure_inside_the_block_keeps_the_capture() -> None:
    sink = MemorySink()
    with capture_events() as events:
        fapilog.configure(sinks=[sink])
        fapilog.get_logger("app").info("after configure")
    fapilog.get_logger("app").info("after the block")
    fapilog.flush()
    assert events.messages == ["after configure"]
    assert [r["message"] for r in sink.records] == ["after the block"]


def test_blocks_nest_and_the_innermost_receives() -> None:
    log = fapilog.get_logger("app")
    with capture_events() as outer:
        log.info("one")
        with capture_events() as inner:
            log.info("two")
        log.info("three")
    assert outer.messages == ["one", "three"]
    assert inner.messages == ["two"]


def test_concurrent_threads_get_gap_free_sequence_numbers() -> None:
    log = fapilog.get_logger("app")

    def produce(worker: int) -> None:
        for i in range(500):
            log.info("tick", worker=worker, i=i)

    with capture_events() as events:
        threads = [threading.Thread(target=produce, args=(w,)) for w in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(r["seq"] for r in events) == list(range(2000))
    for worker in range(4):
        assert [r["i"] for r in events.filter(worker=worker)] == list(range(500))


def test_the_fixture_works_beside_caplog(fapilog_events: CapturedEvents, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    logging.getLogger("stdlib.module").info("from the standard library")
    fapilog.get_logger("app").info("from fapilog", user_id=7)
    assert [r.getMessage() for r in caplog.records] == ["from the standard library"]
    assert fapilog_events.find("from fapilog")["user_id"] == 7
    assert "from the standard library" not in fapilog_events.messages


def test_captured_stdlib_records_arrive_through_the_bridge(fapilog_events: CapturedEvents) -> None:
    fapilog.capture_stdlib()
    logging.getLogger("legacy.lib").warning("old-style %s", "call")
    assert fapilog_events.find(logger="legacy.lib")["message"] == "old-style call"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_child_forked_inside_a_capture_logs_through_its_own_pipeline(tmp_path: Path) -> None:
    out = tmp_path / "child.log"
    with capture_events() as events:
        fapilog.get_logger("app").info("parent")
        pid = os.fork()
        if pid == 0:  # the child: its log call must reach a real pipeline, not the parent's capture copy
            try:
                fapilog.configure(sinks=[{"type": "file", "path": str(out)}])
                fapilog.get_logger("app").info("child")
                fapilog.shutdown()
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
    assert events.messages == ["parent"]
    assert orjson.loads(out.read_bytes())["message"] == "child"
