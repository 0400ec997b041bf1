"""The built-in ``adaptive_sampling`` filter: tracking a target rate in event time, recovery, health."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from tests.builtins.filters._events import constructor_matches_model, event, registered, run

import fapilog
from fapilog._kit.levels import INFO, WARNING
from fapilog._kit.record import EventRecord
from fapilog.builtins.filters.adaptive_sampling import AdaptiveSamplingFilter
from fapilog.builtins.sinks.memory import MemorySink
from fapilog.errors import ConfigError


def steady(eps: int, seconds: int, *, start: float = 0.0, level: int = INFO, **fields: Any) -> list[EventRecord]:
    """``eps`` events per second for ``seconds``, evenly spaced, numbered by ``seq``."""
    return [event(at=start + i / eps, seq=i, level=level, **fields) for i in range(eps * seconds)]


def kept_per_second(flt: AdaptiveSamplingFilter, records: list[EventRecord], eps: int) -> list[int]:
    """Feed ``records`` in worker-sized batches; how many were kept in each second."""

    async def feed() -> list[EventRecord]:
        kept: list[EventRecord] = []
        for start in range(0, len(records), 256):
            kept += await flt.filter_batch(records[start : start + 256])
        return kept

    counts = Counter(r["seq"] // eps for r in run(feed()))
    return [counts[s] for s in range(len(records) // eps)]


def test_below_the_target_everything_is_kept() -> None:
    """At half the target rate nothing is dropped and the rate stays at 100%."""
    flt = AdaptiveSamplingFilter(target_eps=100, seed=1)
    assert kept_per_second(flt, steady(50, 10), 50) == [50] * 10
    assert flt.current_rate == 1.0


def test_overload_converges_to_the_target() -> None:
    """At ten times the target, each second after the first window keeps within 30% of the target."""
    flt = AdaptiveSamplingFilter(target_eps=100, window=5.0, seed=1)
    per_second = kept_per_second(flt, steady(1000, 20), 1000)
    assert all(70 <= kept <= 130 for kept in per_second[5:]), per_second
    assert flt.current_rate == pytest.approx(0.1, rel=0.05)
    assert flt.observed_eps == pytest.approx(1000, rel=0.01)


def test_rate_climbs_back_when_the_load_falls() -> None:
    """After a surge, a load below the target is soon kept in full again."""
    flt = AdaptiveSamplingFilter(target_eps=100, window=5.0, seed=1)
    kept_per_second(flt, steady(1000, 10), 1000)
    assert flt.current_rate < 0.2
    quiet = kept_per_second(flt, steady(20, 20, start=10.0), 20)
    assert quiet[-10:] == [20] * 10
    assert flt.current_rate == 1.0


def test_a_quiet_spell_restores_the_full_rate_at_once() -> None:
    """After more than a window without events, the next events are kept at 100%."""
    flt = AdaptiveSamplingFilter(target_eps=10, window=1.0, seed=1)
    kept_per_second(flt, steady(1000, 3), 1000)
    assert flt.current_rate < 0.05
    run(flt.filter_batch([event(at=60.0)]))
    assert flt.current_rate == 1.0


def test_exempt_events_pass_and_do_not_count_as_load() -> None:
    """A WARNING flood is kept whole and leaves the INFO sampling rate at 100%."""
    flt = AdaptiveSamplingFilter(target_eps=10, window=1.0, seed=1)
    mixed = sorted(steady(1000, 3, level=WARNING) + steady(5, 3), key=lambda r: r.ts_ns)
    kept = run(flt.filter_batch(mixed))
    assert len(kept) == len(mixed)
    assert flt.current_rate == 1.0


def test_a_trace_shares_one_fate_at_a_steady_rate() -> None:
    """Within one measurement slot, events of the same trace are all kept or all dropped."""
    flt = AdaptiveSamplingFilter(target_eps=100, window=1.0, smoothing=1.0, seed=1)
    run(flt.filter_batch(steady(1000, 2)))  # settle at 10%
    slot = [event(at=2.0 + i / 10_000, seq=i, trace_id=f"trace-{i % 40}") for i in range(1000)]  # one 0.1 s slot
    kept = {r["trace_id"] for r in run(flt.filter_batch(slot))}
    kept_events = [r for r in slot if r["trace_id"] in kept]
    assert 0 < len(kept) < 40
    assert len(kept_events) == 25 * len(kept)


def test_health_reports_the_current_rate() -> None:
    """health_check() is healthy and says the current sampling rate."""
    flt = AdaptiveSamplingFilter(target_eps=100, window=1.0, smoothing=1.0, seed=1)
    run(flt.filter_batch(steady(400, 2)))
    health = run(flt.health_check())
    assert health.status == "healthy" and health.detail == "sampling at 25.00%"


def test_start_forgets_the_measured_load() -> None:
    """A (re)started filter begins at 100% with no history."""
    flt = AdaptiveSamplingFilter(target_eps=10, window=1.0, seed=1)
    run(flt.filter_batch(steady(1000, 2)))
    run(flt.start())
    assert flt.current_rate == 1.0 and flt.observed_eps == 0.0


@pytest.mark.parametrize(
    ("settings", "start"),
    [
        ({"target_eps": 0}, "adaptive_sampling.target_eps: must be a number > 0, got 0"),
        ({"window": "x"}, "adaptive_sampling.window: must be a number > 0, got 'x'"),
        ({"window": 1e-9}, "adaptive_sampling.window: must be at least 1e-8 seconds"),
        ({"smoothing": 0}, "adaptive_sampling.smoothing: must be a number > 0 and <= 1, got 0"),
        ({"smoothing": 1.5}, "adaptive_sampling.smoothing: must be a number > 0 and <= 1, got 1.5"),
        ({"key": ""}, "adaptive_sampling.key: must not be empty"),
        ({"exempt_level": "LOUD"}, "adaptive_sampling.exempt_level: unknown level 'LOUD'"),
        ({"seed": 1.5}, "adaptive_sampling.seed: must be a whole number, got 1.5"),
    ],
)
def test_bad_settings_name_plugin_and_field(settings: dict[str, object], start: str) -> None:
    """A bad value raises ConfigError starting ``adaptive_sampling.<field>:`` and saying what is accepted."""
    with pytest.raises(ConfigError) as info:
        AdaptiveSamplingFilter(**settings)  # type: ignore[arg-type]
    assert str(info.value).startswith(start)
    assert info.value.field == next(iter(settings))


def test_bad_settings_in_a_table_fail_configure() -> None:
    """Configured as a table, a bad value fails configure() naming the stage, plugin and field."""
    with registered(AdaptiveSamplingFilter), pytest.raises(ConfigError) as info:
        fapilog.configure(sinks=[MemorySink()], filters=[{"type": "adaptive_sampling", "target_eps": -5}])
    assert "filters[0]" in str(info.value) and "adaptive_sampling.target_eps: must be a number > 0" in str(info.value)


def test_constructor_takes_the_config_model() -> None:
    """The constructor takes the validated config model (or its fields as keywords) and no setting of its own."""
    assert constructor_matches_model(AdaptiveSamplingFilter)


def test_drops_are_counted_per_filter_end_to_end() -> None:
    """Through the pipeline, every event is either delivered or counted as ``filtered:adaptive_sampling``."""
    sink = MemorySink()
    flt = AdaptiveSamplingFilter(target_eps=1, window=0.001, seed=3)
    fapilog.configure(level="DEBUG", sinks=[sink], filters=[flt])
    log = fapilog.get_logger("hot")
    for i in range(3000):
        log.info("tick", i=i)
    assert fapilog.flush(5.0).ok
    dropped = fapilog.stats()["dropped"]
    assert dropped["by_reason"]["filtered:adaptive_sampling"] == 3000 - len(sink.records) > 0
    assert dropped["intentional"] == dropped["total"]
    assert fapilog.health()["adaptive_sampling"].detail.startswith("sampling at ")
