"""Record factories: the exact objects stages and sinks receive from the worker, built without one.

Each record comes out of the same builder the worker uses (:func:`fapilog._kit.record.build_records`) and
carries its serialized JSON, so a sink under test can call :func:`fapilog._kit.serialize.dumps` on it just as
it would in production.

>>> record = make_record("user login", level="WARNING", user_id=7)
>>> record["level"], record["user_id"], record.levelno
('WARNING', 7, 30)
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from fapilog._engine.captured_event import CapturedEvent
from fapilog._kit.levels import parse_level
from fapilog._kit.record import EventRecord, IsoClock, build_records
from fapilog._kit.serialize import Serializer

__all__ = ["make_record", "make_records"]


def make_record(
    message: Any = "test event",
    *,
    level: int | str = "INFO",
    logger: str = "tests",
    seq: int = 0,
    ts_ns: int | None = None,
    context: Mapping[str, Any] | None = None,
    exc: BaseException | None = None,
    **fields: Any,
) -> EventRecord:
    """One record as the worker would build it: core keys, ``context`` then ``fields``, an optional exception.

    ``level`` takes a name or a number; ``ts_ns`` defaults to now. A field named like a core key (``level``,
    ``message``...) is kept under ``<name>_``, as in a real log call.
    """
    return make_records(
        1, message=message, level=level, logger=logger, seq=seq, ts_ns=ts_ns, context=context, exc=exc, **fields
    )[0]


def make_records(
    count: int,
    *,
    message: Any = "test event {i}",
    level: int | str = "INFO",
    logger: str = "tests",
    seq: int = 0,
    ts_ns: int | None = None,
    context: Mapping[str, Any] | None = None,
    exc: BaseException | None = None,
    **fields: Any,
) -> list[EventRecord]:
    """``count`` records numbered from ``seq``; a ``str`` message is formatted with ``i`` (its index)."""
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    number = parse_level(level)
    start = time.time_ns() if ts_ns is None else ts_ns
    items = [
        CapturedEvent(
            ts_ns=start + i * 1000,
            level=number,
            name=logger,
            message=message.format(i=i) if isinstance(message, str) else message,
            fields=dict(fields),
            context=context,
            bound=None,
            exc=exc,
            captured=None,
        )
        for i in range(count)
    ]
    records, _ = build_records(items, seq, IsoClock().format)
    Serializer().encode_into(records)
    return records


def _boom() -> None:
    raise ValueError("boom")


def _raised() -> BaseException:
    """An exception with a real traceback, as ``log.exception`` would see it."""
    try:
        _boom()
    except ValueError as caught:
        return caught
    raise AssertionError("unreachable")


class _Unserializable:
    def __repr__(self) -> str:
        return "<unserializable>"


def awkward_records() -> list[tuple[str, EventRecord]]:
    """Awkward but legal records, labelled: what the ``error_behaviour`` contract check feeds a plugin."""
    error = _raised()
    return [
        ("a None message", make_record(None)),
        ("a numeric message", make_record(42)),
        ("a 100,000-character message", make_record("x" * 100_000)),
        ("non-ASCII text", make_record("caf\u00e9 \u2603 \U0001f600", note="\u00fcml\u00e4ut")),
        ("deeply nested fields", make_record("nested", data={"a": {"b": {"c": [1, {"d": [None, True]}]}}})),
        ("non-JSON values", make_record("odd", obj=_Unserializable(), raw=b"\x00\xff", tags={"x"})),
        ("a structured exception", make_record("failed", level="ERROR", exc=error)),
        ("a field named like a core key", make_record("shadow", level="DEBUG", message_="user value")),
        ("no extra fields at all", make_record("")),
    ]
