"""Starting and stopping a plugin through the registry: its failure is returned to be counted, never raised."""

from __future__ import annotations

import asyncio

import pytest

from fapilog._engine.hooks import start_plugin, stop_plugin


class Failing:
    """A plugin whose start() and stop() raise the exception it was given."""

    def __init__(self, error: BaseException) -> None:
        self.error = error
        self.calls: list[str] = []

    async def start(self) -> None:
        self.calls.append("start")
        raise self.error

    async def stop(self) -> None:
        self.calls.append("stop")
        raise self.error


@pytest.mark.parametrize("error", [OSError("disk gone"), asyncio.CancelledError(), KeyboardInterrupt()])
def test_a_failing_start_and_stop_return_the_plugins_own_exception(error: BaseException) -> None:
    """start_plugin() and stop_plugin() both return the exception the plugin raised (not the registry's wrapper)."""
    plugin = Failing(error)

    async def both() -> tuple[BaseException | None, BaseException | None]:
        return await start_plugin(plugin), await stop_plugin(plugin)

    started, stopped = asyncio.run(both())
    assert started is error and stopped is error
    assert plugin.calls == ["start", "stop"]


def test_a_plugin_without_start_or_stop_returns_nothing() -> None:
    """A plugin with neither method starts and stops without a failure."""

    async def both() -> tuple[BaseException | None, BaseException | None]:
        plain = object()
        return await start_plugin(plain), await stop_plugin(plain)

    assert asyncio.run(both()) == (None, None)
