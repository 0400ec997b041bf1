"""Sinks that misbehave on purpose, for testing how an application or a plugin copes with a bad backend.

They are ordinary plugins: configure them like any sink and the real pipeline drives them, so what a test
sees (counted failures, drops, a flush that times out) is what production would see.

>>> flaky = FailingSink(fail_times=2)          # the first two writes raise, then it recovers
>>> slow = SlowSink(delay=0.2)                 # every write takes 200 ms without blocking the worker's loop
>>> fapilog.configure(sinks=[flaky, slow])
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from fapilog._version import __version__
from fapilog.builtins.sinks.memory import MemorySink
from fapilog.plugins.metadata import PluginMetadata

__all__ = ["FailingSink", "SlowSink"]


class _RecordingSink:
    """Keeps what it accepted in a :class:`~fapilog.builtins.sinks.memory.MemorySink`: the JSON it was given."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._kept = MemorySink(name=name)

    @property
    def records(self) -> list[dict[str, Any]]:
        """The records written successfully, in delivery order."""
        return self._kept.records

    @property
    def messages(self) -> list[Any]:
        return [record.get("message") for record in self.records]


class SlowSink(_RecordingSink):
    """Takes ``delay`` seconds for every write.

    By default it waits with ``asyncio.sleep`` (a slow network backend: the worker's loop stays free).
    ``blocking=True`` sleeps on the loop's thread instead, the way a careless synchronous client would.
    """

    metadata = PluginMetadata(
        name="slow",
        version=__version__,
        kind="sink",
        description="Testing sink that takes a fixed delay for every write.",
    )

    def __init__(self, delay: float = 0.05, *, blocking: bool = False, name: str = "slow") -> None:
        if delay < 0:
            raise ValueError(f"delay must be >= 0 seconds, got {delay}")
        super().__init__(name)
        self.delay = delay
        self.blocking = blocking

    async def write(self, record: Mapping[str, Any]) -> None:
        if self.blocking:
            time.sleep(self.delay)  # noqa: ASYNC251 - blocking the loop is this option's whole point
        else:
            await asyncio.sleep(self.delay)
        await self._kept.write(record)


class FailingSink(_RecordingSink):
    """Raises ``error`` from ``write``: always, or only for the first ``fail_times`` writes.

    ``fail_on`` picks other methods to break as well (``"start"``, ``"stop"``, ``"flush"``), for testing
    lifecycle error handling. ``attempts`` counts every write call, failed or not.
    """

    metadata = PluginMetadata(
        name="failing",
        version=__version__,
        kind="sink",
        description="Testing sink whose writes (and optionally lifecycle calls) raise.",
    )

    def __init__(
        self,
        fail_times: int | None = None,
        *,
        error: BaseException | type[BaseException] | None = None,
        fail_on: tuple[str, ...] = ("write",),
        name: str = "failing",
    ) -> None:
        if fail_times is not None and fail_times < 0:
            raise ValueError(f"fail_times must be >= 0 or None (always fail), got {fail_times}")
        unknown = set(fail_on) - {"write", "start", "stop", "flush"}
        if unknown:
            raise ValueError(f"fail_on accepts write, start, stop and flush; got {sorted(unknown)}")
        super().__init__(name)
        self.fail_times = fail_times
        self.error = error if error is not None else ConnectionError("backend unavailable (FailingSink)")
        self.fail_on = frozenset(fail_on)
        self.attempts = 0
        self.failures = 0
        self._write_failures = 0

    def _raise(self) -> None:
        self.failures += 1
        error = self.error
        # A shared instance gets its traceback reset: re-raising it would otherwise grow it frame by frame.
        raise error() if isinstance(error, type) else error.with_traceback(None)

    async def start(self) -> None:
        if "start" in self.fail_on:
            self._raise()

    async def stop(self) -> None:
        if "stop" in self.fail_on:
            self._raise()

    async def flush(self) -> None:
        if "flush" in self.fail_on:
            self._raise()

    async def write(self, record: Mapping[str, Any]) -> None:
        self.attempts += 1
        if "write" in self.fail_on and (self.fail_times is None or self._write_failures < self.fail_times):
            self._write_failures += 1
            self._raise()
        await self._kept.write(record)
