"""The turns of a worker-loop sink's write that outlives ``write_timeout``, taken while the drain task awaits it.

A sink on the worker's loop (``runs_on_worker_loop``) is awaited in the drain task itself: the call stays in one
task from start to end (a library such as httpx/anyio binds its cancel scopes to the task that entered them),
and a write that never suspends costs no extra turn of the loop. Cancelling it at ``write_timeout`` would risk
the very duplicate a timeout must not cause: a request whose body is already on the wire may be stored by the
backend although its answer never arrives, and the retry would send it again.

So the timeout does not cancel. When ``write_timeout`` passes, this watch marks the sink stalled and takes the
turns a retry would have had (each one a failed attempt for the circuit breaker and the retry budget:
:meth:`BatchSender.spend`); only when the budget is spent does it end the wait, by moving the attempt's deadline
to now, which cancels the write (counted failed, ``timeout``). A shutdown that gives up on the sink leaves the
write one more ``write_timeout``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from fapilog._engine.notices import warn

if TYPE_CHECKING:
    from fapilog._engine.batch_send import BatchSender, _Turns

__all__ = ["OverdueWatch"]


class OverdueWatch:
    """Armed for one attempt; costs one timer handle unless the write outlives ``write_timeout``."""

    __slots__ = ("_deadline", "_handle", "_size", "_turn", "_waker", "gave_up", "sender")

    def __init__(self, sender: BatchSender, turn: _Turns, size: int) -> None:
        self.sender = sender
        self._turn = turn
        self._size = size
        self._deadline: asyncio.Timeout | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._waker: asyncio.Task[bool] | None = None
        self.gave_up = False
        """The budget was spent (or a shutdown gave up) while the write still ran: it was cancelled."""

    def arm(self, deadline: asyncio.Timeout) -> None:
        self._deadline = deadline
        self._handle = asyncio.get_running_loop().call_later(self.sender.runner.write_timeout, self._overdue)

    def disarm(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        if self._waker is not None:
            self._waker.cancel()

    def _overdue(self) -> None:
        """``write_timeout`` passed: the sink is stalled; wait on, in the turns a retry would have taken."""
        runner = self.sender.runner
        runner.stalled = True
        warn(f"sink-timeout:{runner.name}", f"sink {runner.name!r} did not finish a write within "
             f"{runner.write_timeout}s; waiting for its outcome (the batch of {self._size} is not sent again "
             "while that write may still deliver it)", code="FL-LOG-003")
        if runner.abandoned:
            self._end()
            return
        self._waker = asyncio.ensure_future(self.sender.wake.wait())
        self._waker.add_done_callback(self._shutdown_gave_up)
        self._turn_over()

    def _turn_over(self) -> None:
        wait = self.sender.spend(self._turn, "timeout", None)
        if wait is None:
            self._end()
            return
        self._handle = asyncio.get_running_loop().call_later(wait + self.sender.runner.write_timeout,
                                                             self._turn_over)

    def _shutdown_gave_up(self, waker: asyncio.Task[bool]) -> None:
        if waker.cancelled() or not self.sender.runner.abandoned or self.gave_up:
            return
        if self._handle is not None:
            self._handle.cancel()
        self._handle = asyncio.get_running_loop().call_later(self.sender.runner.write_timeout, self._end)

    def _end(self) -> None:
        """Stop waiting: the attempt's deadline is now, which cancels the write."""
        self.gave_up = True
        deadline = self._deadline
        if deadline is not None and not deadline.expired():
            deadline.reschedule(asyncio.get_running_loop().time())
