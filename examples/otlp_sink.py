"""Ship logs as OTLP log records, with the trace context of the active span, and spans for each batch write.

In production the ``otlp`` sink points at an OpenTelemetry Collector (``http://collector:4318/v1/logs``). So
that this script runs anywhere and exits by itself, it starts a tiny OTLP/HTTP receiver on 127.0.0.1 that
decodes each request with ``opentelemetry-proto`` and answers the first one 503 (``Retry-After: 0``), as a
busy collector would. It prints what the receiver got and the sink's counters:

    receiver got 5 log records in order: True
    first: INFO 'order placed' order=0 trace_id matches the span: True
    delivered=5 retried=1 circuit=closed
    write spans: [(1, 'retryable'), (2, 'delivered')]

Run it with ``python examples/otlp_sink.py`` (needs ``pip install 'fapilog[otlp,opentelemetry]'``).
"""

from __future__ import annotations

import gzip
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

from opentelemetry import trace
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import fapilog


class Receiver(BaseHTTPRequestHandler):
    """A stand-in OTLP/HTTP logs receiver: 503 to the first request, then 200 and keeps the records."""

    records: ClassVar[list[LogRecord]] = []
    requests = 0

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        Receiver.requests += 1
        if Receiver.requests == 1:
            self._answer(503, b"", retry_after="0")
            return
        request = ExportLogsServiceRequest.FromString(body)
        for resource_logs in request.resource_logs:
            for scope_logs in resource_logs.scope_logs:
                Receiver.records.extend(scope_logs.log_records)
        self._answer(200, ExportLogsServiceResponse().SerializeToString())

    def _answer(self, status: int, payload: bytes, retry_after: str | None = None) -> None:
        self.send_response(status)
        if retry_after is not None:
            self.send_header("Retry-After", retry_after)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}/v1/logs"

    spans = InMemorySpanExporter()  # your application would export to its collector instead
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    trace.set_tracer_provider(provider)
    tracer = trace.get_tracer("shop")

    fapilog.configure(
        sinks=[{"type": "otlp", "endpoint": endpoint, "service_name": "shop",
                "resource": {"deployment.environment": "example"},
                "delivery": {"batch_max_age": 0.2, "retry": {"initial_backoff": 0.05}}}],
        enrichers=["otel"],                # trace_id / span_id / trace_flags of the active span
        opentelemetry={"spans": True},     # a fapilog.sink.write span per batch write attempt
    )
    log = fapilog.get_logger("shop.orders")
    with tracer.start_as_current_span("checkout") as span:
        for order in range(5):
            log.info("order placed", order=order)
    fapilog.flush(10.0)

    got = Receiver.records
    orders = [{kv.key: kv.value.int_value for kv in record.attributes}["order"] for record in got]
    in_order = orders == list(range(5))
    first = got[0]
    same_trace = first.trace_id.hex() == f"{span.get_span_context().trace_id:032x}"
    order = orders[0]
    print(f"receiver got {len(got)} log records in order: {in_order}")
    print(f"first: {first.severity_text} {first.body.string_value!r} order={order} "
          f"trace_id matches the span: {same_trace}")
    stats = fapilog.stats()["sinks"]["otlp"]
    print(f"delivered={stats['delivered']} retried={stats['retried']} circuit={stats['circuit']}")
    writes = [(s.attributes["fapilog.batch.attempt"], s.attributes["fapilog.plugin.outcome"])
              for s in spans.get_finished_spans() if s.name == "fapilog.sink.write" and s.attributes]
    print(f"write spans: {writes}")
    fapilog.shutdown(5.0)
    server.shutdown()


if __name__ == "__main__":
    main()
