"""The built-in ``otel`` enricher: span ids captured at the call site, formatted on the worker."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
from typing import Any

import pytest

import fapilog
from fapilog._kit.record import EventRecord
from fapilog._registry.registry import PluginRegistry
from fapilog.builtins.enrichers.otel import OtelEnricher
from fapilog.builtins.sinks.memory import MemorySink
from fapilog.errors import ConfigError


def sdk_tracer(*, sampled: bool = True) -> Any:
    """A tracer from a real SDK TracerProvider (not installed globally); skips without the extra."""
    sdk = pytest.importorskip("opentelemetry.sdk.trace", reason="needs the 'opentelemetry' extra")
    sampling = pytest.importorskip("opentelemetry.sdk.trace.sampling")
    sampler = sampling.ALWAYS_ON if sampled else sampling.ALWAYS_OFF
    return sdk.TracerProvider(sampler=sampler).get_tracer("fapilog-tests")


def with_capture(value: Any) -> EventRecord:
    """A record as the worker builds it when the otel hook captured ``value`` at the call site."""
    rec = EventRecord(message="m")
    rec.captured = {"otel": value}
    return rec


def test_capture_outside_a_span_is_none() -> None:
    """No active span (or the invalid default span): capture() returns None and enrich adds nothing."""
    pytest.importorskip("opentelemetry.trace", reason="needs the 'opentelemetry' extra")
    enricher = OtelEnricher()
    asyncio.run(enricher.start())
    assert enricher.capture_enabled
    assert enricher.capture() is None
    assert asyncio.run(enricher.enrich(with_capture(None))) == {}


def test_capture_takes_the_active_span_and_enrich_formats_it_as_hex() -> None:
    """Inside a span: capture() returns the span's own SpanContext; enrich formats 32/16/2 lowercase hex digits."""
    enricher = OtelEnricher()
    asyncio.run(enricher.start())
    with sdk_tracer().start_as_current_span("request") as span:
        ids = enricher.capture()
        context = span.get_span_context()
    assert id(ids) == id(context)  # the very object, nothing rebuilt on the caller's thread
    fields = asyncio.run(enricher.enrich(with_capture(ids)))
    assert fields == {"trace_id": f"{context.trace_id:032x}", "span_id": f"{context.span_id:016x}",
                      "trace_flags": f"{int(context.trace_flags):02x}"}
    assert len(fields["trace_id"]) == 32 and fields["trace_id"] == fields["trace_id"].lower()


def test_unsampled_spans_say_so_in_the_flags() -> None:
    """A span dropped by the sampler still has ids; its sampled bit is 0."""
    enricher = OtelEnricher()
    with sdk_tracer(sampled=False).start_as_current_span("quiet"):
        ids = enricher.capture()
    assert ids is not None and ids[3] & 1 == 0  # SpanContext item 3: trace_flags
    assert int(asyncio.run(enricher.enrich(with_capture(ids)))["trace_flags"], 16) & 1 == 0


def test_capture_sees_the_callers_thread_only() -> None:
    """A span active in one thread is not seen from another (why capture runs at the call site)."""
    enricher = OtelEnricher()
    seen: list[Any] = []
    with sdk_tracer().start_as_current_span("request"):
        thread = threading.Thread(target=lambda: seen.append(enricher.capture()))
        thread.start()
        thread.join()
        assert enricher.capture() is not None
    assert seen == [None]


def test_batch_form_matches_enrich_and_skips_records_without_ids() -> None:
    """enrich_batch gives one mapping per record; a plain (trace_id, span_id, flags) tuple is accepted too."""
    enricher = OtelEnricher(include_trace_flags=False)
    a = (0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331, 1)
    records = [with_capture(a), with_capture(tuple(a)), with_capture(None), EventRecord(message="hand-made")]
    out = asyncio.run(enricher.enrich_batch(records))
    expected = {"trace_id": "0af7651916cd43dd8448eb211c80319c", "span_id": "b7ad6b7169203331"}
    assert out == [expected, expected, {}, {}]
    assert asyncio.run(enricher.enrich(records[0])) == expected


def test_bad_settings_name_the_field() -> None:
    """include_trace_flags must be a boolean; the error starts with 'otel.include_trace_flags:'."""
    with pytest.raises(ConfigError) as caught:
        OtelEnricher(include_trace_flags="maybe")  # type: ignore[arg-type]
    assert str(caught.value).startswith("otel.include_trace_flags: must be true or false")


def test_settings_by_table_reach_the_constructor() -> None:
    """The registry validates a table with the config model and builds the enricher from it."""
    registry = PluginRegistry([OtelEnricher], entry_points=False)
    _, instance = registry.create("enricher", {"type": "otel", "include_trace_flags": False})
    assert isinstance(instance, OtelEnricher) and instance.include_trace_flags is False


def test_health_is_healthy_when_opentelemetry_is_installed() -> None:
    """With the API importable, the health check reports capture as active."""
    pytest.importorskip("opentelemetry.trace", reason="needs the 'opentelemetry' extra")
    assert asyncio.run(OtelEnricher().health_check()).healthy


def test_end_to_end_with_the_call_site_capture() -> None:
    """Through the pipeline, an event logged inside a span carries its ids; one outside carries none."""
    tracer = sdk_tracer()
    from opentelemetry import trace

    sink = MemorySink()
    fapilog.configure(sinks=[sink], enrichers=[OtelEnricher()])
    log = fapilog.get_logger("e2e")
    with tracer.start_as_current_span("request") as span:
        log.info("inside")
        context = span.get_span_context()
    log.info("outside")
    assert fapilog.flush(5.0)
    inside, outside = sink.records
    assert inside["trace_id"] == trace.format_trace_id(context.trace_id)
    assert inside["span_id"] == trace.format_span_id(context.span_id)
    assert "trace_id" not in outside


def test_without_opentelemetry_the_enricher_is_inert_and_free() -> None:
    """With the import blocked: capture_enabled is False, the core never calls capture, events still flow."""
    script = textwrap.dedent(
        """
        import asyncio, sys
        sys.modules["opentelemetry"] = None  # as if opentelemetry-api were not installed

        import fapilog
        from fapilog.builtins.enrichers.otel import OtelEnricher
        from fapilog.builtins.sinks.memory import MemorySink

        enricher = OtelEnricher()
        assert enricher.capture_enabled is False
        calls = []
        original = enricher.capture
        enricher.capture = lambda: calls.append(1) or original()
        health = asyncio.run(enricher.health_check())
        assert health.status == "degraded" and "pip install 'fapilog[opentelemetry]'" in health.detail, health
        sink = MemorySink()
        fapilog.configure(sinks=[sink], enrichers=[enricher])
        fapilog.get_logger("x").info("plain")
        assert fapilog.flush(5.0)
        assert calls == [], calls
        assert [r["message"] for r in sink.records] == ["plain"] and "trace_id" not in sink.records[0]
        assert sys.modules["opentelemetry"] is None
        print("ok")
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr
