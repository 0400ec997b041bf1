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

import typing

from fapilog._lazy import lazy_attributes as _lazy_attributes

if typing.TYPE_CHECKING:
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

# Loaded on first use: the pytest plugin imports this package in every pytest run of every project that has
# fapilog installed, and most of those never touch the contract checks or the profiler.
_HOME = {
    "BenchmarkResult": "fapilog.testing.bench",
    "benchmark_plugin": "fapilog.testing.bench",
    "CapturedEvents": "fapilog.testing.capture",
    "capture_events": "fapilog.testing.capture",
    "CHECKS": "fapilog.testing.checks",
    "CheckResult": "fapilog.testing.checks",
    "ContractReport": "fapilog.testing.checks",
    "check_plugin": "fapilog.testing.checks",
    "EnricherContract": "fapilog.testing.contracts",
    "FilterContract": "fapilog.testing.contracts",
    "PluginContract": "fapilog.testing.contracts",
    "ProcessorContract": "fapilog.testing.contracts",
    "RedactorContract": "fapilog.testing.contracts",
    "SinkContract": "fapilog.testing.contracts",
    "make_record": "fapilog.testing.records",
    "make_records": "fapilog.testing.records",
    "FailingSink": "fapilog.testing.sinks",
    "SlowSink": "fapilog.testing.sinks",
}


__getattr__, __dir__ = _lazy_attributes(__name__, _HOME)


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
