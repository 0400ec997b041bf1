"""The capture functions: what a log call runs once its level check passed.

``make_emit`` builds, for one queue, the sync capture (the hot path of ``log.info(...)``: a timestamp, the
context snapshot, one tuple appended) and its awaitable twin for ``await log.ainfo(...)``, which appends the
same tuple the same way while the queue has room and waits for room without blocking the loop when it is
full. Everything the functions touch is held in closure cells.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from typing import Any

from fapilog.core.context import get_context
from fapilog.core.queue import EventQueue

__all__ = ["CaptureHook", "capture_hooks", "make_emit"]


def _never() -> bool:
    return False


CaptureHook = tuple[str, Callable[[], Any]]


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
    """The capture function bound to one queue, with everything it touches held in closure cells.

    Without capture hooks (the usual case) the call site pays for nothing more than the tuple. With them,
    each hook runs on the caller's thread; one that raises records ``None`` and never reaches the caller.
    The function carries its awaitable twin as ``emit.or_wait`` (see :func:`_make_emit_or_wait`).
    """
    emit = _make_sync_emit(queue, hooks)
    emit.or_wait = _make_emit_or_wait(queue, hooks, in_pipeline)  # type: ignore[attr-defined]
    return emit


def _make_emit_or_wait(
    queue: EventQueue, hooks: Sequence[CaptureHook], in_pipeline: Callable[[], bool]
) -> Callable[..., Coroutine[Any, Any, None] | None]:
    """The capture of the awaitable log calls (``await log.ainfo(...)``): the same tuple as the sync capture,
    appended the same way while the queue has room (returning None: nothing to await). Only a full queue
    returns a coroutine, which waits for room without blocking the loop (:meth:`EventQueue.put_or_wait`).
    """
    items = queue.items
    capacity = queue.capacity
    put_or_wait = queue.put_or_wait
    now = time.time_ns
    context = get_context
    frozen = tuple(hooks)

    def emit_or_wait(
        level: int,
        name: str,
        message: Any,
        fields: dict[str, Any],
        bound: Mapping[str, Any] | None,
        exc: BaseException | None,
    ) -> Coroutine[Any, Any, None] | None:
        captured: dict[str, Any] | None = None
        if frozen:
            captured = {}
            for hook_name, hook in frozen:
                try:
                    captured[hook_name] = hook()
                except Exception:  # noqa: BLE001 - a capture hook must never break the caller's log call
                    captured[hook_name] = None
        waiting: Coroutine[Any, Any, None] | None = None
        try:
            item = (now(), level, name, message, fields, context(), bound, exc, captured)
            if len(items) < capacity:
                items.append(item)
            else:
                waiting = put_or_wait(item, level, in_pipeline)
            if queue.sleeping:
                queue.sleeping = False
                queue.wake()
        except Exception:  # noqa: BLE001 - a log call never raises because of the library's own state
            queue.count("internal_error")
        return waiting

    return emit_or_wait


def _make_sync_emit(queue: EventQueue, hooks: Sequence[CaptureHook]) -> Callable[..., None]:
    """The sync capture function (the hot path of every ``log.info(...)``)."""
    items = queue.items
    capacity = queue.capacity
    put_full = queue.put_full
    now = time.time_ns
    context = get_context

    if not hooks:

        def emit(
            level: int,
            name: str,
            message: Any,
            fields: dict[str, Any],
            bound: Mapping[str, Any] | None,
            exc: BaseException | None,
        ) -> None:
            try:
                item = (now(), level, name, message, fields, context(), bound, exc, None)
                if len(items) < capacity:
                    items.append(item)
                else:
                    put_full(item, level)
                if queue.sleeping:
                    queue.sleeping = False
                    queue.wake()
            except Exception:  # noqa: BLE001 - a log call never raises because of the library's own state
                queue.count("internal_error")

        return emit

    frozen = tuple(hooks)

    def emit_capturing(
        level: int,
        name: str,
        message: Any,
        fields: dict[str, Any],
        bound: Mapping[str, Any] | None,
        exc: BaseException | None,
    ) -> None:
        captured: dict[str, Any] = {}
        for hook_name, hook in frozen:
            try:
                captured[hook_name] = hook()
            except Exception:  # noqa: BLE001 - a capture hook must never break the caller's log call
                captured[hook_name] = None
        try:
            item = (now(), level, name, message, fields, context(), bound, exc, captured)
            if len(items) < capacity:
                items.append(item)
            else:
                put_full(item, level)
            if queue.sleeping:
                queue.sleeping = False
                queue.wake()
        except Exception:  # noqa: BLE001 - a log call never raises because of the library's own state
            queue.count("internal_error")

    return emit_capturing
