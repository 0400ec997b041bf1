"""The logger handle: the hot path of every log call.

A :class:`Logger` is a thin handle: its name, a cached numeric threshold, and the fields bound to it. A
disabled call is one attribute load and an integer compare. An enabled call captures a nanosecond timestamp
and the context snapshot and appends one tuple to the queue: the level, name, message, the call's own
``**fields`` dict (built by Python for the call anyway, so never copied), the bound fields and any exception.
The level methods do that themselves while the queue has room and nothing else is to be done (``_direct``:
no capture hooks, no exception); everything else goes through ``_emit``, the runtime's capture function,
which also applies the full queue's policy. Formatting, serialization and I/O all happen later, on the worker.

Handles follow the latest :func:`fapilog.configure` / :func:`fapilog.set_level`: the runtime recomputes every
live handle's threshold when levels change, so ``log = get_logger(__name__)`` at module level is safe.
"""

from __future__ import annotations

import sys
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeAlias

from fapilog._kit.context import get_context as _context
from fapilog._kit.levels import CRITICAL, DEBUG, ERROR, INFO, WARNING, parse_level

__all__ = ["ExcInfo", "Logger"]

ExcInfo: TypeAlias = (
    "bool | BaseException | tuple[type[BaseException], BaseException, TracebackType | None]"
    " | tuple[None, None, None] | None"
)
Emit = Callable[[int, str, Any, dict[str, Any], Mapping[str, Any] | None, BaseException | None], None]


def _unset_emit(*args: Any) -> None:
    raise RuntimeError("fapilog runtime not initialised")  # replaced when fapilog._engine.state is imported (route())


_emit: Emit = _unset_emit
"""Set by the runtime: appends a captured event to the current queue (or starts the runtime first)."""
_direct: Any = None
"""The queue ``_emit`` appends to when it does nothing else (no capture hooks), else None: the level methods then
append to it themselves while it has room, saving the log call a function call (``make_emit`` sets
``emit.appends_to``). Read once per call, like ``_emit``: a call that read it just before a re-route appends where
a call that had fetched the previous ``_emit`` would have."""
_now = time.time_ns
"""The clock the level methods stamp events with: the capture function's (set with ``_direct``)."""

_children: weakref.WeakSet[Logger] = weakref.WeakSet()
_named: dict[str, Logger] = {}
_threshold_for: Callable[[str], int] = lambda name: INFO  # noqa: E731 - replaced by the runtime


EmitOrWait = Callable[
    [int, str, Any, dict[str, Any], Mapping[str, Any] | None, BaseException | None], Awaitable[None] | None
]
_emit_or_wait: EmitOrWait = _unset_emit
"""The awaitable calls' capture: None when the event is placed, else what to await for room. Set with _emit."""


def route(emit: Emit) -> None:
    """Send every log call to ``emit``: the sync calls to it, the awaitable ones to its twin ``emit.or_wait``.

    The pipeline's capture functions carry that twin; the others (a capture block of ``fapilog.testing``, a
    pipeline closing its intake) never wait, so their sync form is the whole awaitable call.
    """
    global _direct, _emit, _emit_or_wait, _now
    or_wait: EmitOrWait | None = getattr(emit, "or_wait", None)
    _direct = None  # never the previous queue with the next capture
    _emit_or_wait = or_wait if or_wait is not None else _never_waits(emit)
    _emit = emit
    _now = getattr(emit, "clock", time.time_ns)
    _direct = getattr(emit, "appends_to", None)


def _never_waits(emit: Emit) -> EmitOrWait:
    def emit_now(
        level: int, name: str, msg: Any, fields: dict[str, Any], bound: Mapping[str, Any] | None,
        exc: BaseException | None,
    ) -> None:
        emit(level, name, msg, fields, bound, exc)

    return emit_now


def _exception(exc_info: ExcInfo) -> BaseException | None:
    if exc_info is None or exc_info is False:
        return None
    if exc_info is True:
        return sys.exc_info()[1]
    if isinstance(exc_info, BaseException):
        return exc_info
    if isinstance(exc_info, tuple) and len(exc_info) > 1 and isinstance(exc_info[1], BaseException):
        return exc_info[1]
    return None  # anything else (an empty or malformed tuple): no exception, never an error in the log call


def _woken(queue: Any) -> None:
    """A level method placed an event while the worker said it sleeps: wake it (as the capture would)."""
    queue.sleeping = False
    queue.wake()


