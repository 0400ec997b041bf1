"""Reading Loki's 400 answer: why entries were refused, and which ones.

Loki validates each entry; it stores the valid ones and answers 400 with one line of text per refused entry,
naming the stream (its selector) and, for time and size checks, the entry's timestamp. The reason names are
those of Loki's ``discarded_samples`` counters (``line_too_long``, ``greater_than_max_sample_age``,
``too_far_in_future``, ``invalid_labels``…); the text is matched by keywords, or by the reason name itself
when the text carries it. :func:`refused_entries` maps each line back to the batch: when every line names a
stream and a timestamp found in the batch, only those entries are refused (the rest were stored); a time
written to the second (RFC 3339 without a fraction, or Go's default time format) names every entry of that
stream in that second. Otherwise the whole batch is counted as refused under the first reason.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping

__all__ = ["StreamKey", "reason_of", "refused_entries"]

StreamKey = tuple[tuple[str, str], ...]
"""A stream's labels as sorted (name, value) pairs: the same whatever the selector's spacing or order."""

_REASONS = (
    "line_too_long", "greater_than_max_sample_age", "too_far_in_future", "invalid_labels", "missing_labels",
    "duplicate_label_names", "max_label_names_per_series", "label_name_too_long", "label_value_too_long",
    "out_of_order", "too_far_behind", "invalid_structured_metadata",
)
_KEYWORDS = (
    (re.compile(r"timestamp too old|too old", re.I), "greater_than_max_sample_age"),
    (re.compile(r"timestamp too new|too far in (the )?future", re.I), "too_far_in_future"),
    (re.compile(r"line too long|max entry size|line size", re.I), "line_too_long"),
    (re.compile(r"duplicate label", re.I), "duplicate_label_names"),
    (re.compile(r"missing labels|no labels", re.I), "missing_labels"),
    (re.compile(r"maximum number of label|too many labels|label names", re.I), "max_label_names_per_series"),
    (re.compile(r"label name .*too long", re.I), "label_name_too_long"),
    (re.compile(r"label value .*too long", re.I), "label_value_too_long"),
    (re.compile(r"invalid label|error parsing labels|parse error", re.I), "invalid_labels"),
    (re.compile(r"out of order|too far behind", re.I), "out_of_order"),
)
_STREAM_REASONS = frozenset({"invalid_labels", "missing_labels", "duplicate_label_names",
                             "max_label_names_per_series", "label_name_too_long", "label_value_too_long"})
"""Reasons about the stream's labels: every entry of that stream is refused."""
_STREAM = re.compile(r"stream '(\{.*?\})'")
_PAIR = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"')
_RFC3339 = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?\s*(Z|[+-]\d\d:?\d\d)?")
_UNESCAPE = re.compile(r"\\(.)")


def reason_of(line: str) -> str:
    """The ``discarded_samples`` reason a line of Loki's 400 text names (``http_400`` when none is known)."""
    lowered = line.lower()
    for reason in _REASONS:
        if reason in lowered:
            return reason
    for pattern, reason in _KEYWORDS:
        if pattern.search(line):
            return reason
    return "http_400"


def stream_key(selector: str) -> StreamKey:
    """The labels of a selector text ``{a="1", b="2"}`` as sorted pairs."""
    return tuple(sorted((name, _UNESCAPE.sub(_unescape, value)) for name, value in _PAIR.findall(selector)))


def _unescape(match: re.Match[str]) -> str:
    char = match.group(1)
    return "\n" if char == "n" else char


def _timestamp(line: str) -> tuple[int, bool] | None:
    """The first RFC 3339 timestamp of ``line`` in unix nanoseconds, and whether it had a fraction of a second
    (a message written to the second names every entry of that second)."""
    found = _RFC3339.search(line)
    if found is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = found.groups()
    seconds = calendar.timegm((int(year), int(month), int(day), int(hour), int(minute), int(second)))
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        seconds -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return seconds * 1_000_000_000 + int((fraction or "0").ljust(9, "0")), fraction is not None


def refused_entries(body: str, entries: Mapping[tuple[StreamKey, int], list[int]],
                    streams: Mapping[StreamKey, list[int]]) -> tuple[dict[int, str], str] | None:
    """The refused batch indexes by reason, and the first reason; ``None`` when a line cannot be attributed.

    ``entries`` maps (stream, timestamp) to the batch indexes sent there; ``streams`` maps a stream to all of
    its indexes (a line about the stream's labels, such as ``invalid_labels``, refuses the whole stream).
    """
    refused: dict[int, str] = {}
    first = ""
    for line in (text.strip() for text in body.splitlines()):
        if not line:
            continue
        reason = reason_of(line)
        first = first or reason
        named = _STREAM.search(line)
        if named is None:
            return None
        key = stream_key(named.group(1))
        if reason in _STREAM_REASONS:
            indexes = streams.get(key)
        else:
            found = _timestamp(line[named.end():])
            if found is None:
                return None
            ts, precise = found
            if precise:
                indexes = entries.get((key, ts))
            else:
                second = ts // 1_000_000_000
                indexes = [index for (stream, when), at in entries.items()
                           if stream == key and when // 1_000_000_000 == second for index in at]
        if not indexes:
            return None
        for index in indexes:
            refused.setdefault(index, reason)
    return (refused, first) if refused else None
