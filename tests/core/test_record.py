"""The record builder's pieces: the timestamp clock, the record copy and the captured-event layout."""

from __future__ import annotations

import datetime
import random
import time

from fapilog.core.record import IsoClock, build_records


def _iso(ts_ns: int) -> str:
    """The reference rendering: the standard library's datetime, truncated to microseconds."""
    second, rest = divmod(ts_ns, 1_000_000_000)
    moment = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=second, microseconds=rest // 1000)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def test_iso_clock_matches_datetime_across_milliseconds_and_seconds_in_any_order() -> None:
    """IsoClock gives datetime's text for timestamps in and out of its cached millisecond and second."""
    now = time.time_ns()
    stamps = [now + random.randrange(-3_000_000_000, 3_000_000_000) for _ in range(3000)]
    stamps += [now + i * 700 for i in range(3000)]  # many per millisecond, as under load
    stamps += [0, 999, 999_999, 1_000_000, 999_999_999, 1_000_000_000, -1]
    random.shuffle(stamps)
    clock = IsoClock()
    assert [clock.format(ts) for ts in stamps] == [_iso(ts) for ts in stamps]


def test_build_records_timestamps_match_the_clock_inline_and_through_any_stamp() -> None:
    """The record builder's inline millisecond cache gives what the clock gives; another stamp is called."""
    now = time.time_ns()
    stamps = [now + i * 400_000 for i in range(2000)] + [now - 5_000_000_000]
    items = [(ts, 20, "app", "m", None, None, None, None, None) for ts in stamps]
    records, _ = build_records(items, 0, IsoClock().format)
    assert [r["timestamp"] for r in records] == [_iso(ts) for ts in stamps]
    records, _ = build_records(items, 0, lambda ts: f"t{ts}")
    assert [r["timestamp"] for r in records] == [f"t{ts}" for ts in stamps]
