"""What flush and shutdown report back."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from fapilog._value_methods import ValueMethods, value_class

__all__ = ["FlushResult", "ShutdownReport"]


@value_class  # see fapilog._value_methods
class FlushResult(ValueMethods):
    """What a flush achieved by its deadline. Truthy when every sink confirmed everything before the call."""

    ok: bool
    timed_out: bool = False
    failed_sinks: tuple[str, ...] = ()
    """Sinks that did not confirm in time, whose ``flush()`` failed, or that failed or dropped any event since
    the previous flush (see ``stats()["sinks"]`` for how many and why)."""
    pending: Mapping[str, int] = dataclasses.field(default_factory=dict)
    """At a deadline: records each sink still held (buffered, on their way, or in a write or a retry). They are
    not lost: delivery goes on after the flush returns, and ``stats()`` counts their outcome."""

    def __bool__(self) -> bool:
        return self.ok


@value_class  # see fapilog._value_methods
class ShutdownReport(ValueMethods):
    """What a shutdown could not deliver in time. Truthy when it left nothing behind: no event still queued or in
    a sink's buffer at the deadline, no write still running. Events a sink refused or gave up on before (counted
    in ``stats()["sinks"][name]["failed"]``) and events a policy dropped (``dropped``) do not make it falsy: they
    were counted, and reported on stderr, when they happened."""

    ok: bool
    undelivered: int = 0
    """Events that never reached a sink (left in the queue or in a sink buffer at the deadline)."""
    timed_out: bool = False
    details: Mapping[str, int] = dataclasses.field(default_factory=dict)
    """Where the undelivered events were: ``queue``, ``sink:<name>``."""
    in_flight: int = 0
    """Records in a write that was still running at the deadline: neither delivered nor lost yet (their
    outcome is counted in ``stats()`` when the write ends)."""
    dropped: Mapping[str, int] = dataclasses.field(default_factory=dict)
    """Every event the pipeline dropped during its life, by reason (filters' intentional drops excluded)."""

    def __bool__(self) -> bool:
        return self.ok
