"""Applies the ``metrics`` and ``opentelemetry`` settings: the Prometheus endpoint and lifecycle spans.

Called by :func:`fapilog.configure` before the new pipeline is built (so load and start spans of its plugins
are recorded, and a missing extra or a taken port is a ConfigError before anything changed), and when a
pipeline starts lazily from ``FAPILOG_*`` settings. The facade imports this module only when one of the two
is switched on, or was on before.
"""

from __future__ import annotations

from fapilog._engine.notices import warn
from fapilog.errors import ConfigError
from fapilog.settings import LoggingSettings

__all__ = ["apply"]


def apply(settings: LoggingSettings, *, lazy: bool = False) -> None:
    """Bring spans and the metrics endpoint in line with ``settings``.

    Raises ConfigError naming the field (``metrics.enabled``, ``metrics.port``, ``opentelemetry.spans``);
    with ``lazy`` (no caller to raise to: a log call started the pipeline) it says so on stderr instead.
    """
    try:
        _apply(settings)
    except ConfigError as exc:
        if not lazy:
            raise
        warn("observability-config",
             f"{exc} (applied when a log call started the pipeline; logging goes on without it)",
             code=exc.code, force=True)


def _apply(settings: LoggingSettings) -> None:
    from fapilog.integrations import otel_spans

    if settings.opentelemetry.spans:
        otel_spans.enable_spans()
    else:
        otel_spans.disable_spans()
    if settings.metrics.enabled:
        from fapilog.metrics._exposure import apply_settings

        apply_settings(settings.metrics)
    else:
        import sys

        exposure = sys.modules.get("fapilog.metrics._exposure")
        if exposure is not None:  # an endpoint can only be running if the module was imported
            exposure.apply_settings(settings.metrics)
