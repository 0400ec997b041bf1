"""The bounded many-producer, one-consumer queue between log calls and the worker.

The fast path (inlined in the runtime's capture function) is a length check, a ``deque.append`` (atomic
under the GIL) and a flag read; it takes no lock. Everything else — waiting for room, dropping, counting —
happens only when the queue is full, under one lock. The worker wakes callers that wait for room, and
callers wake the worker only when it has said it is going to sleep, so a busy pipeline pays no wake-up cost
per event.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Literal

__all__ = ["DROP_REASONS", "EventQueue", "FlushMarker", "Policy"]

Policy = Literal["wait", "drop_newest", "drop_oldest"]

DROP_REASONS = {
    "queue_full": "a full queue refused the newest event (drop_newest, or wait on an event-loop thread)",
    "queue_full_oldest": "a full queue evicted its oldest event to admit a new one (drop_oldest)",
    "queue_wait_timeout": "the caller waited wait_timeout for room and none came (wait)",
}


class FlushMarker:
    """Travels through the queue and every sink buffer behind the events logged before a flush.

    When every sink has passed it (and flushed), everything logged before the flush call was handed over.
    ``future`` resolves with the names of the sinks that failed to flush in time (empty when all did).
    """

    __slots__ = ("_pending", "failed", "future", "passed_by")

    def __init__(self) -> None:
        import concurrent.futures

        self.future: concurrent.futures.Future[list[str]] = concurrent.futures.Future()
        self._pending = 0
        self.failed: list[str] = []
        self.passed_by: list[str] = []

    def expect(self, sinks: int) -> None:
        self._pending = sinks
        if sinks == 0:
            self._resolve()

    def passed(self, sink: str, *, ok: bool) -> None:
        self.passed_by.append(sink)
        if not ok:
            self.failed.append(sink)
        self._pending -= 1
        if self._pending <= 0:
            self._resolve()

    def _resolve(self) -> None:
        if not self.future.done():
            self.future.set_result(self.failed)


class EventQueue:
    """Bounded hand-over of captured events, with an explicit policy for a full queue."""

    def __init__(
        self,
        capacity: int,
        policy: Policy,
        *,
        wait_timeout: float,
        protect_level: int,
        loop_overflow: Literal["drop_newest", "drop_oldest"] = "drop_newest",
    ) -> None:
        self.items: deque[Any] = deque()
        self.capacity = capacity
        self.policy = policy
        self.wait_timeout = wait_timeout
        self.protect_level = protect_level
        self.loop_overflow = loop_overflow
        self.sleeping = False
        """Set by the worker just before it sleeps; a producer seeing it calls :attr:`wake`."""
        self.wake: Callable[[], None] = _no_wake
        self.dropped: dict[str, int] = {}
        self.overcommitted = 0
        """Events at or above ``protect_level`` admitted beyond capacity rather than dropped."""
        self.markers = 0
        self.lock = threading.Lock()
        self._room = threading.Condition(self.lock)
        self._waiters = 0

    # -- producers -------------------------------------------------------------------------------------
    def put_marker(self, marker: FlushMarker) -> None:
        """Enqueue a flush marker behind everything logged so far (markers ignore the capacity)."""
        with self.lock:
            self.markers += 1
        self.items.append(marker)
        if self.sleeping:
            self.sleeping = False
        self.wake()

    def put_full(self, item: tuple[Any, ...], level: int) -> None:
        if level >= self.protect_level:
            with self.lock:
                self.overcommitted += 1
            self.items.append(item)
            return
        policy = self.policy
        if policy == "wait":
            if not _on_event_loop_thread():
                self._wait_for_room(item)
                return
            policy = self.loop_overflow  # never block a thread that runs an event loop
        if policy == "drop_oldest":
            self._evict_oldest(item)
        else:
            self._count("queue_full")

    def _wait_for_room(self, item: tuple[Any, ...]) -> None:
        deadline = time.monotonic() + self.wait_timeout
        with self._room:
            self._waiters += 1
            try:
                while len(self.items) >= self.capacity:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        self._count_locked("queue_wait_timeout")
                        return
                    if self.sleeping:  # make sure the worker is draining while we wait
                        self.sleeping = False
                        self.wake()
                    self._room.wait(remaining)
                self.items.append(item)
            finally:
                self._waiters -= 1

    def _evict_oldest(self, item: tuple[Any, ...]) -> None:
        with self.lock:
            try:
                oldest = self.items.popleft()
            except IndexError:  # the worker emptied it meanwhile: there is room now
                self.items.append(item)
                return
            if isinstance(oldest, FlushMarker):
                self.items.appendleft(oldest)  # a flush promise outranks the newest event
                self._count_locked("queue_full")
                return
            self._count_locked("queue_full_oldest")
            self.items.append(item)

    def _count(self, reason: str) -> None:
        with self.lock:
            self._count_locked(reason)

    def _count_locked(self, reason: str) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1

    # -- the worker ------------------------------------------------------------------------------------
    def room_made(self) -> None:
        """Called by the worker after taking items: wakes producers waiting for room, if any."""
        if self._waiters:
            with self._room:
                self._room.notify_all()

    def take_marker(self) -> None:
        with self.lock:
            self.markers -= 1

    def snapshot_drops(self) -> dict[str, int]:
        with self.lock:
            return dict(self.dropped)


def _on_event_loop_thread() -> bool:
    # Without asyncio imported no loop can be running, so `import fapilog` need not import asyncio.
    asyncio = sys.modules.get("asyncio")
    return asyncio is not None and asyncio._get_running_loop() is not None


def _no_wake() -> None:
    """Before the worker starts there is nobody to wake."""
