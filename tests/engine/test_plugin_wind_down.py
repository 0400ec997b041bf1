"""unload_plugin/reload_plugin bound the old instance's flush() and stop(): one that never returns neither holds
the pipeline's batches back nor leaves the caller with a wrong reason."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import pytest

import fapilog
from fapilog._registry.registry import default_registry
from fapilog.builtins.sinks.memory import MemorySink
from fapilog.plugins.metadata import PluginMetadata


class HangingSink:
    """A sink whose ``stop()`` (or ``flush()``, by setting) awaits forever, as a backend that never answers."""

    metadata = PluginMetadata(name="hanging", version="1.0.0", kind="sink")
    instances: ClassVar[list[HangingSink]] = []
    armed: ClassVar[bool] = False
    """Hang only once the test says so (a flush() that hangs from the start would fail every flush)."""

    def __init__(self, hang: str = "stop") -> None:
        self.hang = hang
        self.written: list[str] = []
        self.entered = threading.Event()
        HangingSink.instances.append(self)

    async def _maybe_hang(self, step: str) -> None:
        if self.hang == step and HangingSink.armed:
            self.entered.set()
            await asyncio.Event().wait()  # never set: only a cancellation ends it

    async def write(self, record: Mapping[str, Any]) -> None:
        self.written.append(str(record["message"]))

    async def flush(self) -> None:
        await self._maybe_hang("flush")

    async def stop(self) -> None:
        await self._maybe_hang("stop")


@pytest.fixture(autouse=True)
def _registered() -> Iterator[None]:
    default_registry().register(HangingSink)
    HangingSink.instances.clear()
    HangingSink.armed = False
    yield
    fapilog.shutdown(1.0)
    default_registry().unregister("hanging")


def _delivers(memory: MemorySink, message: str) -> bool:
    fapilog.get_logger("w").info(message)
    return bool(fapilog.flush(5.0)) and memory.records[-1]["message"] == message


@pytest.mark.parametrize("hang", ["stop", "flush"])
def test_unload_of_a_sink_whose_wind_down_hangs_times_out_and_the_pipeline_goes_on(hang: str) -> None:
    """unload_plugin() of a sink whose flush()/stop() never returns raises FL-RUN-011 naming that step, and
    the other sinks deliver right after (the batch lock is not held by the hung call)."""
    memory = MemorySink()
    fapilog.configure(sinks=[memory, {"type": "hanging", "hang": hang}])
    assert _delivers(memory, "before")
    HangingSink.armed = True
    with pytest.raises(fapilog.PluginTimeoutError) as raised:
        fapilog.unload_plugin("hanging", timeout=0.3)
    error = raised.value
    assert error.code == "FL-RUN-011" and error.plugin == "hanging"
    assert "unload_plugin('hanging')" in str(error) and f"{hang}()" in str(error)
    assert "taken out of the pipeline" in str(error)
    assert "blocking the worker's event loop" not in str(error)
    assert _delivers(memory, "after")
    assert list(fapilog.stats()["sinks"]) == ["memory"]


def test_reload_of_a_sink_whose_old_stop_hangs_swaps_and_the_pipeline_goes_on() -> None:
    """reload_plugin() whose old instance's stop() never returns raises FL-RUN-011 naming stop(); the new
    instance runs and gets the next events."""
    memory = MemorySink()
    fapilog.configure(sinks=[memory, {"type": "hanging", "hang": "stop"}])
    assert _delivers(memory, "before")
    HangingSink.armed = True
    with pytest.raises(fapilog.PluginTimeoutError) as raised:
        fapilog.reload_plugin("hanging", timeout=0.3, hang="none")
    assert raised.value.code == "FL-RUN-011" and "stop()" in str(raised.value)
    assert _delivers(memory, "after")
    old, fresh = HangingSink.instances
    assert old.written == ["before"] and fresh.written == ["after"]


def test_unload_while_the_sink_is_stuck_in_a_flush_names_the_flush_not_zero_records() -> None:
    """unload_plugin() that times out while the sink's flush() (from fapilog.flush) has not returned says so,
    instead of 'did not finish writing the 0 record(s) it holds'."""
    memory = MemorySink()
    fapilog.configure(sinks=[memory, {"type": "hanging", "hang": "flush"}], sink_defaults={"flush_timeout": 60.0})
    assert _delivers(memory, "before")
    HangingSink.armed = True
    assert not fapilog.flush(0.2)
    assert HangingSink.instances[0].entered.wait(5.0)
    with pytest.raises(fapilog.PluginTimeoutError) as raised:
        fapilog.unload_plugin("hanging", timeout=0.3)
    message = str(raised.value)
    assert "flush()" in message and "0 record(s)" not in message and "it keeps running" in message
