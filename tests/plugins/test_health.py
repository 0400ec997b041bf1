"""Health checks: concurrent, bounded per plugin, failures reported as unhealthy with the reason."""

from __future__ import annotations

import asyncio
import time

from fapilog.plugins.health import check_health
from fapilog.plugins.metadata import PluginHealth


class NoCheck:
    pass


class Healthy:
    async def health_check(self) -> PluginHealth:
        return PluginHealth("degraded", "queue 80% full")


class Slow:
    async def health_check(self) -> bool:
        await asyncio.sleep(5)
        return True


class Raising:
    async def health_check(self) -> bool:
        raise ConnectionError("backend refused")


class Falsy:
    async def health_check(self) -> bool:
        return False


class SyncCheck:
    def health_check(self) -> bool:
        return True


def test_plugin_without_health_check_is_healthy() -> None:
    """A plugin with no health_check() is healthy with detail 'no health check'."""
    report = asyncio.run(check_health({"plain": NoCheck()}, timeout=1.0))
    assert (report["plain"].status, report["plain"].detail) == ("healthy", "no health check")


def test_returned_plugin_health_is_kept() -> None:
    """A PluginHealth returned by the plugin is reported as is."""
    report = asyncio.run(check_health({"busy": Healthy()}, timeout=1.0))
    assert (report["busy"].status, report["busy"].detail) == ("degraded", "queue 80% full")


def test_timeout_is_unhealthy_with_reason() -> None:
    """A check that outlives the timeout is unhealthy and says it timed out."""
    report = asyncio.run(check_health({"slow": Slow()}, timeout=0.05))
    assert report["slow"].status == "unhealthy" and "timed out after 0.05s" in report["slow"].detail


def test_checks_run_concurrently() -> None:
    """Several slow checks cost one timeout, not one timeout each."""
    started = time.perf_counter()
    report = asyncio.run(check_health({f"slow{i}": Slow() for i in range(5)}, timeout=0.2))
    assert time.perf_counter() - started < 0.9
    assert {h.status for h in report.values()} == {"unhealthy"}


def test_exception_is_unhealthy_with_reason() -> None:
    """A check that raises is unhealthy with the exception type and message, and others still answer."""
    report = asyncio.run(check_health({"bad": Raising(), "good": NoCheck()}, timeout=1.0))
    assert report["bad"].status == "unhealthy"
    assert report["bad"].detail == "health check raised ConnectionError: backend refused"
    assert report["good"].healthy


def test_false_is_unhealthy() -> None:
    """A check returning False is unhealthy."""
    assert asyncio.run(check_health({"f": Falsy()}, timeout=1.0))["f"].status == "unhealthy"


def test_sync_health_check_is_supported() -> None:
    """A legacy synchronous health_check() is run off the loop and its answer used."""
    assert asyncio.run(check_health({"s": SyncCheck()}, timeout=1.0))["s"].healthy
