"""Trace correlation: records logged inside a span carry exactly that span's ids, as the SDK exports them.

Spans come from a real OpenTelemetry SDK ``TracerProvider`` (not installed globally) whose finished spans go
to the SDK's ``InMemorySpanExporter``; the records go through the real pipeline with the ``otel`` enricher.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

import fapilog
from fapilog.builtins.sinks.memory import MemorySink

sdk_trace = pytest.importorskip("opentelemetry.sdk.trace", reason="needs the 'opentelemetry' extra")
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402 - after the skip guard
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402


@pytest.fixture
def traced() -> tuple[Any, InMemorySpanExporter, MemorySink]:
    """(tracer, exporter, sink): an SDK tracer exporting to memory, and a pipeline with the otel enricher."""
    exporter = InMemorySpanExporter()
    provider = sdk_trace.TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    sink = MemorySink()
    fapilog.configure(sinks=[sink], enrichers=["otel"])
    return provider.get_tracer("fapilog-tests"), exporter, sink


def _ids(span: Any) -> dict[str, str]:
    """The W3C forms of an exported span's context, as the records must carry them."""
    context = span.get_span_context()
    return {"trace_id": f"{context.trace_id:032x}", "span_id": f"{context.span_id:016x}",
            "trace_flags": f"{int(context.trace_flags):02x}"}


def _by_message(sink: MemorySink) -> dict[str, dict[str, Any]]:
    assert fapilog.flush(10.0)
    return {str(r["message"]): {k: r.get(k) for k in ("trace_id", "span_id", "trace_flags")} for r in sink.records}


def test_sync_code_records_carry_the_exported_spans_ids(traced: tuple[Any, InMemorySpanExporter, MemorySink]) -> None:
    """Nested spans in plain code: each record has the ids of the innermost span, equal to the exported ones."""
    tracer, exporter, sink = traced
    log = fapilog.get_logger("sync")
    with tracer.start_as_current_span("outer"):
        log.info("in outer")
        with tracer.start_as_current_span("inner"):
            log.info("in inner")
    log.info("no span")
    spans = {span.name: span for span in exporter.get_finished_spans()}
    records = _by_message(sink)
    assert records["in outer"] == _ids(spans["outer"])
    assert records["in inner"] == _ids(spans["inner"])
    assert records["in inner"]["trace_id"] == records["in outer"]["trace_id"] != None  # noqa: E711 - one trace
    assert records["no span"] == {"trace_id": None, "span_id": None, "trace_flags": None}


def test_asyncio_tasks_records_carry_their_own_spans_ids(traced: tuple[Any, InMemorySpanExporter, MemorySink]) -> None:
    """Concurrent tasks, each in its own span, interleaving at awaits: no record takes another task's ids."""
    tracer, exporter, sink = traced
    log = fapilog.get_logger("tasks")

    async def handle(n: int) -> None:
        with tracer.start_as_current_span(f"task-{n}"):
            log.info(f"start {n}")
            await asyncio.sleep(0.01 * (3 - n))
            log.info(f"end {n}")

    async def main() -> None:
        with tracer.start_as_current_span("parent"):
            await asyncio.gather(*(asyncio.create_task(handle(n)) for n in range(3)))

    asyncio.run(main())
    spans = {span.name: span for span in exporter.get_finished_spans()}
    records = _by_message(sink)
    for n in range(3):
        assert records[f"start {n}"] == records[f"end {n}"] == _ids(spans[f"task-{n}"])
    assert len({records[f"start {n}"]["span_id"] for n in range(3)}) == 3


def test_threads_started_with_context_wrap_carry_the_callers_span(
    traced: tuple[Any, InMemorySpanExporter, MemorySink],
) -> None:
    """fapilog.context_wrap carries the active span into a thread (a bare thread does not see it)."""
    tracer, exporter, sink = traced
    log = fapilog.get_logger("threads")

    def work(label: str) -> None:
        log.info(label)

    with tracer.start_as_current_span("request"):
        threads = [threading.Thread(target=fapilog.context_wrap(work), args=(f"wrapped {n}",)) for n in range(2)]
        threads.append(threading.Thread(target=work, args=("bare",)))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    (span,) = exporter.get_finished_spans()
    records = _by_message(sink)
    assert records["wrapped 0"] == records["wrapped 1"] == _ids(span)
    assert records["bare"]["trace_id"] is None


def test_a_span_opened_inside_a_wrapped_thread_is_its_records_span(
    traced: tuple[Any, InMemorySpanExporter, MemorySink],
) -> None:
    """A child span started in a context_wrap thread is a child of the caller's span, and its records say so."""
    tracer, exporter, sink = traced
    log = fapilog.get_logger("threads")

    def work() -> None:
        with tracer.start_as_current_span("child in thread"):
            log.info("in child")

    with tracer.start_as_current_span("request"):
        thread = threading.Thread(target=fapilog.context_wrap(work))
        thread.start()
        thread.join()
    spans = {span.name: span for span in exporter.get_finished_spans()}
    child, parent = spans["child in thread"], spans["request"]
    assert child.parent is not None and child.parent.span_id == parent.get_span_context().span_id
    assert _by_message(sink)["in child"] == _ids(child)
