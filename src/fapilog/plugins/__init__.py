"""The public plugin API: the stage protocols every plugin implements.

A plugin is any object with its kind's async methods; see :mod:`fapilog.plugins.protocols`.
"""

from __future__ import annotations

from fapilog.plugins.protocols import BatchSink, Enricher, Filter, Processor, Record, Redactor, Sink

__all__ = ["BatchSink", "Enricher", "Filter", "Processor", "Record", "Redactor", "Sink"]
