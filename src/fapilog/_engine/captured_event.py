"""The layout of a captured event, by name: what a log call hands to the worker.

The log call builds it as a plain tuple display and the worker reads it by the index constants of
:mod:`fapilog._engine.emit` (``TS_NS`` ... ``CAPTURED``); this named form is for the code where speed does not
matter (late events, ``fapilog.testing``, tests and benchmarks), and is imported only there: creating a named
tuple class costs a quarter of a millisecond of every process's start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

__all__ = ["CapturedEvent"]


class CapturedEvent(NamedTuple):
    """What a log call hands to the worker, in this order (the one definition of the layout)."""

    ts_ns: int
    """The capture time, ``time.time_ns()``."""
    level: int
    name: str
    """The logger's name."""
    message: Any
    fields: dict[str, Any] | None
    """The call's own ``**fields`` dict (never copied)."""
    context: Mapping[str, Any] | None
    """The context snapshot of the calling task or thread."""
    bound: Mapping[str, Any] | None
    """The handle's bound fields."""
    exc: BaseException | None
    captured: dict[str, Any] | None
    """The values call-site capture hooks took, by enricher name (None when none ran)."""
