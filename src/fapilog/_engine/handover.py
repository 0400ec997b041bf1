"""Events that reach a pipeline which no longer takes events, on their way to the next pipeline.

A pipeline stops taking events when it shuts down or its worker dies. Callers may still reach it: those
logging while it drains, and callers that read its capture function just before the log calls were routed
elsewhere and append a moment later (a thread can be preempted between the two). Every such event comes
here, through :func:`hand_over`, and is either waiting for the next pipeline, already in that pipeline's
queue, or counted; nothing sits anywhere nobody will look again.

Until a next pipeline exists the events wait in a bounded list; the next pipeline takes them (:func:`adopt`)
ahead of anything logged to it and, until it stops itself (:func:`retire`), receives every later
hand-over straight into its queue, so an event a caller hands over after the adoption is neither stranded
nor overtaken by that caller's next event. After the exit drain an event handed over is a late event
(:mod:`fapilog._engine.late`). One lock orders all of this; only callers that reach a stopped pipeline take it,
never the log call of a running one.
"""

from __future__ import annotations

import collections
import threading
from typing import TYPE_CHECKING, Any

from fapilog._engine import late
from fapilog._engine.queue import EventQueue, FlushMarker

if TYPE_CHECKING:
    from fapilog._engine.runtime import Runtime

__all__ = ["LIMIT", "adopt", "after_fork_in_child", "finish_at_exit", "hand_over", "pass_on", "retire", "waiting"]

LIMIT = 100_000
"""Events that may wait for a next pipeline; beyond it they are counted (``after_shutdown``)."""

_lock = threading.Lock()
_waiting: collections.deque[Any] = collections.deque()
"""Captured events (and flush markers behind them) waiting for the next pipeline, in the order logged."""
_overflow = 0
"""Events that found the waiting list full, not yet reported by a pipeline."""
_adopter: Runtime | None = None
"""The running pipeline that took the waiting events: later hand-overs go straight to its queue."""
_after_exit = False
"""Set once the exit drain ended: an event handed over from then on is written as a late event."""
_AFTER_EXIT = "<the exit drain ended: no pipeline is left to deliver the events before this flush>"


def hand_over(item: Any) -> None:
    """Keep ``item`` (a captured event) for the next pipeline, give it to that pipeline, or count it.

    Beyond :data:`LIMIT` waiting events it is counted instead, and the next pipeline reports the count as
    ``after_shutdown`` drops (in its stats, its shutdown report and the exit message): the pipeline that
    stopped has already reported, so a count kept there would never be seen. A flush marker (from a worker
    that died holding it) travels the same way, behind the events before it, so the next worker settles it.
    """
    global _overflow
    marker = isinstance(item, FlushMarker)
    with _lock:
        adopter = _adopter
        if adopter is not None and not adopter.queue.sealed:
            _append(adopter.queue, [item])
            return
        if not _after_exit:
            if len(_waiting) >= LIMIT and not marker:
                _overflow += 1
            else:
                _waiting.append(item)
            return
    if marker:
        item.fail(_AFTER_EXIT)
        return
    late.emit_captured(item)  # outside the lock: it writes to stderr


def adopt(runtime: Runtime, stopped: Runtime | None) -> None:
    """Give ``runtime`` the events waiting for a pipeline, and every later hand-over until :func:`retire`.

    ``stopped`` is the pipeline stopped last: events still in its queue (appended after its last sweep, which
    only a shutdown that timed out leaves behind) were logged before the waiting ones.
    """
    global _overflow, _adopter
    with _lock:
        overflow, _overflow = _overflow, 0
        if overflow:
            runtime.queue.count("after_shutdown", overflow)
        taken: list[Any] = []
        if stopped is not None and stopped.queue.items:
            taken += [item for item in stopped.queue.take_all() if not isinstance(item, FlushMarker)]
        taken += _waiting
        _waiting.clear()
        _append(runtime.queue, taken)
        _adopter = runtime


def retire(runtime: Runtime) -> None:
    """``runtime`` stops taking events: hand-overs wait for the next pipeline again (call before it drains)."""
    global _adopter
    with _lock:
        if _adopter is runtime:
            _adopter = None


def waiting() -> bool:
    """Whether events (or a count of events) wait for a pipeline."""
    return bool(_waiting or _overflow)


def finish_at_exit() -> int:
    """The exit drain ended: how many events were waiting (they will not be delivered); later ones are late."""
    global _after_exit, _adopter
    with _lock:
        _after_exit = True
        _adopter = None
        left = list(_waiting)
        _waiting.clear()
    markers = [item for item in left if isinstance(item, FlushMarker)]
    for marker in markers:
        marker.fail(_AFTER_EXIT)
    return len(left) - len(markers)


def _append(queue: EventQueue, items: list[Any]) -> None:
    """Put ``items`` on a running pipeline's queue (past its capacity: they were admitted long ago)."""
    if not items:
        return
    queue.append_admitted(items)


def after_fork_in_child() -> None:
    """The parent delivers and reports what waited; a parent's thread may have held the lock at the fork."""
    global _lock, _overflow, _adopter
    _lock = threading.Lock()
    _waiting.clear()
    _overflow = 0
    _adopter = None


def pass_on(queue: EventQueue, taken: list[Any], *, delivered: bool) -> None:
    """What callers racing the close queued: after a full delivery, on to the next pipeline in order (a flush
    with no event before it answered at once); else each flush fails (the events were counted undelivered)."""
    events = False
    for item in taken:
        marker = isinstance(item, FlushMarker)
        if marker:
            queue.take_marker()
        if not delivered:
            if marker:
                item.fail("<the shutdown's deadline passed before this flush was reached>")
        elif marker and not events:
            item.expect(0)
        else:
            events = events or not marker
            queue.hand_over(item)  # a marker behind events too: the next pipeline answers it after them
