"""Spans leave the process: URL credentials quoted by a plugin's exception or reason are masked in them.

A real SDK ``TracerProvider`` with the SDK's ``InMemorySpanExporter`` (the shared ``provider_exporter``
fixture) receives the spans of a real pipeline.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import fapilog
from fapilog.builtins.sinks.memory import MemorySink
from fapilog.plugins import PermanentSinkError

pytest.importorskip("opentelemetry.sdk.trace", reason="needs the 'opentelemetry' extra")
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

URL = "https://ingest:hunter2@logs.example.com/v1"


@pytest.fixture
def exporter(provider_exporter: InMemorySpanExporter) -> Iterator[InMemorySpanExporter]:
    """The exporter, emptied; spans are switched off again after the test."""
    provider_exporter.clear()
    yield provider_exporter
    fapilog.configure(sinks=[MemorySink()])


class UnreachableSink:
    """A sink whose start() fails the way an HTTP client does: quoting the URL it was given, password included."""

    name = "unreachable"

    async def start(self) -> None:
        raise ConnectionError(f"cannot connect to {URL}")

    async def write(self, record: Any) -> None:
        """Never reached."""


class RefusingSink:
    """A batch sink refusing every batch for good with a reason that quotes its URL."""

    name = "refusing"

    async def write_batch(self, records: Any) -> None:
        raise PermanentSinkError("refused", reason=f"http_401 from {URL}")

    async def write(self, record: Any) -> None:
        """Unused: the runner prefers write_batch."""


def _span_text(span: Any) -> str:
    events = [dict(event.attributes or {}) for event in span.events]
    return repr((dict(span.attributes or {}), span.status.description, events))


def test_a_failing_start_span_masks_the_password_in_status_message_and_traceback(
    exporter: InMemorySpanExporter,
) -> None:
    """The start span's status, exception message and stack trace say ingest:*** instead of the password."""
    with pytest.raises(fapilog.PluginLoadError):
        fapilog.configure(sinks=[UnreachableSink()], opentelemetry={"spans": True})
    (start,) = [s for s in exporter.get_finished_spans()
                if s.name == "fapilog.plugin.start" and (s.attributes or {})["fapilog.plugin.name"] == "unreachable"]
    (event,) = [dict(e.attributes or {}) for e in start.events]
    assert start.status.description == "ConnectionError: cannot connect to https://ingest:***@logs.example.com/v1"
    assert event["exception.message"] == "cannot connect to https://ingest:***@logs.example.com/v1"
    assert "ConnectionError" in str(event["exception.stacktrace"])
    assert "hunter2" not in _span_text(start)


def test_a_sink_reason_quoting_its_url_is_masked_on_the_write_span(exporter: InMemorySpanExporter) -> None:
    """A permanent failure's reason reaches the write span's fapilog.batch.reason and status without the password."""
    fapilog.configure(sinks=[RefusingSink()], opentelemetry={"spans": True})
    fapilog.get_logger("t").info("one")
    assert not fapilog.flush(10.0).timed_out
    writes = [s for s in exporter.get_finished_spans() if s.name == "fapilog.sink.write"]
    assert writes
    for span in writes:
        assert (span.attributes or {})["fapilog.batch.reason"] == "http_401 from https://ingest:***@logs.example.com/v1"
        assert "hunter2" not in _span_text(span)