def _level_method(level: int, name: str, doc: str) -> Callable[..., None]:
    """``Logger.<name>``: the threshold test, then the capture, inline while nothing else is to be done (no
    exception, and ``_direct`` set: no capture hooks) and the queue has room, else through ``_emit``."""

    def method(self: Logger, msg: Any, /, *, exc_info: ExcInfo = None, **fields: Any) -> None:
        if self._threshold > level:
            return
        if exc_info is None and (queue := _direct) is not None:
            try:
                items = queue.items
                if len(items) < queue.capacity:
                    items.append((_now(), level, self.name, msg, fields, _context(), self._bound, None, None))
                    if queue.sleeping:
                        _woken(queue)
                    return
            except Exception:  # noqa: BLE001 - a log call never raises because of the library's own state
                queue.count("internal_error")
                return
        _emit(level, self.name, msg, fields, self._bound, _exception(exc_info) if exc_info is not None else None)

    method.__name__, method.__qualname__, method.__doc__ = name, f"Logger.{name}", doc
    return method


class Logger:
    """A named handle; create with :func:`fapilog.get_logger`. Methods work from sync and async code alike.

    >>> log = fapilog.get_logger(__name__)
    >>> log.info("user login", user_id=7)
    >>> log.bind(tenant="acme").warning("quota near limit", used=0.93)
    >>> await log.ainfo("order placed", order_id=42)  # in a coroutine: waits for room instead of dropping
    """

    __slots__ = ("__weakref__", "_bound", "_threshold", "name")

    def __init__(self, name: str, bound: Mapping[str, Any] | None = None, *, threshold: int | None = None) -> None:
        self.name = name
        self._bound = bound
        self._threshold = _threshold_for(name) if threshold is None else threshold

    def __repr__(self) -> str:
        return f"<fapilog.Logger {self.name!r} threshold={self._threshold}>"

    # The five sync level methods are one function (see _level_method), made once per level; the signatures
    # are spelled out for type checkers.
    if TYPE_CHECKING:
        def debug(self, msg: Any, /, *, exc_info: ExcInfo = None, **fields: Any) -> None: ...
        def info(self, msg: Any, /, *, exc_info: ExcInfo = None, **fields: Any) -> None: ...
        def warning(self, msg: Any, /, *, exc_info: ExcInfo = None, **fields: Any) -> None: ...
        def error(self, msg: Any, /, *, exc_info: ExcInfo = None, **fields: Any) -> None: ...
        def critical(self, msg: Any, /, *, exc_info: ExcInfo = None, **fields: Any) -> None: ...
    else:
        debug = _level_method(DEBUG, "debug", "Log ``msg`` at DEBUG with ``fields``.")
        info = _level_method(INFO, "info", "Log ``msg`` at INFO with ``fields``.")
        warning = _level_method(WARNING, "warning", "Log ``msg`` at WARNING with ``fields``.")
        error = _level_method(
            ERROR, "error", "Log ``msg`` at ERROR with ``fields``; ``exc_info=True`` adds the exception being handled.")
        critical = _level_method(CRITICAL, "critical", "Log ``msg`` at CRITICAL with ``fields``.")

    warn = warning

    def exception(self, msg: Any, /, *, exc_info: ExcInfo = True, **fields: Any) -> None:
        """Log ``msg`` at ERROR with the exception being handled as a structured ``exception`` field."""
        if self._threshold > ERROR:
            return
        _emit(ERROR, self.name, msg, fields, self._bound, _exception(exc_info))

    def log(self, level: int | str, msg: Any, /, *, exc_info: ExcInfo = None, **fields: Any) -> None:
        """Log at a level given by number or name (``"warning"``); an unknown name raises ConfigError."""
        number = level if type(level) is int else parse_level(level)
        if self._threshold > number:
            return
        _emit(number, self.name, msg, fields, self._bound, _exception(exc_info) if exc_info is not None else None)

    async def adebug(self, msg: Any, /, *, exc_info: ExcInfo = None, **fields: Any) -> None:
        """:meth:`debug`, awaiting room in a full queue instead of dropping, without blocking the loop."""
        if self._threshold > DEBUG:
            return
        exc = _exception(exc_info) if exc_info is not None else None
        waiting = _emit_or_wait(DEBUG, self.name, msg, fields, self._bound, exc)
        if waiting is not None:
            await waiting

    async def ainfo(self, msg: Any, /, *, exc_info: ExcInfo = None, **fields: Any) -> None:
        """:meth:`info`, awaiting room in a full queue instead of dropping, without blocking the loop."""
        if self._threshold > INFO:
            return
        exc = _exception(exc_info) if exc_info is not None else None
        waiting = _emit_or_wait(INFO, self.name, msg, fields, self._bound, exc)
        if waiting is not None:
            await waiting

    async def awarning(self, msg: Any, /, *, exc_info: ExcInfo = None, **fields: Any) -> None:
        """:meth:`warning`, awaiting room in a full queue instead of dropping, without blocking the loop."""
        if self._threshold > WARNING:
            return
        exc = _exception(exc_info) if exc_info is not None else None
        waiting = _emit_or_wait(WARNING, self.name, msg, fields, self._bound, exc)
        if waiting is not None:
            await waiting

    awarn = awarning

    async def aerror(self, msg: Any, /, *, exc_info: ExcInfo = None, **fields: Any) -> None:
        """:meth:`error`, awaiting room in a full queue instead of dropping, without blocking the loop."""
        if self._threshold > ERROR:
            return
        exc = _exception(exc_info) if exc_info is not None else None
        waiting = _emit_or_wait(ERROR, self.name, msg, fields, self._bound, exc)
        if waiting is not None:
            await waiting

    async def acritical(self, msg: Any, /, *, exc_info: ExcInfo = None, **fields: Any) -> None:
        """:meth:`critical`, awaiting room in a full queue instead of dropping, without blocking the loop."""
        if self._threshold > CRITICAL:
            return
        exc = _exception(exc_info) if exc_info is not None else None
        waiting = _emit_or_wait(CRITICAL, self.name, msg, fields, self._bound, exc)
        if waiting is not None:
            await waiting

    async def aexception(self, msg: Any, /, *, exc_info: ExcInfo = True, **fields: Any) -> None:
        """:meth:`exception`, awaiting room in a full queue instead of dropping, without blocking the loop."""
        if self._threshold > ERROR:
            return
        waiting = _emit_or_wait(ERROR, self.name, msg, fields, self._bound, _exception(exc_info))
        if waiting is not None:
            await waiting

    async def alog(self, level: int | str, msg: Any, /, *, exc_info: ExcInfo = None, **fields: Any) -> None:
        """The awaitable log call: :meth:`log`, except that a full queue under the ``wait`` policy makes it
        wait for room (up to ``queue.wait_timeout``) without blocking the event loop, where the sync call on a
        loop thread must drop. With room it appends exactly like the sync call and does not suspend.

        >>> await log.alog("info", "order placed", order_id=42)
        >>> await log.ainfo("order placed", order_id=42)  # the same, per level
        """
        number = level if type(level) is int else parse_level(level)
        if self._threshold > number:
            return
        exc = _exception(exc_info) if exc_info is not None else None
        waiting = _emit_or_wait(number, self.name, msg, fields, self._bound, exc)
        if waiting is not None:
            await waiting

    def is_enabled_for(self, level: int | str) -> bool:
        """Whether a call at ``level`` would be recorded (to skip building expensive fields)."""
        return (level if type(level) is int else parse_level(level)) >= self._threshold

    def bind(self, **fields: Any) -> Logger:
        """A child handle whose every event carries ``fields`` (call fields win over bound ones)."""
        merged = {**self._bound, **fields} if self._bound else fields
        child = Logger(self.name, merged, threshold=self._threshold)
        _children.add(child)
        return child

    def unbind(self, *names: str) -> Logger:
        """A child handle without the bound ``names``."""
        remaining = {k: v for k, v in (self._bound or {}).items() if k not in names}
        child = Logger(self.name, remaining or None, threshold=self._threshold)
        _children.add(child)
        return child

    @property
    def bound(self) -> Mapping[str, Any]:
        """The fields bound to this handle."""
        return dict(self._bound or {})

    @property
    def level(self) -> int:
        """The effective threshold of this handle."""
        return self._threshold


def get_logger(name: str | None = None) -> Logger:
    """The handle for ``name`` (the root ``"root"`` when omitted); the same object for the same name."""
    key = name or "root"
    logger = _named.get(key)
    if logger is None:
        logger = _named.setdefault(key, Logger(key))
    return logger


def refresh_thresholds() -> None:
    """Recompute every live handle's threshold (after configure or set_level)."""
    for logger in list(_named.values()):
        logger._threshold = _threshold_for(logger.name)
    for child in list(_children):
        child._threshold = _threshold_for(child.name)
