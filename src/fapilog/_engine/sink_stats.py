"""A sink's part of ``stats()``: its runner's ledger and figures, in the schema's shape (imported by ``stats()``
only, so the start-up path does not load the schema)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fapilog._engine.stats_schema import SinkStats

if TYPE_CHECKING:
    from fapilog._engine.delivery import SinkRunner

__all__ = ["sink_snapshot"]


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
