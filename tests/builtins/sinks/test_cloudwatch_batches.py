"""The PutLogEvents limits the cloudwatch sink enforces before sending: cuts by count, bytes and span; order;
oversize records truncated or split into valid JSON."""

from __future__ import annotations

import json

from fapilog._kit.record import EventRecord
from fapilog.builtins.sinks._cloudwatch_batches import (
    EVENT_OVERHEAD,
    MAX_REQUEST_BYTES,
    MAX_SPAN_MS,
    Event,
    Planned,
    plan_requests,
    to_events,
)


def _events(sizes: list[int], stamps: list[int] | None = None) -> list[Event]:
    stamps = stamps or [1_000] * len(sizes)
    return [Event(i, stamp, "x" * size, size) for i, (size, stamp) in enumerate(zip(sizes, stamps, strict=True))]


def _record(ts_ns: int, **fields: object) -> EventRecord:
    record = EventRecord(timestamp="t", level="INFO", logger="app", message="m", seq=1, **fields)
    record.json = json.dumps(dict(record), ensure_ascii=False).encode()
    record.ts_ns = ts_ns
    return record


def test_ten_thousand_and_one_events_need_two_requests() -> None:
    """A request holds at most 10,000 events; the cut is counted as 'events'."""
    planned = plan_requests(_events([10] * 10_001), Planned([]))
    assert [len(r) for r in planned.requests] == [10_000, 1] and planned.cuts == {"events": 1}


def test_the_byte_limit_counts_26_bytes_per_event() -> None:
    """Events of 100,000 bytes: ten fit one request (1,000,260 bytes with overhead), the eleventh does not."""
    planned = plan_requests(_events([100_000] * 21), Planned([]))
    assert [len(r) for r in planned.requests] == [10, 10, 1] and planned.cuts == {"bytes": 2}
    exact = (MAX_REQUEST_BYTES // 2) - EVENT_OVERHEAD
    assert [len(r) for r in plan_requests(_events([exact, exact]), Planned([])).requests] == [2]


def test_events_are_sorted_stably_and_a_request_spans_under_24_hours() -> None:
    """Out-of-order events are sorted (ties keep their order); 24 h from a request's first event starts another."""
    stamps = [5_000, 1_000, 5_000, 1_000 + MAX_SPAN_MS - 1, 1_000 + MAX_SPAN_MS]
    planned = plan_requests(_events([1] * 5, stamps), Planned([]))
    assert [[e.index for e in r] for r in planned.requests] == [[1, 0, 2, 3], [4]]
    assert planned.cuts == {"span": 1}


def test_truncation_keeps_valid_json_within_the_limit_with_escapes_and_non_ascii() -> None:
    """A truncated event is valid JSON no larger than the limit even when escaping inflates the text."""
    planned = Planned([])
    record = _record(2_000_000_000, text='"\\\n日本' * 5_000)
    (event,) = to_events([record], 1024, "truncate", planned)
    data = json.loads(event.message)
    assert event.size == len(event.message.encode()) <= 1024 and planned.truncated == 1
    assert data["fapilog_truncated"] == {"original_bytes": len(record.json)} and data["logger"] == "app"
    assert record.json.decode().startswith(data["head"]) and event.timestamp == 2_000


def test_split_parts_join_back_to_the_original_line() -> None:
    """Split parts are each valid JSON within the limit and their chunks join back to the record's line."""
    planned = Planned([])
    record = _record(3_000_000_000, text='ü"✓\\' * 3_000)
    events = to_events([record], 1024, "split", planned)
    parts = [json.loads(event.message) for event in events]
    assert len(events) > 1 and all(event.size <= 1024 and event.index == 0 for event in events)
    assert [p["fapilog_part"]["index"] for p in parts] == list(range(len(parts)))
    assert {p["fapilog_part"]["count"] for p in parts} == {len(parts)}
    assert "".join(p["chunk"] for p in parts).encode() == record.json and planned.split == 1


def test_the_parts_of_a_split_record_are_never_cut_apart_when_the_record_fits_in_one_request() -> None:
    """A cut that would fall between a split record's parts moves before its first part, so a failed later
    request never makes the retry send parts already delivered."""
    part = 200_000
    events = [Event(0, 1_000, "a" * part, part), Event(0, 1_000, "a" * part, part), Event(0, 1_000, "a" * part, part),
              Event(1, 1_000, "b" * part, part), Event(1, 1_000, "b" * part, part), Event(1, 1_000, "b" * part, part)]
    planned = plan_requests(events, Planned([]))
    assert [[event.index for event in request] for request in planned.requests] == [[0, 0, 0], [1, 1, 1]]
    assert planned.cuts == {"bytes": 1}


def test_a_split_record_larger_than_one_request_still_fills_requests_to_the_limit() -> None:
    """A record whose parts cannot fit in one request is cut where the byte limit falls."""
    part = 300_000
    planned = plan_requests([Event(0, 1_000, "a" * part, part) for _ in range(5)], Planned([]))
    assert [len(request) for request in planned.requests] == [3, 2]
