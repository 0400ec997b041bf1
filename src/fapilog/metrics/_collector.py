"""The Prometheus collector: ``fapilog.stats()`` turned into metric families when Prometheus scrapes.

Nothing is counted twice and nothing is counted on the log call or the worker: every figure is read from one
``stats()`` snapshot at scrape time, so a scrape and ``stats()`` always agree. Label values are plugin and sink
names, drop reasons and error type names — bounded by the configuration, never per-event data; a sink's own
reasons, which a third-party sink may take from the backend's answer, are capped by :func:`bounded_reasons`.

The snapshot is typed by :class:`~fapilog._engine.stats_schema.Stats`, so ``mypy`` checks every key read here
against what the producers build. The delivery keys of ``stats()["sinks"][name]`` (``retried``, ``rejected``,
``circuit``, ``fallback``) are still read with defaults: a snapshot held from an older release lacks them, and
they are exported when present and simply absent otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from fapilog._engine.stats_schema import PluginStats, SinkStats, Stats
from fapilog._kit.url_credentials import strip_credentials
from fapilog._version import __version__

__all__ = ["FapilogCollector", "StatsProvider"]

StatsProvider = Callable[[], Stats]
"""Returns a ``fapilog.stats()`` snapshot; :func:`fapilog.stats` itself by default."""

_STATES = ("not started", "running", "stopping", "stopped", "failed")

MAX_REASONS_PER_SINK = 20
"""Distinct ``reason`` / ``error`` label values a sink gets per family; the rest are summed under ``other``."""
MAX_REASON_LENGTH = 64
"""A longer reason is not a reason code but a message (a backend's error text): it counts under ``other``."""
OTHER_REASON = "other"



def bounded_reasons(counts: Mapping[str, int | float]) -> list[tuple[str, int | float]]:
    """A sink's counts by reason, with at most :data:`MAX_REASONS_PER_SINK` label values plus ``other``.

    The core's reasons (``http_400``, ``timeout``, exception type names) are few, but a third-party sink
    chooses its own, and one that passes the backend's message (``"field 'user_42' is invalid"``) would
    make one time series per event; one quoting a URL would put its password in a label (masked here, as the
    ``secrets`` redactor masks it in events). The first reasons seen keep their own series (``stats()`` lists them in
    the order they first occurred, so the same ones win on every scrape); longer-than-a-code reasons and the
    rest add up under ``other``, which therefore only grows, like a counter must. The total is unchanged.
    """
    kept: dict[str, int | float] = {}
    other: int | float = 0
    overflow = False
    for reason, count in counts.items():
        label = strip_credentials(str(reason))  # a URL a reason quotes must not put its password in a label
        if label in kept:  # two reasons that differ only in a masked password: one series
            kept[label] += count
        elif len(kept) < MAX_REASONS_PER_SINK and len(label) <= MAX_REASON_LENGTH and label != OTHER_REASON:
            kept[label] = count
        else:
            other += count
            overflow = True
    if overflow:
        kept[OTHER_REASON] = other
    return list(kept.items())


class FapilogCollector(Collector):
    """Exports one ``stats()`` snapshot per scrape as ``fapilog_*`` metric families.

    >>> from prometheus_client import CollectorRegistry, generate_latest
    >>> registry = CollectorRegistry()
    >>> registry.register(FapilogCollector())
    >>> print(generate_latest(registry).decode())

    ``stats`` is what the figures come from (``fapilog.stats`` unless given): pass another callable to export
    a snapshot you hold, e.g. in a test.
    """

    def __init__(self, stats: StatsProvider | None = None) -> None:
        if stats is None:
            from fapilog._engine.state import stats as current

            stats = current
        self._stats = stats

    def describe(self) -> Iterator[Metric]:
        """The families' names without samples, so a registry can detect a second registration."""
        return families(None)

    def collect(self) -> Iterator[Metric]:
        """Every family, from one ``stats()`` snapshot taken now."""
        return families(self._stats())


def _le(bound: float) -> str:
    """A bucket bound as the exposition writes it (``0.005``, ``1.0``)."""
    return repr(float(bound))


def _counter(name: str, doc: str, labels: tuple[str, ...] = ()) -> CounterMetricFamily:
    return CounterMetricFamily(name, doc, labels=labels)


def _gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=labels)


