"""A sink's part of ``stats()``: its runner's ledger and figures, in the schema's shape (imported by ``stats()``
only, so the start-up path does not load the schema)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fapilog._engine.stats_schema import SinkStats

if TYPE_CHECKING:
    from fapilog._engine.delivery import SinkRunner
    from fapilog._engine.ledger import SinkLedger
    from fapilog._engine.stats_schema import PluginStats
    from fapilog._engine.worker import PipelineWorker

__all__ = ["direct_snapshot", "sink_snapshot", "worker_snapshot"]


def worker_snapshot(worker: PipelineWorker, sinks: dict[str, SinkStats], plugins: dict[str, PluginStats]) -> int:
    """Fill ``stats()["sinks"]`` and ``["plugins"]`` from a running (or dead) worker; returns the records its
    stages added by splitting events (``split_extra``)."""
    from fapilog._registry.registry import default_registry

    timings = default_registry().timings
    # A sink's own processors are plugins like the chain's: listed (as ``<processor>@<sink>``) beside them.
    sink_stages = [stage for runner in worker.sinks for stage in runner.processors]
    for stage in [*worker.pipeline.stages, *sink_stages]:
        load_ms, start_ms = timings(stage.obj)
        plugins[stage.name] = {"kind": stage.kind, "errors": stage.errors, "load_ms": load_ms, "start_ms": start_ms}
    for runner in worker.sinks:
        sinks[runner.name] = sink_snapshot(runner)
        load_ms, start_ms = timings(runner.sink)
        plugins[runner.name] = {"kind": "sink", "errors": sum(runner.errors.values()), "load_ms": load_ms,
                                "start_ms": start_ms}
    return sum(stage.expanded for stage in worker.pipeline.stages)


def sink_snapshot(runner: SinkRunner) -> SinkStats:
    """This sink's part of ``stats()``: its ledger's counters and the runner's own figures."""
    counters = runner.ledger.counters()
    writes = sum(runner.write_seconds.counts)
    return {
        **counters,
        "capacity": runner.capacity,
        "processor_errors": {stage.name: stage.errors for stage in runner.processors},
        "processor_degraded": {stage.name: stage.degraded for stage in runner.processors},
        "split_extra": sum(stage.expanded for stage in runner.processors),
        "batches": runner.batches,
        "circuit": runner.sender.breaker.state,
        "stalled": runner.stalled,
        "latency_ms": {
            "last": round(runner.latency_last, 3),
            "max": round(runner.latency_max, 3),
            "avg": round(runner.write_seconds.sum * 1000.0 / writes, 3) if writes else 0.0,
        },
        "write_seconds": runner.write_seconds.snapshot(),
    }


def direct_snapshot(ledger: SinkLedger, capacity: int) -> SinkStats:
    """A sink's part of ``stats()`` when a shutdown wrote to it without a runner (``fapilog._engine.direct``):
    the ledger's counters, one batch, and the figures of a runner that never started."""
    from fapilog._engine.write_histogram import WriteHistogram

    return {
        **ledger.counters(),
        "capacity": capacity,
        "processor_errors": {},
        "processor_degraded": {},
        "split_extra": 0,
        "batches": 1 if ledger.admitted else 0,
        "circuit": "closed",
        "stalled": False,
        "latency_ms": {"last": 0.0, "max": 0.0, "avg": 0.0},
        "write_seconds": WriteHistogram().snapshot(),
    }
