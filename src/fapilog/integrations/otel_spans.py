"""OpenTelemetry spans for plugin operations: one span per plugin load, start and stop, and per sink write.

Off by default; ``fapilog.configure(opentelemetry={"spans": True})`` switches them on through the global
tracer provider (whatever the application installed with ``opentelemetry.trace.set_tracer_provider``).
Each span is named ``fapilog.plugin.<operation>`` and carries ``fapilog.plugin.name``, ``fapilog.plugin.kind``,
``fapilog.plugin.operation`` and ``fapilog.plugin.outcome`` (``ok`` or ``error``; an error also sets the span's
status and records the exception). The registry reports an operation once it finished (see
:mod:`fapilog._registry.tracing`), so the span is built with the measured start and end times.

Each ``write_batch`` attempt of a sink becomes a ``fapilog.sink.write`` span with the same plugin attributes
(operation ``write``) plus ``fapilog.batch.events``, ``fapilog.batch.attempt`` (1 for the first try, 2 for the
first retry...) and, when it did not go through, ``fapilog.batch.reason``; outcomes are ``delivered``,
``partial``, ``retryable``, ``permanent`` and ``too_large`` (the last three set the span status to ERROR).

Spans leave the process for a tracing backend, so the text they carry from a plugin's exception (its message,
the traceback, a sink's reason) gets the same URL-credential masking as log events get from the default
``secrets`` redactor: ``https://user:***@host``. A client library's error often quotes the URL it was given.
"""

from __future__ import annotations

import time
import traceback
from typing import Any

from fapilog._engine.notices import warn
from fapilog._kit.url_credentials import strip_credentials
from fapilog._registry import tracing
from fapilog._version import __version__
from fapilog.errors import ConfigError

__all__ = ["disable_spans", "enable_spans", "spans_enabled"]

INSTALL = 'pip install "fapilog[opentelemetry]"'


def _exception_attributes(error: BaseException) -> dict[str, str]:
    """What ``record_exception`` would record, with URL credentials masked (these keys replace the SDK's)."""
    stack = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return {"exception.message": strip_credentials(str(error)), "exception.stacktrace": strip_credentials(stack)}


def enable_spans(field: str = "opentelemetry.spans") -> None:
    """Emit lifecycle and sink-write spans from now on; ConfigError naming ``field`` without opentelemetry-api."""
    try:
        from opentelemetry import trace
    except ImportError as exc:
        raise ConfigError(f"{field}: spans need the opentelemetry-api package, which is not installed; "
                          f"install it with: {INSTALL}", field=field, code="FL-OBS-003") from exc
    tracer = trace.get_tracer("fapilog", __version__)
    tracing.set_hook(_recorder(tracer))
    tracing.set_batch_hook(_batch_recorder(tracer))


def disable_spans() -> None:
    """Stop emitting plugin spans (plugin operations and sink writes go back to costing a ``None`` check)."""
    tracing.set_hook(None)
    tracing.set_batch_hook(None)


def spans_enabled() -> bool:
    """Whether lifecycle spans are on."""
    return tracing.hook is not None


def _recorder(tracer: Any) -> tracing.LifecycleHook:
    from opentelemetry.trace import Status, StatusCode

    def record(operation: str, name: str, kind: str | None, took_ms: float, error: BaseException | None) -> None:
        try:
            end = time.time_ns()
            attributes = {
                "fapilog.plugin.name": name,
                "fapilog.plugin.kind": kind or "unknown",
                "fapilog.plugin.operation": operation,
                "fapilog.plugin.outcome": "ok" if error is None else "error",
            }
            span = tracer.start_span(f"fapilog.plugin.{operation}", start_time=end - int(took_ms * 1_000_000),
                                     attributes=attributes)
            if error is not None:
                span.record_exception(error, attributes=_exception_attributes(error))
                span.set_status(Status(StatusCode.ERROR, strip_credentials(f"{type(error).__name__}: {error}")))
            span.end(end_time=end)
        except Exception as exc:  # noqa: BLE001 - a tracing failure must never fail a plugin's lifecycle
            warn(f"otel-span:{type(exc).__name__}", f"could not record the {operation} span of plugin {name!r}: "
                 f"{type(exc).__name__}: {exc}", code="FL-OBS-004")

    return record


def _batch_recorder(tracer: Any) -> tracing.BatchHook:
    from opentelemetry.trace import Status, StatusCode

    def record(name: str, outcome: str, events: int, attempt: int, took: float, reason: str | None) -> None:
        try:
            end = time.time_ns()
            attributes: dict[str, str | int] = {
                "fapilog.plugin.name": name,
                "fapilog.plugin.kind": "sink",
                "fapilog.plugin.operation": "write",
                "fapilog.plugin.outcome": outcome,
                "fapilog.batch.events": events,
                "fapilog.batch.attempt": attempt,
            }
            if reason is not None:
                reason = strip_credentials(reason)
                attributes["fapilog.batch.reason"] = reason
            span = tracer.start_span("fapilog.sink.write", start_time=end - int(took * 1_000_000_000),
                                     attributes=attributes)
            if outcome in _FAILED:
                span.set_status(Status(StatusCode.ERROR, f"{outcome}: {reason}"))
            span.end(end_time=end)
        except Exception as exc:  # noqa: BLE001 - a tracing failure must never fail a sink's delivery
            warn(f"otel-span:{type(exc).__name__}", f"could not record a write span of sink {name!r}: "
                 f"{type(exc).__name__}: {exc}", code="FL-OBS-004")

    return record


_FAILED = frozenset({"retryable", "permanent", "too_large"})
