"""Where a sink's undeliverable records go: a summary line on stderr by default, or another (local) sink.

Records reach the fallback after they were refused for good or ran out of retries; they are already counted
as failed (by reason). The default fallback never writes a record: one line per sink and reason, at most every
few seconds, with counts only — no message, no field, so nothing a redactor masked can leak. A fallback sink
(``delivery.fallback = {"type": "file", "path": "undelivered.log"}``) receives the records themselves, as the
pipeline produced them (redacted): a fallback sink with ``write_lines`` gets their JSON lines; one that takes
records gets the lines of a sink that takes lines parsed back into records.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from fapilog._engine.hooks import call_hook, cancelled_for_real, start_plugin, stop_plugin
from fapilog._engine.ledger import SinkLedger
from fapilog._engine.line_items import Item, as_records, lines_of
from fapilog._engine.notices import warn
from fapilog._engine.sink_thread import call_inline

__all__ = ["Fallback"]


class Fallback:
    """One sink's fallback: ``"summary"`` (default), ``"off"``, or a sink object with ``write``/``write_batch``/
    ``write_lines``."""

    def __init__(self, sink_name: str, ledger: SinkLedger, target: object = "summary", timeout: float = 5.0) -> None:
        self.sink_name = sink_name
        self.ledger = ledger
        self.target = target
        self.timeout = timeout
        self._started = False
        self._totals: dict[str, int] = {}

    @property
    def sink(self) -> object | None:
        """The fallback sink, when one is configured."""
        return None if isinstance(self.target, str) else self.target

    async def take(self, records: list[Item], reason: str, *, retried: int = 0) -> None:
        """Hand ``records`` (already counted as failed for ``reason``) to the fallback."""
        if not records or self.target == "off":
            return
        self.ledger.to_fallback(len(records))
        total = self._totals[reason] = self._totals.get(reason, 0) + len(records)
        sink = self.sink
        if sink is not None and await self._write(sink, records):
            return
        tried = f" after {retried} retr{'y' if retried == 1 else 'ies'}" if retried else ""
        warn(f"undeliverable:{self.sink_name}:{reason}",
             f"sink {self.sink_name!r} could not deliver {len(records)} event(s){tried} ({reason}); {total} so far "
             f"for this reason (stats: sinks.{self.sink_name}.failed)", code="FL-LOG-005")

    async def _write(self, sink: object, items: list[Item]) -> bool:
        """Write to the fallback sink; False (and a counted error) when it fails too."""
        try:
            async with asyncio.timeout(self.timeout):
                if not self._started:
                    self._started = True
                    failure = await start_plugin(sink)
                    if failure is not None:
                        self.ledger.error(failure, prefix="fallback:")
                        return False
                write_lines = getattr(sink, "write_lines", None)
                if callable(write_lines):
                    lines = lines_of(items)
                    await call_inline(lambda: write_lines(lines))
                    return True
                records = as_records(items)
                batch = getattr(sink, "write_batch", None)
                if callable(batch):
                    await call_inline(lambda: batch(records))
                else:
                    write: Callable[[object], Any] = sink.write  # type: ignore[attr-defined]
                    for record in records:
                        await call_inline(lambda record=record: write(record))  # type: ignore[misc]
        except asyncio.CancelledError:
            if cancelled_for_real():
                raise
            self.ledger.error(asyncio.CancelledError("fallback"), prefix="fallback:")
            return False
        except BaseException as exc:  # noqa: BLE001 - a failing fallback is counted and summarized instead
            self.ledger.error(exc, prefix="fallback:")
            return False
        return True

    async def stop(self) -> None:
        """Flush and stop the fallback sink if it was started."""
        sink = self.sink
        if sink is None or not self._started:
            return
        try:
            async with asyncio.timeout(self.timeout):
                await call_hook(sink, "flush")
                failure = await stop_plugin(sink)
        except TimeoutError as exc:
            failure = exc
        if failure is not None:
            self.ledger.error(failure, prefix="fallback:")
