"""Calling plugins' optional methods safely: a failure is returned to be counted, never raised into the worker."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

from fapilog.errors import PluginError

__all__ = ["call_hook", "start_plugin", "stop_plugin"]


async def call_hook(obj: object, method: str) -> BaseException | None:
    """Call an optional method (sync or async) of ``obj``; returns its exception instead of raising it."""
    hook: Callable[[], Awaitable[None] | None] | None = getattr(obj, method, None)
    if hook is None:
        return None
    try:
        result = hook()
        if inspect.isawaitable(result):
            await result
    except Exception as exc:  # noqa: BLE001 - returned to the caller, who attributes and reports it
        return exc
    return None


async def start_plugin(obj: object) -> BaseException | None:
    """``start()`` through the registry, which records the state and start time for diagnostics."""
    from fapilog.plugins.registry import default_registry

    try:
        await default_registry().start(obj)
    except PluginError as exc:
        return exc.__cause__ or exc
    return None


async def stop_plugin(obj: object) -> BaseException | None:
    """``stop()`` through the registry (a plugin that never started is not stopped)."""
    from fapilog.plugins.registry import default_registry

    try:
        await default_registry().stop(obj)
    except PluginError as exc:
        return exc.__cause__ or exc
    return None
