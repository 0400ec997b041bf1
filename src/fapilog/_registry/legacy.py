"""An async face for legacy sinks: plain objects without metadata whose methods are synchronous.

Older sinks were written with a blocking ``write(record)``. Rather than make the worker check every call,
the registry wraps such a sink once, here: synchronous methods run on a dedicated I/O thread (so a slow disk
never stalls the worker's loop), asynchronous ones are awaited directly, and everything else (``name``,
``health_check``, custom attributes) is delegated to the wrapped object.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from fapilog._kit.offload import BlockingWorker

__all__ = ["LegacySinkAdapter"]


class LegacySinkAdapter:
    """Wraps a sink whose methods may be synchronous so it satisfies the async ``Sink`` protocol."""

    def __init__(self, sink: object, name: str) -> None:
        self.wrapped: Any = sink
        self.name = name
        self._io = BlockingWorker(f"legacy-sink:{name}")

    def __getattr__(self, attribute: str) -> Any:
        # Only reached for attributes the adapter lacks: health_check, custom settings, and so on.
        value = getattr(self.wrapped, attribute)
        if attribute == "write_lines" and callable(value):
            return self._write_lines  # the wrapped one may block: it gets the same async face as write_batch
        return value

    async def _write_lines(self, lines: Sequence[bytes]) -> None:
        """Write JSON lines through the wrapped sink's ``write_lines``."""
        await self._call("write_lines", lines)

    async def _call(self, method: str, *args: Any) -> None:
        fn = getattr(self.wrapped, method, None)
        if fn is None:
            return
        if inspect.iscoroutinefunction(fn):
            await fn(*args)
            return
        result = await self._io.run(fn, *args)
        if inspect.isawaitable(result):
            await result

    async def start(self) -> None:
        """Start the wrapped sink (a missing ``start`` is a no-op)."""
        self._io.start()
        await self._call("start")

    async def stop(self) -> None:
        """Stop the wrapped sink, then release the I/O thread."""
        try:
            await self._call("stop")
        finally:
            self._io.stop()

    async def write(self, record: Any) -> None:
        """Write one record through the wrapped sink's ``write``."""
        await self._call("write", record)

    async def write_batch(self, records: Sequence[Any]) -> None:
        """Use the wrapped sink's ``write_batch`` when it has one, else write records one by one, in order."""
        if getattr(self.wrapped, "write_batch", None) is not None:
            await self._call("write_batch", records)
            return
        write = self.wrapped.write
        if inspect.iscoroutinefunction(write):
            for record in records:
                await write(record)
            return

        def write_all() -> None:  # one hop to the I/O thread per batch, not per record
            for record in records:
                write(record)

        await self._io.run(write_all)

    async def flush(self) -> None:
        """Flush the wrapped sink if it can (a missing ``flush`` is a no-op)."""
        await self._call("flush")

    def __repr__(self) -> str:
        return f"LegacySinkAdapter({self.wrapped!r})"
