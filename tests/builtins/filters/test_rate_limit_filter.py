"""The built-in ``rate_limit`` filter: the budget, keys, exemptions, summaries and settings."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.builtins.filters._events import (
    BASE_NS,
    FakeClock,
    SignalSink,
    constructor_matches_model,
    event,
    registered,
    run,
    summaries,
)

import fapilog
from fapilog._kit.levels import ERROR, INFO, WARNING
from fapilog._kit.record import EventRecord
from fapilog.builtins.filters.rate_limit import RateLimitFilter
from fapilog.builtins.sinks.memory import MemorySink
from fapilog.errors import ConfigError


def kept_seqs(flt: RateLimitFilter, records: list[EventRecord]) -> list[int]:
    return [r["seq"] for r in run(flt.filter_batch(records))]


def test_burst_then_refill_at_the_rate() -> None:
    """A full bucket admits ``burst`` events at once, then one per ``per/rate`` seconds."""
    flt = RateLimitFilter(rate=1, per=1.0, burst=3, summary=False)
    times = [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.5, 2.0, 2.0]
    assert kept_seqs(flt, [event("tick", at=t, seq=i) for i, t in enumerate(times)]) == [0, 1, 2, 5, 7]


@st.composite
def limits_and_events(draw: st.DrawFn) -> tuple[float, int, int, list[tuple[int, str]]]:
    """A limiter's settings and events at random times, or at the worst times: a burst, then one event at
    each refill instant give or take a nanosecond, so any off-by-one in the bucket shows."""
    rate = draw(st.one_of(st.floats(min_value=0.05, max_value=40.0), st.integers(1, 40).map(float)))
    per_ns = draw(st.one_of(st.integers(1, 3 * 10**9), st.integers(1, 3000).map(lambda ms: ms * 10**6)))
    burst = draw(st.integers(min_value=1, max_value=8))
    interval = per_ns / rate
    jitters = st.lists(st.integers(-2, 2), max_size=60)
    worst = jitters.map(lambda js: [0] * burst + [max(0, round(k * interval) + j) for k, j in enumerate(js, 1)])
    if draw(st.booleans()):
        return rate, per_ns, burst, [(t, "a") for t in draw(worst)]
    anywhere = st.lists(st.tuples(st.integers(0, 8 * 10**9), st.sampled_from("abc")), max_size=150)
    return rate, per_ns, burst, draw(anywhere)


@settings(max_examples=400, deadline=None)
@given(case=limits_and_events(), cut=st.integers(0, 150))
def test_kept_events_never_exceed_the_budget(case: tuple[float, int, int, list[tuple[int, str]]], cut: int) -> None:
    """For any event times, a key keeps <= burst + floor(L*rate/per) events in any closed L-second interval."""
    # With L = per this is the advertised budget: at most burst + floor(rate) kept in any ``per`` seconds.
    rate, per_ns, burst, events = case
    flt = RateLimitFilter(rate=rate, per=per_ns / 1e9, burst=burst, summary=False)
    records = []
    for seq, (offset, message) in enumerate(events):
        record = event(message, seq=seq)
        record.ts_ns = BASE_NS + offset
        records.append(record)
    kept = run(flt.filter_batch(records[:cut])) + run(flt.filter_batch(records[cut:]))
    exact_rate = Fraction(repr(rate))  # the rate as written, which is what the filter enforces exactly
    for message in "abc":
        times = sorted(r.ts_ns for r in kept if r["message"] == message)
        for i, start in enumerate(times):
            in_one_period = sum(1 for t in times[i:] if t <= start + per_ns)
            assert in_one_period <= burst + math.floor(rate)
            for j in range(i, len(times)):
                refills = (times[j] - start) * exact_rate.numerator // (exact_rate.denominator * per_ns)
                assert j - i + 1 <= burst + refills


def test_keys_are_logger_message_and_level() -> None:
    """Each (logger, message, level) has its own bucket."""
    flt = RateLimitFilter(rate=1, per=60, burst=1, summary=False)
    records = [
        event("a", seq=0),
        event("a", seq=1),  # same key: dropped
        event("b", seq=2),  # other message
        event("a", logger="other", seq=3),  # other logger
        event("a", level=INFO - 5, seq=4),  # other level
    ]
    assert kept_seqs(flt, records) == [0, 2, 3, 4]


def test_warning_and_above_are_exempt_unless_disabled() -> None:
    """WARNING+ bypass the buckets by default; with ``exempt_level=None`` they are limited too."""
    loud = [event("boom", level=lvl, seq=i) for i, lvl in enumerate([WARNING, WARNING, ERROR, ERROR])]
    assert kept_seqs(RateLimitFilter(rate=1, per=60, burst=1, summary=False), loud) == [0, 1, 2, 3]
    limited = RateLimitFilter(rate=1, per=60, burst=1, exempt_level=None, summary=False)
    assert kept_seqs(limited, loud) == [0, 2]


def test_summary_loggers_are_never_limited() -> None:
    """Summaries of the flood filters pass even when nothing is exempt by level."""
    flt = RateLimitFilter(rate=1, per=60, burst=1, exempt_level=None)
    records = [event("suppressed 3 similar events", logger="fapilog.rate_limit", level=WARNING, seq=i)
               for i in range(5)]
    assert kept_seqs(flt, records) == [0, 1, 2, 3, 4]


def test_unhashable_messages_are_keyed_by_their_repr() -> None:
    """A message object that cannot be hashed is limited like any other, by its repr."""
    flt = RateLimitFilter(rate=1, per=60, burst=1, summary=False)
    assert kept_seqs(flt, [event({"k": [1]}, seq=i) for i in range(3)]) == [0]


def test_summary_when_the_next_event_arrives_after_the_window() -> None:
    """A window's drops are reported once, with key and count, when the key's next event comes after it."""
    sink = MemorySink()
    fapilog.configure(level="DEBUG", sinks=[sink])
    flt = RateLimitFilter(rate=1, per=60, burst=2, clock=FakeClock(0))

    async def scenario() -> None:
        await flt.filter_batch([event("tick %s", at=0.0, seq=i) for i in range(7)])  # 2 kept, 5 dropped
        await flt.filter_batch([event("tick %s", at=30.0, seq=7)])  # still inside the window: dropped
        await flt.filter_batch([event("tick %s", at=61.0, seq=8), event("tick %s", at=61.0, seq=9)])
        assert fapilog.flush(5.0).ok
        assert [s["suppressed"] for s in summaries(sink.records, "rate_limit")] == [6]
        await flt.stop()  # the second window (one drop at 61s) closes now

    run(scenario())
    assert fapilog.flush(5.0).ok
    first, second = summaries(sink.records, "rate_limit")
    assert first["message"] == "suppressed 6 similar events" and first["level"] == "WARNING"
    assert (first["suppressed_logger"], first["suppressed_message"], first["suppressed_level"]) == (
        "app", "tick %s", "INFO")
    assert second["suppressed"] == 1
    assert flt.summaries_sent == 2


def test_quiet_keys_get_their_summary_from_a_timer_exactly_once() -> None:
    """End to end, a key that stops logging still gets summaries whose counts add up to the drops, once."""
    sink = SignalSink()
    fapilog.configure(level="DEBUG", sinks=[sink], filters=[RateLimitFilter(rate=1, per=0.05, burst=1)])
    log = fapilog.get_logger("worker")
    for i in range(20):
        log.info("polling", attempt=i)
    assert fapilog.flush(5.0).ok
    dropped = fapilog.stats()["dropped"]["by_reason"]["filtered:rate_limit"]
    assert dropped > 0

    def reported(records: list) -> int:  # type: ignore[type-arg]
        return sum(s["suppressed"] for s in summaries(records, "rate_limit"))

    assert sink.wait_until(lambda records: reported(records) >= dropped, timeout=5.0)
    fapilog.unload_plugin("rate_limit")  # stop(): nothing may be reported twice
    assert fapilog.flush(5.0).ok
    assert reported(sink.records) == dropped
    assert all(s["suppressed_message"] == "polling" for s in summaries(sink.records, "rate_limit"))


def test_stop_reports_open_windows_end_to_end() -> None:
    """Unloading the filter logs the pending summary; drops show as intentional ``filtered:rate_limit``."""
    sink = MemorySink()
    fapilog.configure(level="DEBUG", sinks=[sink], filters=[RateLimitFilter(rate=2, per=60)])
    log = fapilog.get_logger("app")
    for i in range(5):
        log.info("retrying", attempt=i)
    log.error("gave up")
    assert fapilog.flush(5.0).ok
    assert [r["message"] for r in sink.records] == ["retrying", "retrying", "gave up"]
    dropped = fapilog.stats()["dropped"]
    assert dropped["by_reason"]["filtered:rate_limit"] == 3 and dropped["intentional"] == 3
    fapilog.unload_plugin("rate_limit")
    assert fapilog.flush(5.0).ok
    [summary] = summaries(sink.records, "rate_limit")
    assert summary["suppressed"] == 3 and summary["suppressed_message"] == "retrying"


def test_key_table_is_bounded_and_evicted_keys_report_first() -> None:
    """Past ``max_keys`` the least recently seen key is forgotten, after its pending summary."""
    sink = MemorySink()
    fapilog.configure(level="DEBUG", sinks=[sink])
    flt = RateLimitFilter(rate=1, per=60, burst=1, max_keys=2, clock=FakeClock(0))

    async def scenario() -> None:
        await flt.filter_batch([event("a", seq=i) for i in range(3)] + [event("b", seq=3), event("c", seq=4)])
        assert flt.tracked_keys == 2 and flt.evicted == 1
        await flt.stop()

    run(scenario())
    assert fapilog.flush(5.0).ok
    [summary] = summaries(sink.records, "rate_limit")
    assert (summary["suppressed_message"], summary["suppressed"]) == ("a", 2)


def test_a_key_in_steady_use_survives_a_churn_of_new_keys() -> None:
    """A key seen every few new keys keeps its bucket while hundreds of one-off keys pass through."""
    flt = RateLimitFilter(rate=1, per=60, burst=1, max_keys=10, summary=False)
    records = []
    for i in range(300):
        records.append(event(f"one-off {i}", seq=2 * i))
        if i % 3 == 0:
            records.append(event("hot", seq=2 * i + 1))
    kept = run(flt.filter_batch(records))
    assert [r["seq"] for r in kept if r["message"] == "hot"] == [1]  # never forgotten, so never refilled
    assert flt.tracked_keys == 10 and flt.evicted == 291


def test_health_reports_keys_windows_and_evictions() -> None:
    """health_check() is healthy and says how many keys are tracked, windows open and keys evicted."""
    flt = RateLimitFilter(rate=1, per=60, burst=1, max_keys=1, clock=FakeClock(0))

    async def scenario() -> str:
        await flt.filter_batch([event("a", seq=0), event("b", seq=1), event("b", seq=2)])
        return (await flt.health_check()).detail

    assert run(scenario()) == "1 keys tracked, 1 windows open, 1 evicted"


def test_numbers_from_the_environment_are_accepted() -> None:
    """Numeric strings (as environment variables deliver them) are parsed."""
    flt = RateLimitFilter(rate="5", per="0.5", burst="2", max_keys="10", summary="false")  # type: ignore[arg-type]
    settings = flt.settings
    assert (settings.rate, settings.per, flt.burst, settings.max_keys, settings.summary) == (5.0, 0.5, 2, 10, False)
    assert RateLimitFilter(rate=2.5).burst == 3  # burst defaults to ceil(rate)


@pytest.mark.parametrize(
    ("settings", "start"),
    [
        ({"rate": -1}, "rate_limit.rate: must be a number > 0, got -1"),
        ({"rate": 0}, "rate_limit.rate: must be a number > 0, got 0"),
        ({"per": "soon"}, "rate_limit.per: must be a number > 0, got 'soon'"),
        ({"per": 1e-12}, "rate_limit.per: must be at least 1e-9 seconds"),
        ({"burst": 0}, "rate_limit.burst: must be a whole number >= 1, got 0"),
        ({"burst": 1.5}, "rate_limit.burst: must be a whole number >= 1, got 1.5"),
        ({"max_keys": 0}, "rate_limit.max_keys: must be a whole number >= 1, got 0"),
        ({"exempt_level": "LOUD"}, "rate_limit.exempt_level: unknown level 'LOUD'"),
        ({"summary": "maybe"}, "rate_limit.summary: must be true or false, got 'maybe'"),
    ],
)
def test_bad_settings_name_plugin_and_field(settings: dict[str, object], start: str) -> None:
    """A bad value raises ConfigError starting ``rate_limit.<field>:`` and saying what is accepted."""
    with pytest.raises(ConfigError) as info:
        RateLimitFilter(**settings)  # type: ignore[arg-type]
    assert str(info.value).startswith(start)
    assert info.value.field == next(iter(settings))


def test_bad_settings_in_a_table_fail_configure() -> None:
    """Configured as a table, a bad value fails configure() naming the stage, plugin and field."""
    with registered(RateLimitFilter), pytest.raises(ConfigError) as info:
        fapilog.configure(sinks=[MemorySink()], filters=[{"type": "rate_limit", "rate": -1, "per": 1.0}])
    assert "filters[0]" in str(info.value) and "rate_limit.rate: must be a number > 0, got -1" in str(info.value)


def test_constructor_takes_the_config_model() -> None:
    """The constructor takes the validated config model (or its fields as keywords) and no setting of its own."""
    assert constructor_matches_model(RateLimitFilter)
