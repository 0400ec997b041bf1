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

__all__: list[str] = []
