"""The capture functions: what a log call runs once its level check passed, and the event they capture.

A captured event is laid out as ``captured_event.CapturedEvent`` says. The hot path builds that layout as a plain tuple
display (a tuple display costs ~40 ns here, the named tuple's constructor ~400 ns), so the worker reads events
by unpacking or by the index constants below, never by name. :func:`capture_event` builds it for a log call
made now where speed does not matter (late events, ``fapilog.testing``).

``make_emit`` builds, for one queue, the sync capture (the hot path of ``log.info(...)``: a timestamp, the
context snapshot, one tuple appended; without capture hooks the level methods inline that much and call it
only for a full queue or an exception, see ``emit.appends_to``) and its awaitable twin for
``await log.ainfo(...)``. Both are the same function (:func:`_make_capture`) with another answer to a full
queue: the sync one applies the policy (``put_full``), the awaitable one returns a coroutine that waits for room
without blocking the loop (``put_or_wait``). Everything the function touches is held in closure cells.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from fapilog._engine.queue import EventQueue
from fapilog._kit.context import get_context

if TYPE_CHECKING:
    from fapilog._engine.captured_event import CapturedEvent

__all__ = ["CaptureHook", "capture_event", "capture_hooks", "make_counting_emit", "make_emit"]


TS_NS, LEVEL, NAME, MESSAGE, FIELDS, CONTEXT, BOUND, EXC, CAPTURED = range(9)
"""Where each part of a captured event is (``captured_event.CapturedEvent`` names them in this order)."""

CaptureHook = tuple[str, Callable[[], Any]]
Waiting = Coroutine[Any, Any, None] | None
"""What a capture returns: None once the event is placed (or counted), else what to await for room."""


def capture_event(
    level: int, name: str, message: Any, fields: dict[str, Any] | None, bound: Mapping[str, Any] | None = None,
    exc: BaseException | None = None, captured: dict[str, Any] | None = None,
) -> CapturedEvent:
    """The captured event of a log call made now, on this thread (its context)."""
    from fapilog._engine.captured_event import CapturedEvent

    return CapturedEvent(time.time_ns(), level, name, message, fields, get_context(), bound, exc, captured)


def _never() -> bool:
    return False


def capture_hooks(stages: Iterable[Any]) -> list[CaptureHook]:
    """Enrichers that must see the caller's thread (``capture()``, e.g. the active trace span)."""
    hooks: list[CaptureHook] = []
    for stage in stages:
        capture = getattr(stage.obj, "capture", None)
        if stage.kind == "enricher" and callable(capture) and getattr(stage.obj, "capture_enabled", True):
            hooks.append((stage.name, capture))
    return hooks


def make_emit(
    queue: EventQueue, hooks: Sequence[CaptureHook] = (), *, in_pipeline: Callable[[], bool] = _never
) -> Callable[..., None]:
    """The capture function bound to one queue, carrying its awaitable twin as ``emit.or_wait``.

    Without capture hooks (the usual case) the call site pays for nothing more than the tuple. With them,
    each hook runs on the caller's thread; one that raises records ``None`` and never reaches the caller.
    The awaitable twin appends the same tuple the same way while the queue has room (returning None: nothing
    to await); only a full queue makes it return a coroutine (:meth:`EventQueue.put_or_wait`; code the
    pipeline runs, ``in_pipeline()``, gets the sync behaviour).
    """
    put_or_wait = queue.put_or_wait

    def wait_for_room(item: tuple[Any, ...], level: int) -> Waiting:
        return put_or_wait(item, level, in_pipeline)

    emit = _with_hooks(_make_capture(queue, queue.put_full), hooks)
    emit.or_wait = _with_hooks(_make_capture(queue, wait_for_room), hooks)  # type: ignore[attr-defined]
    # Without hooks the capture only appends the tuple while there is room: a level method may do it itself,
    # with the capture's own clock (``emit.clock``, read from ``time`` when the capture was made).
    emit.appends_to = None if hooks else queue  # type: ignore[attr-defined]
    return cast(Callable[..., None], emit)  # the sync capture's put_full returns None: never anything to await


def make_counting_emit(queue: EventQueue, reason: str) -> Callable[..., None]:
    """A capture function (and its awaitable twin) that only counts each event as dropped for ``reason``.

    For a queue nobody will ever drain: the log call returns at once instead of filling it and then waiting
    for room that never comes. Nothing is captured (no timestamp, no context): the event is gone either way.
    """
    count = queue.count

    def counting(*args: Any) -> None:
        count(reason)  # a dict update under the queue's lock: nothing here can fail

    counting.or_wait = counting  # type: ignore[attr-defined]  # None: never anything to await
    return counting


def _make_capture(queue: EventQueue, on_full: Callable[[tuple[Any, ...], int], Waiting]) -> Callable[..., Waiting]:
    """The capture for one queue; ``on_full`` answers an event that found it full."""
    items = queue.items
    capacity = queue.capacity
    now = time.time_ns
    context = get_context

    def emit(
        level: int, name: str, message: Any, fields: dict[str, Any], bound: Mapping[str, Any] | None,
        exc: BaseException | None, captured: dict[str, Any] | None = None,
    ) -> Waiting:
        waiting: Waiting = None
        try:
            # CapturedEvent's layout as a plain tuple: its constructor would cost every log call ~10 times more.
            item = (now(), level, name, message, fields, context(), bound, exc, captured)
            if len(items) < capacity:
                items.append(item)
            else:
                waiting = on_full(item, level)
            if queue.sleeping:
                queue.sleeping = False
                queue.wake()
        except Exception:  # noqa: BLE001 - a log call never raises because of the library's own state
            queue.count("internal_error")
        return waiting

    emit.clock = now  # type: ignore[attr-defined]
    return emit


def _with_hooks(emit: Callable[..., Waiting], hooks: Sequence[CaptureHook]) -> Callable[..., Waiting]:
    """``emit`` itself without capture hooks; with them, a capture that runs each hook first, on this thread."""
    if not hooks:
        return emit
    frozen = tuple(hooks)

    def emit_capturing(
        level: int, name: str, message: Any, fields: dict[str, Any], bound: Mapping[str, Any] | None,
        exc: BaseException | None,
    ) -> Waiting:
        captured: dict[str, Any] = {}
        for hook_name, hook in frozen:
            try:
                captured[hook_name] = hook()
            except Exception:  # noqa: BLE001 - a capture hook must never break the caller's log call
                captured[hook_name] = None
        return emit(level, name, message, fields, bound, exc, captured)

    return emit_capturing
