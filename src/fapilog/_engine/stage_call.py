"""One call of a stage under ``stage_timeout``, even against a plugin that will not be cancelled.

The call runs in a task of its own while the worker waits for it, up to the timeout. Past it the task is
cancelled, and a call that ends within a grace (the smaller of the timeout and one second: an ordinary coroutine
unwinds at its next ``await``) is over, whatever it returned. A call that catches the cancellation and goes on
waiting is *left behind*: it stays on the worker's loop, where it harms nothing while it awaits, its outcome is
discarded, and the worker goes on. Its stage holds it in ``late`` and is not called again until it ends (see
``Stage.run``), so at most one such call, and the one batch it holds, is kept per stage.

When the worker ends, its loop's remaining tasks are cancelled and given the same grace (:func:`end_tasks`); a
call that still goes on is abandoned with the loop rather than keeping the stopped worker's thread alive.

What no task can help: a stage that blocks its thread (``time.sleep``, a CPU loop) stops the whole loop until
it returns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

__all__ = ["Expiry", "bounded", "end_tasks"]

_GRACE = 1.0
"""Most seconds a cancelled call gets to end before it is left behind."""


class Expiry:
    """Set once the call's time is up: a loop over records inside the call stops at its next check."""

    __slots__ = ("expired",)

    def __init__(self) -> None:
        self.expired = False


async def bounded(
    call: Coroutine[Any, Any, Any], timeout: float, expiry: Expiry, late: set[asyncio.Task[Any]]
) -> tuple[bool, Any]:
    """Run ``call`` in its own task for up to ``timeout`` seconds: ``(True, result)`` when it ended in time
    (raising what it raised), else ``(False, None)`` once it was cancelled and ended, or was left behind in
    ``late`` (which it leaves when it ends). A cancellation of the waiting task cancels the call too."""
    loop = asyncio.get_running_loop()
    task = loop.create_task(call)
    if await _ended(loop, task, timeout):
        return True, task.result()
    expiry.expired = True
    task.cancel()
    if await _ended(loop, task, min(timeout, _GRACE)):
        _discard(task)
        return False, None
    late.add(task)
    task.add_done_callback(late.discard)
    task.add_done_callback(_discard)
    task._log_destroy_pending = False  # type: ignore[attr-defined]  # a loop closed under it is expected
    return False, None


async def _ended(loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any], seconds: float) -> bool:
    """Wait up to ``seconds`` for ``task`` to end; whether it did."""
    if task.done():
        return True
    waiter: asyncio.Future[None] = loop.create_future()

    def wake(_: object = None) -> None:
        if not waiter.done():
            waiter.set_result(None)

    task.add_done_callback(wake)
    timer = loop.call_later(seconds, wake)
    try:
        await waiter
    except asyncio.CancelledError:
        task.cancel()  # the worker itself is being cancelled: its stage call goes with it
        raise
    finally:
        timer.cancel()
        task.remove_done_callback(wake)
    return task.done()


def _discard(task: asyncio.Task[Any]) -> None:
    """The outcome of a call that ended after its time: read (so asyncio does not report it), never used."""
    if not task.cancelled():
        task.exception()


def end_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """The worker's end, on its thread: cancel every task still on ``loop`` and wait up to the grace for them to
    end. A task that still goes on (a call left behind that catches every cancellation) is abandoned: the loop is
    closed under it instead of the thread waiting for it forever."""
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.wait(pending, timeout=_GRACE))
    for task in pending:
        if task.done():
            _discard(task)
        else:
            task._log_destroy_pending = False  # type: ignore[attr-defined]  # abandoned on purpose
