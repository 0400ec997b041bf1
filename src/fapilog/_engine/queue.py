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
from collections.abc import Callable, Coroutine
from typing import Any, Literal

from fapilog._engine.flush_marker import FlushMarker

__all__ = ["EventQueue", "FlushMarker", "Policy"]

Policy = Literal["wait", "drop_newest", "drop_oldest"]

Handover = Callable[[tuple[Any, ...]], None]


class EventQueue:
    """Bounded hand-over of captured events, with an explicit policy for a full queue.

    Events at or above ``protect_level`` are never dropped by the policy: they are admitted beyond capacity
    (counted as ``overcommitted``) up to ``overcommit`` extra events (default ``max(capacity, 10_000)``).
    Past that ceiling a protected event waits for room like ``wait`` does (on a plain thread, up to
    ``wait_timeout``), or is counted as ``protected_overflow``: a flood of errors cannot grow memory without
    bound.

    Once :meth:`close` is called (shutdown, or the worker died) nobody waits for room any more: events that
    find the queue full, and the waiters, go to the ``handover`` function (the next pipeline). Once
    :meth:`seal` is called (after the last sweep) the queue forwards every event appended to it.
    """

    def __init__(
        self,
        capacity: int,
        policy: Policy,
        *,
        wait_timeout: float,
        protect_level: int,
        loop_overflow: Literal["drop_newest", "drop_oldest"] = "drop_newest",
        overcommit: int | None = None,
    ) -> None:
        self.items: deque[Any] = deque()
        self.capacity = capacity
        self.policy = policy
        self.wait_timeout = wait_timeout
        self.protect_level = protect_level
        self.loop_overflow = loop_overflow
        self.overcommit_limit = max(capacity, 10_000) if overcommit is None else overcommit
        """How many protected events may be admitted beyond ``capacity`` (default ``capacity``, at least 10,000)."""
        self.sleeping = False
        """Set by the worker just before it sleeps; a producer seeing it calls :attr:`wake`."""
        self.lingering = False
        """Set while the worker waits before taking a burst; a full queue ends the wait (:meth:`_rouse`)."""
        self.wake: Callable[[], None] = _no_wake
        self.dropped: dict[str, int] = {}
        self.overcommitted = 0
        """Events at or above ``protect_level`` admitted beyond capacity rather than dropped."""
        self.markers = 0
        self.lock = threading.Lock()
        self._room = threading.Condition(self.lock)
        self._waiters = 0
        self._loop_waiters: list[tuple[Any, Any]] = []
        """(loop, future) of awaitable log calls waiting for room (see :meth:`EventQueue.put_or_wait`)."""
        self.closed = False
        self.sealed = False
        """Set by :meth:`seal`: nobody consumes this queue any more; it forwards what callers append."""
        self.forwarded = 0
        """Events a sealed queue forwarded to the next pipeline (see :meth:`waiting`)."""
        self.discarding: tuple[str, str] | None = None
        """Set by :meth:`discard`: (drop reason, flush failure) for everything that reaches this queue from then on."""
        self._handover: Handover | None = None

    # -- producers -------------------------------------------------------------------------------------
    def put_marker(self, marker: FlushMarker) -> None:
        """Enqueue a flush marker behind everything logged so far (past the capacity); wakes, ends a linger."""
        with self.lock:
            self.markers += 1
        self.items.append(marker)
        self.sleeping = False
        self.wake()

    def put_full(self, item: tuple[Any, ...], level: int) -> None:
        """The queue looked full to the fast path: apply the policy (never raises into the caller)."""
        try:
            self._put_full(item, level)
        except Exception:  # noqa: BLE001 - a log call never raises because of the library's own state
            self.count("internal_error")

    def _put_full(self, item: tuple[Any, ...], level: int) -> None:
        if self.closed:
            self._hand_over(item)
            return
        self._rouse()
        protected = level >= self.protect_level
        if protected:
            if len(self.items) < self.capacity + self.overcommit_limit:
                with self.lock:
                    self.overcommitted += 1
                self.items.append(item)
                return
            if _on_event_loop_thread() or not self._wait_for_room(item, self.capacity + self.overcommit_limit):
                self.count("protected_overflow")
            return
        policy = self.policy
        if policy == "wait":
            if not _on_event_loop_thread():
                if not self._wait_for_room(item, self.capacity):
                    self.count("queue_wait_timeout")
                return
            policy = self.loop_overflow  # never block a thread that runs an event loop
        if policy == "drop_oldest":
            self._evict_oldest(item)
        else:
            self.count("queue_full")

    def put_or_wait(
        self, item: tuple[Any, ...], level: int, in_pipeline: Callable[[], bool]
    ) -> Coroutine[Any, Any, None] | None:
        """The queue looked full to an awaitable log call: apply the policy as :meth:`put_full` would, except
        that where the sync call may not wait (an event-loop thread) this returns a coroutine that waits for
        room without blocking the loop. None when the event was already placed, handed over or counted.

        Code the pipeline runs (``in_pipeline()``) never waits for the pipeline: it gets the sync behaviour.
        """
        try:
            if self.closed or in_pipeline() or not _on_event_loop_thread():
                self.put_full(item, level)  # nothing to wait on without a loop: the sync call's rules apply
                return None
            if level >= self.protect_level:
                limit = self.capacity + self.overcommit_limit
                if len(self.items) < limit:
                    self.put_full(item, level)  # admitted beyond capacity and counted, like the sync call
                    return None
                return self._wait_on_loop(item, limit, "protected_overflow")
            if self.policy != "wait":
                self.put_full(item, level)  # drop_newest / drop_oldest: the same drop, the same count
                return None
            return self._wait_on_loop(item, self.capacity, "queue_wait_timeout")
        except Exception:  # noqa: BLE001 - a log call never raises because of the library's own state
            self.count("internal_error")
            return None

    async def _wait_on_loop(self, item: tuple[Any, ...], limit: int, reason: str) -> None:
        """Await room (fewer than ``limit`` queued) up to ``wait_timeout``, then append ``item`` or count it."""
        import asyncio

        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait_timeout
        placed = False
        while True:
            with self.lock:
                if self.closed:
                    break
                if len(self.items) < limit:
                    self.items.append(item)
                    placed = True
                    break
                remaining = deadline - loop.time()
                if remaining <= 0:
                    self._count_locked(reason)
                    return
                future = loop.create_future()
                waiter = (loop, future)
                self._loop_waiters.append(waiter)
                self._waiters += 1
            self._rouse()  # make sure the worker is draining while we wait
            try:
                async with asyncio.timeout(remaining):
                    await future
            except TimeoutError:
                pass  # the loop above sees the deadline and counts the event
            except asyncio.CancelledError:
                self.count("queue_wait_cancelled")
                raise
            finally:
                with self.lock:
                    self._waiters -= 1
                    if waiter in self._loop_waiters:
                        self._loop_waiters.remove(waiter)
        if not placed:  # the pipeline closed while we waited
            self._hand_over(item)  # outside the lock: the next pipeline's queue has its own
            return
        if self.sleeping:
            self.sleeping = False
            self.wake()

    def _wait_for_room(self, item: tuple[Any, ...], limit: int) -> bool:
        """Wait up to ``wait_timeout`` for the queue to hold fewer than ``limit``; False when none came."""
        deadline = time.monotonic() + self.wait_timeout
        with self._room:
            self._waiters += 1
            try:
                while len(self.items) >= limit and not self.closed:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self._rouse()  # make sure the worker is draining while we wait
                    self._room.wait(remaining)
                if not self.closed:
                    self.items.append(item)
                    return True
            finally:
                self._waiters -= 1
        self._hand_over(item)  # outside the lock: the next pipeline's queue has its own
        return True

    def _rouse(self) -> None:
        """The queue is full: wake the worker if it sleeps or lingers (a full queue ends a linger)."""
        if self.sleeping or self.lingering:
            self.sleeping = self.lingering = False
            self.wake()

    def _evict_oldest(self, item: tuple[Any, ...]) -> None:
        """Make room by evicting the oldest event that is neither a flush marker nor protected."""
        protect = self.protect_level
        with self.lock:
            items = self.items
            if not items:  # the worker emptied it meanwhile: there is room now
                items.append(item)
                return
            victim = -1
            # By index, not by iterator: producers append lock-free on the right, which an iterator would
            # reject; the worker takes from the left only under this lock, so the indexes stay put.
            for index in range(min(len(items), 64)):
                oldest = items[index]
                # [1]: the level (capture.LEVEL; not imported here, as the capture module imports this one)
                if not isinstance(oldest, FlushMarker) and oldest[1] < protect:
                    victim = index
                    break
            if victim < 0:
                self._count_locked("queue_full")
                return
            del items[victim]
            self._count_locked("queue_full_oldest")
            items.append(item)

    def count(self, reason: str, events: int = 1) -> None:
        """Count ``events`` dropped for ``reason`` (a key of :data:`~fapilog._engine.stats_schema.DROP_REASONS`)."""
        with self.lock:
            self._count_locked(reason, events)

    def _count_locked(self, reason: str, events: int = 1) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + events

    def append_admitted(self, items: list[Any]) -> None:
        """Append events (and flush markers) handed over from an earlier pipeline (past the capacity), waking the
        worker like a log call. Markers are counted first: the worker must never take one for an event."""
        markers = sum(1 for item in items if isinstance(item, FlushMarker))
        if markers:
            with self.lock:
                self.markers += markers
        self.items.extend(items)
        if self.sleeping:
            self.sleeping = False
            self.wake()

    # -- closing ---------------------------------------------------------------------------------------
    def close(self, handover: Handover | None) -> None:
        """Stop waiting for room: waiters and events finding the queue full go to ``handover`` (or are
        counted as ``after_shutdown`` when there is none)."""
        with self._room:
            self._handover = handover
            self.closed = True
            self._room.notify_all()
            self._wake_loop_waiters()

    def hand_over(self, item: tuple[Any, ...]) -> None:
        """Pass one event that arrived after the close to the next pipeline (or count it ``after_shutdown``)."""
        self._hand_over(item)

    def _hand_over(self, item: Any) -> None:
        """Pass an event or a flush marker on to ``handover``; count (or fail) it when there is nowhere to go."""
        handover = self._handover
        discarding = self.discarding
        if discarding is not None or handover is None:
            reason, failure = discarding or ("after_shutdown", "<no pipeline is left to deliver the events before it>")
            if isinstance(item, FlushMarker):
                item.fail(failure)
            else:
                self.count(reason)
            return
        try:
            handover(item)
        except Exception:  # noqa: BLE001 - never into the caller; counted instead
            self.count("after_shutdown")

    def seal(self) -> None:
        """After the last sweep: a caller still appending here (it read this queue's capture function just
        before the log calls were routed elsewhere) forwards its own event to ``handover`` before it returns.

        This costs the running pipeline's log call nothing: it already reads ``sleeping`` after appending and
        calls ``wake`` when it is set. A sealed queue keeps ``sleeping`` set and its ``wake`` moves whatever
        is queued to ``handover``. The flag is set before each sweep, so an event appended before a caller
        found the flag cleared is swept by whoever cleared it.
        """
        self.sealed = True
        self.wake = self._forward
        self._forward()

    def discard(self, reason: str, failure: str) -> None:
        """Nobody will ever take from this queue again and no pipeline takes over (the worker died once too often):
        count every event it holds, and every event that reaches it from now on, as dropped for ``reason``, and
        end every flush waiting on it with ``failure``. No caller waits for room any more."""
        self.discarding = (reason, failure)
        self.close(self._handover)
        self.seal()

    def _forward(self) -> None:
        self.sleeping = True
        with self.lock:  # taken and counted at once, so depth() + forwarded (see waiting()) never dips
            taken = self._pop_all()
            markers = sum(1 for item in taken if isinstance(item, FlushMarker))
            self.markers -= markers  # they leave with the events, in order: the next pipeline settles them
            if self.discarding is not None:
                self._count_locked(self.discarding[0], len(taken) - markers)
                taken = [item for item in taken if isinstance(item, FlushMarker)]
            else:
                self.forwarded += len(taken) - markers
        for item in taken:
            self._hand_over(item)

    def waiting(self) -> int:
        """Events waiting to be processed: queued here or, once sealed, forwarded to the next pipeline."""
        if not self.sealed:
            return self.depth()
        with self.lock:
            return self.depth() + self.forwarded

    def take_all(self) -> list[Any]:
        """Remove and return everything queued, one by one (safe against a worker still taking items)."""
        with self.lock:
            return self._pop_all()

    def _pop_all(self) -> list[Any]:
        taken: list[Any] = []
        while True:
            try:
                taken.append(self.items.popleft())
            except IndexError:
                return taken

    # -- the worker ------------------------------------------------------------------------------------
    def room_made(self) -> None:
        """Called by the worker after taking items: wakes producers waiting for room, if any."""
        if self._waiters:
            with self._room:
                self._room.notify_all()
                self._wake_loop_waiters()

    def _wake_loop_waiters(self) -> None:
        """Resolve the futures of awaitable log calls waiting for room, each on its own loop (lock held)."""
        waiters, self._loop_waiters = self._loop_waiters, []
        for loop, future in waiters:
            try:
                loop.call_soon_threadsafe(_resolve, future)
            except RuntimeError:  # that loop closed: its coroutine is gone, nobody is left to wake
                continue

    def take_marker(self) -> None:
        with self.lock:
            self.markers -= 1

    def depth(self) -> int:
        """Events waiting now (flush markers are not events)."""
        return max(0, len(self.items) - self.markers)

    def snapshot_drops(self) -> dict[str, int]:
        with self.lock:
            return dict(self.dropped)


def _on_event_loop_thread() -> bool:
    # Without asyncio imported no loop can be running, so `import fapilog` need not import asyncio. Another
    # thread (the worker, starting up) may be importing it right now: a partially initialised module has no
    # `_get_running_loop` yet, and while it is being imported no loop can be running on this thread either.
    events = sys.modules.get("asyncio.events")
    get_running_loop = getattr(events, "_get_running_loop", None)
    return get_running_loop is not None and get_running_loop() is not None


def _resolve(future: Any) -> None:
    if not future.done():
        future.set_result(None)


def _no_wake() -> None:
    """Before the worker starts there is nobody to wake."""
