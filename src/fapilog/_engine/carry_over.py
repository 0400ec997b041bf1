"""The counters a pipeline carries over from the one it replaced after that one's worker died.

When a worker dies, the supervisor (``state._worker_failed``) lets the next log call start a fresh pipeline
with the same settings, which adopts what was still queued. Its own counters start at zero, so ``stats()``
adds the dead pipeline's final counters to them: ``submitted``, ``processed``, drops by reason, every sink's
ledger and every plugin's errors cover both pipelines, ``restarts`` says how many times this happened since
the last ``configure()``, and the identities of ``docs/observability.md`` keep holding (and a Prometheus
counter never goes backwards). Records the dead worker held but never wrote (in a sink's buffer, in a write,
or in the stage chain on their way to a sink) cannot be delivered any more: they count as that sink's
``failed``, reason ``worker_died``. Gauges are the running pipeline's own: queue depth and capacity, a sink's
buffer, circuit, capacity, latency and write histogram, plugin timings. The flush markers a dead worker
leaves are carried over the same way (:func:`settle_markers`): a flush waiting on one ends, and names what
was lost before it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from fapilog._engine.flush_marker import FlushMarker
from fapilog._engine.stats_schema import PluginStats, SinkStats, Stats, dropped_stats

if TYPE_CHECKING:
    from fapilog._engine.runtime import Runtime
    from fapilog._engine.worker import PipelineWorker

__all__ = ["WORKER_DIED", "Predecessor", "combined", "settle_markers"]

WORKER_DIED = "worker_died"
"""The failure reason of records a dead worker held and never wrote."""

_SINK_SUMS = ("delivered", "failed", "dropped", "dropped_protected", "retried", "fallback", "batches", "split_extra",
              "late_delivered")
_SINK_MAPS = ("errors", "rejected", "processor_errors", "processor_degraded")


class Predecessor:
    """The pipeline whose worker died, as counters: read live until its thread ended, then kept frozen (and the
    pipeline itself let go, so a chain of restarts does not keep every dead pipeline's plugins alive)."""

    __slots__ = ("_final", "_runtime")

    def __init__(self, runtime: Runtime) -> None:
        self._runtime: Runtime | None = runtime
        self._final: Stats | None = None

    def settle(self, timeout: float) -> None:
        """Freeze the counters as soon as the dead worker's thread has ended (waiting up to ``timeout``), so the
        dead pipeline is let go even if ``stats()`` is never called (the successor's worker calls this first)."""
        runtime = self._runtime
        if runtime is None:
            return
        if runtime.thread is not None:
            runtime.thread.join(timeout)
        self.counters()

    def counters(self) -> Stats:
        """The dead pipeline's counters (its own predecessors' included), its unwritten records failed; a copy,
        so a caller changing the ``stats()`` it got cannot change what later snapshots carry over."""
        if self._final is not None:
            return copy.deepcopy(self._final)
        runtime = self._runtime
        assert runtime is not None
        ended = runtime.thread is None or not runtime.thread.is_alive()
        # A dead pipeline's stats() count what its sinks still held as failed (held_as_failed); the events its
        # queue forwarded are the successor's (counted there), not its own.
        counters = runtime.stats(forwarded=False)
        if ended:
            self._final, self._runtime = copy.deepcopy(counters), None
        return counters


def held_as_failed(sinks: dict[str, SinkStats], worker: PipelineWorker) -> None:
    """Count every record a dead worker's sinks still held (buffered, in a write, or still in the stage chain on
    its way) as failed, reason ``worker_died``: nothing will write them now."""
    for runner in worker.sinks:
        lost = runner.pending()
        counts = sinks.get(runner.name)
        if counts is None or lost <= 0:
            continue
        counts["failed"] += lost
        counts["errors"][WORKER_DIED] = counts["errors"].get(WORKER_DIED, 0) + lost
        counts["buffered"] = counts["in_flight"] = 0


def settle_markers(worker: PipelineWorker, queued: Iterable[Any]) -> None:
    """The flush markers a dead worker leaves behind (called on its thread, its loop gone).

    A marker in a sink's buffer will never be passed: that sink's part of its flush ends now, failed (the
    records before it are lost, see :func:`held_as_failed`). A marker still queued, or held and put back, goes on to
    the successor, which settles it; each sink that lost records before it is named among its failures now.
    """
    lost = [runner.name for runner in worker.sinks if runner.pending() > 0]
    for runner in worker.sinks:
        for item in list(runner.buffer):
            if isinstance(item, FlushMarker):
                item.passed(runner.name, ok=False)
    if lost:
        for item in queued:
            if isinstance(item, FlushMarker):
                item.failed.extend(name for name in lost if name not in item.failed)


def combined(current: Stats, previous: Stats) -> Stats:
    """``current`` with ``previous``'s counters added; gauges stay ``current``'s."""
    by_reason = _summed(previous["dropped"]["by_reason"], current["dropped"]["by_reason"])
    queue = current["queue"]
    queue["high_water"] = max(queue["high_water"], previous["queue"]["high_water"])
    queue["overcommitted"] += previous["queue"]["overcommitted"]
    sinks: dict[str, SinkStats] = dict(previous["sinks"])
    for name, sink in current["sinks"].items():
        sinks[name] = _sink(sink, previous["sinks"][name]) if name in previous["sinks"] else sink
    plugins: dict[str, PluginStats] = dict(previous["plugins"])
    for name, plugin in current["plugins"].items():
        before = previous["plugins"].get(name)
        plugins[name] = {**plugin, "errors": plugin["errors"] + before["errors"]} if before is not None else plugin
    return {
        **current,
        "submitted": current["submitted"] + previous["submitted"],
        "processed": current["processed"] + previous["processed"],
        "queue": queue,
        "dropped": dropped_stats(by_reason, current["dropped"]["intentional"] + previous["dropped"]["intentional"]),
        "sinks": sinks,
        "plugins": plugins,
        "serialization": {"degraded": current["serialization"]["degraded"] + previous["serialization"]["degraded"]},
        "split_extra": current["split_extra"] + previous["split_extra"],
    }


def _sink(current: SinkStats, previous: SinkStats) -> SinkStats:
    merged = current.copy()
    for key in _SINK_SUMS:
        merged[key] = current[key] + previous[key]  # type: ignore[literal-required]  # every key is an int
    for key in _SINK_MAPS:
        merged[key] = _summed(previous[key], current[key])  # type: ignore[literal-required]  # dict[str, int] each
    return merged


def _summed(previous: Mapping[str, int], current: Mapping[str, int]) -> dict[str, int]:
    """Counts by name, both added (every name of either kept, in ``previous``'s order first)."""
    totals = dict(previous)
    for name, count in current.items():
        totals[name] = totals.get(name, 0) + count
    return totals
