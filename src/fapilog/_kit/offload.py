"""A dedicated daemon thread for a sink's blocking I/O, awaited from the worker's event loop.

Why not ``asyncio.to_thread``: the default executor refuses new work once the interpreter starts shutting
down, which is exactly when the exit drain needs to write. A thread created when the sink starts is already
there at exit, needs nothing new during finalization, and keeps one slow disk from stalling other sinks.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import asyncio
    import queue

__all__ = ["BlockingWorker"]

T = TypeVar("T")
_STOP = object()


class BlockingWorker:
    """Runs blocking callables one at a time, in order, on its own daemon thread.

    >>> worker = BlockingWorker("file:/var/log/app.log")
    >>> await worker.run(fh.write, data)
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._jobs: queue.SimpleQueue[Any] | None = None
        """Made by :meth:`start`, one per thread (a sink that never starts never imports ``queue``)."""
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            import queue

            # A fresh job queue per thread: a stopping thread can never take a job meant for its successor.
            self._jobs = queue.SimpleQueue()
            # The jobs run in a copy of the starting context: started from the worker, that context marks
            # anything they log as coming from the pipeline (see fapilog._engine.reentry).
            self._thread = threading.Thread(
                target=contextvars.copy_context().run, args=(self._loop, self._jobs),
                name=f"fapilog-io:{self._name}", daemon=True,
            )
            self._thread.start()

    @staticmethod
    def _loop(jobs: queue.SimpleQueue[Any]) -> None:
        while True:
            job = jobs.get()
            if job is _STOP:
                return
            loop, future, fn, args = job
            try:
                result = fn(*args)
            except BaseException as exc:  # noqa: BLE001 - handed to the awaiting coroutine, not swallowed
                loop.call_soon_threadsafe(_settle, future, None, exc)
            else:
                loop.call_soon_threadsafe(_settle, future, result, None)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the I/O thread and await its result (exceptions propagate)."""
        import asyncio  # here, not at import: a pipeline delivered without an event loop never imports it

        if self._thread is None:
            self.start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        jobs = self._jobs
        assert jobs is not None  # made by start()
        jobs.put((loop, future, fn, args))
        return await future

    def stop(self) -> None:
        """Let the thread finish the jobs already queued, then end."""
        if self._thread is not None and self._jobs is not None:
            self._jobs.put(_STOP)
            self._thread = None


def _settle(future: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if future.done():  # the awaiting side gave up (timeout or cancellation)
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)
