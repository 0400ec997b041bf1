"""The built-in ``first_occurrence`` filter: one event per key per window, summaries, keys and settings."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.builtins.filters._events import (
    FakeClock,
    constructor_matches_model,
    event,
    registered,
    run,
    summaries,
)

import fapilog
from fapilog._kit.levels import ERROR, WARNING
from fapilog._kit.record import EventRecord
from fapilog.builtins.filters.first_occurrence import FirstOccurrenceFilter
from fapilog.builtins.sinks.memory import MemorySink
from fapilog.errors import ConfigError


def kept_seqs(flt: FirstOccurrenceFilter, records: list[EventRecord]) -> list[int]:
    return [r["seq"] for r in run(flt.filter_batch(records))]


def test_repeats_inside_the_window_are_dropped() -> None:
    """The first event of a key is kept, repeats within ``window`` seconds dropped, the next one after kept."""
    flt = FirstOccurrenceFilter(window=10, summary=False)
    times = [0.0, 1.0, 9.999, 10.0, 15.0, 20.0]
    assert kept_seqs(flt, [event("disk full", at=t, seq=i) for i, t in enumerate(times)]) == [0, 3, 5]


@settings(max_examples=200, deadline=None)
@given(times=st.lists(st.integers(0, 30), max_size=80), window=st.integers(1, 10))
def test_kept_events_of_a_key_are_at_least_a_window_apart(times: list[int], window: int) -> None:
    """For any arrival times, an event is kept exactly when it comes a window or more after the last kept one."""
    flt = FirstOccurrenceFilter(window=window, summary=False)
    kept = run(flt.filter_batch([event("x", at=float(t), seq=i) for i, t in enumerate(times)]))
    kept_seq = {r["seq"] for r in kept}
    last: int | None = None
    for seq, t in enumerate(times):
        due = last is None or t - last >= window
        assert (seq in kept_seq) == due
        if due:
            last = t


def test_fields_are_part_of_the_key() -> None:
    """With ``fields``, the same message for another field value is a first occurrence too."""
    flt = FirstOccurrenceFilter(window=60, fields=["user"], summary=False)
    records = [event("denied", user=u, seq=i) for i, u in enumerate(["ann", "bob", "ann", "bob", "cy"])]
    assert kept_seqs(flt, records) == [0, 1, 4]
    two = FirstOccurrenceFilter(window=60, fields=["user", "ip"], summary=False)
    pairs = [("ann", "a"), ("ann", "b"), ("ann", "a"), ("bob", "a"), ("bob", None), ("bob", None)]
    assert kept_seqs(two, [event("denied", user=u, ip=ip, seq=i) for i, (u, ip) in enumerate(pairs)]) == [0, 1, 3, 4]


def test_unhashable_field_values_are_keyed_by_repr() -> None:
    """A field value that cannot be hashed still deduplicates, by its repr."""
    flt = FirstOccurrenceFilter(window=60, fields=["query"], summary=False)
    records = [event("slow", query={"id": [1]}, seq=i) for i in range(3)] + [event("slow", query={"id": [2]}, seq=3)]
    assert kept_seqs(flt, records) == [0, 3]


def test_warning_and_above_are_exempt_unless_disabled() -> None:
    """WARNING+ always pass by default; with ``exempt_level=None`` they are deduplicated too."""
    loud = [event("boom", level=lvl, seq=i) for i, lvl in enumerate([WARNING, WARNING, ERROR, ERROR])]
    assert kept_seqs(FirstOccurrenceFilter(summary=False), loud) == [0, 1, 2, 3]
    assert kept_seqs(FirstOccurrenceFilter(exempt_level=None, summary=False), loud) == [0, 2]


def test_summary_reports_each_window_once_with_its_count() -> None:
    """The drops of a window are reported once when the key reappears after it, with key and field values."""
    sink = MemorySink()
    fapilog.configure(level="DEBUG", sinks=[sink])
    flt = FirstOccurrenceFilter(window=60, fields=["user"], clock=FakeClock(0))

    async def scenario() -> None:
        await flt.filter_batch([event("denied", user="ann", at=float(t), seq=t) for t in range(5)])  # 4 dropped
        await flt.filter_batch([event("denied", user="ann", at=60.0, seq=5)])  # kept: closes the window
        await flt.filter_batch([event("denied", user="ann", at=61.0, seq=6)])  # dropped in the new window
        await flt.stop()

    run(scenario())
    assert fapilog.flush(5.0).ok
    first, second = summaries(sink.records, "first_occurrence")
    assert first["message"] == "suppressed 4 similar events" and first["suppressed"] == 4
    assert first["suppressed_message"] == "denied" and first["suppressed_fields"] == {"user": "ann"}
    assert second["suppressed"] == 1
    assert flt.summaries_sent == 2


def test_stop_reports_open_windows_end_to_end() -> None:
    """Through the pipeline, repeats count as ``filtered:first_occurrence`` and unloading reports them once."""
    sink = MemorySink()
    fapilog.configure(level="DEBUG", sinks=[sink], filters=[FirstOccurrenceFilter(window=300)])
    log = fapilog.get_logger("db")
    for _ in range(6):
        log.info("connection reset")
    log.info("reconnected")
    assert fapilog.flush(5.0).ok
    assert [r["message"] for r in sink.records] == ["connection reset", "reconnected"]
    dropped = fapilog.stats()["dropped"]
    assert dropped["by_reason"]["filtered:first_occurrence"] == 5 and dropped["intentional"] == 5
    fapilog.unload_plugin("first_occurrence")
    assert fapilog.flush(5.0).ok
    [summary] = summaries(sink.records, "first_occurrence")
    assert (summary["suppressed"], summary["suppressed_logger"]) == (5, "db")


def test_key_table_is_bounded_and_evicted_keys_report_first() -> None:
    """Past ``max_keys`` the least recently seen key is forgotten, after its pending summary."""
    sink = MemorySink()
    fapilog.configure(level="DEBUG", sinks=[sink])
    flt = FirstOccurrenceFilter(window=60, max_keys=2, clock=FakeClock(0))

    async def scenario() -> None:
        await flt.filter_batch([event("a", seq=i) for i in range(4)] + [event("b", seq=4), event("c", seq=5)])
        assert flt.tracked_keys == 2 and flt.evicted == 1
        await flt.stop()

    run(scenario())
    assert fapilog.flush(5.0).ok
    [summary] = summaries(sink.records, "first_occurrence")
    assert (summary["suppressed_message"], summary["suppressed"]) == ("a", 3)


@pytest.mark.parametrize(
    ("settings", "start"),
    [
        ({"window": 0}, "first_occurrence.window: must be a number > 0, got 0"),
        ({"window": "long"}, "first_occurrence.window: must be a number > 0, got 'long'"),
        ({"fields": [1]}, "first_occurrence.fields: entry 0 must be text, got 1"),
        ({"fields": {"a": 1}}, "first_occurrence.fields: expected a list"),
        ({"max_keys": -3}, "first_occurrence.max_keys: must be a whole number >= 1, got -3"),
        ({"exempt_level": "LOUD"}, "first_occurrence.exempt_level: unknown level 'LOUD'"),
        ({"summary": 2}, "first_occurrence.summary: must be true or false, got 2"),
    ],
)
def test_bad_settings_name_plugin_and_field(settings: dict[str, object], start: str) -> None:
    """A bad value raises ConfigError starting ``first_occurrence.<field>:`` and saying what is accepted."""
    with pytest.raises(ConfigError) as info:
        FirstOccurrenceFilter(**settings)  # type: ignore[arg-type]
    assert str(info.value).startswith(start)
    assert info.value.field == next(iter(settings))


def test_bad_settings_in_a_table_fail_configure() -> None:
    """Configured as a table, a bad value fails configure() naming the stage, plugin and field."""
    with registered(FirstOccurrenceFilter), pytest.raises(ConfigError) as info:
        fapilog.configure(sinks=[MemorySink()], filters=[{"type": "first_occurrence", "window": -1}])
    assert "filters[0]" in str(info.value) and "first_occurrence.window: must be a number > 0" in str(info.value)


def test_constructor_takes_the_config_model() -> None:
    """The constructor takes the validated config model (or its fields as keywords) and no setting of its own."""
    assert constructor_matches_model(FirstOccurrenceFilter)
