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
from fapilog.core.hooks import call_hook, cancelled_for_real, start_plugin, stop_plugin
from fapilog.core.pipeline import Stage
from fapilog.core.queue import FlushMarker
from fapilog.core.record import EventRecord
from fapilog.core.serialize import Serializer
from fapilog.core.sink_thread import SinkThread, call_inline
from fapilog.core.write_histogram import WriteHistogram

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
        self.dropped_protected = 0
        """Protected (ERROR+) records shed because this sink stalled with a full buffer of protected records."""
        self.errors: dict[str, int] = {}
        self.batches = 0
        self.latency_total = 0.0
        self.latency_max = 0.0
        self.latency_last = 0.0
        self.write_seconds = WriteHistogram()
        """Write durations in fixed buckets (one count per batch), for the Prometheus histogram."""
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
        self._init_progress()

    def _init_progress(self) -> None:
        """What the drain task knows about the write in progress and the sink's recent record."""
        self.in_flight_at_abandon = 0
        """Records in a write when a shutdown deadline gave up: their outcome is counted when the write ends."""
        self._losses_at_marker = 0
        """``failed + dropped`` when the previous flush marker passed: a flush names the sink if it grew."""
        self.stalled = False
        """The last write timed out and none has succeeded since: a full buffer sheds instead of waiting."""
        self._ticked = False
        self._job: _EachJob | None = None
        self._writing = 0
        """Records in the sink call now running (the whole batch for write_batch, one for write)."""

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
        old_thread = getattr(self, "_thread", None)
        if getattr(sink, "runs_on_worker_loop", False) is True:
            self._thread: SinkThread | None = None
        else:
            self._thread = old_thread or SinkThread(self.name)
        if old_thread is not None and old_thread is not self._thread:
            old_thread.stop()
        self.isolated = self._thread is not None
        """Whether the sink runs on its own thread and loop (see :mod:`fapilog.core.sink_thread`)."""

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

    async def start_sink(self) -> BaseException | None:
        """The sink's ``start()`` (through the registry), where the sink runs; returns its failure."""
        sink = self.sink
        return await self.call(lambda: start_plugin(sink))  # type: ignore[no-any-return]

    async def stop_sink(self) -> BaseException | None:
        """The sink's ``stop()`` where the sink runs, then its thread ends; returns its failure."""
        sink = self.sink
        try:
            async with asyncio.timeout(self.flush_timeout + self.write_timeout):
                return await self.call(lambda: stop_plugin(sink))  # type: ignore[no-any-return]
        except TimeoutError as exc:
            return exc
        finally:
            if self._thread is not None:
                self._thread.stop()

    def count_error(self, exc: BaseException) -> None:
        """Attribute a lifecycle failure (``stop()``) to this sink."""
        self._count_error(exc)

    def abandon(self, reason: str) -> int:
        """Give up on everything still buffered (shutdown deadline passed); returns how many records."""
        self.abandoned = True
        # Records still on their way are counted now, so the report is complete when shutdown returns; as they
        # arrive they are not counted again (see _fail_abandoned).
        self._precounted = max(0, self.pending_put)
        # A write in progress is not lost yet: its I/O may still complete. Its records stay "in flight" and
        # are counted as delivered or failed when (if) the write ends; the report says how many.
        in_flight = self.in_flight_now()
        self.in_flight_at_abandon = min(in_flight, self._writing)
        lost = self._precounted + in_flight - self.in_flight_at_abandon  # the rest of a batch, never sent
        self.in_flight = self.in_flight_at_abandon
        if self._job is not None:
            self._job.abort = True
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

    def behind(self) -> bool:
        """Holding more than one batch while not stalled: the drain task should get a turn soon."""
        return self.buffered > self.batch_size and not self.stalled

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
        protected = record.levelno >= self.protect_level
        if (self.policy == "wait" or protected) and not self.stalled:
            # Wait for room, but never longer than one write may take: a sink that stops answering must not
            # hold the pipeline (and every other sink) back for good.
            assert self._room is not None
            try:
                async with asyncio.timeout(self.write_timeout):
                    while self.buffered >= self.capacity and self._task is not None and not self._task.done():
                        self._room.clear()
                        self._has_items.set()
                        await self._room.wait()
            except TimeoutError:
                pass
            if self.buffered < self.capacity or self._task is None or self._task.done():
                return True
        if self.policy == "drop_oldest" or protected:
            for index, item in enumerate(self.buffer):
                if not isinstance(item, FlushMarker) and item.levelno < self.protect_level:
                    del self.buffer[index]
                    self.buffered -= 1
                    self.dropped += 1
                    return True
        self.dropped += 1
        if protected:
            self.dropped_protected += 1
        return False

    # -- the drain task ---------------------------------------------------------------------------------
    def _tick(self) -> None:
        self._ticked = True

    async def _drain(self) -> None:
        buffer = self.buffer
        loop = asyncio.get_running_loop()
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
                    flushed = await self._flush_sink()
                finally:
                    self._busy = False
                losses = self.failed + self.dropped
                head.passed(self.name, ok=flushed and losses == self._losses_at_marker)
                self._losses_at_marker = losses
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
            self._ticked = False
            loop.call_soon(self._tick)
            try:
                await self._deliver(batch)
            finally:
                self._busy = False
            if not self._ticked:
                # The write never suspended (a sink doing its work inside `async def` without awaiting): it
                # would otherwise keep the loop until its buffer is empty, starving the pipeline: take turns.
                await asyncio.sleep(0)

    async def _deliver(self, batch: list[EventRecord]) -> None:
        started = time.perf_counter()
        self.in_flight = len(batch)
        try:
            await self._write_all(batch)
        except asyncio.CancelledError:
            if cancelled_for_real():
                raise
            self._write_failed(asyncio.CancelledError("the sink raised CancelledError"), self.in_flight)
        except BaseException as exc:  # noqa: BLE001 - a sink's failure (even SystemExit) is counted, never fatal
            self._write_failed(exc, self.in_flight)
        self._settle_abandoned()
        self.in_flight = 0
        elapsed = (time.perf_counter() - started) * 1000.0
        self.batches += 1
        self.latency_last = elapsed
        self.latency_total += elapsed
        self.latency_max = max(self.latency_max, elapsed)
        self.write_seconds.observe(elapsed / 1000.0)

    def _write_failed(self, exc: BaseException, lost: int) -> None:
        if isinstance(exc, TimeoutError):
            self.stalled = True
            self._fail(lost, "timeout")
            warn(f"sink-timeout:{self.name}", f"sink {self.name!r} did not finish a write within "
                 f"{self.write_timeout}s; {lost} event(s) counted as failed")
            return
        self._fail(lost, type(exc).__name__)
        warn(f"sink-error:{self.name}:{type(exc).__name__}",
             f"sink {self.name!r} raised {type(exc).__name__}: {exc}; {lost} event(s) counted as failed")

    def _settle_abandoned(self) -> None:
        """A write that was in flight when a shutdown gave up has ended: its outcome is now counted."""
        if self.in_flight_at_abandon:
            self.in_flight_at_abandon = 0

    async def _write_all(self, batch: list[EventRecord]) -> None:
        """One ``write_batch`` call, or one ``write`` call per record; ``write_timeout`` bounds each call."""
        timeout = self.write_timeout
        if self._write_batch is not None:
            self._writing = len(batch)
            write_batch = self._write_batch
            async with asyncio.timeout(timeout):
                await self.call(lambda: write_batch(batch))
            self._delivered(len(batch))
            self.in_flight = 0
            return
        write = self._write
        assert write is not None
        self._writing = 1
        job = self._job = _EachJob(write, batch, timeout)
        try:
            if self._thread is None:
                await job.run()
            else:
                await self._watch(job)
        finally:
            self._job = None
        self._settle_each(job, batch)

    async def _watch(self, job: _EachJob) -> None:
        """Run a per-record job on the sink's thread; give up on it when no record finishes within
        ``write_timeout`` (the sink blocks its own thread: a timeout there cannot fire)."""
        assert self._thread is not None
        task = asyncio.ensure_future(self._thread.call(job.run))
        seen = -1
        while not task.done():
            await asyncio.wait({task}, timeout=self.write_timeout)
            if task.done() or job.progress != seen:
                seen = job.progress
                continue
            job.abort = True
            job.hung = True
            return  # the stuck write keeps its thread; the job stops there if it ever returns
        task.result()

    def _settle_each(self, job: _EachJob, batch: list[EventRecord]) -> None:
        """Count a per-record job's outcomes; records it never got to are failed (or were counted by a
        shutdown that gave up)."""
        outcomes = list(job.outcomes)
        for error in outcomes:
            if error is None:
                self._delivered(1)
            else:
                self._write_failed(error, 1)
        rest = len(batch) - len(outcomes)
        if rest > 0 and not self.abandoned:
            self._write_failed(TimeoutError("write timed out"), rest)
        elif rest > 0 and job.hung:
            self._fail(1, "timeout")  # the record stuck in the sink when the shutdown gave up on it
        self.in_flight = 0

    def in_flight_now(self) -> int:
        """Records of the current batch whose outcome is not known yet."""
        job = self._job
        if job is None:
            return self.in_flight
        return max(0, len(job.batch) - job.progress)

    async def call(self, fn: Callable[[], Any]) -> Any:
        """Run one of the sink's methods where the sink runs: its own thread, or the worker's loop."""
        if self._thread is None:
            return await call_inline(fn)
        return await self._thread.call(fn)

    def _delivered(self, count: int) -> None:
        self.delivered += count
        self.stalled = False

    async def _flush_sink(self) -> bool:
        if getattr(self.sink, "flush", None) is None:
            return True
        try:
            async with asyncio.timeout(self.flush_timeout):
                failure = await self.call(lambda: call_hook(self.sink, "flush"))
        except TimeoutError:
            self._count_error(TimeoutError("flush timed out"))
            return False
        except asyncio.CancelledError:
            if cancelled_for_real():
                raise
            failure = asyncio.CancelledError("the sink's flush() raised CancelledError")
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
            "dropped_protected": self.dropped_protected,
            "buffered": self.buffered,
            "in_flight": self.in_flight,
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
            "write_seconds": self.write_seconds.snapshot(),
        }


