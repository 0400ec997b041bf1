"""Per-sink delivery: each sink gets its own bounded buffer and a task that drains it in batches.

A slow sink fills only its own buffer; what happens when that buffer is full is the sink's policy
(``wait`` holds the pipeline — and so, eventually, the callers — back; ``drop_newest``/``drop_oldest`` shed
this sink's overflow, counted). Events at or above the protected level always wait instead of being shed.
Every write is bounded by a timeout, so a hanging sink fails its batch (counted) instead of hanging forever.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Literal

from fapilog.core.diagnostics import warn
from fapilog.core.hooks import call_hook
from fapilog.core.pipeline import Stage
from fapilog.core.queue import FlushMarker
from fapilog.core.record import EventRecord
from fapilog.core.serialize import Serializer

__all__ = ["BufferPolicy", "SinkRunner"]

BufferPolicy = Literal["wait", "drop_newest", "drop_oldest"]


class SinkRunner:
    """Owns one sink's buffer, batching, timeouts and counters."""

    def __init__(
        self,
        name: str,
        sink: object,
        *,
        capacity: int,
        policy: BufferPolicy,
        protect_level: int,
        batch_size: int,
        write_timeout: float,
        flush_timeout: float,
    ) -> None:
        self.name = name
        self.sink = sink
        self.capacity = capacity
        self.policy = policy
        self.protect_level = protect_level
        self.batch_size = batch_size
        self.write_timeout = write_timeout
        self.flush_timeout = flush_timeout
        self.buffer: deque[EventRecord | FlushMarker] = deque()
        self.buffered = 0
        self.delivered = 0
        self.failed = 0
        self.dropped = 0
        self.errors: dict[str, int] = {}
        self.batches = 0
        self.latency_total = 0.0
        self.latency_max = 0.0
        self.latency_last = 0.0
        self.start_error: BaseException | None = None
        self.processors: list[Stage] = []
        """Processors for this sink only (a size limit its backend imposes, a vendor shape); they work on
        this sink's own copies of the records, so other sinks never see their changes."""
        self._serializer = Serializer()
        self.spec: object = None
        """What the sink was configured from (a name or table lets it be reloaded with new settings)."""
        self._write_batch: Callable[[Sequence[EventRecord]], Any] | None = None
        self._write: Callable[[EventRecord], Any] | None = None
        self._write_is_async = False
        self.replace_sink(sink)
        self._has_items: asyncio.Event | None = None
        self._idle_event: asyncio.Event | None = None
        self._room: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._busy = False
        self._markers = 0
        self._precounted = 0
        self.abandoned = False
        """Set when a shutdown deadline gave up on this sink: later records count as failed at once."""
        self.pending_put = 0
        """Records on their way to this sink's buffer (in the stage chain, or waiting for room)."""
        self.in_flight = 0
        """Records handed to the sink whose outcome is not known yet."""

    def replace_sink(self, sink: object) -> None:
        """Deliver through ``sink`` from now on (reload waits until the old one holds nothing first)."""
        batch = getattr(sink, "write_batch", None)
        write = getattr(sink, "write", None)
        if write is None and not callable(batch):
            raise TypeError(f"sink {self.name!r} has neither write() nor write_batch()")
        self.sink = sink
        self._write_batch = batch if callable(batch) else None
        self._write = write
        self._write_is_async = inspect.iscoroutinefunction(write)

    async def drained(self) -> None:
        """Return once everything handed to this sink so far has been written (or failed)."""
        assert self._idle_event is not None
        while self.buffer or self._busy:
            self._idle_event.clear()
            assert self._has_items is not None
            self._has_items.set()
            await self._idle_event.wait()

    # -- lifecycle (on the worker loop) -----------------------------------------------------------------
    def start(self, start_error: BaseException | None = None) -> None:
        """Begin draining (the sink's own ``start()`` is called by the worker, in dependency order)."""
        self._has_items = asyncio.Event()
        self._room = asyncio.Event()
        self._idle_event = asyncio.Event()
        self.start_error = start_error
        if start_error is not None:
            self._count_error(start_error)
        self._task = asyncio.get_running_loop().create_task(self._drain(), name=f"fapilog-sink:{self.name}")

    async def close(self) -> None:
        """Deliver everything buffered and end the drain task (the sink's ``stop()`` is the worker's job)."""
        self._closing = True
        if self._has_items is not None:
            self._has_items.set()
        if self._task is not None:
            try:
                await self._task
            except asyncio.CancelledError:
                if not self._task.cancelled():
                    raise  # we ourselves are being cancelled, not just the drain task

    def count_error(self, exc: BaseException) -> None:
        """Attribute a lifecycle failure (``stop()``) to this sink."""
        self._count_error(exc)

    def abandon(self, reason: str) -> int:
        """Give up on everything still buffered (shutdown deadline passed); returns how many records."""
        if self._task is not None:
            self._task.cancel()
        self.abandoned = True
        # Records still on their way are counted now, so the report is complete when shutdown returns; as they
        # arrive they are not counted again (see _fail_abandoned).
        self._precounted = max(0, self.pending_put)
        lost, self.in_flight = self.in_flight + self._precounted, 0
        while self.buffer:
            item = self.buffer.popleft()
            if isinstance(item, FlushMarker):
                self._markers -= 1
                item.passed(self.name, ok=False)
            else:
                lost += 1
        self.buffered = 0
        if lost:
            self.failed += lost
            self.errors[reason] = self.errors.get(reason, 0) + lost
        return lost

    # -- input (from the worker's main loop) ------------------------------------------------------------
    async def _own_copies(self, records: Sequence[EventRecord]) -> list[EventRecord]:
        copies: list[EventRecord] = []
        for record in records:
            copy = EventRecord(record)
            copy.ts_ns, copy.levelno, copy.captured = record.ts_ns, record.levelno, record.captured
            copies.append(copy)
        for stage in self.processors:
            copies, _ = await stage.run(copies)
        self._serializer.encode_into(copies)
        return copies

    async def put(self, records: Sequence[EventRecord]) -> None:
        if self.abandoned:  # the shutdown deadline passed: nothing reaches this sink any more, and it is said
            self.pending_put -= len(records)
            for _ in records:
                self._fail_abandoned()
            return
        if self.processors:
            before = len(records)
            records = await self._own_copies(records)
            self.pending_put += len(records) - before  # a split event: more records on their way
        buffer = self.buffer
        for record in records:
            admitted = self.buffered < self.capacity or await self._make_room(record)
            self.pending_put -= 1  # only now: a deadline hitting the wait above still counts this record
            if self.abandoned:
                self._fail_abandoned()
            elif admitted:
                buffer.append(record)
                self.buffered += 1
        assert self._has_items is not None
        self._has_items.set()

    def put_marker(self, marker: FlushMarker) -> None:
        self._markers += 1
        self.buffer.append(marker)
        assert self._has_items is not None
        self._has_items.set()

    async def _make_room(self, record: EventRecord) -> bool:
        """Apply the full-buffer policy for ``record``; False means it was dropped (and counted)."""
        assert self._has_items is not None
        # While the sink is not busy in a write, its drain task is about to take a batch: let it. Only a
        # sink that is busy *and* full is behind, and only then does the policy apply.
        while self.buffered >= self.capacity and not self._busy and self._task is not None and not self._task.done():
            self._has_items.set()
            await asyncio.sleep(0)
        if self.buffered < self.capacity:
            return True
        if self.policy == "wait" or record.levelno >= self.protect_level:
            assert self._room is not None and self._has_items is not None
            while self.buffered >= self.capacity and self._task is not None and not self._task.done():
                self._room.clear()
                self._has_items.set()
                await self._room.wait()
            return True
        if self.policy == "drop_oldest":
            for index, item in enumerate(self.buffer):
                if not isinstance(item, FlushMarker) and item.levelno < self.protect_level:
                    del self.buffer[index]
                    self.buffered -= 1
                    self.dropped += 1
                    return True
        self.dropped += 1
        return False

    # -- the drain task ---------------------------------------------------------------------------------
    async def _drain(self) -> None:
        buffer = self.buffer
        assert self._has_items is not None and self._room is not None
        while True:
            if not buffer:
                assert self._idle_event is not None
                self._idle_event.set()
                if self._closing:
                    return
                self._has_items.clear()
                await self._has_items.wait()
                continue
            head = buffer[0]
            if isinstance(head, FlushMarker):
                buffer.popleft()
                self._markers -= 1
                self._busy = True
                try:
                    head.passed(self.name, ok=await self._flush_sink())
                finally:
                    self._busy = False
                continue
            batch: list[EventRecord]
            if self._markers:
                batch = []
                while buffer and len(batch) < self.batch_size and not isinstance(buffer[0], FlushMarker):
                    batch.append(buffer.popleft())  # type: ignore[arg-type]
            else:
                take = buffer.popleft
                batch = [take() for _ in range(min(len(buffer), self.batch_size))]  # type: ignore[misc]
            self.buffered -= len(batch)
            self._room.set()
            self._busy = True
            try:
                await self._deliver(batch)
            finally:
                self._busy = False
            # A sink whose write never suspends (blocking I/O inside `async def`) would otherwise keep the
            # loop until its buffer is empty, starving the pipeline and the other sinks: take turns.
            await asyncio.sleep(0)

    async def _deliver(self, batch: list[EventRecord]) -> None:
        started = time.perf_counter()
        self.in_flight = len(batch)
        try:
            async with asyncio.timeout(self.write_timeout):
                await self._write_all(batch)
        except TimeoutError:
            lost = self.in_flight
            self._fail(lost, "timeout")
            warn(f"sink-timeout:{self.name}", f"sink {self.name!r} did not finish a write within "
                 f"{self.write_timeout}s; {lost} event(s) counted as failed")
        except Exception as exc:  # noqa: BLE001 - a sink's failure is counted against it, never fatal
            lost = self.in_flight
            self._fail(lost, type(exc).__name__)
            warn(f"sink-error:{self.name}:{type(exc).__name__}",
                 f"sink {self.name!r} raised {type(exc).__name__}: {exc}; {lost} event(s) counted as failed")
        self.in_flight = 0
        elapsed = (time.perf_counter() - started) * 1000.0
        self.batches += 1
        self.latency_last = elapsed
        self.latency_total += elapsed
        self.latency_max = max(self.latency_max, elapsed)

    async def _write_all(self, batch: list[EventRecord]) -> None:
        if self._write_batch is not None:
            result = self._write_batch(batch)
            if inspect.isawaitable(result):
                await result
            self.delivered += len(batch)
            self.in_flight = 0
            return
        write = self._write
        assert write is not None
        for record in batch:
            try:
                if self._write_is_async:
                    await write(record)
                else:
                    result = write(record)
                    if inspect.isawaitable(result):
                        await result
            except Exception as exc:  # noqa: BLE001 - one bad record fails alone, counted
                self._fail(1, type(exc).__name__)
                warn(f"sink-error:{self.name}:{type(exc).__name__}",
                     f"sink {self.name!r} raised {type(exc).__name__}: {exc}; the event was counted as failed")
            else:
                self.delivered += 1
            self.in_flight -= 1

    async def _flush_sink(self) -> bool:
        if getattr(self.sink, "flush", None) is None:
            return True
        try:
            async with asyncio.timeout(self.flush_timeout):
                failure = await call_hook(self.sink, "flush")
        except TimeoutError:
            self._count_error(TimeoutError("flush timed out"))
            return False
        if failure is not None:
            self._count_error(failure)
            return False
        return True

    def _fail_abandoned(self) -> None:
        if self._precounted > 0:
            self._precounted -= 1
        else:
            self._fail(1, "shutdown_timeout")

    def _fail(self, count: int, reason: str) -> None:
        if count > 0:
            self.failed += count
            self.errors[reason] = self.errors.get(reason, 0) + count

    def _count_error(self, exc: BaseException) -> None:
        key = type(exc).__name__
        self.errors[key] = self.errors.get(key, 0) + 1

    def snapshot(self) -> dict[str, Any]:
        return {
            "delivered": self.delivered,
            "failed": self.failed,
            "dropped": self.dropped,
            "buffered": self.buffered,
            "capacity": self.capacity,
            "errors": dict(self.errors),
            "processor_errors": {stage.name: stage.errors for stage in self.processors},
            "split_extra": sum(stage.expanded for stage in self.processors),
            "batches": self.batches,
            "latency_ms": {
                "last": round(self.latency_last, 3),
                "max": round(self.latency_max, 3),
                "avg": round(self.latency_total / self.batches, 3) if self.batches else 0.0,
            },
        }
