"""The built-in enrichers: fields added to every event after the filters.

* ``runtime`` (:class:`~fapilog.builtins.enrichers.runtime.RuntimeEnricher`): service, environment, version,
  host name and process id;
* ``context`` (:class:`~fapilog.builtins.enrichers.context.ContextEnricher`): filters the bound context keys
  and optionally nests them under one field;
* ``kubernetes`` (:class:`~fapilog.builtins.enrichers.kubernetes.KubernetesEnricher`): pod, namespace, node,
  IP and container from Downward API environment variables;
* ``otel`` (:class:`~fapilog.builtins.enrichers.otel.OtelEnricher`): the OpenTelemetry trace and span ids
  active at the log call (needs the ``opentelemetry`` extra).

Enrichers add fields and never overwrite a field the record already has. ``context`` and ``otel`` define a
``capture()`` method that the core calls on the caller's thread at each log call. The modules are imported
only when an enricher is configured.
"""

from __future__ import annotations

from fapilog.errors import ConfigError

__all__: list[str] = []


_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def _bool_setting(plugin: str, field: str, value: object) -> bool:
    """true/false; the strings true/false, yes/no, on/off, 1/0 too (environment variables)."""
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    if not isinstance(value, bool):
        raise ConfigError(f"{plugin}.{field}: expected true or false, got {value!r}", field=field)
    return value
