"""One batch through a sink's ``write_batch``, until it is delivered, refused, or out of retry budget.

The outcome a sink signals (see :mod:`fapilog.plugins.outcomes`) decides what happens next:

- accepted (or partly, with :class:`BatchResult`): counted delivered / rejected; the circuit closes;
- :class:`RetryableSinkError`, or any exception the sink did not classify: the same batch is sent again after
  a jittered backoff (or the backend's ``Retry-After``, capped) — and before any later batch, so the sink still
  receives records in order and exactly once; repeated failures open the circuit. A sink that sent the batch as
  several requests may name in the error what was already accepted or refused: those are counted now and only
  the rest is retried;
- still running after ``write_timeout``: never sent again beside itself (it may yet deliver the batch). The
  sender waits for its real outcome in the turns a retry would have taken, each a failed attempt for the
  breaker and the budget, and then treats that outcome as above; when the budget is spent it fails the batch
  (``timeout``) and stops the write, counting a later completion as ``late_delivered``
  (:mod:`.write_call` on a sink's own thread, :mod:`.overdue_watch` on the worker's loop);
- :class:`PermanentSinkError`: its records are rejected with the error's reason, never retried;
- :class:`BatchTooLargeError`: the batch is split in halves, each sent in turn (one record still too large is
  rejected).

A batch is a list of buffer items: records, or the lines of a sink that takes lines
(``runner.write_batch`` hands that sink only the lines); indices in outcomes are positions in the batch either
way. What cannot be delivered goes to the sink's fallback. A shutdown that gives up on the sink
(:meth:`SinkRunner.abandon`) ends the retries at once: the records are already counted by then.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from fapilog._engine.breaker import CircuitBreaker
from fapilog._engine.hooks import cancelled_for_real
from fapilog._engine.line_items import Item
from fapilog._engine.notices import warn
from fapilog._engine.overdue_watch import OverdueWatch
from fapilog._engine.retry import RetryBudget, RetryPolicy
from fapilog._engine.sink_thread import call_inline
from fapilog._engine.write_call import CallEnd, WriteCall
from fapilog._registry import tracing
from fapilog.plugins.outcomes import BatchResult, BatchTooLargeError, PermanentSinkError, RetryableSinkError

if TYPE_CHECKING:
    from fapilog._engine.delivery import SinkRunner

__all__ = ["BatchSender"]


class _Retry:
    __slots__ = ("accepted", "exhausted", "reason", "rejected", "retry_after", "running")

    def __init__(self, reason: str, retry_after: float | None, accepted: frozenset[int] = frozenset(),
                 rejected: Mapping[int, str] | None = None, running: _Running | None = None,
                 exhausted: bool = False) -> None:
        self.reason = reason
        self.retry_after = retry_after
        self.accepted = accepted
        self.rejected = rejected or {}
        self.running = running
        """The attempt that outlived ``write_timeout`` and may still deliver the batch: waited for, not repeated."""
        self.exhausted = exhausted
        """The budget was spent while the attempt ran (its turns were counted then): the batch is over."""


class _Running:
    """An attempt past its ``write_timeout`` whose outcome the sender still waits for."""

    __slots__ = ("attempt", "call")

    def __init__(self, call: WriteCall, attempt: int) -> None:
        self.call = call
        self.attempt = attempt


_Outcome = BatchResult | PermanentSinkError | _Retry | None


class _Turns:
    """Where one batch stands: its retry budget, how often it was sent again, and an attempt still running."""

    __slots__ = ("budget", "resent", "running", "wait")

    def __init__(self, budget: RetryBudget) -> None:
        self.budget = budget
        self.resent = 0
        self.running: _Running | None = None
        self.wait = 0.0
        """How long the next turn waits for ``running``."""


class BatchSender:
    """The retry loop of one sink (owned by its runner, run by its drain task)."""

    def __init__(self, runner: SinkRunner, policy: RetryPolicy, breaker: CircuitBreaker) -> None:
        self.runner = runner
        self.policy = policy
        self.breaker = breaker
        self.wake = asyncio.Event()
        """Set by a shutdown that gives up, so a backoff or an open circuit stops waiting at once."""
        self._random = random.Random()
        self.waiting = False
        """The batch in hand is waiting for a retry or for the circuit to let it through."""
        self.circuit_wait: asyncio.Timeout | None = None

    async def send(self, batch: list[Item]) -> None:
        """Deliver ``batch`` (already taken from the buffer and counted in flight)."""
        runner = self.runner
        parts: deque[list[Item]] = deque([batch])
        turn = _Turns(self.policy.budget(time.monotonic()))
        while parts:
            part = parts[0]
            if turn.running is None:
                if not await self._circuit_lets_through():
                    return  # given up on by a shutdown: counted there
                outcome = await self._attempt(part, turn)
            else:
                outcome = await self._resume(turn.running, part, turn.wait)
            turn.running = outcome.running if isinstance(outcome, _Retry) else None
            if runner.abandoned:
                await self._abandoned(outcome, part)
                return
            if isinstance(outcome, _Retry):
                if not await self._retry(parts, outcome, turn):
                    return
                continue
            parts.popleft()
            await self._settle(part, parts, outcome)

    async def _settle(self, part: list[Item], parts: deque[list[Item]],
                      outcome: BatchResult | PermanentSinkError | None) -> None:
        """Count an attempt the sink answered (or split a batch too large for it)."""
        runner = self.runner
        if outcome is None:
            self.breaker.succeeded()
            runner.delivered_now(len(part))
        elif isinstance(outcome, BatchResult):
            self.breaker.succeeded()
            await self._partial(part, outcome)
        elif isinstance(outcome, BatchTooLargeError) and len(part) > 1:
            half = len(part) // 2
            parts.appendleft(part[half:])
            parts.appendleft(part[:half])
        else:
            self.breaker.succeeded()  # the backend answered: it is up, it just refuses these records
            runner.ledger.reject(len(part), outcome.reason)
            await runner.fallback.take(part, outcome.reason)

    async def _retry(self, parts: deque[list[Item]], outcome: _Retry, turn: _Turns) -> bool:
        """A failed (or still running) attempt: spend the budget on the next turn; False when the batch is
        over (given up, or a shutdown gave up on the sink)."""
        runner = self.runner
        if await self._settle_part(parts, outcome):
            return True  # everything the sink had not settled is gone: nothing left to retry
        delay = None if outcome.exhausted else self.spend(turn, outcome.reason, outcome.retry_after)
        if delay is None:
            if turn.running is not None:
                self._give_up(turn.running, parts[0])
            undeliverable = [record for left in parts for record in left]
            runner.ledger.fail(len(undeliverable), outcome.reason)
            await runner.fallback.take(undeliverable, outcome.reason, retried=turn.resent)
            return False
        runner.stalled = True
        if turn.running is not None:
            # Where a retry would have waited `delay` and then had `write_timeout`, the attempt still running
            # gets that long to end: a stuck sink costs the same budget as before, and nothing is sent twice.
            turn.wait = delay + runner.write_timeout
            return True
        if not await self._sleep(delay):
            return False
        runner.ledger.retry()
        turn.resent += 1
        return True

    def spend(self, turn: _Turns, reason: str, retry_after: float | None) -> float | None:
        """One failed attempt, or one more turn of a write past its timeout: tell the circuit breaker, spend the
        budget; the wait before the next turn, or None when the budget is spent."""
        runner = self.runner
        now = time.monotonic()
        if self.breaker.failed(now):
            warn(f"circuit-open:{runner.name}", f"sink {runner.name!r} failed {self.breaker.failures} "
                 f"time(s) in a row ({reason}); circuit open, next probe in "
                 f"{self.breaker.reset_timeout}s (stats: sinks.{runner.name}.circuit)", code="FL-LOG-004")
        turn.budget.attempts += 1
        return turn.budget.next_delay(retry_after, now, self._random)

    async def _abandoned(self, outcome: _Outcome, part: list[Item]) -> None:
        """A shutdown gave up on the sink during this attempt: count its records by how the attempt ends."""
        running = outcome.running if isinstance(outcome, _Retry) else None
        if running is not None:  # reported in flight: it gets one more write_timeout to end
            outcome = await self._resume(running, part, self.runner.write_timeout, wakeable=False)
            if isinstance(outcome, _Retry) and outcome.running is not None:
                self._give_up(outcome.running, part)
        self._settle_after_abandon(outcome, len(part))

    async def _attempt(self, part: list[Item], turn: _Turns) -> _Outcome:
        """One ``write_batch`` call: awaited here for a sink on the worker's loop; on the sink's own thread,
        waited for ``write_timeout``, past which a :class:`_Retry` carries the call still running."""
        runner = self.runner
        write_batch = runner.write_batch
        assert write_batch is not None
        attempt = turn.budget.attempts + 1
        runner.writing = len(part)
        if runner.thread is None:
            return await self._attempt_here(part, turn, attempt, lambda: write_batch(part))
        call = WriteCall(runner.call, lambda: write_batch(part))
        end = await call.wait(runner.write_timeout)
        if end is None:
            warn(f"sink-timeout:{runner.name}", f"sink {runner.name!r} did not finish a write within "
                 f"{runner.write_timeout}s; waiting for its outcome (the batch of {len(part)} is not sent again "
                 "while that write may still deliver it)", code="FL-LOG-003")
            return _Retry("timeout", None, running=_Running(call, attempt))
        return self._ended(call.began, attempt, part, end)

    async def _attempt_here(self, part: list[Item], turn: _Turns, attempt: int,
                            write: Callable[[], Any]) -> _Outcome:
        """A worker-loop sink's call, awaited in this task to its end; past ``write_timeout`` the watch takes
        the budget's turns and cancels it only when the budget is spent (see :mod:`.overdue_watch`)."""
        began = time.perf_counter()
        watch = OverdueWatch(self, turn, len(part))
        try:
            async with asyncio.timeout(None) as deadline:
                watch.arm(deadline)
                end = CallEnd(await call_inline(write))
        except TimeoutError as exc:
            end = CallEnd(error=exc)
        except asyncio.CancelledError as exc:
            if cancelled_for_real():
                raise
            end = CallEnd(error=exc)
        except BaseException as exc:  # noqa: BLE001 - a sink's failure (even SystemExit) is retried, never fatal
            end = CallEnd(error=exc)
        finally:
            watch.disarm()
        if watch.gave_up and isinstance(end.error, TimeoutError):
            self.runner.writing = 0
            outcome = _Retry("timeout", None, exhausted=True)
            self._observe(began, attempt, len(part), outcome)
            return outcome
        return self._ended(began, attempt, part, end)

    async def _resume(self, running: _Running, part: list[Item], seconds: float, *,
                      wakeable: bool = True) -> _Outcome:
        """Wait up to ``seconds`` more for an attempt past its timeout (a shutdown giving up wakes it, unless
        ``wakeable`` is off)."""
        end = await running.call.wait(seconds, self.wake if wakeable else None)
        if end is None:
            return _Retry("timeout", None, running=running)
        return self._ended(running.call.began, running.attempt, part, end)

    def _ended(self, began: float, attempt: int, part: list[Item], end: CallEnd) -> _Outcome:
        """An attempt ended: classify it, time it (the write histogram, a span when on)."""
        self.runner.writing = 0
        outcome = self._classified(end, len(part))
        self._observe(began, attempt, len(part), outcome)
        return outcome

    def _observe(self, began: float, attempt: int, size: int, outcome: _Outcome) -> None:
        took = time.perf_counter() - began
        self.runner.observe_write(took)
        span = tracing.batch_hook
        if span is not None:
            kind, reason = _span_outcome(outcome)
            span(self.runner.name, kind, size, attempt, took, reason)

    def _give_up(self, running: _Running, part: list[Item]) -> None:
        """The budget is spent and the attempt still runs: stop it if it can be stopped, and count it if it
        delivers the batch after all (``late_delivered``)."""
        runner = self.runner
        runner.writing = 0
        self._observe(running.call.began, running.attempt, len(part), _Retry("timeout", None))
        size = len(part)

        def late(value: object) -> None:
            refused = value.rejected if isinstance(value, BatchResult) else {}
            accepted = size - sum(1 for index in refused if isinstance(index, int) and 0 <= index < size)
            runner.ledger.deliver_late(accepted)
            warn(f"late-delivery:{runner.name}", f"sink {runner.name!r} delivered {accepted} event(s) after "
                 "their write was given up (already counted as failed; stats: sinks."
                 f"{runner.name}.late_delivered)", code="FL-LOG-015")

        running.call.give_up(late)

    def _classified(self, end: CallEnd, size: int) -> _Outcome:
        """What one ended ``write_batch`` call means for its batch."""
        exc = end.error
        if exc is None:
            result = end.value
            return result if isinstance(result, BatchResult) and result.rejected else None
        if isinstance(exc, PermanentSinkError):
            return exc
        if isinstance(exc, RetryableSinkError):
            return _Retry(exc.reason, exc.retry_after, exc.accepted, exc.rejected)
        if isinstance(exc, asyncio.CancelledError):
            return self._unclassified(asyncio.CancelledError("the sink raised CancelledError"), size)
        return self._unclassified(exc, size)

    def _unclassified(self, exc: BaseException, size: int) -> _Retry:
        name = self.runner.name
        warn(f"sink-error:{name}:{type(exc).__name__}",
             f"sink {name!r} raised {type(exc).__name__}: {exc}; the batch of {size} will be retried",
             code="FL-LOG-003")
        return _Retry(type(exc).__name__, None)

    async def _partial(self, part: list[Item], result: BatchResult) -> None:
        ledger = self.runner.ledger
        refused: list[Item] = []
        by_reason: dict[str, list[Item]] = {}
        for index, reason in result.rejected.items():
            if isinstance(index, int) and 0 <= index < len(part):
                by_reason.setdefault(str(reason), []).append(part[index])
        for reason, records in by_reason.items():
            ledger.reject(len(records), reason)
            refused += records
        self.runner.delivered_now(len(part) - len(refused))
        for reason, records in by_reason.items():
            await self.runner.fallback.take(records, reason)

    async def _settle_part(self, parts: deque[list[Item]], outcome: _Retry) -> bool:
        """Count what a retryable error says was already accepted or refused, and keep only the rest of the
        batch for the retry; True when nothing is left of it."""
        if not (outcome.accepted or outcome.rejected):
            return False
        part = parts[0]
        done = {i for i in outcome.accepted if isinstance(i, int) and 0 <= i < len(part)}
        refused = {i: r for i, r in outcome.rejected.items() if isinstance(i, int) and 0 <= i < len(part)}
        settled = sorted(done | set(refused))
        position = {index: n for n, index in enumerate(settled)}
        await self._partial([part[i] for i in settled],
                            BatchResult(rejected={position[i]: reason for i, reason in refused.items()}))
        keep = set(settled)
        parts[0] = [record for i, record in enumerate(part) if i not in keep]
        if parts[0]:
            return False
        parts.popleft()
        return True

    async def _circuit_lets_through(self) -> bool:
        """Wait while the circuit is open; False when a shutdown gave up on the sink meanwhile."""
        while True:
            if self.runner.abandoned:
                return False
            wait = self.breaker.wait_time(time.monotonic(), closing=self.runner._closing)
            if wait <= 0:
                return True
            self.runner.stalled = True
            if not await self._sleep(wait, circuit=True):
                return False

    async def _sleep(self, seconds: float, *, circuit: bool = False) -> bool:
        """Back off for ``seconds`` (an open circuit's wait, which :meth:`end_circuit_wait` can end); False when a
        shutdown gave up on the sink meanwhile."""
        self.waiting = True
        try:
            async with asyncio.timeout(seconds) as deadline:
                self.circuit_wait = deadline if circuit else None
                await self.wake.wait()
        except TimeoutError:
            pass
        finally:
            self.waiting, self.circuit_wait = False, None
        return not self.runner.abandoned

    def end_circuit_wait(self) -> None:
        """The sink is closing: an open circuit's wait ends now (see ``CircuitBreaker.wait_time``)."""
        if self.circuit_wait is not None:
            self.circuit_wait.reschedule(asyncio.get_running_loop().time())

    def _settle_after_abandon(self, outcome: object, size: int) -> None:
        """The write that was running when a shutdown gave up has ended: count its records now."""
        ledger = self.runner.ledger
        settled = min(size, self.runner.in_flight_at_abandon)
        if outcome is None:
            self.runner.delivered_now(settled)
        elif isinstance(outcome, PermanentSinkError):
            ledger.reject(settled, outcome.reason)
        elif isinstance(outcome, BatchResult):
            refused = sum(1 for index in outcome.rejected if isinstance(index, int) and 0 <= index < size)
            ledger.reject(min(refused, settled), "rejected")
            self.runner.delivered_now(max(0, settled - refused))
        else:
            ledger.fail(settled, "shutdown_timeout")
        self.runner.in_flight_at_abandon = 0


def _span_outcome(outcome: object) -> tuple[str, str | None]:
    """The span's ``outcome`` attribute and reason for what one attempt returned."""
    if outcome is None:
        return "delivered", None
    if isinstance(outcome, BatchResult):
        return "partial", None
    if isinstance(outcome, _Retry):
        return "retryable", outcome.reason
    if isinstance(outcome, BatchTooLargeError):
        return "too_large", outcome.reason
    assert isinstance(outcome, PermanentSinkError)
    return "permanent", outcome.reason
