"""One batch through a sink's ``write_batch``, until it is delivered, refused, or out of retry budget.

The outcome a sink signals (see :mod:`fapilog.plugins.outcomes`) decides what happens next:

- accepted (or partly, with :class:`BatchResult`): counted delivered / rejected; the circuit closes;
- :class:`RetryableSinkError`, a timeout, or any exception the sink did not classify: the same batch is sent
  again after a jittered backoff (or the backend's ``Retry-After``, capped) — and before any later batch, so
  the sink still receives records in order and exactly once; repeated failures open the circuit. A sink that
  sent the batch as several requests may name in the error what was already accepted or refused: those are
  counted now and only the rest is retried;
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
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fapilog._engine.breaker import CircuitBreaker
from fapilog._engine.hooks import cancelled_for_real
from fapilog._engine.line_items import Item
from fapilog._engine.notices import warn
from fapilog._engine.retry import RetryPolicy
from fapilog._registry import tracing
from fapilog.plugins.outcomes import BatchResult, BatchTooLargeError, PermanentSinkError, RetryableSinkError

if TYPE_CHECKING:
    from fapilog._engine.delivery import SinkRunner

__all__ = ["BatchSender"]


class _Retry:
    __slots__ = ("accepted", "reason", "rejected", "retry_after")

    def __init__(self, reason: str, retry_after: float | None, accepted: frozenset[int] = frozenset(),
                 rejected: Mapping[int, str] | None = None) -> None:
        self.reason = reason
        self.retry_after = retry_after
        self.accepted = accepted
        self.rejected = rejected or {}


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

    async def send(self, batch: list[Item]) -> None:
        """Deliver ``batch`` (already taken from the buffer and counted in flight)."""
        runner = self.runner
        ledger = runner.ledger
        parts: deque[list[Item]] = deque([batch])
        budget = self.policy.budget(time.monotonic())
        while parts:
            if not await self._circuit_lets_through():
                return  # given up on by a shutdown: counted there
            part = parts[0]
            outcome = await self._attempt(part, budget.attempts + 1)
            if runner.abandoned:
                self._settle_after_abandon(outcome, len(part))
                return
            if isinstance(outcome, _Retry):
                if await self._settle_part(parts, outcome):
                    continue  # everything the sink had not settled is gone: nothing left to retry
                now = time.monotonic()
                if self.breaker.failed(now):
                    warn(f"circuit-open:{runner.name}", f"sink {runner.name!r} failed {self.breaker.failures} "
                         f"time(s) in a row ({outcome.reason}); circuit open, next probe in "
                         f"{self.breaker.reset_timeout}s (stats: sinks.{runner.name}.circuit)", code="FL-LOG-004")
                budget.attempts += 1
                delay = budget.next_delay(outcome.retry_after, now, self._random)
                if delay is None:
                    undeliverable = [record for left in parts for record in left]
                    ledger.fail(len(undeliverable), outcome.reason)
                    await runner.fallback.take(undeliverable, outcome.reason, retried=budget.attempts - 1)
                    return
                runner.stalled = True
                if not await self._sleep(delay):
                    return
                ledger.retry()
                continue
            parts.popleft()
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
                ledger.reject(len(part), outcome.reason)
                await runner.fallback.take(part, outcome.reason)

    async def _attempt(self, part: list[Item], attempt: int) -> BatchResult | PermanentSinkError | _Retry | None:
        """One ``write_batch`` call under ``write_timeout``, timed (the write histogram, a span when on)."""
        started = time.perf_counter()
        outcome = await self._classified(part)
        took = time.perf_counter() - started
        self.runner.observe_write(took)
        span = tracing.batch_hook
        if span is not None:
            kind, reason = _span_outcome(outcome)
            span(self.runner.name, kind, len(part), attempt, took, reason)
        return outcome

    async def _classified(self, part: list[Item]) -> BatchResult | PermanentSinkError | _Retry | None:
        """One ``write_batch`` call under ``write_timeout``, classified."""
        runner = self.runner
        write_batch = runner.write_batch
        assert write_batch is not None
        runner.writing = len(part)
        try:
            async with asyncio.timeout(runner.write_timeout):
                result: Any = await runner.call(lambda: write_batch(part))
        except PermanentSinkError as exc:
            return exc
        except RetryableSinkError as exc:
            return _Retry(exc.reason, exc.retry_after, exc.accepted, exc.rejected)
        except TimeoutError:
            warn(f"sink-timeout:{runner.name}", f"sink {runner.name!r} did not finish a write within "
                 f"{runner.write_timeout}s; the batch of {len(part)} will be retried", code="FL-LOG-003")
            return _Retry("timeout", None)
        except asyncio.CancelledError:
            if cancelled_for_real():
                raise
            return self._unclassified(asyncio.CancelledError("the sink raised CancelledError"), len(part))
        except BaseException as exc:  # noqa: BLE001 - a sink's failure (even SystemExit) is retried, never fatal
            return self._unclassified(exc, len(part))
        finally:
            runner.writing = 0
        return result if isinstance(result, BatchResult) and result.rejected else None

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
            wait = self.breaker.wait_time(time.monotonic())
            if wait <= 0:
                return True
            self.runner.stalled = True
            if not await self._sleep(wait):
                return False

    async def _sleep(self, seconds: float) -> bool:
        """Back off for ``seconds``; False when a shutdown gave up on the sink meanwhile."""
        self.waiting = True
        try:
            async with asyncio.timeout(seconds):
                await self.wake.wait()
        except TimeoutError:
            pass
        finally:
            self.waiting = False
        return not self.runner.abandoned

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
