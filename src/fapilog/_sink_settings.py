"""Delivery settings of a sink: buffer, batching, timeouts, retries, circuit breaker and fallback.

``sink_defaults`` holds them for every sink; a sink's own ``delivery`` table overrides any of them (nested
tables key by key). A sink plugin may declare ``delivery_defaults`` (a mapping of the same keys) with values
that suit its backend; the user's settings still win.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal

from fapilog._constraints import Duration, Range
from fapilog._value_methods import ValueMethods, value_class

__all__ = ["CircuitSettings", "RetrySettings", "SinkDefaults"]


@value_class  # see fapilog._value_methods
class RetrySettings(ValueMethods):
    """How a batch that failed in a retryable way is tried again (sinks with ``write_batch`` only)."""

    max_attempts: Annotated[int, Range(gt=0, le=1_000)] = 5
    """Retries of one batch after its first attempt before it is given up (> 0; 1 means one retry)."""
    initial_backoff: Annotated[float, Range(ge=0, le=86_400)] = 0.1
    """Seconds of the first backoff step; each retry doubles it, and the wait is random up to the step (>= 0)."""
    max_backoff: Annotated[float, Duration] = 10.0
    """Largest backoff step in seconds (> 0)."""
    max_elapsed: Annotated[float, Duration] = 60.0
    """Seconds after its first attempt past which a batch is not retried again (> 0)."""
    max_retry_after: Annotated[float, Range(ge=0, le=86_400)] = 60.0
    """Cap in seconds on a backend's ``Retry-After`` (>= 0)."""


@value_class  # see fapilog._value_methods
class CircuitSettings(ValueMethods):
    """The sink's circuit breaker (sinks with ``write_batch`` only)."""

    failure_threshold: Annotated[int, Range(gt=0, le=1_000_000)] = 5
    """Failed attempts in a row that open the circuit (> 0)."""
    reset_timeout: Annotated[float, Duration] = 30.0
    """Seconds the circuit stays open before one batch probes the backend (> 0)."""


@value_class  # see fapilog._value_methods
class SinkDefaults(ValueMethods):
    """Delivery settings every sink gets unless its own spec overrides them."""

    buffer_capacity: Annotated[int, Range(gt=0, le=100_000_000)] = 10_000
    """Records a sink's own buffer holds (> 0)."""
    buffer_policy: Literal["inherit", "wait", "drop_newest", "drop_oldest"] = "inherit"
    """Full sink buffer: ``inherit`` follows ``queue.policy``; ``wait`` makes the pipeline wait."""
    batch_size: Annotated[int, Range(gt=0, le=1_000_000)] = 1024
    """Most records per ``write_batch`` call (> 0). A sink that keeps up gets what accumulated since its last
    write (often a few records); one that falls behind catches up in batches up to this size."""
    batch_max_bytes: Annotated[int, Range(ge=0, le=1_000_000_000)] = 0
    """Most serialized bytes per batch (a single larger record still goes alone); 0 for no limit."""
    batch_max_age: Annotated[float, Range(ge=0, le=86_400)] = 0.0
    """Seconds a record may wait for a fuller batch before the batch goes anyway; 0 sends at once."""
    write_timeout: Annotated[float, Duration] = 10.0
    """Seconds one write may take before its records count as failed (> 0); a timed-out ``write_batch`` is
    retried."""
    flush_timeout: Annotated[float, Duration] = 5.0
    """Seconds a sink's ``flush()`` may take during a flush (> 0)."""
    retry: RetrySettings = dataclasses.field(default_factory=RetrySettings)
    """Retries with jittered exponential backoff (sinks with ``write_batch``)."""
    circuit: CircuitSettings = dataclasses.field(default_factory=CircuitSettings)
    """The circuit breaker (sinks with ``write_batch``)."""
    fallback: Any = "summary"
    """Where undeliverable records go: ``"summary"`` (a rate-limited count line on stderr, never a record),
    ``"off"``, or a sink spec such as ``{"type": "file", "path": "undelivered.log"}``."""
