"""Helpers shared by the filter tests: records at chosen event times, a fake clock, and a sink to wait on."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import threading
import typing
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from fapilog._kit.levels import INFO, LEVEL_NAMES
from fapilog._kit.record import EventRecord
from fapilog._registry.registry import default_registry
from fapilog.plugins.metadata import PluginMetadata

T = TypeVar("T")

BASE_NS = 1_700_000_000 * 10**9
"""Event time zero of the tests (a realistic epoch value, so nanosecond arithmetic is exercised)."""


def event(
    message: Any = "m", *, logger: str = "app", level: int = INFO, at: float = 0.0, seq: int = 0, **fields: Any
) -> EventRecord:
    """A record as the worker builds it, logged ``at`` seconds after :data:`BASE_NS`."""
    record = EventRecord(
        timestamp=f"t+{at}", level=LEVEL_NAMES.get(level, f"LEVEL{level}"), logger=logger, message=message, seq=seq
    )
    record.update(fields)
    record.levelno = level
    record.ts_ns = BASE_NS + round(at * 1e9)
    return record


def run(awaitable: Awaitable[T]) -> T:
    """Run one coroutine on a fresh event loop."""

    async def main() -> T:
        return await awaitable

    return asyncio.run(main())


class FakeClock:
    """Nanoseconds since the epoch, moved by hand."""

    def __init__(self, now_ns: int = 0) -> None:
        self.now_ns = now_ns

    def __call__(self) -> int:
        return self.now_ns


class SignalSink:
    """Collects records; a test can wait until what was collected satisfies a condition."""

    metadata = PluginMetadata(name="signal", version="1.0", kind="sink")

    def __init__(self) -> None:
        self.records: list[Mapping[str, Any]] = []
        self._changed = threading.Condition()

    async def write(self, record: Mapping[str, Any]) -> None:
        await self.write_batch([record])

    async def write_batch(self, records: Sequence[Mapping[str, Any]]) -> None:
        with self._changed:
            self.records.extend(dict(r) for r in records)
            self._changed.notify_all()

    def wait_until(self, condition: Callable[[list[Mapping[str, Any]]], bool], timeout: float) -> bool:
        """True as soon as ``condition(records)`` holds (re-checked on every write), False at the deadline."""
        with self._changed:
            return self._changed.wait_for(lambda: condition(self.records), timeout)


def summaries(records: Sequence[Mapping[str, Any]], plugin: str) -> list[Mapping[str, Any]]:
    """The "suppressed N similar events" records a flood filter logged."""
    return [r for r in records if r.get("logger") == f"fapilog.{plugin}"]


@contextlib.contextmanager
def registered(cls: type) -> Iterator[None]:
    """``cls`` registered in the default registry for the block, so ``{"type": name}`` tables resolve."""
    registry = default_registry()
    registry.register(cls)
    try:
        yield
    finally:
        registry.unregister(cls.metadata.name)  # type: ignore[attr-defined]


def constructor_matches_model(cls: type) -> bool:
    """The constructor's first parameter takes the config model, its fields come as keywords (``**values``),
    and any other parameter is a keyword-only code hook with a default (a test clock), never a setting."""
    model = cls.metadata.config_model  # type: ignore[attr-defined]
    params = list(inspect.signature(cls).parameters.values())
    hints = typing.get_type_hints(cls.__init__)  # type: ignore[misc]
    first, rest = params[0], params[1:]
    takes = hints.get(first.name)
    if first.kind is not first.POSITIONAL_ONLY or model not in (takes, *typing.get_args(takes)):
        return False
    names = {f.name for f in dataclasses.fields(model)}
    if not any(p.kind is p.VAR_KEYWORD for p in rest):
        return False
    return all(p.kind is p.VAR_KEYWORD or (p.kind is p.KEYWORD_ONLY and p.default is not p.empty
                                           and p.name not in names) for p in rest)