class _EachJob:
    """A batch written one ``write()`` call at a time, where the sink runs; its progress is readable from the
    worker's loop while it runs (ints and a list, each written by the sink's side only)."""

    __slots__ = ("abort", "batch", "hung", "outcomes", "progress", "timeout", "write")

    def __init__(self, write: Callable[[EventRecord], Any], batch: list[EventRecord], timeout: float) -> None:
        self.write = write
        self.batch = batch
        self.timeout = timeout
        self.outcomes: list[BaseException | None] = []
        """One entry per record attempted: None when delivered, else what the write raised."""
        self.progress = 0
        self.abort = False
        self.hung = False

    async def run(self) -> None:
        write = self.write
        for record in self.batch:
            if self.abort:
                return
            try:
                async with asyncio.timeout(self.timeout):
                    await call_inline(lambda record=record: write(record))  # type: ignore[misc]
            except asyncio.CancelledError:
                if cancelled_for_real():
                    raise
                self.outcomes.append(asyncio.CancelledError("the sink raised CancelledError"))
            except BaseException as exc:  # noqa: BLE001 - one bad record fails alone, counted
                self.outcomes.append(exc)
                if isinstance(exc, TimeoutError):
                    self.abort = True  # a hanging sink: the rest of the batch fails at once, not one timeout each
            else:
                self.outcomes.append(None)
            self.progress += 1
