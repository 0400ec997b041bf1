"""The logger handle: levels, fields, binding, ordering."""

from __future__ import annotations

import threading

import pytest

import fapilog
from fapilog.builtins.sinks.memory import MemorySink


def test_event_carries_core_keys_and_fields(memory: MemorySink) -> None:
    """An event has timestamp, level, logger, message, seq and the call's fields."""
    fapilog.get_logger("app").info("user login", user_id=7, ip="10.0.0.1")
    assert fapilog.flush(5.0)
    (record,) = memory.records
    assert record["level"] == "INFO" and record["logger"] == "app" and record["message"] == "user login"
    assert record["user_id"] == 7 and record["ip"] == "10.0.0.1"
    assert record["timestamp"].endswith("Z") and record["seq"] == 0


def test_levels_below_threshold_are_not_recorded(memory: MemorySink) -> None:
    """With level INFO a debug call records nothing and a warning is recorded."""
    fapilog.set_level("INFO")
    log = fapilog.get_logger("app")
    log.debug("hidden")
    log.warning("shown")
    log.log("error", "also shown")
    fapilog.flush(5.0)
    assert [r["message"] for r in memory.records] == ["shown", "also shown"]
    assert fapilog.stats()["submitted"] == 2


def test_per_logger_override_covers_children(memory: MemorySink) -> None:
    """set_level for 'db' raises the threshold of 'db.pool' but not of 'api'."""
    db = fapilog.get_logger("db.pool")
    api = fapilog.get_logger("api")
    fapilog.set_level("WARNING", logger="db")
    db.info("quiet")
    api.info("loud")
    db.error("kept")
    fapilog.flush(5.0)
    assert [r["message"] for r in memory.records] == ["loud", "kept"]


def test_existing_loggers_follow_later_configure() -> None:
    """A module-level logger created before configure() honours the new level and sinks."""
    log = fapilog.get_logger("early")
    first, second = MemorySink(name="first"), MemorySink(name="second")
    fapilog.configure(level="ERROR", sinks=[first])
    log.warning("dropped by level")
    fapilog.configure(level="DEBUG", sinks=[second])
    log.debug("now visible")
    fapilog.flush(5.0)
    assert first.records == []
    assert [r["message"] for r in second.records] == ["now visible"]


def test_bind_returns_child_with_fields(memory: MemorySink) -> None:
    """bind() adds fields to every event of the child; call fields win; the parent is unchanged."""
    log = fapilog.get_logger("svc")
    child = log.bind(tenant="acme", region="eu")
    child.info("one", region="us")
    log.info("two")
    fapilog.flush(5.0)
    one, two = memory.records
    assert one["tenant"] == "acme" and one["region"] == "us"
    assert "tenant" not in two


def test_reserved_field_names_are_kept_under_suffix(memory: MemorySink) -> None:
    """A call field named like a core key does not overwrite it; it is kept as '<name>_'."""
    fapilog.get_logger("x").info("real message", level="custom", seq="mine")
    fapilog.flush(5.0)
    (record,) = memory.records
    assert record["level"] == "INFO" and record["level_"] == "custom" and record["seq_"] == "mine"


def test_exception_is_structured(memory: MemorySink) -> None:
    """log.exception() records type, message and frames (no locals) in one field."""
    secret = "hunter2"  # a local that must not appear in the output
    try:
        raise ValueError(f"bad value {len(secret)}")
    except ValueError:
        fapilog.get_logger("x").exception("boom", step=3)
    fapilog.flush(5.0)
    (record,) = memory.records
    exc = record["exception"]
    assert exc["type"] == "ValueError" and exc["message"] == "bad value 7"
    assert exc["frames"][-1]["function"] == "test_exception_is_structured"
    assert "hunter2" not in memory.lines[0].decode()


def test_exception_chain_is_followed(memory: MemorySink) -> None:
    """A raise-from chain appears as a nested 'cause'."""
    try:
        try:
            raise KeyError("inner")
        except KeyError as inner:
            raise RuntimeError("outer") from inner
    except RuntimeError as exc:
        fapilog.get_logger("x").error("failed", exc_info=exc)
    fapilog.flush(5.0)
    exc_field = memory.records[0]["exception"]
    assert exc_field["type"] == "RuntimeError" and exc_field["cause"]["type"] == "KeyError"


def test_unknown_level_name_raises_config_error(memory: MemorySink) -> None:
    """log('loud', ...) is a ConfigError naming the accepted levels."""
    with pytest.raises(fapilog.ConfigError, match="accepted"):
        fapilog.get_logger("x").log("loud", "m")


def test_order_is_preserved_per_thread_and_seq_is_gap_free() -> None:
    """Under 8 threads, each thread's events arrive in its own order and seq counts up without gaps."""
    sink = MemorySink()
    fapilog.configure(sinks=[sink], queue={"capacity": 100_000})
    log = fapilog.get_logger("t")
    per_thread = 5_000

    def produce(tid: int) -> None:
        for i in range(per_thread):
            log.info("e", tid=tid, i=i)

    threads = [threading.Thread(target=produce, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert fapilog.flush(30.0)
    records = sink.records
    assert len(records) == 8 * per_thread
    assert [r["seq"] for r in records] == list(range(len(records)))
    last: dict[int, int] = {}
    for r in records:
        assert r["i"] == last.get(r["tid"], -1) + 1
        last[r["tid"]] = r["i"]


class _NoTruth(Exception):
    """An exception whose truth value cannot be taken (a library class with a broken ``__bool__``)."""

    def __bool__(self) -> bool:
        raise RuntimeError("no truth value")


def test_odd_exc_info_values_never_raise_from_a_log_call(memory: MemorySink) -> None:
    """Every level method, log() and their awaitable twins accept an exception whose __bool__ raises (recorded as
    the exception) and malformed exc_info tuples (recorded without one) instead of raising into the caller."""
    import asyncio

    log = fapilog.get_logger("odd")
    odd: list[object] = [_NoTruth("kept"), (), (ValueError("short"),), (None, None, None), (1, 2, 3)]
    for value in odd:
        for method in (log.debug, log.info, log.warning, log.error, log.critical, log.exception):
            method("m", exc_info=value)
        log.log("info", "m", exc_info=value)

    async def awaited() -> None:
        for value in odd:
            for method in (log.adebug, log.ainfo, log.awarning, log.aerror, log.acritical, log.aexception):
                await method("m", exc_info=value)
            await log.alog("info", "m", exc_info=value)

    asyncio.run(awaited())
    assert fapilog.flush(10.0).ok
    assert len(memory.records) == 2 * 7 * len(odd)
    with_exception = [r["exception"]["type"] for r in memory.records if "exception" in r]
    assert len(with_exception) == 14 and all(t.endswith("._NoTruth") for t in with_exception)
