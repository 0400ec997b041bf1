"""fapilog with its defaults: the built-in file sink, or a custom sink object around the DelaySink.

The custom sink defines ``write`` only (no ``write_batch``), so the per-write cost is paid once per event.
``accounting`` reads the pipeline's final counters *after* shutdown, so events abandoned at a shutdown
deadline are included.
"""

from __future__ import annotations

from typing import Any

import fapilog
from fixtures import IP, MESSAGE, METHOD, PATH, STATUS, DelaySink
from libs.base import Adapter

SINK_NAME = "bench-delay"


class FapilogDelaySink:
    """A fapilog sink object whose every ``write`` blocks like the :class:`DelaySink`."""

    name = SINK_NAME

    def __init__(self, sink: DelaySink) -> None:
        self.sink = sink

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def write(self, record: Any) -> None:
        self.sink.hit()


class FapilogAdapter(Adapter):
    """``fapilog.configure(level="INFO", sinks=[...])`` and ``get_logger("bench").info(...)``."""

    name = "fapilog"
    self_accounting = True

    def __init__(self) -> None:
        self.log: Any = None
        self.sink_name = "file"
        self.final_stats: dict[str, Any] | None = None
        self.flush_result: Any = None
        self.shutdown_report: Any = None

    def to_file(self, path: str) -> None:
        fapilog.configure(level="INFO", sinks=[{"type": "file", "path": path}])
        self.log = fapilog.get_logger("bench")

    def to_delay(self, sink: DelaySink) -> None:
        fapilog.configure(level="INFO", sinks=[FapilogDelaySink(sink)])
        self.sink_name = SINK_NAME
        self.log = fapilog.get_logger("bench")

    def emit(self, start: int, stop: int) -> None:
        info = self.log.info
        for i in range(start, stop):
            info(MESSAGE, user_id=i, ip=IP, method=METHOD, path=PATH, status=STATUS)

    def flush(self) -> None:
        fapilog.flush(timeout=30.0)

    def drain(self, timeout: float) -> bool:
        self.flush_result = fapilog.flush(timeout=timeout)
        self.shutdown_report = fapilog.shutdown(timeout=timeout if self.flush_result else min(2.0, timeout))
        self.final_stats = fapilog.stats()  # after shutdown, stats() keeps the stopped pipeline's final counters
        return bool(self.flush_result) and bool(self.shutdown_report)

    def accounting(self) -> dict[str, Any] | None:
        stats = self.final_stats if self.final_stats is not None else fapilog.stats()
        sink = stats.get("sinks", {}).get(self.sink_name, {})
        return {
            "submitted": stats["submitted"],
            "delivered": sink.get("delivered", 0),
            "dropped": stats["dropped"]["total"],
            "failed": sink.get("failed", 0),
            "in_flight": sink.get("in_flight", 0),
            "by_reason": stats["dropped"]["by_reason"],
            "high_water": stats["queue"].get("high_water"),
            "flush_ok": bool(self.flush_result) if self.flush_result is not None else None,
            "shutdown_undelivered": getattr(self.shutdown_report, "undelivered", None),
        }
