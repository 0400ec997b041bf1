"""When to try a failed batch again: jittered exponential backoff, a budget per batch, ``Retry-After`` capped.

Full jitter (a random delay between 0 and the exponential step) spreads the retries of many processes that
failed at the same moment, so a recovering backend is not hit by all of them at once. A backend's own
``Retry-After`` wins over the computed step, but never beyond ``max_retry_after``: a misconfigured server
cannot park a sink for an hour.
"""

from __future__ import annotations

import random
from typing import NamedTuple

__all__ = ["RetryBudget", "RetryPolicy"]


class RetryPolicy(NamedTuple):
    """A sink's retry settings (see ``delivery.retry`` in the configuration reference)."""

    max_attempts: int = 5
    initial_backoff: float = 0.1
    max_backoff: float = 10.0
    max_elapsed: float = 60.0
    max_retry_after: float = 60.0

    def delay(self, retry: int, retry_after: float | None, rand: random.Random) -> float:
        """Seconds before retry number ``retry`` (1 for the first retry)."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        step = min(self.max_backoff, self.initial_backoff * (2 ** min(retry - 1, 30)))
        return rand.uniform(0.0, step)

    def budget(self, now: float) -> RetryBudget:
        """A fresh budget for one batch, starting at ``now`` (monotonic seconds)."""
        return RetryBudget(self, now)


class RetryBudget:
    """What one batch may still spend on retries: attempts and time since its first attempt."""

    __slots__ = ("attempts", "policy", "started")

    def __init__(self, policy: RetryPolicy, now: float) -> None:
        self.policy = policy
        self.started = now
        self.attempts = 0

    def next_delay(self, retry_after: float | None, now: float, rand: random.Random) -> float | None:
        """The wait before the next attempt, or None when the budget is spent (give the batch up)."""
        if self.attempts > self.policy.max_attempts:  # attempts counts failures: the first plus each retry
            return None
        delay = self.policy.delay(self.attempts, retry_after, rand)
        if now + delay - self.started > self.policy.max_elapsed:
            return None
        return delay
