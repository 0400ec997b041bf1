"""``capture_events()``: what the code under test logged, collected synchronously with no worker.

While the block is open every log call builds its record on the calling thread, with the worker's own
builder, and appends it to a :class:`CapturedEvents` list: no queue, no thread, no flush needed, and the
record is exactly what the first stage would see (core keys, context, bound and call fields, structured
exception). Each record is also serialized, so a value that cannot become JSON shows up in the test the way
it would in production (as its degraded form), not later in a sink.

>>> with capture_events() as events:
...     fapilog.get_logger("app").info("user login", user_id=7)
>>> events.find("user login")["user_id"]
7

Nothing reaches the configured pipeline while capturing; ``configure()`` inside the block is allowed and the
capture stays in place. pytest's ``caplog`` is independent: it sees standard-library records as usual.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, overload

import orjson

from fapilog._engine.emit import capture_event
from fapilog._kit.levels import parse_level
from fapilog._kit.record import EventRecord, IsoClock, build_records
from fapilog._kit.serialize import Serializer

__all__ = ["CapturedEvents", "capture_events"]


class CapturedEvents(Sequence[EventRecord]):
    """The records logged inside a :func:`capture_events` block, in call order (``seq`` numbers them)."""

    def __init__(self) -> None:
        self._records: list[EventRecord] = []
        self._lock = threading.Lock()
        self._seq = 0
        self._clock = IsoClock()
        self._serializer = Serializer()

    def _emit(
        self, level: int, name: str, message: Any, fields: dict[str, Any], bound: Mapping[str, Any] | None,
        exc: BaseException | None,
    ) -> None:
        item = capture_event(level, name, message, fields, bound, exc)  # what the pipeline's capture builds
        with self._lock:  # log calls may come from several threads; seq stays gap-free and ordered
            records, self._seq = build_records((item,), self._seq, self._clock.format)
            self._serializer.encode_into(records)
            self._records.extend(records)

    @overload
    def __getitem__(self, index: int) -> EventRecord: ...
    @overload
    def __getitem__(self, index: slice) -> list[EventRecord]: ...
    def __getitem__(self, index: int | slice) -> EventRecord | list[EventRecord]:
        return self._records[index]

    def __len__(self) -> int:
        return len(self._records)

    def __repr__(self) -> str:
        return f"<CapturedEvents {len(self._records)} event(s): {self.messages!r}>"

    @property
    def records(self) -> list[EventRecord]:
        """A copy of the captured records."""
        with self._lock:
            return list(self._records)

    @property
    def messages(self) -> list[Any]:
        """The ``message`` of every captured record, in order."""
        return [record["message"] for record in self.records]

    @property
    def lines(self) -> list[dict[str, Any]]:
        """Every record as a sink would write it: its JSON line, parsed back."""
        return [orjson.loads(record.json) for record in self.records]

    def filter(
        self,
        message: Any = None,
        *,
        level: int | str | None = None,
        logger: str | None = None,
        **fields: Any,
    ) -> list[EventRecord]:
        """Records matching every criterion given: equal ``message``, exact ``level``, ``logger`` name or a
        dotted child of it, and equal values for ``fields``."""
        number = None if level is None else parse_level(level)
        missing = object()
        return [
            record
            for record in self.records
            if (message is None or record["message"] == message)
            and (number is None or record.levelno == number)
            and (logger is None or record["logger"] == logger or str(record["logger"]).startswith(logger + "."))
            and all(record.get(key, missing) == value for key, value in fields.items())
        ]

    def find(
        self,
        message: Any = None,
        *,
        level: int | str | None = None,
        logger: str | None = None,
        **fields: Any,
    ) -> EventRecord:
        """The first record :meth:`filter` would return; ``AssertionError`` listing what *was* logged if none."""
        found = self.filter(message, level=level, logger=logger, **fields)
        if found:
            return found[0]
        wanted = {k: v for k, v in {"message": message, "level": level, "logger": logger, **fields}.items()
                  if v is not None}
        seen = "\n".join(f"  {r['level']} {r['logger']}: {r['message']!r}" for r in self.records) or "  (nothing)"
        raise AssertionError(f"no captured event matches {wanted}; captured:\n{seen}")

    def clear(self) -> None:
        """Forget what was captured so far (``seq`` keeps counting)."""
        with self._lock:
            self._records.clear()


@contextlib.contextmanager
def capture_events(*, level: int | str | None = "DEBUG") -> Iterator[CapturedEvents]:
    """Capture every log call made inside the block, on the calling thread, instead of sending it on.

    ``level`` is the threshold every logger uses during the block (``"DEBUG"`` by default, so nothing is
    filtered away before the test can see it); ``None`` keeps the configured thresholds. Blocks nest: the
    innermost one receives the events.
    """
    from fapilog._engine import state

    events = CapturedEvents()
    with state.intercepted(events._emit, None if level is None else parse_level(level)):
        yield events
