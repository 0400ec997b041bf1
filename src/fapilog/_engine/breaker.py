"""A circuit breaker per sink: stop hammering a backend that keeps failing, probe it with one batch.

``closed``: batches go out normally. After ``failure_threshold`` failed attempts in a row the circuit
``open``\\s: nothing is sent for ``reset_timeout`` seconds (the sink's buffer fills under its own policy;
other sinks and the application are unaffected). Then it is ``half_open``: the next batch is the probe; its
success closes the circuit, its failure opens it again for another ``reset_timeout``.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["CircuitBreaker", "CircuitState"]

CircuitState = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """The state machine only; the runner asks it when it may send and tells it how each attempt went."""

    __slots__ = ("failure_threshold", "failures", "opened", "opened_at", "reset_timeout", "state")

    def __init__(self, failure_threshold: int, reset_timeout: float) -> None:
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self.state: CircuitState = "closed"
        self.failures = 0
        self.opened_at = 0.0
        self.opened = 0
        """How many times the circuit opened (a closed → open or half_open → open transition)."""

    def wait_time(self, now: float, *, closing: bool = False) -> float:
        """Seconds until a batch may be sent (0 when it may go now); moves open → half_open when due.

        ``closing``: the sink is draining for a shutdown or the exit, whose deadline is usually shorter than
        ``reset_timeout``; waiting it out would only lose the batch, so it goes now as the probe (the retry
        backoff still paces the attempts, the retry budget still ends them)."""
        if self.state != "open":
            return 0.0
        left = self.opened_at + self.reset_timeout - now
        if left <= 0 or closing:
            self.state = "half_open"
            return 0.0
        return left

    def succeeded(self) -> None:
        """An attempt reached the backend and was accepted (even partly): close."""
        self.state = "closed"
        self.failures = 0

    def failed(self, now: float) -> bool:
        """An attempt failed in a retryable way; returns True when this opened the circuit."""
        self.failures += 1
        if self.state == "half_open" or (self.state == "closed" and self.failures >= self.failure_threshold):
            self.state = "open"
            self.opened_at = now
            self.opened += 1
            return True
        return False
