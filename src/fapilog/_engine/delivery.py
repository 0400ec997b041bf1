"""Per-sink delivery: each sink gets its own bounded buffer and a task that drains it in batches.

A slow sink fills only its own buffer; what happens when that buffer is full is the sink's policy
(``wait`` holds the pipeline — and so, eventually, the callers — back; ``drop_newest``/``drop_oldest`` shed
this sink's overflow, counted). Events at or above the protected level always wait instead of being shed.
Every write is bounded by a timeout, so a hanging sink fails its batch (counted) instead of hanging forever.

Batches are cut by count, serialized bytes and age (``delivery.batch_size`` / ``batch_max_bytes`` /
``batch_max_age``). A sink with ``write_lines`` or ``write_batch`` gets the network machinery
(:mod:`fapilog._engine.batch_send`: outcomes, retries, circuit breaker, fallback); one with only ``write`` is
written record by record (:mod:`fapilog._engine.record_writes`). A sink with ``write_lines`` gets the JSON lines
and its buffer holds lines, not records (:mod:`fapilog._engine.line_items`); it is preferred over
``write_batch`` when a sink has both. Every count lives in the runner's :class:`~fapilog._engine.ledger.SinkLedger`.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from fapilog._engine.batch_send import BatchSender
from fapilog._engine.breaker import CircuitBreaker
from fapilog._engine.fallback import Fallback
from fapilog._engine.hooks import call_hook, cancelled_for_real, start_plugin, stop_plugin
from fapilog._engine.ledger import SinkLedger
from fapilog._engine.line_items import Item, line_writer
from fapilog._engine.pipeline import Stage
from fapilog._engine.queue import FlushMarker
from fapilog._engine.record_writes import RecordWriter
from fapilog._engine.retry import RetryPolicy
from fapilog._engine.sink_intake import BufferPolicy, SinkIntake
from fapilog._engine.sink_thread import SinkThread, call_inline
from fapilog._engine.write_histogram import WriteHistogram
from fapilog._kit.record import EventRecord

__all__ = ["BufferPolicy", "SinkRunner"]


class SinkRunner(SinkIntake):
    """Owns one sink's buffer, batching, timeouts, retries and ledger."""

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
        batch_max_bytes: int = 0,
        batch_max_age: float = 0.0,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        fallback: object = "summary",
    ) -> None:
        self.name = name
        self.sink = sink
        self.capacity = capacity
        self.policy = policy
        self.protect_level = protect_level
        self.batch_size = batch_size
        self.batch_max_bytes = batch_max_bytes
        self.batch_max_age = batch_max_age
        self.write_timeout = write_timeout
        self.flush_timeout = flush_timeout
        self.ledger = SinkLedger()
        self.buffer: deque[Item | FlushMarker] = deque()
        self._buffered_bytes = 0
        self._oldest_at = 0.0
        self.batches = 0
        self.latency_max = 0.0
        self.latency_last = 0.0
        self.write_seconds = WriteHistogram()
        """Write durations in fixed buckets, for the Prometheus histogram: one count per ``write_batch`` attempt
        (a retried batch counts once per attempt, its backoff in none), or per batch of ``write()`` calls."""
        self.start_error: BaseException | None = None
        self.processors: list[Stage] = []
        """Processors for this sink only (a size limit its backend imposes, a vendor shape); they work on
        this sink's own copies of the records, so other sinks never see their changes."""
        self.spec: object = None
        """What the sink was configured from (a name or table lets it be reloaded with new settings)."""
        self.write_batch: Callable[[Sequence[Item]], Any] | None = None
        """The batch call over buffer items: the sink's ``write_batch``, or its ``write_lines`` given the lines."""
        self._write: Callable[[EventRecord], Any] | None = None
        self.sender = BatchSender(self, retry or RetryPolicy(), breaker or CircuitBreaker(5, 30.0))
        self.fallback = Fallback(name, self.ledger, fallback, write_timeout)
        self.records = RecordWriter(self)
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
        self.in_flight_at_abandon = 0
        """Records in a write when a shutdown deadline gave up: their outcome is counted when the write ends."""
        self._losses_at_marker = 0
        """``failed + dropped`` when the previous flush marker passed: a flush names the sink if it grew."""
        self.stalled = False
        """The last write timed out, or the sink is backing off: a full buffer sheds instead of waiting."""
        self._ticked = False
        self.writing = 0
        """Records in the sink call now running (the whole part for write_batch, one for write)."""

    # -- read-only views of the ledger, for the runtime and the worker ----------------------------------
    @property
    def delivered(self) -> int:
        return self.ledger.delivered

    @property
    def failed(self) -> int:
        return self.ledger.failed

    @property
    def dropped(self) -> int:
        return self.ledger.dropped

    @property
    def errors(self) -> dict[str, int]:
        return self.ledger.errors

    @property
    def buffered(self) -> int:
        return self.ledger.buffered

    @property
    def in_flight(self) -> int:
        return self.ledger.in_flight

    def replace_sink(self, sink: object) -> None:
        """Deliver through ``sink`` from now on (reload waits until the old one holds nothing first)."""
        write = getattr(sink, "write", None)
        if write is None and not any(callable(getattr(sink, m, None)) for m in ("write_batch", "write_lines")):
            raise TypeError(f"sink {self.name!r} has none of write(), write_batch() or write_lines()")
        self.sink = sink
        self._bind_writes()
        self._write = write
        old_thread = getattr(self, "thread", None)
        if getattr(sink, "runs_on_worker_loop", False) is True:
            self.thread: SinkThread | None = None
        else:
            self.thread = old_thread or SinkThread(self.name)
        if old_thread is not None and old_thread is not self.thread:
            old_thread.stop()
        self.isolated = self.thread is not None
        """Whether the sink runs on its own thread and loop (see :mod:`fapilog._engine.sink_thread`)."""

    def _bind_writes(self) -> None:
        """Choose the sink's batch call: ``write_lines`` when it offers one, else ``write_batch`` (or none).

        Called with an empty buffer only (a new runner, its start, a reload), as the buffer's form follows it.
        """
        write_lines = getattr(self.sink, "write_lines", None)
        batch = getattr(self.sink, "write_batch", None)
        self.lines = callable(write_lines)
        if self.lines:
            self.write_batch = line_writer(write_lines)  # type: ignore[arg-type]
        else:
            self.write_batch = batch if callable(batch) else None

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
        self.sender.wake = asyncio.Event()
        if not self.buffer:
            self._bind_writes()  # again: a sink may know only once started whether it takes lines (stdout on a tty)
        self.start_error = start_error
        if start_error is not None:
            self.ledger.error(start_error)
        self._task = asyncio.get_running_loop().create_task(self._drain(), name=f"fapilog-sink:{self.name}")

    async def close(self) -> None:
        """Deliver everything buffered and end the drain task (the sink's ``stop()`` is the worker's job)."""
        self._closing = True
        self.sender.end_circuit_wait()  # an open circuit would hold the last batches past the deadline
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
            await self.fallback.stop()
            if self.thread is not None:
                self.thread.stop()

    def count_error(self, exc: BaseException) -> None:
        """Attribute a lifecycle failure (``stop()``) to this sink."""
        self.ledger.error(exc)

    def abandon(self, reason: str, *, from_outside: bool = False) -> int:
        """Give up on everything still buffered (shutdown deadline passed); returns how many records.

        ``from_outside``: called from the shutdown caller's thread because the worker's loop is blocked (a sink
        blocking in sync code); then nothing on that loop is woken.
        """
        self.abandoned = True
        ledger = self.ledger
        # Records still on their way are counted now, so the report is complete when shutdown returns; as they
        # arrive they are not counted again (see _arrived_abandoned).
        arriving = self._precounted = max(0, ledger.pending_put)
        # A write in progress is not lost yet: its I/O may still complete. Its records stay "in flight" and
        # are counted as delivered or failed when (if) the write ends; the report says how many.
        in_flight = self.in_flight_now()
        self.in_flight_at_abandon = min(in_flight, self.writing)
        self.records.abort()
        buffered = 0
        while self.buffer:
            item = self.buffer.popleft()
            if isinstance(item, FlushMarker):
                self._markers -= 1
                item.passed(self.name, ok=False)
            else:
                buffered += 1
        self._buffered_bytes = 0
        lost = ledger.abandon(arriving=arriving, buffered=buffered, unsent=in_flight - self.in_flight_at_abandon,
                              reason=reason)
        if not from_outside:
            self.sender.wake.set()
        return lost

    def behind(self) -> bool:
        """Holding more than one batch while not stalled: the drain task should get a turn soon."""
        return self.ledger.buffered > self.batch_size and not self.stalled

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
                losses = self.ledger.failed + self.ledger.dropped
                head.passed(self.name, ok=flushed and losses == self._losses_at_marker)
                self._losses_at_marker = losses
                continue
            wait = self._age_wait()
            if wait > 0:
                self._has_items.clear()
                try:
                    async with asyncio.timeout(wait):
                        await self._has_items.wait()
                except TimeoutError:
                    pass
                continue
            batch = self._take_batch()
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

    async def _deliver(self, batch: list[Item]) -> None:
        started = time.perf_counter()
        per_record = self.write_batch is None
        try:
            if not per_record:
                await self.sender.send(batch)  # times each attempt itself (observe_write), never the backoff
            else:
                assert self._write is not None
                await self.records.write(self._write, batch)  # type: ignore[arg-type]  # only records here
        except asyncio.CancelledError:
            if cancelled_for_real():
                raise
            self._lost_in_write(asyncio.CancelledError("the sink raised CancelledError"))
        except BaseException as exc:  # noqa: BLE001 - a failure of the machinery itself is counted, never fatal
            self._lost_in_write(exc)
        self.batches += 1
        if per_record:
            self.observe_write(time.perf_counter() - started)

    def observe_write(self, seconds: float) -> None:
        """Count one write call that took ``seconds`` (``latency_ms``; its average comes from the histogram)."""
        elapsed = seconds * 1000.0
        self.latency_last = elapsed
        self.latency_max = max(self.latency_max, elapsed)
        self.write_seconds.observe(seconds)

    def _lost_in_write(self, exc: BaseException) -> None:
        lost = self.ledger.in_flight - self.in_flight_at_abandon
        self.records.failed(exc, lost)

    def in_flight_now(self) -> int:
        """Records of the current batch whose outcome is not known yet."""
        unfinished = self.records.unfinished()
        return self.ledger.in_flight if unfinished is None else unfinished

    async def call(self, fn: Callable[[], Any]) -> Any:
        """Run one of the sink's methods where the sink runs: its own thread, or the worker's loop."""
        if self.thread is None:
            return await call_inline(fn)
        return await self.thread.call(fn)

    def delivered_now(self, count: int) -> None:
        """``count`` in-flight records reached the backend."""
        self.ledger.deliver(count)
        self.stalled = False

    async def _flush_sink(self) -> bool:
        if getattr(self.sink, "flush", None) is None:
            return True
        try:
            async with asyncio.timeout(self.flush_timeout):
                failure = await self.call(lambda: call_hook(self.sink, "flush"))
        except TimeoutError:
            self.ledger.error(TimeoutError("flush timed out"))
            return False
        except asyncio.CancelledError:
            if cancelled_for_real():
                raise
            failure = asyncio.CancelledError("the sink's flush() raised CancelledError")
        if failure is not None:
            self.ledger.error(failure)
            return False
        return True

    def pending(self) -> int:
        """Records this sink holds whose outcome is not known yet (buffered, on their way, in a write)."""
        ledger = self.ledger
        return ledger.buffered + ledger.in_flight + max(0, ledger.pending_put)
