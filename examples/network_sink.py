"""A network sink written only against the public kit (``fapilog.plugins``): the HTTP pattern.

The sink turns one batch into one request and the answer into an outcome; fapilog does the rest: batching,
retries with jittered backoff (honouring ``Retry-After``), the circuit breaker, the fallback and the counters.

To show it working, the script starts a small collector on 127.0.0.1 that answers the first request with 503
and refuses events whose ``kind`` is ``"bad"`` (a partial success, as CloudWatch or Loki do). It prints what the
collector stored and the sink's counters:

    collector stored 9 events in order: True
    delivered=9 rejected={'bad_kind': 1} retried=1 circuit=closed

Run it with ``python examples/network_sink.py`` (needs ``httpx``: ``pip install 'fapilog[http]'``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import httpx

import fapilog
from fapilog.plugins import (
    BatchResult,
    BatchTooLargeError,
    PermanentSinkError,
    PluginMetadata,
    RetryableSinkError,
    parse_retry_after,
)


class CollectorSink:
    """POSTs each batch as NDJSON; the collector answers ``{"rejected": {index: reason}}`` for refused lines."""

    metadata = PluginMetadata(name="collector", version="1.0.0", kind="sink",
                              description="NDJSON batches to a collector, with per-event rejections.")
    runs_on_worker_loop = True  # httpx's async client never blocks the loop
    delivery_defaults: Mapping[str, Any] = {"batch_size": 100, "batch_max_bytes": 512_000, "batch_max_age": 0.2}

    def __init__(self, url: str) -> None:
        self.name = "collector"
        self.url = url
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=5.0)  # one client per sink: connections are reused

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def write(self, record: Mapping[str, Any]) -> None:
        await self.write_batch([record])

    async def write_batch(self, records: Sequence[Mapping[str, Any]]) -> BatchResult | None:
        assert self._client is not None
        body = b"".join(json.dumps(record).encode() + b"\n" for record in records)
        try:
            response = await self._client.post(self.url, content=body)
        except httpx.TransportError as exc:  # timeouts and connection errors: try again later
            raise RetryableSinkError(str(exc), reason=type(exc).__name__) from exc
        status = response.status_code
        if status == 413:
            raise BatchTooLargeError("body too large", reason="http_413")  # fapilog splits the batch
        if status in (408, 425, 429) or status >= 500:
            raise RetryableSinkError(f"HTTP {status}", reason=f"http_{status}",
                                     retry_after=parse_retry_after(response.headers.get("Retry-After")))
        if status >= 400:
            raise PermanentSinkError(f"HTTP {status}", reason=f"http_{status}")
        rejected = response.json().get("rejected", {})
        return BatchResult(rejected={int(index): reason for index, reason in rejected.items()}) if rejected else None


class Collector(BaseHTTPRequestHandler):
    """The backend: 503 (Retry-After: 0) to the first request, then stores lines and refuses kind == "bad"."""

    stored: ClassVar[list[dict[str, Any]]] = []
    requests = 0

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Collector.requests += 1
        if Collector.requests == 1:
            self._answer(503, b"{}", retry_after="0")
            return
        rejected = {}
        for index, line in enumerate(body.splitlines()):
            record = json.loads(line)
            if record.get("kind") == "bad":
                rejected[str(index)] = "bad_kind"
            else:
                Collector.stored.append(record)
        self._answer(200, json.dumps({"rejected": rejected}).encode())

    def _answer(self, status: int, payload: bytes, retry_after: str | None = None) -> None:
        self.send_response(status)
        if retry_after is not None:
            self.send_header("Retry-After", retry_after)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/logs"
    fapilog.configure(sinks=[CollectorSink(url)], sink_defaults={"retry": {"initial_backoff": 0.05}})
    log = fapilog.get_logger("example")
    for i in range(10):
        log.info("order placed", i=i, kind="bad" if i == 4 else "ok")
    fapilog.flush(10.0)
    stats = fapilog.stats()["sinks"]["collector"]
    in_order = [record["i"] for record in Collector.stored] == [0, 1, 2, 3, 5, 6, 7, 8, 9]
    print(f"collector stored {len(Collector.stored)} events in order: {in_order}")
    print(f"delivered={stats['delivered']} rejected={stats['rejected']} retried={stats['retried']} "
          f"circuit={stats['circuit']}")
    fapilog.shutdown(5.0)
    server.shutdown()


if __name__ == "__main__":
    main()
