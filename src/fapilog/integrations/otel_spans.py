"""OpenTelemetry spans for plugin operations: one span per plugin load, start and stop.

Off by default; ``fapilog.configure(opentelemetry={"spans": True})`` switches them on through the global
tracer provider (whatever the application installed with ``opentelemetry.trace.set_tracer_provider``).
Each span is named ``fapilog.plugin.<operation>`` and carries ``fapilog.plugin.name``, ``fapilog.plugin.kind``,
``fapilog.plugin.operation`` and ``fapilog.plugin.outcome`` (``ok`` or ``error``; an error also sets the span's
status and records the exception). The registry reports an operation once it finished (see
:mod:`fapilog.plugins._tracing`), so the span is built with the measured start and end times.
"""

from __future__ import annotations

import time
from typing import Any

from fapilog._version import __version__
from fapilog.core.diagnostics import warn
from fapilog.errors import ConfigError
from fapilog.plugins import _tracing

__all__ = ["disable_spans", "enable_spans", "spans_enabled"]

INSTALL = 'pip install "fapilog[opentelemetry]"'


def enable_spans(field: str = "opentelemetry.spans") -> None:
    """Emit lifecycle spans from now on; ConfigError naming ``field`` when opentelemetry-api is missing."""
    try:
        from opentelemetry import trace
    except ImportError as exc:
        raise ConfigError(f"{field}: spans need the opentelemetry-api package, which is not installed; "
                          f"install it with: {INSTALL}", field=field) from exc
    _tracing.set_hook(_recorder(trace.get_tracer("fapilog", __version__)))


def disable_spans() -> None:
    """Stop emitting lifecycle spans (plugin operations go back to costing a ``None`` check)."""
    _tracing.set_hook(None)


def spans_enabled() -> bool:
    """Whether lifecycle spans are on."""
    return _tracing.hook is not None


def _recorder(tracer: Any) -> _tracing.LifecycleHook:
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
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
            span.end(end_time=end)
        except Exception as exc:  # noqa: BLE001 - a tracing failure must never fail a plugin's lifecycle
            warn(f"otel-span:{type(exc).__name__}", f"could not record the {operation} span of plugin {name!r}: "
                 f"{type(exc).__name__}: {exc}")

    return record
