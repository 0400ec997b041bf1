"""The flush marker: what a ``flush()`` sends through the queue and every sink buffer behind the events before it.

Its own module so the queue keeps to the queue (``fapilog._engine.queue`` re-exports it).
"""

from __future__ import annotations

__all__ = ["FlushMarker"]


class FlushMarker:
    """Travels through the queue and every sink buffer behind the events logged before a flush.

    When every sink has passed it (and flushed), everything logged before the flush call was handed over.
    ``future`` resolves with the names of the sinks that failed to flush in time, or that failed or dropped
    any event since the previous flush (empty when none did).
    """

    __slots__ = ("_pending", "failed", "future", "passed_by")

    def __init__(self) -> None:
        import concurrent.futures

        self.future: concurrent.futures.Future[list[str]] = concurrent.futures.Future()
        self._pending = 0
        self.failed: list[str] = []
        self.passed_by: list[str] = []

    def expect(self, sinks: int) -> None:
        self._pending = sinks
        if sinks == 0:
            self._resolve()

    def passed(self, sink: str, *, ok: bool) -> None:
        self.passed_by.append(sink)
        if not ok and sink not in self.failed:  # a sink named when its worker died may fail again here
            self.failed.append(sink)
        self._pending -= 1
        if self._pending <= 0:
            self._resolve()

    def fail(self, reason: str) -> None:
        """No worker will carry this marker any further: the flush ends now, with ``reason`` among its failures."""
        self.failed.append(reason)
        self._resolve()

    def _resolve(self) -> None:
        if not self.future.done():
            self.future.set_result(self.failed)