def families(stats: Stats | None) -> Iterator[Metric]:
    """The ``fapilog_*`` families for one ``stats()`` snapshot (empty families, to describe them, for ``None``)."""
    info = InfoMetricFamily("fapilog", "fapilog's version (value always 1).")
    if stats is not None:
        info.add_metric([], {"version": __version__})
    yield info

    state = _gauge("fapilog_pipeline_state", "1 for the pipeline's current state, 0 for the others.", ("state",))
    submitted = _counter("fapilog_events_submitted", "Enabled log calls that reached the queue (admitted or dropped).")
    processed = _counter("fapilog_events_processed", "Events the worker took from the queue.")
    restarts = _counter("fapilog_worker_restarts", "Dead workers replaced since the last configure().")
    dropped = _counter("fapilog_events_dropped", "Events dropped, by reason; intentional is true for filters.",
                       ("reason", "intentional"))
    depth = _gauge("fapilog_queue_depth", "Events waiting in the queue now.")
    capacity = _gauge("fapilog_queue_capacity", "The queue's bound.")
    high_water = _gauge("fapilog_queue_high_water", "The most events seen waiting in the queue.")
    degraded = _counter("fapilog_serialization_degraded", "Values written as their repr because they were not JSON.")
    split = _counter("fapilog_split_extra_records", "Extra records made by splitting oversize events.")
    if stats is not None:
        current = stats["state"]
        for name in (*_STATES, *(() if current in _STATES else (current,))):
            state.add_metric([name], 1.0 if name == current else 0.0)
        submitted.add_metric([], stats["submitted"])
        processed.add_metric([], stats["processed"])
        restarts.add_metric([], stats["restarts"])
        for reason, count in stats["dropped"]["by_reason"].items():
            dropped.add_metric([reason, "true" if reason.startswith("filtered:") else "false"], count)
        queue = stats["queue"]
        depth.add_metric([], queue["depth"])
        capacity.add_metric([], queue["capacity"])
        high_water.add_metric([], queue["high_water"])
        degraded.add_metric([], stats["serialization"]["degraded"])
        split.add_metric([], stats["split_extra"])
    yield from (state, restarts, submitted, processed, dropped, depth, capacity, high_water, degraded, split)
    yield from _sink_families({} if stats is None else stats["sinks"])
    yield from _plugin_families({} if stats is None else stats["plugins"])


def _sink_families(sinks: dict[str, SinkStats]) -> Iterator[Metric]:
    events = _counter("fapilog_sink_events", "Records per sink by outcome: delivered, failed (rejected included), "
                      "dropped, rejected, fallback, late_delivered (failed, then delivered after all).",
                      ("sink", "outcome"))
    retries = _counter("fapilog_sink_retries", "Write attempts a sink retried.", ("sink",))
    rejected = _counter("fapilog_sink_rejected", "Records the backend refused for good, by reason.", ("sink", "reason"))
    errors = _counter("fapilog_sink_errors", "Sink failures by error type (records for write errors, one per "
                      "failed start/stop/flush).", ("sink", "error"))
    buffered = _gauge("fapilog_sink_buffered", "Records waiting in the sink's buffer now.", ("sink",))
    buffer_capacity = _gauge("fapilog_sink_buffer_capacity", "The sink buffer's bound.", ("sink",))
    in_flight = _gauge("fapilog_sink_in_flight", "Records inside a write that has not finished.", ("sink",))
    circuit = _gauge("fapilog_sink_circuit_open", "1 while the sink's circuit breaker is open, else 0.", ("sink",))
    duration = HistogramMetricFamily("fapilog_sink_write_duration_seconds",
                                     "Duration of one write call (a batch, or a batch of per-record writes).",
                                     labels=("sink",))
    for name, sink in sinks.items():
        label = [name]
        for outcome in ("delivered", "failed", "dropped"):
            events.add_metric([name, outcome], sink[outcome])
        by_reason = sink.get("rejected")
        if isinstance(by_reason, dict):
            events.add_metric([name, "rejected"], sum(by_reason.values()))
            for reason, count in bounded_reasons(by_reason):
                rejected.add_metric([name, reason], count)
        if isinstance(sink.get("fallback"), (int, float)):
            events.add_metric([name, "fallback"], sink["fallback"])
        if isinstance(sink.get("late_delivered"), (int, float)):
            events.add_metric([name, "late_delivered"], sink["late_delivered"])
        if isinstance(sink.get("retried"), (int, float)):
            retries.add_metric(label, sink["retried"])
        for error, count in bounded_reasons(sink["errors"]):
            errors.add_metric([name, error], count)
        buffered.add_metric(label, sink["buffered"])
        buffer_capacity.add_metric(label, sink["capacity"])
        in_flight.add_metric(label, sink["in_flight"])
        circuit.add_metric(label, 1.0 if sink.get("circuit") == "open" else 0.0)
        histogram = sink.get("write_seconds")
        if isinstance(histogram, dict):
            buckets = [(_le(le), n) for le, n in zip(histogram["le"], histogram["cumulative"], strict=True)]
            buckets.append(("+Inf", histogram["count"]))
            duration.add_metric(label, buckets, sum_value=histogram["sum"])
    yield from (events, retries, rejected, errors, buffered, buffer_capacity, in_flight, circuit, duration)


def _plugin_families(plugins: dict[str, PluginStats]) -> Iterator[Metric]:
    labels = ("plugin", "kind")
    errors = _counter("fapilog_plugin_errors", "Exceptions raised by each running plugin.", labels)
    load = _gauge("fapilog_plugin_load_duration_seconds",
                  "How long the running instance took to load (import, validate settings, construct).", labels)
    start = _gauge("fapilog_plugin_start_duration_seconds", "How long the running instance's start() took.", labels)
    for name, plugin in plugins.items():
        label = [name, plugin["kind"]]
        errors.add_metric(label, plugin["errors"])
        load_ms, start_ms = plugin["load_ms"], plugin["start_ms"]
        if load_ms is not None:
            load.add_metric(label, load_ms / 1000.0)
        if start_ms is not None:
            start.add_metric(label, start_ms / 1000.0)
    yield from (errors, load, start)
