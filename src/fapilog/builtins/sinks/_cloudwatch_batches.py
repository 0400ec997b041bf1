"""PutLogEvents limits, enforced before anything is sent: one batch of records becomes one or more requests.

CloudWatch Logs refuses (or, in emulators, silently accepts) requests beyond its limits, so the sink checks
them itself:

- at most :data:`MAX_EVENTS` events and :data:`MAX_REQUEST_BYTES` bytes per request, counting the UTF-8 bytes
  of each message plus :data:`EVENT_OVERHEAD` bytes per event;
- events in chronological order within a request (a stable sort: records logged in the same millisecond keep
  their order);
- at most :data:`MAX_SPAN_MS` between the first and the last event of a request;
- at most ``max_event_bytes`` per event: a bigger record is either truncated (``"truncate"``: one event, a valid
  JSON object holding the head of the record's JSON line and a ``fapilog_truncated`` marker with the original
  size) or split (``"split"``: several events, each a JSON object with a ``fapilog_part`` marker
  ``{"id", "index", "count"}`` and a ``chunk`` of the original line; joining the chunks in index order gives
  the line back).

The parts of a split record go in one request when the record fits in one (see :func:`plan_requests`).
Every event keeps the index of the record it came from, so the sink can map CloudWatch's answer back to the
batch the core gave it. Nothing here talks to AWS.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from fapilog.plugins import dumps

__all__ = [
    "DEFAULT_MAX_EVENT_BYTES",
    "EVENT_OVERHEAD",
    "MAX_EVENTS",
    "MAX_REQUEST_BYTES",
    "MAX_SPAN_MS",
    "Event",
    "Planned",
    "plan_requests",
    "to_events",
]

MAX_EVENTS = 10_000
MAX_REQUEST_BYTES = 1_048_576
EVENT_OVERHEAD = 26
MAX_SPAN_MS = 24 * 3600 * 1000
DEFAULT_MAX_EVENT_BYTES = 262_144 - EVENT_OVERHEAD
"""The documented per-event limit (256 KiB including the 26 bytes of overhead) — the safe default."""
_KEPT = ("timestamp", "level", "logger", "seq")
"""Fields a truncated or split event repeats, so it can still be found and ordered."""

Oversize = Literal["truncate", "split"]


@dataclasses.dataclass(frozen=True, slots=True)
class Event:
    """One CloudWatch log event and the index of the record (in the sink's batch) it came from."""

    index: int
    timestamp: int
    """Milliseconds since the epoch."""
    message: str
    size: int
    """UTF-8 bytes of ``message``."""


@dataclasses.dataclass
class Planned:
    """The requests for one batch, and what had to be changed to honour the limits (counted by the sink)."""

    requests: list[list[Event]]
    truncated: int = 0
    split: int = 0
    cuts: dict[str, int] = dataclasses.field(default_factory=dict)
    """Why a batch needed more than one request: ``events``, ``bytes`` or ``span``, counted per extra request."""


def to_events(records: Sequence[Mapping[str, Any]], max_event_bytes: int, oversize: Oversize,
              planned: Planned) -> list[Event]:
    """The events of ``records`` in batch order (a record too large becomes one truncated or several split)."""
    events: list[Event] = []
    for index, record in enumerate(records):
        line, size = _line(record)
        stamp = _millis(record)
        if size <= max_event_bytes:
            events.append(Event(index, stamp, line, size))
        elif oversize == "split":
            planned.split += 1
            events += [Event(index, stamp, part, len(part.encode("utf-8")))
                       for part in _split(record, line, size, max_event_bytes)]
        else:
            planned.truncated += 1
            message = _truncate(record, line, size, max_event_bytes)
            events.append(Event(index, stamp, message, len(message.encode("utf-8"))))
    return events


def plan_requests(events: list[Event], planned: Planned) -> Planned:
    """Sort ``events`` by time (stable) and cut them into requests within every PutLogEvents limit.

    The parts of a split record stay in one request whenever the whole record fits in one: a cut that would
    fall between them is moved before the record's first part. A record is accepted only once every part is,
    so if a later request failed, parts already sent in an earlier one would be sent again with the retry.
    """
    ordered = sorted(events, key=lambda event: event.timestamp)
    current: list[Event] = []
    current_bytes = 0
    for event in ordered:
        cost = event.size + EVENT_OVERHEAD
        reason = None
        if current:
            if len(current) >= MAX_EVENTS:
                reason = "events"
            elif current_bytes + cost > MAX_REQUEST_BYTES:
                reason = "bytes"
            elif event.timestamp - current[0].timestamp >= MAX_SPAN_MS:
                reason = "span"
        if reason is not None:
            carried = _record_head(current, event)
            planned.requests.append(current[:len(current) - len(carried)])
            planned.cuts[reason] = planned.cuts.get(reason, 0) + 1
            current = carried
            current_bytes = sum(part.size + EVENT_OVERHEAD for part in carried)
        current.append(event)
        current_bytes += cost
    if current:
        planned.requests.append(current)
    return planned


def _record_head(current: list[Event], event: Event) -> list[Event]:
    """The parts of ``event``'s record at the end of ``current``, when moving them to the next request keeps
    the record whole (the request keeps something else, and the record fits in one request); else none."""
    start = len(current)
    while start > 0 and current[start - 1].index == event.index:
        start -= 1
    if start == 0 or start == len(current):
        return []
    head = current[start:]
    size = sum(part.size + EVENT_OVERHEAD for part in head) + event.size + EVENT_OVERHEAD
    return head if size <= MAX_REQUEST_BYTES and len(head) < MAX_EVENTS else []


def _line(record: Mapping[str, Any]) -> tuple[str, int]:
    """The record's JSON line (serialized once by the pipeline when available) and its UTF-8 size."""
    encoded = getattr(record, "json", None)
    if not isinstance(encoded, bytes):
        encoded = dumps(record)
    try:
        return encoded.decode("utf-8"), len(encoded)
    except UnicodeDecodeError:  # not produced by fapilog's serializer; keep the event, mark the bad bytes
        line = encoded.decode("utf-8", "replace")
        return line, len(line.encode("utf-8"))


def _millis(record: Mapping[str, Any]) -> int:
    """Capture time in ms: the exact ``ts_ns`` the core keeps, else the ISO ``timestamp`` field, else now."""
    ts_ns = getattr(record, "ts_ns", None)
    if isinstance(ts_ns, int):
        return ts_ns // 1_000_000
    stamp = record.get("timestamp")
    if isinstance(stamp, str):
        try:
            parsed = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return int(parsed.timestamp() * 1000)
    if isinstance(stamp, (int, float)) and not isinstance(stamp, bool):
        return int(stamp * 1000)
    return time.time_ns() // 1_000_000


def _kept(record: Mapping[str, Any]) -> dict[str, Any]:
    return {key: record[key] for key in _KEPT if isinstance(record.get(key), (str, int, float))}


def _fit(envelope: dict[str, Any], key: str, text: str, limit: int) -> tuple[str, int]:
    """``envelope`` with the longest head of ``text`` under ``key`` whose JSON fits ``limit`` bytes; the
    message and how many characters of ``text`` it holds (at least one)."""

    def encode(take: int) -> str:
        return json.dumps({**envelope, key: text[:take]}, ensure_ascii=False, separators=(",", ":"))

    # Every character costs at least one byte, so no more than `limit` of them can fit: a binary search over
    # that range needs about 20 encodings of at most `limit` bytes, whatever the record's size.
    low, high = 0, min(len(text), limit)
    while low < high:
        middle = (low + high + 1) // 2
        if len(encode(middle).encode("utf-8")) <= limit:
            low = middle
        else:
            high = middle - 1
    if low == 0 and text:
        raise ValueError(f"max_event_bytes={limit} cannot hold the event's envelope and one character")
    return encode(low), low


def _truncate(record: Mapping[str, Any], line: str, size: int, limit: int) -> str:
    envelope = {**_kept(record), "fapilog_truncated": {"original_bytes": size}}
    return _fit(envelope, "head", line, limit)[0]


def _split(record: Mapping[str, Any], line: str, size: int, limit: int) -> list[str]:
    kept = _kept(record)
    part_id = uuid.uuid4().hex[:16]
    # The part count goes into every envelope; reserve room for its width, then fill in the real count.
    width = len(str(size))
    placeholder = int("9" * width)
    chunks: list[str] = []
    rest = line
    while rest:
        envelope = {**kept, "fapilog_part": {"id": part_id, "index": placeholder, "count": placeholder}}
        _, take = _fit(envelope, "chunk", rest, limit)
        chunks.append(rest[:take])
        rest = rest[take:]
    count = len(chunks)
    return [json.dumps({**kept, "fapilog_part": {"id": part_id, "index": i, "count": count}, "chunk": chunk},
                       ensure_ascii=False, separators=(",", ":"))
            for i, chunk in enumerate(chunks)]
