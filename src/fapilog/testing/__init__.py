"""fapilog's testing kit, for applications that log and for plugin authors.

- :func:`capture_events` (and the ``fapilog_events`` pytest fixture): what was logged, synchronously, with no
  worker.
- :func:`make_record` / :func:`make_records` (and the ``fapilog_record`` fixture): records exactly as the
  worker builds them, for feeding plugins.
- :func:`check_plugin` and the contract suites (:class:`SinkContract`, :class:`FilterContract`, ...): the
  plugin contract, as one report or as pytest tests.
- :class:`SlowSink` and :class:`FailingSink`: misbehaving backends for resilience tests.
- :func:`benchmark_plugin`: a plugin's per-event cost, with an optional profile.

The guide is ``docs/testing.md``.
"""

from __future__ import annotations

from fapilog.testing.bench import BenchmarkResult, benchmark_plugin
from fapilog.testing.capture import CapturedEvents, capture_events
from fapilog.testing.checks import CHECKS, CheckResult, ContractReport, check_plugin
from fapilog.testing.contracts import (
    EnricherContract,
    FilterContract,
    PluginContract,
    ProcessorContract,
    RedactorContract,
    SinkContract,
)
from fapilog.testing.records import make_record, make_records
from fapilog.testing.sinks import FailingSink, SlowSink

__all__ = [
    "CHECKS",
    "BenchmarkResult",
    "CapturedEvents",
    "CheckResult",
    "ContractReport",
    "EnricherContract",
    "FailingSink",
    "FilterContract",
    "PluginContract",
    "ProcessorContract",
    "RedactorContract",
    "SinkContract",
    "SlowSink",
    "benchmark_plugin",
    "capture_events",
    "check_plugin",
    "make_record",
    "make_records",
]
