"""One ``write_batch`` call on a sink's own thread, whose outcome may arrive after ``write_timeout``.

A timeout cannot take back a write: a sink blocking its own thread (``time.sleep``, ``requests.post``) finishes
the call whatever the worker does. A retry started then would queue behind the first attempt on the sink's loop
and send the same records twice. So the batch sender never sends a batch again while an earlier attempt of it
may still be running: after ``write_timeout`` it keeps waiting for that attempt's real outcome, in turns, within
the batch's retry budget (:mod:`fapilog._engine.batch_send`). (A sink on the worker's loop is awaited in the
drain task itself, watched by :mod:`fapilog._engine.overdue_watch`.)

Only when the budget is spent is a call given up (:meth:`WriteCall.give_up`): withdrawn if the sink has not
started it yet (queued behind a blocked call on the sink's thread — it then never runs), else cancelled where it
runs. If it still completes and the backend accepted it, ``late`` is called with the result, so the late
delivery is counted instead of passing silently.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fapilog._engine.hooks import cancelled_for_real
from fapilog._engine.sink_thread import call_inline

__all__ = ["CallEnd", "WriteCall"]


class CallEnd:
    """How a call ended: the value it returned, or what it raised (a ``BaseException`` travels as a value, so
    none escapes into the worker's loop)."""

    __slots__ = ("error", "value")

    def __init__(self, value: Any = None, error: BaseException | None = None) -> None:
        self.value = value
        self.error = error


class _Claim:
    """Who reaches a queued call first: the sink's loop starting it, or the sender withdrawing it.

    Both sides may be on different threads; the lock makes the decision one of the two, never both.
    """

    __slots__ = ("_lock", "loop", "state", "task")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.state = "queued"
        self.loop: asyncio.AbstractEventLoop | None = None
        self.task: asyncio.Task[Any] | None = None
        """The task running the call where the sink runs (set once started), for a cancellation from outside."""

    def start(self) -> bool:
        """On the sink's loop, before the call: False when the sender withdrew it."""
        with self._lock:
            if self.state == "withdrawn":
                return False
            self.state = "started"
            self.loop = asyncio.get_running_loop()
            self.task = asyncio.current_task()
            return True

    def withdraw(self) -> bool:
        """True when the call had not started: it never will."""
        with self._lock:
            if self.state != "queued":
                return False
            self.state = "withdrawn"
            return True

    def cancel(self) -> None:
        """Cancel the started call on its own loop (as soon as that loop gets control back)."""
        loop, task = self.loop, self.task
        if loop is None or task is None:
            return
        try:
            loop.call_soon_threadsafe(task.cancel)
        except RuntimeError:
            pass  # the sink's loop is closed: the call ended with it


_WITHDRAWN = object()


class WriteCall:
    """A write running where its sink runs (own thread or the worker's loop), awaited from the worker's loop."""

    __slots__ = ("_claim", "began", "task")

    def __init__(self, run: Callable[[Callable[[], Any]], Awaitable[Any]], fn: Callable[[], Any]) -> None:
        """Start ``fn()`` through ``run`` (the runner's ``call``: the sink's thread or the worker's loop)."""
        claim = self._claim = _Claim()

        async def first() -> Any:
            if not claim.start():
                return _WITHDRAWN
            return await call_inline(fn)

        async def guarded() -> CallEnd:
            try:
                return CallEnd(await run(first))
            except asyncio.CancelledError as exc:
                if cancelled_for_real():
                    raise  # given up (a worker-loop call), or the worker's loop is ending
                return CallEnd(error=exc)
            except BaseException as exc:  # noqa: BLE001 - a sink's failure, even SystemExit, is an outcome
                return CallEnd(error=exc)

        self.began = time.perf_counter()
        self.task: asyncio.Task[CallEnd] = asyncio.ensure_future(guarded())

    @property
    def end(self) -> CallEnd | None:
        """How the call ended, or None while it runs."""
        task = self.task
        if not task.done():
            return None
        if task.cancelled():
            return CallEnd(error=asyncio.CancelledError("the write was cancelled"))
        return task.result()

    async def wait(self, seconds: float, wake: asyncio.Event | None = None) -> CallEnd | None:
        """Wait up to ``seconds`` for the call to end (less if ``wake`` is set meanwhile); None while it runs.

        A cancellation of the waiting task itself (the worker ending) cancels the call too.
        """
        task = self.task
        if not task.done():
            waiters: set[asyncio.Future[Any]] = {task}
            waker = None
            if wake is not None and not wake.is_set():
                waker = asyncio.ensure_future(wake.wait())
                waiters.add(waker)
            try:
                await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
            except asyncio.CancelledError:
                self._claim.withdraw()
                self._claim.cancel()
                raise
            finally:
                if waker is not None:
                    waker.cancel()
        return self.end

    def give_up(self, late: Callable[[Any], None]) -> None:
        """Stop waiting: withdraw the call if it has not started, else cancel it where it runs; ``late(value)``
        if it still returns (the sink accepted the batch after all)."""
        if self._claim.withdraw():
            return
        self._claim.cancel()

        def ended(task: asyncio.Task[CallEnd]) -> None:
            if task.cancelled():
                return
            end = task.result()
            if end.error is None and end.value is not _WITHDRAWN:
                late(end.value)

        self.task.add_done_callback(ended)
