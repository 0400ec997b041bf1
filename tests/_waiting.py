"""Polling for a condition another thread makes true (the worker, a sink's thread), bounded in time."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(predicate: Callable[[], object], seconds: float = 20.0) -> bool:
    """True as soon as ``predicate()`` is true; after ``seconds``, whatever it says then."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())
