"""Why the ``otlp`` sink encodes with ``opentelemetry-proto`` and sends with httpx, not the SDK's exporter.

    .venv/bin/python benchmarks/otlp_exporter.py [--runs N] [--batches N]

Two measurements (needs ``opentelemetry-exporter-otlp-proto-http``, which fapilog itself does not need):

1. **Encoding one batch of 512 records** (fresh interpreter per run, medians over runs, ratio): the sink's
   encoder from fapilog's records to request bytes, against the SDK route: rebuild each record as an SDK
   ``ReadableLogRecord``, then the SDK's ``encode_logs(...).SerializeToString()``.
2. **The SDK exporter under our delivery machinery**: ``OTLPLogExporter.export()`` against a local server
   answering 503 (with ``Retry-After: 1``), then 400: how long one call blocks, how many requests it sent,
   and what it returns. The machinery needs "retryable" vs "permanent" and the partial-success count from
   one short call; the exporter retries on its own for up to its timeout and returns only SUCCESS/FAILURE.

Figures are reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHILD = textwrap.dedent(
    """
    import json, sys, time
    from fapilog.builtins.sinks._otlp_encode import encode, severity_number

    route, batches = sys.argv[1], int(sys.argv[2])
    records = [{"timestamp": "2026-01-01T00:00:00.000001Z", "level": "INFO", "logger": "shop",
                "message": "paid", "order": i, "user": "u-17", "price": 12.5, "tags": ["a", "b"],
                "trace_id": "0af7651916cd43dd8448eb211c80319c", "span_id": "b7ad6b7169203331",
                "trace_flags": "01"} for i in range(512)]
    resource = {"service.name": "shop"}
    if route == "sdk":
        from opentelemetry._logs import LogRecord, SeverityNumber
        from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
        from opentelemetry.sdk._logs import ReadableLogRecord
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.util.instrumentation import InstrumentationScope
        from opentelemetry.trace import TraceFlags
        sdk_resource, scope = Resource.create(resource), InstrumentationScope("shop")
        own = {"timestamp", "level", "logger", "message", "trace_id", "span_id", "trace_flags"}

        def run():
            readable = [ReadableLogRecord(LogRecord(
                timestamp=1_767_225_600_000_001_000, observed_timestamp=1_767_225_600_000_001_000,
                trace_id=int(r["trace_id"], 16), span_id=int(r["span_id"], 16),
                trace_flags=TraceFlags(int(r["trace_flags"], 16)), severity_text=r["level"],
                severity_number=SeverityNumber(severity_number(20)), body=r["message"],
                attributes={k: v for k, v in r.items() if k not in own}), sdk_resource, scope)
                for r in records]
            return encode_logs(readable).SerializeToString()
    else:
        def run():
            return encode(records, resource)
    size = len(run())
    started = time.perf_counter()
    for _ in range(batches):
        run()
    print(json.dumps({"ms": (time.perf_counter() - started) * 1000 / batches, "bytes": size}))
    """
)


def _encoding(runs: int, batches: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for route in ("fapilog", "sdk"):
        results = []
        for _ in range(runs):
            done = subprocess.run([sys.executable, "-c", CHILD, route, str(batches)], capture_output=True,
                                  text=True, timeout=300, check=True)
            results.append(json.loads(done.stdout))
        out[route] = {"ms_per_batch": round(statistics.median(r["ms"] for r in results), 3),
                      "bytes": results[0]["bytes"]}
    out["ratio_sdk_over_fapilog"] = round(out["sdk"]["ms_per_batch"] / out["fapilog"]["ms_per_batch"], 2)
    return out


def _exporter_behaviour() -> dict[str, Any]:
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

    status = {"code": 503}
    requests: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            requests.append(status["code"])
            self.send_response(status["code"])
            self.send_header("Retry-After", "1")
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    exporter = OTLPLogExporter(endpoint=f"http://127.0.0.1:{server.server_address[1]}/v1/logs", timeout=5)
    out: dict[str, Any] = {}
    try:
        for code in (503, 400):
            status["code"] = code
            requests.clear()
            started = time.perf_counter()
            result = exporter.export([])
            out[str(code)] = {"blocked_s": round(time.perf_counter() - started, 2), "requests": len(requests),
                              "result": result.name}
    finally:
        exporter.shutdown()
        server.shutdown()
        server.server_close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batches", type=int, default=50)
    args = parser.parse_args()
    report = {"encode_512_records": _encoding(args.runs, args.batches),
              "sdk_exporter_timeout_5s": _exporter_behaviour()}
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
