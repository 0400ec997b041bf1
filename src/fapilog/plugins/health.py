"""Asking every plugin how it is, concurrently, with a deadline per plugin.

A health check that hangs (a sink waiting on a dead network) must not hang the caller's readiness probe, and
one that raises must not hide the others' answers: both become ``unhealthy`` with the reason.

>>> report = await check_health({"file": file_sink, "http": http_sink}, timeout=2.0)
>>> report["http"].status, report["http"].detail
('unhealthy', 'health check timed out after 2.0s')
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Mapping

from fapilog.plugins.metadata import PluginHealth

__all__ = ["check_health"]


def _coerce(result: object) -> PluginHealth:
    # health_check() may answer with a PluginHealth, a bool, or nothing (None means "no news is good news").
    if isinstance(result, PluginHealth):
        return result
    if result is None or result is True:
        return PluginHealth("healthy", "ok")
    if result is False:
        return PluginHealth("unhealthy", "health check returned False", code="FL-HLT-001")
    return PluginHealth("unhealthy", f"health check returned {result!r}; expected PluginHealth or bool",
                        code="FL-HLT-001")


async def _check_one(plugin: object, timeout: float) -> PluginHealth:
    check = getattr(plugin, "health_check", None)
    if check is None or not callable(check):
        return PluginHealth("healthy", "no health check")

    async def call() -> object:
        if inspect.iscoroutinefunction(check):
            return await check()
        result = await asyncio.to_thread(check)  # a legacy synchronous check must not block the loop
        return await result if inspect.isawaitable(result) else result

    try:
        return _coerce(await asyncio.wait_for(call(), timeout))
    except TimeoutError:
        return PluginHealth("unhealthy", f"health check timed out after {timeout}s", code="FL-HLT-001")
    except Exception as exc:  # noqa: BLE001 - a failing check is the answer "unhealthy", reported with its reason
        return PluginHealth("unhealthy", f"health check raised {type(exc).__name__}: {exc}", code="FL-HLT-001")


async def check_health(plugins: Mapping[str, object], timeout: float) -> dict[str, PluginHealth]:
    """Run every plugin's ``health_check()`` concurrently, each bounded by ``timeout`` seconds.

    Plugins without a ``health_check`` are ``healthy`` with detail ``"no health check"``; a check that raises
    or times out is ``unhealthy`` with the reason. The result has the same keys as ``plugins``.
    """
    names = list(plugins)
    results = await asyncio.gather(*(_check_one(plugins[name], timeout) for name in names))
    return dict(zip(names, results, strict=True))
