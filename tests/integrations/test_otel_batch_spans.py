"""Spans for sink batch writes: one ``fapilog.sink.write`` span per ``write_batch`` attempt, when spans are on.

A real SDK ``TracerProvider`` with the SDK's ``InMemorySpanExporter`` is installed as the global provider (once
per process, shared with the lifecycle-span tests).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import fapilog
from fapilog._registry import tracing
from fapilog.builtins.sinks.memory import MemorySink
from fapilog.plugins import BatchResult, PermanentSinkError, RetryableSinkError

sdk_trace = pytest.importorskip("opentelemetry.sdk.trace", reason="needs the 'opentelemetry' extra")
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402
from opentelemetry.trace import StatusCode  # noqa: E402


@pytest.fixture
def exporter(provider_exporter: InMemorySpanExporter) -> Iterator[InMemorySpanExporter]:
    """The exporter, emptied; spans are switched off again after the test."""
    provider_exporter.clear()
    yield provider_exporter
    fapilog.configure(sinks=[MemorySink()])
    assert tracing.batch_hook is None


class ScriptedSink:
    """A third-party batch sink answering each write_batch call from a script (then accepting everything)."""

    name = "scripted"

    def __init__(self, *answers: BaseException | BatchResult | None) -> None:
        self.answers = list(answers)
        self.received: list[Any] = []

    async def write_batch(self, records: Any) -> BatchResult | None:
        answer = self.answers.pop(0) if self.answers else None
        if isinstance(answer, BaseException):
            raise answer
        self.received += [record["i"] for record in records]
        return answer

    async def write(self, record: Any) -> None:
        """Unused: the runner prefers write_batch."""


def _write_spans(exporter: InMemorySpanExporter) -> list[dict[str, Any]]:
    return [dict(span.attributes or {}) | {"status": span.status.status_code}
            for span in exporter.get_finished_spans() if span.name == "fapilog.sink.write"]


def _log(count: int) -> None:
    log = fapilog.get_logger("b")
    for i in range(count):
        log.info("e", i=i)
    assert not fapilog.flush(10.0).timed_out  # falsy when a sink refused records: that is tested by outcome


def test_each_attempt_of_a_retried_batch_is_one_span(exporter: InMemorySpanExporter) -> None:
    """503-like then accepted: two spans for the one batch, attempt 1 retryable (ERROR) and attempt 2 delivered."""
    sink = ScriptedSink(RetryableSinkError("busy", retry_after=0.05, reason="http_503"))
    fapilog.configure(sinks=[sink], sink_defaults={"batch_max_age": 0.2}, opentelemetry={"spans": True})
    _log(4)
    spans = _write_spans(exporter)
    assert [(s["fapilog.batch.attempt"], s["fapilog.plugin.outcome"]) for s in spans] == [
        (1, "retryable"), (2, "delivered")]
    first, second = spans
    assert first["fapilog.batch.reason"] == "http_503" and first["status"] is StatusCode.ERROR
    assert "fapilog.batch.reason" not in second and second["status"] is StatusCode.UNSET
    for span in spans:
        assert span["fapilog.plugin.name"] == "scripted" and span["fapilog.plugin.kind"] == "sink"
        assert span["fapilog.plugin.operation"] == "write" and span["fapilog.batch.events"] == 4
    assert sink.received == [0, 1, 2, 3]


def test_partial_and_permanent_outcomes_are_named_on_the_span(exporter: InMemorySpanExporter) -> None:
    """A partly refused batch is outcome partial; a refused batch is permanent with its reason and ERROR."""
    sink = ScriptedSink(BatchResult(rejected={0: "too_old"}), PermanentSinkError("no", reason="http_400"))
    fapilog.configure(sinks=[sink], sink_defaults={"batch_size": 2, "batch_max_age": 0.2},
                      opentelemetry={"spans": True})
    _log(4)
    spans = _write_spans(exporter)
    assert [(s["fapilog.plugin.outcome"], s.get("fapilog.batch.reason"), s["fapilog.batch.events"])
            for s in spans] == [("partial", None, 2), ("permanent", "http_400", 2)]
    assert spans[1]["status"] is StatusCode.ERROR


def test_no_write_spans_and_no_hook_when_spans_are_off(exporter: InMemorySpanExporter) -> None:
    """Default settings: the batch hook is None and a delivered batch exports no span."""
    sink = ScriptedSink()
    fapilog.configure(sinks=[sink])
    _log(3)
    assert tracing.batch_hook is None and _write_spans(exporter) == [] and sink.received == [0, 1, 2]
