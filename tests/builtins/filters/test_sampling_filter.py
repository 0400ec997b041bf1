"""The built-in ``sampling`` filter: trace-consistent, seedable, WARNING+ exempt."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.builtins.filters._events import constructor_matches_model, event, registered, run

import fapilog
from fapilog._kit.levels import DEBUG, ERROR, INFO, WARNING
from fapilog.builtins.filters.sampling import SamplingFilter, trace_point
from fapilog.builtins.sinks.memory import MemorySink
from fapilog.errors import ConfigError

W3C = st.from_regex(r"[0-9a-f]{32}", fullmatch=True)
TRACE_IDS = st.one_of(W3C, st.text(min_size=1, max_size=40), st.integers())


@settings(max_examples=300, deadline=None)
@given(
    rate=st.floats(min_value=0.0, max_value=1.0),
    pool=st.lists(TRACE_IDS, min_size=1, max_size=6, unique_by=repr),
    picks=st.lists(st.tuples(st.integers(0, 5), st.sampled_from([DEBUG, INFO, WARNING, ERROR])), max_size=60),
    cut=st.integers(0, 60),
    seed=st.integers(),
)
def test_all_events_of_a_trace_share_one_decision(
    rate: float, pool: list[object], picks: list[tuple[int, int]], cut: int, seed: int
) -> None:
    """For any rate, trace ids, levels and batch split, a trace's sampled events are all kept or all dropped."""
    flt = SamplingFilter(rate=rate, seed=seed)
    records = [event(level=lvl, seq=i, trace_id=pool[idx % len(pool)]) for i, (idx, lvl) in enumerate(picks)]
    kept = run(flt.filter_batch(records[:cut])) + run(flt.filter_batch(records[cut:]))
    kept_seqs = {r["seq"] for r in kept}
    other_process = SamplingFilter(rate=rate, seed=seed + 1)  # a different instance decides the same way
    for record in records:
        if record.levelno >= WARNING:
            assert record["seq"] in kept_seqs
        else:
            assert (record["seq"] in kept_seqs) == other_process.keeps_trace(record["trace_id"])


def test_w3c_ids_are_decided_by_their_low_64_bits() -> None:
    """A W3C trace id is kept when its low 64 bits fall below rate * 2**64."""
    flt = SamplingFilter(rate=0.5)
    assert flt.keeps_trace("f" * 16 + "7fffffffffffffff")
    assert not flt.keeps_trace("0" * 16 + "8000000000000000")
    assert trace_point("0123456789abcdef" * 2) == 0x0123456789ABCDEF


def test_hashed_ids_decide_the_same_in_another_process() -> None:
    """A non-W3C id maps to the same point in a process with a different string-hash seed."""
    code = "from fapilog.builtins.filters.sampling import trace_point; print(trace_point('request-42'))"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert int(out.stdout) == trace_point("request-42")


def test_kept_fraction_of_traces_matches_the_rate() -> None:
    """Over 20,000 distinct trace ids, the kept fraction is within 1.5 points of the rate."""
    flt = SamplingFilter(rate=0.25)
    records = [event(trace_id=f"req-{i}") for i in range(20_000)]
    assert abs(len(run(flt.filter_batch(records))) / 20_000 - 0.25) < 0.015


def test_events_without_trace_id_sample_randomly_and_repeatably() -> None:
    """Without a trace id the choice is random at the rate, and the same seed repeats it."""
    records = [event(seq=i) for i in range(20_000)]
    first = [r["seq"] for r in run(SamplingFilter(rate=0.1, seed=7).filter_batch(records))]
    again = [r["seq"] for r in run(SamplingFilter(rate=0.1, seed=7).filter_batch(records))]
    assert first == again
    assert abs(len(first) / 20_000 - 0.1) < 0.015


def test_warning_and_above_are_exempt_unless_disabled() -> None:
    """At rate 0 only WARNING+ survive; with ``exempt_level=None`` nothing does."""
    records = [event(level=lvl, seq=i) for i, lvl in enumerate([DEBUG, INFO, WARNING, ERROR])]
    assert [r["seq"] for r in run(SamplingFilter(rate=0.0).filter_batch(records))] == [2, 3]
    assert run(SamplingFilter(rate=0.0, exempt_level=None).filter_batch(records)) == []
    assert [r["seq"] for r in run(SamplingFilter(rate=0.0, exempt_level="ERROR").filter_batch(records))] == [3]


def test_custom_key_names_the_trace_field() -> None:
    """``key`` selects the field that carries the trace id."""
    flt = SamplingFilter(rate=0.5, key="correlation")
    records = [event(seq=i, correlation="abc") for i in range(50)]
    assert len(run(flt.filter_batch(records))) in (0, 50)


@pytest.mark.parametrize(
    ("settings", "start"),
    [
        ({"rate": 1.5}, "sampling.rate: must be a number >= 0 and <= 1, got 1.5"),
        ({"rate": "often"}, "sampling.rate: must be a number >= 0 and <= 1, got 'often'"),
        ({"rate": 0.5, "key": ""}, "sampling.key: must not be empty"),
        ({"rate": 0.5, "exempt_level": "LOUD"}, "sampling.exempt_level: unknown level 'LOUD'"),
        ({"rate": 0.5, "seed": "x"}, "sampling.seed: must be a whole number, got 'x'"),
    ],
)
def test_bad_settings_name_plugin_and_field(settings: dict[str, object], start: str) -> None:
    """A bad value raises ConfigError starting ``sampling.<field>:`` and saying what is accepted."""
    with pytest.raises(ConfigError) as info:
        SamplingFilter(**settings)  # type: ignore[arg-type]
    assert str(info.value).startswith(start)


def test_missing_rate_in_a_table_fails_configure() -> None:
    """``rate`` has no default: a table without it fails configure() naming the plugin and field."""
    with registered(SamplingFilter), pytest.raises(ConfigError, match=r"'sampling'.*'rate'.*missing"):
        fapilog.configure(sinks=[MemorySink()], filters=[{"type": "sampling"}])


def test_constructor_takes_the_config_model() -> None:
    """The constructor takes the validated config model (or its fields as keywords) and no setting of its own."""
    assert constructor_matches_model(SamplingFilter)


def test_drops_are_counted_per_filter_end_to_end() -> None:
    """Through the pipeline, whole traces are dropped and counted as intentional ``filtered:sampling``."""
    sink = MemorySink()
    flt = SamplingFilter(rate=0.5)
    fapilog.configure(level="DEBUG", sinks=[sink], filters=[flt])
    log = fapilog.get_logger("app")
    traces = [f"trace-{i}" for i in range(40)]
    for trace_id in traces:
        for step in range(3):
            log.info("step", trace_id=trace_id, step=step)
    assert fapilog.flush(5.0).ok
    kept = {r["trace_id"] for r in sink.records}
    assert kept == {t for t in traces if flt.keeps_trace(t)}
    assert len(sink.records) == 3 * len(kept)
    assert fapilog.stats()["dropped"]["by_reason"]["filtered:sampling"] == 3 * (len(traces) - len(kept))
