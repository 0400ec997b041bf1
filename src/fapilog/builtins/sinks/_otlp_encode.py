"""Records to an OTLP ``ExportLogsServiceRequest`` (the ``otlp`` sink's body), and its answer back to counts.

Each record becomes one ``LogRecord``:

* ``time_unix_nano`` and ``observed_time_unix_nano``: the capture time (``ts_ns``, exact to the nanosecond);
* ``severity_number``: the OpenTelemetry scale (DEBUG 5, INFO 9, WARNING 13, ERROR 17, CRITICAL 21; levels in
  between take the steps in between); ``severity_text``: the level name;
* ``body``: the message;
* ``trace_id``, ``span_id``, ``flags``: from the ``otel`` enricher's ``trace_id``/``span_id``/``trace_flags``
  (hex); a value that is not valid hex of the right length stays an attribute, so nothing is lost;
* ``attributes``: every other field, nested tables as key-value lists and lists as arrays; the structured
  ``exception`` as ``exception.type``, ``exception.message`` and ``exception.stacktrace`` (semantic conventions).

Consecutive records of the same logger share one ``ScopeLogs`` named after it, so the request keeps the
records in the order they were logged. One ``ResourceLogs`` carries the configured resource attributes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

__all__ = ["encode", "rejected_count", "severity_number"]

_OWN_KEYS = frozenset({"timestamp", "level", "message", "logger", "trace_id", "span_id", "trace_flags", "exception"})
_MAX_DEPTH = 8
"""Nesting deeper than this is sent as the value's text (an attribute value cannot recurse forever)."""
_INT64 = (-(2**63), 2**63 - 1)
_STEPS = ((10, 5), (20, 9), (30, 13), (40, 17), (50, 21))
"""(level number, severity number) of the named levels: DEBUG..CRITICAL map to DEBUG..FATAL."""


