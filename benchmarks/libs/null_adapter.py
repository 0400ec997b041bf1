"""The stall workload's reference row: no logging call at all, every event counted as delivered."""

from __future__ import annotations

from fixtures import DelaySink
from libs.base import Adapter


class NullAdapter(Adapter):
    """Measures the ticker's own lateness on this machine (asyncio + OS timer granularity)."""

    name = "none"

    def __init__(self) -> None:
        self.sink: DelaySink | None = None

    def to_file(self, path: str) -> None:
        raise NotImplementedError("the null adapter only serves the stall baseline")

    def to_delay(self, sink: DelaySink) -> None:
        self.sink = sink

    def emit(self, start: int, stop: int) -> None:
        if self.sink is not None:
            self.sink.delivered += stop - start

    def drain(self, timeout: float) -> bool:
        return True
