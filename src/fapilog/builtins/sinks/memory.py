"""``memory`` sink: keeps records in a list, for tests and for inspecting what the pipeline produced."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import orjson

from fapilog._version import __version__
from fapilog.plugins import dumps
from fapilog.plugins.constraints import Positive, settings_from
from fapilog.plugins.metadata import PluginMetadata

__all__ = ["MemorySink", "MemorySinkSettings"]


@dataclasses.dataclass(frozen=True)
class MemorySinkSettings:
    """Settings of the ``memory`` sink.

    ``name``: the name this sink runs under in ``stats()`` and diagnostics.
    ``max_records``: keep only the newest this many records (> 0; ``None``: keep all).
    """

    name: str = "memory"
    max_records: Annotated[int, Positive] | None = None


class MemorySink:
    """Stores every delivered record (as a plain dict) and its JSON line.

    >>> sink = MemorySink()
    >>> fapilog.configure(sinks=[sink]); log.info("hi"); fapilog.flush()
    >>> sink.records[-1]["message"]
    'hi'
    """

    runs_on_worker_loop = True
    """Its coroutines never block (blocking I/O goes to its own I/O thread), so it needs no sink thread."""
    metadata = PluginMetadata(
        name="memory",
        version=__version__,
        kind="sink",
        description="Keeps delivered records in memory, for tests and inspection.",
        config_model=MemorySinkSettings,
    )

    def __init__(self, settings: MemorySinkSettings | None = None, /, **values: Any) -> None:
        """``settings`` (the registry passes the validated model) or the same fields as keywords."""
        self.settings = settings = settings_from(MemorySinkSettings, settings, root="memory", **values)
        self.name = settings.name
        self.max_records = settings.max_records
        self.lines: list[bytes] = []
        self._lock = threading.Lock()

    async def start(self) -> None:
        """Nothing to open."""

    async def stop(self) -> None:
        """Nothing to close; records stay readable after stop."""

    async def write(self, record: Mapping[str, Any]) -> None:
        await self.write_batch([record])

    async def write_batch(self, records: Sequence[Mapping[str, Any]]) -> None:
        with self._lock:
            self.lines.extend(dumps(r) for r in records)
            if self.max_records is not None and len(self.lines) > self.max_records:
                del self.lines[: len(self.lines) - self.max_records]

    @property
    def records(self) -> list[dict[str, Any]]:
        """The delivered records as they were serialized (what any JSON sink would have written)."""
        with self._lock:
            return [orjson.loads(line) for line in self.lines]

    def clear(self) -> None:
        with self._lock:
            self.lines.clear()
