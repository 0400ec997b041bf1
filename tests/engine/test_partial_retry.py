"""A retryable error that names what a multi-request batch already settled: only the rest is sent again."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import fapilog
from fapilog.plugins import PluginMetadata, RetryableSinkError

FAST_RETRY = {"initial_backoff": 0.01, "max_backoff": 0.05, "max_elapsed": 10.0}


class HalfSent:
    """A sink whose first write 'sent' the first half (one record refused) before failing retryably."""

    metadata = PluginMetadata(name="half", version="1.0.0", kind="sink", description="Fails after a half.")
    runs_on_worker_loop = True

    def __init__(self) -> None:
        self.calls: list[list[int]] = []

    async def write_batch(self, records: Sequence[Mapping[str, Any]]) -> None:
        self.calls.append([r["i"] for r in records])
        if len(self.calls) == 1:
            raise RetryableSinkError("second request throttled", reason="throttled",
                                     accepted={0, 2, 3}, rejected={1: "too_old"})

    async def write(self, record: Mapping[str, Any]) -> None:
        await self.write_batch([record])


def test_only_the_unsettled_records_are_retried_and_the_settled_ones_counted() -> None:
    """accepted indexes count as delivered, rejected ones by reason, and the retry carries only the others."""
    sink = HalfSent()
    fapilog.configure(sinks=[sink], sink_defaults={"retry": FAST_RETRY, "batch_size": 8, "batch_max_age": 0.5})
    for i in range(8):
        fapilog.get_logger("r").info("e", i=i)
    fapilog.flush(10.0)
    assert sink.calls == [list(range(8)), [4, 5, 6, 7]]
    stats = fapilog.stats()["sinks"]["half"]
    assert stats["delivered"] == 7 and stats["rejected"] == {"too_old": 1} and stats["retried"] == 1
