"""A sink's own thread and event loop, so that a sink which blocks cannot stop the worker or the other sinks.

A third-party sink may do blocking work inside ``async def write()`` (``requests.post``, ``time.sleep``, a
slow disk): on the worker's loop that would freeze every other sink and the whole pipeline, and no timeout
could fire. Unless a sink declares ``runs_on_worker_loop = True`` (its coroutines never block; the built-in
file, stream and memory sinks do, because they do their blocking I/O on a :class:`BlockingWorker`, and so do the
``http`` and ``loki`` sinks, whose I/O is asynchronous), the
runner calls every method of the sink — ``start``, ``write``/``write_batch``, ``flush``, ``stop`` — on this
thread's loop and awaits the answer from the worker's loop, where ``write_timeout`` is enforced. A sink that
blocks for good keeps only its own thread; the runner counts its writes as timed out and goes on.

The thread runs in a copy of the worker's context, so anything the sink logs is recognised as coming from
the pipeline (:mod:`fapilog._engine.reentry`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import inspect
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["SinkThread", "call_inline"]


async def call_inline(fn: Callable[[], Any]) -> Any:
    """Call ``fn`` (sync or async) on the running loop and return its result."""
    result = fn()
    if inspect.isawaitable(result):
        result = await result
    return result


class _Outcome:
    """What a call on the sink thread ended with; BaseExceptions travel as values, so none escapes the loop."""

    __slots__ = ("error", "value")

    def __init__(self, value: Any = None, error: BaseException | None = None) -> None:
        self.value = value
        self.error = error


async def _guarded(fn: Callable[[], Any]) -> _Outcome:
    try:
        return _Outcome(await call_inline(fn))
    except BaseException as exc:  # noqa: BLE001 - even SystemExit must not end the sink's loop
        return _Outcome(error=exc)


class SinkThread:
    """One daemon thread running an event loop for one sink; :meth:`call` runs a method there."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (a no-op while it runs); returns once its loop accepts calls."""
        if self._thread is not None and self._thread.is_alive():
            return
        ready = threading.Event()
        context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=context.run, args=(self._run, ready), name=f"fapilog-sink:{self.name}", daemon=True
        )
        self._thread.start()
        ready.wait()

    def _run(self, ready: threading.Event) -> None:
        loop = self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        ready.set()
        try:
            loop.run_forever()
        finally:
            pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

    async def call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn()`` (awaiting it when it returns an awaitable) on the sink's loop; raises what it raised.

        Cancelling the awaiting task (a timeout) cancels the call on the sink's loop as soon as that loop
        gets control back.
        """
        if self._loop is None or self._thread is None or not self._thread.is_alive():
            self.start()
        loop = self._loop
        assert loop is not None
        future: concurrent.futures.Future[_Outcome] = asyncio.run_coroutine_threadsafe(_guarded(fn), loop)
        outcome = await asyncio.wrap_future(future)
        if outcome.error is not None:
            raise outcome.error
        return outcome.value

    def stop(self) -> None:
        """End the loop once the calls already queued have run (a blocked loop is simply left behind)."""
        loop, self._loop, self._thread = self._loop, None, None
        if loop is not None:
            try:
                loop.call_soon_threadsafe(loop.stop)
            except RuntimeError:
                pass  # already closed
