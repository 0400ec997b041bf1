"""The way into a sink's buffer: admission with room, the full-buffer policy, and flush markers.

The worker hands each batch to every sink with room first (:meth:`SinkIntake.offer`, which never waits) and
only then waits where a buffer is full (:meth:`SinkIntake.put`), so one slow sink does not keep its batch
from the others. Every record is counted in the runner's ledger as it is admitted, dropped or failed at the
door.

A sink that takes lines (``write_lines``) has its buffer hold JSON lines instead of records
(:mod:`fapilog._engine.line_items`): the records are freed right after the fan-out, however deep the buffer.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Sequence
from itertools import islice
from typing import Literal

from fapilog._engine.ledger import SinkLedger
from fapilog._engine.line_items import Item, as_line_items, is_protected, protected, size_of
from fapilog._engine.pipeline import Stage
from fapilog._engine.queue import FlushMarker
from fapilog._kit.record import EventRecord
from fapilog._kit.serialize import Serializer

_NEVER = object()
"""A sentinel no buffer holds: ``iter(popleft, _NEVER)`` pops until told to stop."""

__all__ = ["BufferPolicy", "SinkIntake", "size_of"]

BufferPolicy = Literal["wait", "drop_newest", "drop_oldest"]


class SinkIntake:
    """The buffer-side half of :class:`~fapilog._engine.delivery.SinkRunner` (see there for the attributes)."""

    name: str
    ledger: SinkLedger
    buffer: deque[Item | FlushMarker]
    lines: bool
    """The sink takes lines (``write_lines``): its buffer holds lines (:mod:`fapilog._engine.line_items`)."""
    capacity: int
    policy: BufferPolicy
    protect_level: int
    write_timeout: float
    processors: list[Stage]
    abandoned: bool
    stalled: bool
    _buffered_bytes: int
    _oldest_at: float
    _markers: int
    _precounted: int
    _busy: bool
    _has_items: asyncio.Event | None
    _room: asyncio.Event | None
    _task: asyncio.Task[None] | None
    _closing: bool
    batch_size: int
    batch_max_bytes: int
    batch_max_age: float
    _serializer = Serializer()

    # -- input (from the worker's main loop) ------------------------------------------------------------
    def expect(self, count: int) -> None:
        """``count`` records entered the stage chain on their way here (negative: filtered out)."""
        self.ledger.expect(count)

    async def prepare(self, records: Sequence[EventRecord]) -> Sequence[Item]:
        """This sink's own copies through its own processors, serialized (the records as-is without any); for a
        sink that takes lines, their JSON lines (:func:`~fapilog._engine.line_items.as_line_items`)."""
        if not self.processors or self.abandoned:
            return as_line_items(records, self.protect_level) if self.lines and not self.abandoned else records
        copies = [record.derive() for record in records]
        for stage in self.processors:
            # A processor never drops: a batch form that returns fewer records counts as a failure and the whole
            # batch goes on unprocessed (``Stage.degraded``), so the count of dropped records is always 0 here.
            copies, _never_dropped = await stage.run(copies)
        self._serializer.encode_into(copies)
        self.ledger.expect(len(copies) - len(records))  # a split event: more records on their way
        return as_line_items(copies, self.protect_level) if self.lines else copies

    @property
    def takes_lines_as_made(self) -> bool:
        """Whether this sink's buffer takes the worker's lines as they are: a sink that takes lines, with no
        processor of its own to run on copies of the records (the worker may then skip building records)."""
        return self.lines and not self.processors and not self.abandoned

    def prepare_lines(self, lines: list[bytes], levels: Sequence[int]) -> list[Item]:
        """:meth:`prepare` for a batch the worker made as lines (only when :attr:`takes_lines_as_made`)."""
        return protected(lines, levels, self.protect_level)  # type: ignore[return-value]  # list is invariant

    def offer(self, records: Sequence[Item]) -> int:
        """Admit records while the buffer has room, without waiting; returns how many were taken."""
        if self.abandoned:
            for _ in records:
                self._arrived_abandoned()
            return len(records)
        room = min(len(records), max(0, self.capacity - self.ledger.buffered))
        if room:
            # The whole part with room at once: one extend and one count, not a call per record.
            taken = records if room == len(records) else records[:room]
            if not self.buffer:
                self._oldest_at = time.monotonic()
            self.buffer.extend(taken)
            if self.batch_max_bytes:  # the byte count only matters where batches are cut by size
                self._buffered_bytes += sum(map(size_of, taken))
            self.ledger.unexpect(room)
            self.ledger.admit(room)
            assert self._has_items is not None
            self._has_items.set()
        return room

    async def put(self, records: Sequence[Item]) -> None:
        """Admit ``records`` (already prepared), waiting for room or shedding under the buffer's policy.

        Whenever the buffer has room, the records that fit are admitted at once (:meth:`offer`); only a record
        that finds it full waits for room, one at a time."""
        ledger = self.ledger
        index, count = 0, len(records)
        while index < count:
            if self.abandoned or ledger.buffered < self.capacity:
                index += self.offer(records[index:])
                continue
            record = records[index]
            index += 1
            admitted = await self._make_room(record)
            if self.abandoned:
                self._arrived_abandoned()
                continue
            ledger.unexpect(1)  # only now: a deadline hitting the wait above still counts this record
            if admitted:
                self._admit(record)
        assert self._has_items is not None
        self._has_items.set()

    def _admit(self, record: Item) -> None:
        if not self.buffer:
            self._oldest_at = time.monotonic()
        self.buffer.append(record)
        if self.batch_max_bytes:
            self._buffered_bytes += size_of(record)
        self.ledger.admit()

    def put_marker(self, marker: FlushMarker) -> None:
        self._markers += 1
        self.buffer.append(marker)
        assert self._has_items is not None
        self._has_items.set()

    async def _make_room(self, record: Item) -> bool:
        """Apply the full-buffer policy for ``record``; False means it was dropped (and counted)."""
        assert self._has_items is not None
        ledger = self.ledger
        # While the sink is not busy in a write, its drain task is about to take a batch: let it. Only a
        # sink that is busy *and* full is behind, and only then does the policy apply.
        while ledger.buffered >= self.capacity and not self._busy and self._task is not None and not self._task.done():
            self._has_items.set()
            await asyncio.sleep(0)
        if ledger.buffered < self.capacity:
            return True
        protected = is_protected(record, self.protect_level)
        if (self.policy == "wait" or protected) and not self.stalled:
            # Wait for room, but never longer than one write may take: a sink that stops answering must not
            # hold the pipeline (and every other sink) back for good.
            assert self._room is not None
            try:
                async with asyncio.timeout(self.write_timeout):
                    while ledger.buffered >= self.capacity and self._task is not None and not self._task.done():
                        self._room.clear()
                        self._has_items.set()
                        await self._room.wait()
            except TimeoutError:
                pass
            if ledger.buffered < self.capacity or self._task is None or self._task.done():
                return True
        if self.policy == "drop_oldest" or protected:
            for index, item in enumerate(self.buffer):
                if not isinstance(item, FlushMarker) and not is_protected(item, self.protect_level):
                    del self.buffer[index]
                    if self.batch_max_bytes:
                        self._buffered_bytes -= size_of(item)
                    ledger.drop_buffered()
                    return True
        ledger.drop_incoming(protected=protected)
        return False

    def _arrived_abandoned(self) -> None:
        self.ledger.unexpect(1)
        if self._precounted > 0:
            self._precounted -= 1
        else:
            self.ledger.fail_arrival("shutdown_timeout")

    # -- cutting batches (for the drain task) ---------------------------------------------------------
    def _age_wait(self) -> float:
        """Seconds to wait for a fuller batch (``batch_max_age``); 0 when the batch should go now."""
        if self.batch_max_age <= 0 or self._markers or self._closing or self.ledger.buffered >= self.batch_size:
            return 0.0
        if self.batch_max_bytes and self._buffered_bytes >= self.batch_max_bytes:
            return 0.0
        return max(0.0, self._oldest_at + self.batch_max_age - time.monotonic())

    def _take_batch(self) -> list[Item]:
        """The next batch: up to ``batch_size`` records and ``batch_max_bytes`` (at least one record)."""
        buffer = self.buffer
        batch: list[Item]
        count = min(len(buffer), self.batch_size)
        if self.batch_max_bytes or (self._markers and FlushMarker in map(type, islice(buffer, count))):
            batch = []
            size = 0
            limit = self.batch_max_bytes
            while buffer and len(batch) < self.batch_size and not isinstance(buffer[0], FlushMarker):
                record = buffer[0]
                assert not isinstance(record, FlushMarker)
                record_size = size_of(record)
                if limit and batch and size + record_size > limit:
                    break
                batch.append(record)
                buffer.popleft()
                size += record_size
            if limit:
                self._buffered_bytes -= size
        else:  # no marker among them and no byte limit: take by count, with no byte count to keep
            # popleft() called in C (only this drain task takes from the buffer, on the worker's loop).
            batch = list(islice(iter(buffer.popleft, _NEVER), count))  # type: ignore[arg-type]  # no marker in it
        self._oldest_at = time.monotonic()
        self.ledger.take(len(batch))
        return batch

