"""Helpers shared by the redactor tests: worker-shaped records and a synchronous way to run a redactor."""

from __future__ import annotations

import asyncio
from typing import Any

from fapilog._kit.record import EventRecord
from fapilog.plugins.protocols import Record


def event(message: str = "something happened", **fields: Any) -> EventRecord:
    """An ``EventRecord`` as the worker builds it: the core keys, the call's fields, the capture slots."""
    record = EventRecord(
        timestamp="2026-01-02T03:04:05.000006Z", level="INFO", logger="tests", message=message, seq=7, **fields
    )
    record.ts_ns = 1_767_323_045_000_006_000
    record.levelno = 20
    return record


def redact(redactor: Any, *records: Record) -> list[Record]:
    """Run the redactor's batch form on ``records`` (what the worker calls)."""
    out: list[Record] = asyncio.run(redactor.redact_batch(list(records)))
    return out


def one(redactor: Any, message: str = "something happened", **fields: Any) -> Record:
    """Redact a single event built from ``message`` and ``fields``."""
    return redact(redactor, event(message, **fields))[0]
