"""A shutdown past its deadline: what never reached a sink is counted as failed, even if the loop is stuck."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fapilog._engine.worker import PipelineWorker

__all__ = ["give_up"]

_GIVE_UP_GRACE = 0.05
"""Seconds a shutdown past its deadline waits for the worker's loop to count what it abandons."""


def give_up(worker: PipelineWorker) -> tuple[dict[str, int], int]:
    """The deadline passed: count what never reached a sink as failed, even if the loop itself is stuck.

    Returns the undelivered counts by place and how many records were in a write whose outcome is unknown.
    """
    details: dict[str, int] = {}
    in_flight = [0]
    done = threading.Event()

    def abandon() -> None:
        for runner in worker.sinks:
            lost = runner.abandon("shutdown_timeout")
            if lost:
                details[f"sink:{runner.name}"] = lost
            in_flight[0] += runner.in_flight_at_abandon
        done.set()

    loop = worker.loop
    try:
        if loop is not None:
            loop.call_soon_threadsafe(abandon)
    except RuntimeError:
        pass  # the loop closed just now: the counts below are final
    if not done.wait(_GIVE_UP_GRACE):  # the loop itself is blocked (a sink blocking in sync code)
        for runner in worker.sinks:
            stuck = runner.abandon("shutdown_timeout", from_outside=True)
            in_flight[0] += runner.in_flight_at_abandon
            if stuck:
                details[f"sink:{runner.name}"] = stuck
    return details, in_flight[0]
