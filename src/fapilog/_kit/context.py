"""Bound context: fields that ride along with every event logged in the current task or thread.

The context is an immutable mapping held in a :class:`contextvars.ContextVar`. Binding builds a new mapping
and sets it, so capture on the hot path is a single ``get()`` and never a copy, and asyncio tasks inherit the
context of the code that created them. Threads and executors do not inherit contextvars; use
:func:`context_wrap` (or :func:`copy_context`) to carry it across.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any, ParamSpec, TypeVar

__all__ = [
    "bind",
    "clear_context",
    "context_wrap",
    "copy_context",
    "current_context",
    "scoped",
    "unbind",
]

P = ParamSpec("P")
R = TypeVar("R")

EMPTY: Mapping[str, Any] = MappingProxyType({})
_context: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar("fapilog_context", default=EMPTY)

get_context = _context.get
"""The hot path's capture: one C call returning the current immutable mapping."""


def current_context() -> Mapping[str, Any]:
    """The fields bound in the current context (read-only)."""
    return _context.get()


def bind(**fields: Any) -> contextvars.Token[Mapping[str, Any]]:
    """Add ``fields`` to the current context; returns a token for :func:`contextvars.ContextVar.reset`."""
    merged = {**_context.get(), **fields}
    return _context.set(MappingProxyType(merged))


def unbind(*names: str) -> None:
    """Remove ``names`` from the current context (names that are not bound are ignored)."""
    current = _context.get()
    if any(name in current for name in names):
        _context.set(MappingProxyType({k: v for k, v in current.items() if k not in names}))


def clear_context() -> None:
    """Remove every bound field from the current context."""
    _context.set(EMPTY)


@contextmanager
def scoped(**fields: Any) -> Iterator[Mapping[str, Any]]:
    """Bind ``fields`` for the duration of a ``with`` block, restoring the previous context on exit.

    >>> with scoped(request_id="r-1"):
    ...     log.info("handled")          # carries request_id="r-1"
    """
    token = bind(**fields)
    try:
        yield _context.get()
    finally:
        _context.reset(token)


def copy_context() -> contextvars.Context:
    """A snapshot of the current context (bound fields included) to run code in elsewhere."""
    return contextvars.copy_context()


def context_wrap(fn: Callable[P, R]) -> Callable[P, R]:
    """Wrap ``fn`` so it runs with the bound context of *this* moment, in whatever thread calls it.

    >>> executor.submit(context_wrap(work), item)
    >>> threading.Thread(target=context_wrap(work)).start()
    """
    snapshot = contextvars.copy_context()

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        # A Context may be entered by one thread at a time; copying keeps the wrapper reusable and thread-safe.
        return snapshot.copy().run(fn, *args, **kwargs)

    return run
