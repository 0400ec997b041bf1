"""Recognising events that fapilog's own pipeline logged, so a plugin that logs cannot feed itself forever.

A sink that logs about each write, or an enricher that logs about each event, would otherwise turn one event
into an endless stream (each delivery logs, each log is delivered). The worker binds a reserved key into the
bound context of everything it runs: every task it creates, and every ``asyncio.to_thread`` or executor call
made from them (they copy the context), and the sinks' own I/O threads (started from it). A log call made
there captures that context as usual, so recognising such an event costs the log call nothing: the worker
checks the captured context when it takes the event, and writes the event to stderr instead (rate-limited,
counted as ``reentrant``).

The core's own summaries ("suppressed N similar events") are logged on purpose from the worker; they are
logged inside :func:`outside_pipeline`.
"""

from __future__ import annotations

import contextlib
import operator
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

from fapilog._engine.emit import CONTEXT, NAME
from fapilog._engine.notices import warn
from fapilog._kit.context import _context

__all__ = ["PIPELINE_KEY", "divert_reentrant", "from_pipeline", "mark_pipeline", "outside_pipeline"]

_CONTEXT_OF = operator.itemgetter(CONTEXT)
"""The captured context of a queued event tuple (one C call per event in the common test below)."""

PIPELINE_KEY = "\x00fapilog.pipeline"
"""The reserved context key: never a field name a user could write by accident, and never written out."""


def mark_pipeline() -> None:
    """Mark the current context (the worker's, at start) as fapilog's pipeline."""
    _context.set(MappingProxyType({**_context.get(), PIPELINE_KEY: True}))


def from_pipeline(context: Mapping[str, Any] | None) -> bool:
    """Whether an event with this captured context was logged by code the pipeline runs."""
    return bool(context) and PIPELINE_KEY in context  # type: ignore[operator]


@contextlib.contextmanager
def outside_pipeline() -> Iterator[None]:
    """Log into the pipeline on purpose from plugin code (the core's summaries): use sparingly."""
    current = _context.get()
    token = _context.set(MappingProxyType({k: v for k, v in current.items() if k != PIPELINE_KEY}))
    try:
        yield
    finally:
        _context.reset(token)


def divert_reentrant(items: list[Any], so_far: int) -> tuple[list[Any], int]:
    """The worker's batch without the events plugin code logged, and how many those were: each goes to stderr
    (rate-limited, by logger name only: the message is unredacted and may carry a secret), never back in.
    ``so_far`` is the worker's count before this batch (for the message)."""
    if not any(map(_CONTEXT_OF, items)):  # no event carries a context (the common case): none is reentrant
        return items, 0
    kept = [item for item in items if not (item[CONTEXT] and from_pipeline(item[CONTEXT]))]
    diverted = len(items) - len(kept)
    if not diverted:
        return items, 0
    for item in items:
        if item[CONTEXT] and from_pipeline(item[CONTEXT]):
            so_far += 1
            warn(f"reentrant:{item[NAME]}", f"event logged by plugin code (logger {item[NAME]!r}) not fed back into "
                 f"the pipeline, which could loop; {so_far} so far (stats: dropped.reentrant)", code="FL-LOG-008")
    return kept, diverted
