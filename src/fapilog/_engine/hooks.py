"""Calling plugins' optional methods safely: a failure is returned to be counted, never raised into the worker."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Literal

from fapilog.errors import PluginError

__all__ = ["call_hook", "cancelled_for_real", "start_plugin", "stop_plugin"]


def cancelled_for_real() -> bool:
    """Whether the running task is being cancelled (by fapilog: a timeout or a shutdown).

    A plugin that *raises* ``CancelledError`` (or ``SystemExit``, ``KeyboardInterrupt``) on its own is a failing
    plugin like any other: counted against its name while the worker goes on. Only a cancellation of the task
    itself must propagate.
    """
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def call_hook(obj: object, method: str) -> BaseException | None:
    """Call an optional method (sync or async) of ``obj``; returns its exception instead of raising it."""
    hook: Callable[[], Awaitable[None] | None] | None = getattr(obj, method, None)
    if hook is None:
        return None
    try:
        result = hook()
        if inspect.isawaitable(result):
            await result
    except asyncio.CancelledError as exc:
        if cancelled_for_real():
            raise
        return exc
    except BaseException as exc:  # noqa: BLE001 - returned to the caller, who attributes and reports it
        return exc
    return None


async def start_plugin(obj: object) -> BaseException | None:
    """``start()`` through the registry, which records the state and start time for diagnostics."""
    return await _through_registry(obj, "start")


async def stop_plugin(obj: object) -> BaseException | None:
    """``stop()`` through the registry (a plugin that never started is not stopped)."""
    return await _through_registry(obj, "stop")


async def _through_registry(obj: object, transition: Literal["start", "stop"]) -> BaseException | None:
    """One lifecycle transition through the registry; returns the plugin's own exception instead of raising it
    (the registry wraps it in a PluginError, whose cause it is)."""
    from fapilog._registry.registry import default_registry

    registry = default_registry()
    try:
        await (registry.start(obj) if transition == "start" else registry.stop(obj))
    except PluginError as exc:
        return exc.__cause__ or exc
    except asyncio.CancelledError as exc:
        if cancelled_for_real():
            raise
        return exc
    except BaseException as exc:  # noqa: BLE001 - contained: a plugin never stops the worker
        return exc
    return None