def severity_number(levelno: int) -> int:
    """The OpenTelemetry severity number of a stdlib level number (1..24)."""
    if levelno < 10:
        return 1  # TRACE
    for bound, base in reversed(_STEPS):
        if levelno >= bound:
            return min(24, base + min(3, (levelno - bound) * 4 // 10))
    return 5  # pragma: no cover - the loop always returns for levelno >= 10


def encode(records: Sequence[Mapping[str, Any]], resource: Mapping[str, Any]) -> bytes:
    """The serialized ``ExportLogsServiceRequest`` carrying ``records`` in order."""
    resource_logs = ResourceLogs(resource=Resource(attributes=_attributes(resource)))
    scope_logs: ScopeLogs | None = None
    scope_name: object = None
    for record in records:
        name = str(record.get("logger") or "")
        if scope_logs is None or name != scope_name:
            scope_logs = resource_logs.scope_logs.add(scope=InstrumentationScope(name=name))
            scope_name = name
        _log_record(record, scope_logs.log_records.add())
    return ExportLogsServiceRequest(resource_logs=[resource_logs]).SerializeToString()


def rejected_count(body: bytes) -> tuple[int, str]:
    """``(rejected_log_records, error_message)`` of a protobuf ``ExportLogsServiceResponse`` (0 when none);
    ValueError when ``body`` is not one."""
    answer = ExportLogsServiceResponse()
    try:
        answer.ParseFromString(body)
    except DecodeError as exc:
        raise ValueError(f"not an ExportLogsServiceResponse: {exc}") from exc
    partial = answer.partial_success
    return int(partial.rejected_log_records), str(partial.error_message)


def _log_record(record: Mapping[str, Any], out: LogRecord) -> None:
    stamp = _time_ns(record)
    out.time_unix_nano = stamp
    out.observed_time_unix_nano = stamp
    levelno = getattr(record, "levelno", None)
    level = record.get("level")
    if not isinstance(levelno, int):
        levelno = _LEVELS.get(str(level).upper(), 20)
    out.severity_number = severity_number(levelno)  # type: ignore[assignment]  # an enum int for protobuf
    if level is not None:
        out.severity_text = str(level)
    message = record.get("message")
    if message is not None:
        _any_value(message, out.body, 0)
    extra = _trace_context(record, out)
    attributes = out.attributes
    for key, value in record.items():
        if key not in _OWN_KEYS:
            _key_value(attributes.add(), str(key), value, 0)
    for key, value in extra.items():
        _key_value(attributes.add(), key, value, 0)
    exception = record.get("exception")
    if exception is not None:
        _exception(exception, attributes)


def _trace_context(record: Mapping[str, Any], out: LogRecord) -> dict[str, Any]:
    """Set the record's trace and span ids and flags; return those that are not valid ids (kept as attributes)."""
    extra: dict[str, Any] = {}
    trace_id = _hex_id(record.get("trace_id"), 16)
    span_id = _hex_id(record.get("span_id"), 8)
    flags = _flags(record.get("trace_flags"))
    if trace_id is not None:
        out.trace_id = trace_id
    elif "trace_id" in record:
        extra["trace_id"] = record["trace_id"]
    if span_id is not None:
        out.span_id = span_id
    elif "span_id" in record:
        extra["span_id"] = record["span_id"]
    if flags is not None:
        out.flags = flags
    elif "trace_flags" in record:
        extra["trace_flags"] = record["trace_flags"]
    return extra


_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "WARN": 30, "ERROR": 40, "CRITICAL": 50, "FATAL": 50}


def _time_ns(record: Mapping[str, Any]) -> int:
    """The capture time: ``ts_ns`` when the core made the record, else its ISO ``timestamp``, else now."""
    stamp = getattr(record, "ts_ns", None)
    if isinstance(stamp, int) and stamp > 0:
        return stamp
    text = record.get("timestamp")
    if isinstance(text, str):
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000
        except ValueError:
            pass  # not ISO 8601: the record still goes out, stamped when it is sent
    return time.time_ns()


def _hex_id(value: object, size: int) -> bytes | None:
    if not isinstance(value, str) or len(value) != size * 2:
        return None
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        return None
    return raw if any(raw) else None  # all zeros is the invalid id


def _flags(value: object) -> int | None:
    if isinstance(value, str) and len(value) == 2:
        try:
            return int(value, 16)
        except ValueError:
            return None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0xFF:
        return value
    return None


def _exception(exception: object, attributes: Any) -> None:
    """Semantic-convention attributes for the core's structured exception (a plain value goes as it is)."""
    if not isinstance(exception, Mapping):
        _key_value(attributes.add(), "exception", exception, 0)
        return
    if "type" in exception:
        _key_value(attributes.add(), "exception.type", str(exception["type"]), 0)
    if "message" in exception:
        _key_value(attributes.add(), "exception.message", str(exception["message"]), 0)
    frames = exception.get("frames")
    if isinstance(frames, list):
        lines = [f'  File "{frame.get("file")}", line {frame.get("line")}, in {frame.get("function")}'
                 for frame in frames if isinstance(frame, Mapping)]
        head = f"{exception.get('type', 'Exception')}: {exception.get('message', '')}"
        _key_value(attributes.add(), "exception.stacktrace", "\n".join(["Traceback:", *lines, head]), 0)
    for key in ("cause", "context", "truncated_frames"):
        if key in exception:
            _key_value(attributes.add(), f"exception.{key}", exception[key], 0)


def _attributes(values: Mapping[str, Any]) -> list[KeyValue]:
    out: list[KeyValue] = []
    for key, value in values.items():
        item = KeyValue()
        _key_value(item, str(key), value, 0)
        out.append(item)
    return out


def _key_value(item: KeyValue, key: str, value: object, depth: int) -> None:
    try:
        item.key = key
    except (UnicodeError, ValueError):  # a lone surrogate is not UTF-8: protobuf refuses it
        item.key = _utf8(key)
    _any_value(value, item.value, depth)


def _utf8(text: str) -> str:
    """``text`` with what UTF-8 cannot carry (lone surrogates) written as escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _any_value(value: object, out: AnyValue, depth: int) -> None:
    """Fill ``out`` with ``value``: the matching OTLP type, or the value's text when it has none."""
    if value is None:
        return  # an empty AnyValue is OTLP's null
    if isinstance(value, (bool, int, float, str, bytes, bytearray)):
        _scalar(value, out)
    elif depth >= _MAX_DEPTH:
        out.string_value = _utf8(repr(value))
    elif isinstance(value, Mapping):
        kvlist = out.kvlist_value
        kvlist.SetInParent()  # an empty table is still a table, not null
        for key, item in value.items():
            _key_value(kvlist.values.add(), str(key), item, depth + 1)
    elif isinstance(value, (list, tuple)):
        array = out.array_value
        array.SetInParent()
        for item in value:
            _any_value(item, array.values.add(), depth + 1)
    else:
        _scalar(str(value), out)


def _scalar(value: bool | int | float | str | bytes | bytearray, out: AnyValue) -> None:
    if isinstance(value, bool):
        out.bool_value = value
    elif isinstance(value, int):
        if _INT64[0] <= value <= _INT64[1]:
            out.int_value = value
        else:
            out.string_value = str(value)
    elif isinstance(value, float):
        if math.isfinite(value):
            out.double_value = value
        else:
            out.string_value = str(value)
    elif isinstance(value, str):
        try:
            out.string_value = value
        except (UnicodeError, ValueError):
            out.string_value = _utf8(value)
    else:
        out.bytes_value = bytes(value)
