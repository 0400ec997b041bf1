"""Spans for plugin operations: load, start and stop, off by default, on with ``opentelemetry={"spans": True}``.

The spans go through the global tracer provider, as an application's would: this module installs a real SDK
``TracerProvider`` once (a process can set it only once) with the SDK's ``InMemorySpanExporter``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest

import fapilog
from fapilog._registry import tracing
from fapilog.builtins.sinks.memory import MemorySink

sdk_trace = pytest.importorskip("opentelemetry.sdk.trace", reason="needs the 'opentelemetry' extra")
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402
from opentelemetry.trace import StatusCode  # noqa: E402


@pytest.fixture
def exporter(provider_exporter: InMemorySpanExporter) -> Iterator[InMemorySpanExporter]:
    """The exporter, emptied; spans are switched off again after the test."""
    provider_exporter.clear()
    yield provider_exporter
    fapilog.configure(sinks=[MemorySink()])
    assert tracing.hook is None


def _spans(exporter: InMemorySpanExporter) -> list[tuple[str, str, str, str]]:
    """(operation, plugin, kind, outcome) of every exported lifecycle span, in the order they ended."""
    out = []
    for span in exporter.get_finished_spans():
        attrs = span.attributes or {}
        assert span.name == f"fapilog.plugin.{attrs['fapilog.plugin.operation']}"
        out.append((str(attrs["fapilog.plugin.operation"]), str(attrs["fapilog.plugin.name"]),
                    str(attrs["fapilog.plugin.kind"]), str(attrs["fapilog.plugin.outcome"])))
    return out


class FailingStart:
    """A sink whose start() raises: configure must fail and the start span must say so."""

    name = "failing_start"

    async def start(self) -> None:
        raise RuntimeError("backend unreachable")

    async def write(self, record: Any) -> None:
        """Never reached."""


def test_load_start_and_stop_each_emit_one_span(exporter: InMemorySpanExporter) -> None:
    """With spans on, each configured plugin gets a load and a start span, and a stop span at shutdown."""
    fapilog.configure(sinks=[MemorySink()], enrichers=["runtime"], opentelemetry={"spans": True})
    fapilog.shutdown(5.0)
    spans = _spans(exporter)
    # the default `secrets` redactor runs in every pipeline, so it gets its spans too
    for plugin, kind in (("runtime", "enricher"), ("memory", "sink"), ("secrets", "redactor")):
        for operation in ("load", "start", "stop"):
            assert spans.count((operation, plugin, kind, "ok")) == 1, (operation, plugin, spans)
    assert len(spans) == 9
    for span in exporter.get_finished_spans():
        assert span.end_time is not None and span.start_time is not None and span.end_time >= span.start_time
        assert span.status.status_code is StatusCode.UNSET


def test_a_plugin_loaded_at_runtime_gets_its_spans(exporter: InMemorySpanExporter) -> None:
    """fapilog.load_plugin() and unload_plugin() on a running pipeline emit load, start and stop spans."""
    fapilog.configure(sinks=[MemorySink()], opentelemetry={"spans": True})
    exporter.clear()
    name = fapilog.load_plugin("enricher", "runtime")
    fapilog.unload_plugin(name)
    assert _spans(exporter) == [("load", "runtime", "enricher", "ok"), ("start", "runtime", "enricher", "ok"),
                                ("stop", "runtime", "enricher", "ok")]


def test_a_failing_start_is_an_error_span_with_the_exception(exporter: InMemorySpanExporter) -> None:
    """start() raising: the start span has outcome error, status ERROR with the message, and an exception event."""
    with pytest.raises(fapilog.PluginLoadError):
        fapilog.configure(sinks=[FailingStart()], opentelemetry={"spans": True})
    (start,) = [
        s for s in exporter.get_finished_spans()
        if s.name == "fapilog.plugin.start" and (s.attributes or {}).get("fapilog.plugin.name") == "failing_start"
    ]
    assert (start.attributes or {})["fapilog.plugin.outcome"] == "error"
    assert start.status.status_code is StatusCode.ERROR
    assert start.status.description == "RuntimeError: backend unreachable"
    assert [event.name for event in start.events] == ["exception"]


def test_a_plugin_that_cannot_be_found_is_an_error_load_span(exporter: InMemorySpanExporter) -> None:
    """An unknown plugin name: a load span named after what was asked for, outcome error."""
    with pytest.raises(fapilog.PluginNotFoundError):
        fapilog.configure(sinks=[{"type": "no_such_sink"}], opentelemetry={"spans": True})
    assert ("load", "no_such_sink", "sink", "error") in _spans(exporter)


def test_spans_are_off_by_default_and_off_again_after_reconfiguring(exporter: InMemorySpanExporter) -> None:
    """Default settings install no hook and export nothing; switching spans off removes the hook."""
    fapilog.configure(sinks=[MemorySink()], enrichers=["runtime"])
    fapilog.shutdown(5.0)
    assert tracing.hook is None and exporter.get_finished_spans() == ()
    fapilog.configure(sinks=[MemorySink()], opentelemetry={"spans": True})
    assert tracing.hook is not None
    fapilog.configure(sinks=[MemorySink()], opentelemetry={"spans": False})
    assert tracing.hook is None


def test_with_spans_off_no_opentelemetry_code_runs() -> None:
    """A fresh process configuring and stopping plugins with spans off never imports opentelemetry."""
    script = textwrap.dedent(
        """
        import sys, fapilog
        fapilog.configure(sinks=["memory"], enrichers=["runtime"], filters=["level"])
        fapilog.get_logger("x").info("x")
        fapilog.shutdown(5.0)
        print(sorted(m for m in sys.modules if m.startswith(("opentelemetry", "fapilog.integrations"))))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_without_opentelemetry_switching_spans_on_says_what_to_install() -> None:
    """opentelemetry-api unimportable: ConfigError on opentelemetry.spans with the pip command; nothing changed."""
    script = textwrap.dedent(
        """
        import sys
        sys.modules["opentelemetry"] = None  # as if opentelemetry-api were not installed
        import fapilog
        try:
            fapilog.configure(sinks=["memory"], opentelemetry={"spans": True})
        except fapilog.ConfigError as exc:
            print(exc.field, "|", exc)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        'opentelemetry.spans | opentelemetry.spans: spans need the opentelemetry-api package, which is not '
        'installed; install it with: pip install "fapilog[opentelemetry]"'
    )
