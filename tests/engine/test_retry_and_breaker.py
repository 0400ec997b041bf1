"""The pieces of network delivery on their own: Retry-After parsing, backoff and budget, the breaker."""

from __future__ import annotations

import random

from fapilog._engine.breaker import CircuitBreaker
from fapilog._engine.retry import RetryPolicy
from fapilog.plugins import RetryableSinkError, parse_retry_after


def test_retry_after_accepts_seconds_and_http_dates_and_ignores_garbage() -> None:
    """Retry-After as delta-seconds or an HTTP date becomes seconds; anything else is None."""
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0  # already past
    assert [parse_retry_after(v) for v in (None, "", "soon", "-3", "1.5")] == [None] * 5


def test_backoff_is_jittered_below_a_doubling_step_capped_and_retry_after_is_capped() -> None:
    """Each wait is random in [0, min(cap, initial * 2**(retry-1))]; Retry-After wins, up to its cap."""
    policy = RetryPolicy(initial_backoff=0.1, max_backoff=1.0, max_retry_after=30.0)
    rand = random.Random(7)
    for retry, step in ((1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (5, 1.0), (40, 1.0)):
        waits = [policy.delay(retry, None, rand) for _ in range(200)]
        assert all(0.0 <= w <= step for w in waits) and max(waits) > step / 2
    assert policy.delay(1, 5.0, rand) == 5.0 and policy.delay(1, 3600.0, rand) == 30.0


def test_the_budget_ends_after_max_attempts_or_max_elapsed() -> None:
    """A batch's budget is spent by its attempts or by the time since its first attempt."""
    rand = random.Random(1)
    budget = RetryPolicy(max_attempts=2, max_elapsed=100.0).budget(now=0.0)
    budget.attempts = 2
    assert budget.next_delay(None, 1.0, rand) is not None
    budget.attempts = 3
    assert budget.next_delay(None, 1.0, rand) is None
    timed = RetryPolicy(max_elapsed=10.0, max_retry_after=60.0).budget(now=0.0)
    timed.attempts = 1
    assert timed.next_delay(None, 9.0, rand) is not None and timed.next_delay(5.0, 9.0, rand) is None


def test_the_breaker_opens_after_the_threshold_probes_once_and_closes_on_success() -> None:
    """closed → open after N failures in a row; half_open after reset_timeout; a failed probe reopens it."""
    breaker = CircuitBreaker(failure_threshold=3, reset_timeout=10.0)
    assert not breaker.failed(0.0) and not breaker.failed(0.0) and breaker.failed(1.0)
    assert breaker.state == "open" and breaker.wait_time(5.0) == 6.0
    assert breaker.wait_time(11.0) == 0.0 and breaker.state == "half_open"
    assert breaker.failed(11.5) and breaker.state == "open" and breaker.wait_time(12.0) == 9.5
    assert breaker.wait_time(21.5) == 0.0
    breaker.succeeded()
    assert breaker.state == "closed" and breaker.failures == 0 and breaker.opened == 2


def test_a_nonsense_retry_after_on_the_error_is_ignored() -> None:
    """RetryableSinkError drops a negative or non-finite retry_after instead of waiting on it."""
    assert RetryableSinkError("x", retry_after=-1).retry_after is None
    assert RetryableSinkError("x", retry_after=float("inf")).retry_after is None
    assert RetryableSinkError("x", retry_after=2).retry_after == 2
    assert RetryableSinkError().reason == "RetryableSinkError"
