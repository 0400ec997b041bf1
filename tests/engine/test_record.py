"""The record builder's pieces: the timestamp clock and the one way a record is copied."""

from __future__ import annotations

import datetime
import random
import time

from fapilog._kit.record import EventRecord, IsoClock, build_records
from fapilog._kit.serialize import Serializer


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


def _built(**fields: object) -> EventRecord:
    records, _ = build_records([(1_700_000_000_123_456_789, 30, "app", "m", fields, None, None, None,
                                 {"trace": "t1"})], 4, IsoClock().format)
    Serializer().encode_into(records)
    return records[0]


def test_derive_copies_the_fields_and_the_capture_attributes_never_the_json_unless_asked() -> None:
    """A derived record is a new dict of the same fields with ts_ns, levelno and captured, without json."""
    record = _built(user="ann")
    copy = record.derive()
    assert copy is not record and copy == record and type(copy) is EventRecord
    assert (copy.ts_ns, copy.levelno, copy.captured) == (record.ts_ns, record.levelno, record.captured)
    assert not hasattr(copy, "json")
    copy["user"] = "bob"
    assert record["user"] == "ann"
    assert record.derive(json=True).json == record.json


def test_derive_with_other_fields_keeps_the_event_and_can_drop_what_hooks_captured() -> None:
    """``fields`` replace the content; ``captured=False`` leaves None where the hooks' values were."""
    record = _built(password="x")
    stub = record.derive({"message": "masked"}, captured=False)
    assert dict(stub) == {"message": "masked"}
    assert (stub.ts_ns, stub.levelno, stub.captured) == (record.ts_ns, 30, None)
    assert record.derive({"a": 1}).captured == {"trace": "t1"}


def test_derive_of_a_hand_built_record_carries_only_what_it_has() -> None:
    """A record whose capture attributes were never set gives a copy with them unset, not an error."""
    record = EventRecord(message="m")
    record.levelno = 40
    copy = record.derive()
    assert copy.levelno == 40 and not hasattr(copy, "ts_ns") and not hasattr(copy, "captured")
    assert record.derive(captured=False).captured is None
