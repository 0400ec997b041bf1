"""The interface every library adapter implements for the workloads.

An adapter owns one library's configuration and its call syntax. ``emit`` holds the logging call
*inline* in its own loop, so every library pays the same loop overhead and no extra function call.
"""

from __future__ import annotations

from typing import Any, ClassVar

from fixtures import DelaySink


class Adapter:
    """One library, configured either to a JSON/text file or to a :class:`DelaySink`."""

    name: ClassVar[str]
    #: True when the library reports its own submitted/delivered/dropped counters.
    self_accounting: ClassVar[bool] = False

    def to_file(self, path: str) -> None:
        """Configure the library to write the event to ``path``, one line per event."""
        raise NotImplementedError

    def to_delay(self, sink: DelaySink) -> None:
        """Configure the library to deliver each event to ``sink.hit`` (its async option where it has one)."""
        raise NotImplementedError

    def emit(self, start: int, stop: int) -> None:
        """Log the benchmark event once for each ``user_id`` in ``range(start, stop)``."""
        raise NotImplementedError

    def flush(self) -> None:
        """Make everything logged so far reach the sink; the library stays configured."""

    def drain(self, timeout: float) -> bool:
        """Deliver everything, close the sink, release the library; True when it says all got out."""
        raise NotImplementedError

    def accounting(self) -> dict[str, Any] | None:
        """The library's own counters (only fapilog has them)."""
        return None
