"""Shared fixtures of the integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="module")
def provider_exporter() -> Iterator[Any]:
    """The SDK's ``InMemorySpanExporter`` on the global SDK ``TracerProvider`` (installed once per process, as an
    application would: a process can set the global provider only once)."""
    sdk_trace = pytest.importorskip("opentelemetry.sdk.trace", reason="needs the 'opentelemetry' extra")
    from opentelemetry import trace
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    provider = trace.get_tracer_provider()
    if not isinstance(provider, sdk_trace.TracerProvider):
        provider = sdk_trace.TracerProvider()
        trace.set_tracer_provider(provider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield exporter
    exporter.shutdown()
