"""Sinks with controllable behaviour for resilience tests.

These are real plugins driven through the real pipeline; they stand in for a slow, hanging or broken
backend, which is exactly the behaviour under test.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping, Sequence
from typing import Any


class GateSink:
    """Blocks the worker's loop inside ``write`` until ``release()``; records what it was given."""

    def __init__(self, name: str = "gate") -> None:
        self.name = name
        self.entered = threading.Event()
        self._open = threading.Event()
        self.messages: list[Any] = []

    def release(self) -> None:
        self._open.set()

    async def write(self, record: Mapping[str, Any]) -> None:
        self.entered.set()
        self._open.wait(30)
        self.messages.append(record["message"])


class AsyncGateSink:
    """Waits (without blocking the worker's loop) inside ``write`` until ``release()``."""

    def __init__(self, name: str = "gate") -> None:
        self.name = name
        self.entered = threading.Event()
        self._open = threading.Event()
        self.messages: list[Any] = []

    def release(self) -> None:
        self._open.set()

    async def write(self, record: Mapping[str, Any]) -> None:
        self.entered.set()
        if not self._open.is_set():
            await asyncio.get_running_loop().run_in_executor(None, self._open.wait, 30)
        self.messages.append(record["message"])


class HangingSink:
    """An async sink whose writes never complete (like a backend that accepts the socket and never answers)."""

    name = "hanging"

    async def write(self, record: Mapping[str, Any]) -> None:
        await asyncio.Event().wait()


class FailingSink:
    """Raises on every write, or on the records whose message is in ``bad``."""

    def __init__(self, bad: set[str] | None = None, name: str = "failing") -> None:
        self.name = name
        self.bad = bad
        self.messages: list[Any] = []

    async def write(self, record: Mapping[str, Any]) -> None:
        if self.bad is None or record["message"] in self.bad:
            raise ConnectionError("backend refused the record")
        self.messages.append(record["message"])


class CollectingBatchSink:
    """Collects records through ``write_batch`` and remembers the batch sizes."""

    def __init__(self, name: str = "batch") -> None:
        self.name = name
        self.records: list[Mapping[str, Any]] = []
        self.batches: list[int] = []
        self.flushes = 0
        self.started = 0
        self.stopped = 0

    async def start(self) -> None:
        self.started += 1

    async def stop(self) -> None:
        self.stopped += 1

    async def write(self, record: Mapping[str, Any]) -> None:
        await self.write_batch([record])

    async def write_batch(self, records: Sequence[Mapping[str, Any]]) -> None:
        self.batches.append(len(records))
        self.records.extend(records)

    async def flush(self) -> None:
        self.flushes += 1
