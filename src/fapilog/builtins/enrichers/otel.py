"""``otel`` enricher: the OpenTelemetry trace and span of the log call, for trace-log correlation.

The active span lives in the caller's context and is gone by the time fapilog's worker builds the record, so
the ids are taken at the call site: the core calls :meth:`OtelEnricher.capture` on the caller's thread and
hands the result to :meth:`OtelEnricher.enrich` as ``record.captured["otel"]``. ``capture`` returns the
span's own immutable ``SpanContext`` (nothing is allocated on the caller's thread), or ``None`` outside a
valid span. All formatting happens on the worker, in the W3C ``traceparent`` forms: ``trace_id`` as 32 and
``span_id`` as 16 lowercase hex digits, ``trace_flags`` as 2 (bit 0 is "sampled").

Needs ``opentelemetry-api`` (``pip install 'fapilog[opentelemetry]'``). Without it the enricher is inert and
free: ``capture_enabled`` is ``False``, so the core never calls ``capture``, and ``health_check`` says what
to install. OpenTelemetry is imported when the enricher starts (or at the first capture, if a log call comes
first), never by ``import fapilog``.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from fapilog._version import __version__
from fapilog.plugins.constraints import settings_from
from fapilog.plugins.metadata import PluginHealth, PluginMetadata

__all__ = ["OtelEnricher", "OtelSettings", "SpanIds", "otel_available"]

_NAME = "otel"
_NOTHING: Mapping[str, Any] = MappingProxyType({})
_INSTALL = "pip install 'fapilog[opentelemetry]'"

SpanIds = tuple[Any, ...]
"""What :meth:`OtelEnricher.capture` returns: OpenTelemetry's ``SpanContext``, a tuple
``(trace_id, span_id, is_remote, trace_flags, trace_state, is_valid)``. :meth:`OtelEnricher.enrich` also takes
a plain ``(trace_id, span_id, trace_flags)`` tuple of integers."""


def otel_available() -> bool:
    """Whether the OpenTelemetry API can be imported, found without importing it."""
    try:
        return importlib.util.find_spec("opentelemetry.trace") is not None
    except (ImportError, ValueError):  # a parent blocked or broken in sys.modules
        return False


@dataclasses.dataclass(frozen=True)
class OtelSettings:
    """Settings of the ``otel`` enricher (validated on creation)."""

    include_trace_flags: bool = True
    """Add ``trace_flags`` next to ``trace_id`` and ``span_id``."""


class OtelEnricher:
    """Adds ``trace_id``, ``span_id`` and ``trace_flags`` of the span active at the log call."""

    metadata = PluginMetadata(
        name=_NAME,
        version=__version__,
        kind="enricher",
        description="Adds the OpenTelemetry trace_id, span_id and trace_flags active at the log call.",
        config_model=OtelSettings,
    )

    def __init__(self, settings: OtelSettings | None = None, /, **values: Any) -> None:
        """``settings`` (the registry passes the validated model) or the same fields as keywords."""
        self.settings = settings_from(OtelSettings, settings, root=_NAME, **values)
        self.include_trace_flags = self.settings.include_trace_flags
        """Read on every capture: a plain attribute, copied once from the validated settings."""
        self.capture_enabled = otel_available()
        """False when OpenTelemetry is not installed: the core then skips :meth:`capture` entirely."""
        self._current_span: Callable[[], Any] | None = None
        self._last: SpanIds | None = None
        self._last_fields: Mapping[str, Any] = _NOTHING

    def _load(self) -> Callable[[], Any] | None:
        try:
            from opentelemetry import trace
        except ImportError:  # uninstalled since the check: stay inert rather than fail the log call
            self.capture_enabled = False
            return None
        self._current_span = trace.get_current_span
        return trace.get_current_span

    async def start(self) -> None:
        """Import the OpenTelemetry API, if it is installed."""
        if self.capture_enabled and self._current_span is None:
            self._load()

    async def stop(self) -> None:
        """Nothing to close."""

    async def health_check(self) -> PluginHealth:
        """Degraded when OpenTelemetry is missing: events then carry no trace ids."""
        if self.capture_enabled:
            return PluginHealth("healthy", "capturing the active span at each log call")
        return PluginHealth("degraded", f"opentelemetry-api is not installed, so no trace ids are added; {_INSTALL}",
                            code="FL-HLT-004")

    def capture(self) -> SpanIds | None:
        """The active span's context on the calling thread, or ``None`` outside a valid span.

        The core calls this at every log call, so it does as little as the OpenTelemetry API allows: it returns
        the span's own immutable ``SpanContext`` (no allocation) and leaves all formatting to the worker.
        """
        current_span = self._current_span or self._load()
        if current_span is None:
            return None
        context: SpanIds = current_span().get_span_context()
        return context if context[5] else None  # SpanContext is a tuple; item 5 is is_valid

    async def enrich(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        """``trace_id``, ``span_id`` (and ``trace_flags``) from what :meth:`capture` took, as hex strings."""
        captured = getattr(record, "captured", None)
        return self._fields(captured.get(_NAME)) if captured else _NOTHING

    async def enrich_batch(self, records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """:meth:`enrich` for a whole batch; events of one span share one formatted mapping."""
        fields = self._fields
        out: list[Mapping[str, Any]] = []
        append = out.append
        for record in records:
            captured = getattr(record, "captured", None)
            append(fields(captured.get(_NAME)) if captured else _NOTHING)
        return out

    def _fields(self, ids: Any) -> Mapping[str, Any]:
        if ids is None:
            return _NOTHING
        if ids is self._last:  # consecutive events of one span share its SpanContext: format once
            return self._last_fields
        if len(ids) == 3:
            trace_id, span_id, flags = ids
        else:
            trace_id, span_id, flags = ids[0], ids[1], ids[3]
        fields = {"trace_id": f"{trace_id:032x}", "span_id": f"{span_id:016x}"}
        if self.include_trace_flags:
            fields["trace_flags"] = f"{flags:02x}"
        self._last, self._last_fields = ids, fields
        return fields
