"""The built-in processors: the last stage before the sinks, reshaping each record.

* ``exception`` (:class:`~fapilog.builtins.processors.exception.ExceptionProcessor`): bounds the structured
  ``exception`` field (frames, message length, cause chain; optional source lines);
* ``shape`` (:class:`~fapilog.builtins.processors.shape.ShapeProcessor`): renames fields, with presets for
  Elastic ECS, Datadog and Google Cloud Logging;
* ``size_guard`` (:class:`~fapilog.builtins.processors.size_guard.SizeGuardProcessor`): keeps every
  serialized event under a byte limit (CloudWatch, Loki).

Processors run in the order configured; ``exception``, then ``shape``, then ``size_guard`` (last, so it
measures what the sinks receive) is the order that makes sense for these three. The modules are imported
only when a processor is configured.
"""

from __future__ import annotations

__all__: list[str] = []
