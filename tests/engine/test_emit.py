"""Call-site capture: enrichers that need the caller's thread (trace spans) get it, at no cost to others."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import fapilog
from fapilog.builtins.sinks.memory import MemorySink


class ThreadNameEnricher:
    """Adds the name of the thread that made the log call (the worker only knows its own)."""

    name = "caller-thread"

    def capture(self) -> str:
        return threading.current_thread().name

    async def enrich(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        captured = getattr(record, "captured", None) or {}
        return {"caller_thread": captured.get(self.name), "worker_thread": threading.current_thread().name}


class ExplodingCapture:
    name = "exploding"

    def capture(self) -> str:
        raise RuntimeError("capture bug")

    async def enrich(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        return {"exploding_saw": (getattr(record, "captured", None) or {}).get(self.name, "missing")}


class DisabledCapture:
    name = "disabled"
    capture_enabled = False
    calls = 0

    def capture(self) -> None:
        DisabledCapture.calls += 1

    async def enrich(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        return {}


def test_capture_runs_on_the_callers_thread() -> None:
    """capture() sees the logging thread; enrich() runs on the worker and reads the captured value."""
    sink = MemorySink()
    fapilog.configure(sinks=[sink], enrichers=[ThreadNameEnricher()])
    worker = threading.Thread(target=lambda: fapilog.get_logger("c").info("from a thread"), name="request-7")
    worker.start()
    worker.join()
    assert fapilog.flush(5.0)
    (record,) = sink.records
    assert record["caller_thread"] == "request-7"
    assert record["worker_thread"] == "fapilog-worker"


def test_a_raising_capture_never_reaches_the_caller() -> None:
    """A capture() that raises records None; the log call and the event go on."""
    sink = MemorySink()
    fapilog.configure(sinks=[sink], enrichers=[ExplodingCapture()])
    fapilog.get_logger("c").info("still logged")
    assert fapilog.flush(5.0)
    assert sink.records[0]["exploding_saw"] is None


def test_disabled_capture_is_never_called() -> None:
    """capture_enabled = False (e.g. OpenTelemetry not installed) keeps the hook off the call path."""
    fapilog.configure(sinks=[MemorySink()], enrichers=[DisabledCapture()])
    fapilog.get_logger("c").info("plain")
    assert fapilog.flush(5.0)
    assert DisabledCapture.calls == 0


def test_loading_a_capturing_enricher_at_runtime_switches_the_call_path() -> None:
    """load_plugin() of a capturing enricher makes later calls capture; unload_plugin() stops it."""
    sink = MemorySink()
    fapilog.configure(sinks=[sink])
    log = fapilog.get_logger("c")
    log.info("before")
    fapilog.load_plugin("enricher", ThreadNameEnricher())
    log.info("during")
    fapilog.unload_plugin("caller-thread")
    log.info("after")
    assert fapilog.flush(5.0)
    before, during, after = sink.records
    assert "caller_thread" not in before and "caller_thread" not in after
    assert during["caller_thread"] == threading.current_thread().name


def test_every_capture_lays_the_event_out_as_captured_event_says() -> None:
    """The sync and awaitable captures, with and without hooks, and capture_event() queue one layout."""
    import time

    from fapilog._engine.captured_event import CapturedEvent
    from fapilog._engine.emit import capture_event, make_emit
    from fapilog._engine.queue import EventQueue
    from fapilog._kit.context import scoped

    queue = EventQueue(100, "wait", wait_timeout=0.05, protect_level=40)
    fields, bound, exc = {"a": 1}, {"b": 2}, ValueError("boom")
    plain = make_emit(queue)
    hooked = make_emit(queue, [("caller-thread", lambda: threading.current_thread().name)])
    before = time.time_ns()
    with scoped(request_id="r1") as context:
        for emit in (plain, plain.or_wait, hooked, hooked.or_wait):  # type: ignore[attr-defined]
            assert emit(30, "app", "msg", fields, bound, exc) is None  # room in the queue: nothing to await
        made = capture_event(30, "app", "msg", fields, bound, exc)
    events = [CapturedEvent(*item) for item in queue.items]
    assert len(events) == 4
    for event in [*events, made]:
        assert before <= event.ts_ns <= time.time_ns()
        assert (event.level, event.name, event.message, event.context) == (30, "app", "msg", context)
        assert event.fields is fields and event.bound is bound and event.exc is exc
    took = {"caller-thread": threading.current_thread().name}
    assert [e.captured for e in events] == [None, None, took, took] and made.captured is None


def test_every_level_method_captures_inline_what_the_capture_function_would() -> None:
    """Without hooks the level methods append the event themselves while the queue has room; with hooks, an
    exception or a full queue they call the capture. Either way the queue gets the same layout, and a full
    queue's policy applies (here drop_newest: counted)."""
    from fapilog._engine import logger as logger_module
    from fapilog._engine.captured_event import CapturedEvent
    from fapilog._engine.emit import make_emit
    from fapilog._engine.queue import EventQueue
    from fapilog._kit.context import scoped

    previous = logger_module._emit
    queue = EventQueue(7, "drop_newest", wait_timeout=0.05, protect_level=50)
    plain = make_emit(queue)
    hooked = make_emit(queue, [("caller-thread", lambda: threading.current_thread().name)])
    log = fapilog.get_logger("inline").bind(b=2)
    log._threshold = 0
    boom = ValueError("boom")
    try:
        with scoped(request_id="r1") as context:
            logger_module.route(plain)
            assert logger_module._direct is queue
            log.debug("m", a=1)
            log.info("m", a=1)
            log.warning("m", a=1)
            log.error("m", a=1, exc_info=boom)  # an exception: through the capture function
            log.critical("m", a=1)
            log.log(25, "m", a=1)
            logger_module.route(hooked)
            assert logger_module._direct is None
            log.info("m", a=1)
            log.info("m", a=1)  # the queue is full (7): dropped by the policy, and counted
    finally:
        logger_module.route(previous)
    events = [CapturedEvent(*item) for item in queue.items]
    assert [e.level for e in events] == [10, 20, 30, 40, 50, 25, 20]
    for event in events:
        assert (event.name, event.message, event.fields, event.bound, event.context) == (
            "inline", "m", {"a": 1}, {"b": 2}, context)
    assert [e.exc for e in events] == [None, None, None, boom, None, None, None]
    assert [e.captured for e in events] == [None] * 6 + [{"caller-thread": threading.current_thread().name}]
    assert queue.dropped == {"queue_full": 1}


def test_the_index_constants_follow_the_named_layout() -> None:
    """emit's index constants (what the worker reads) are the positions of CapturedEvent's fields, in order."""
    from fapilog._engine import emit
    from fapilog._engine.captured_event import CapturedEvent

    names = CapturedEvent._fields
    assert len(names) == 9
    assert [getattr(emit, name.upper()) for name in names] == list(range(len(names)))
