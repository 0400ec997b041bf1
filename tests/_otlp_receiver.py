"""OTLP receivers for the ``otlp`` sink's tests: the real rotel agent, and a stand-in for answers rotel never gives.

``Rotel`` runs the rotel agent (``pip install rotel``: an alpha OpenTelemetry collector whose wheel ships the
binary; nothing is downloaded at run time) on 127.0.0.1 with its debug exporter, and parses the log records it
prints. It answers every well-formed request 200, so it cannot be made to refuse anything.

``StandInReceiver`` is a stand-in, NOT a real collector: a threaded ``http.server`` on a real socket on
127.0.0.1 that decodes each body with ``opentelemetry-proto``'s ``ExportLogsServiceRequest`` and answers as the
OTLP/HTTP specification says a receiver does, on cue:

* 200 with a protobuf ``ExportLogsServiceResponse`` (``Content-Type: application/x-protobuf``), optionally
  with ``partial_success.rejected_log_records`` N: the receiver refused N of the records;
* 429 or 503, optionally with ``Retry-After``: the client may retry (the spec's retryable statuses);
* 400: the request is malformed; the client must not retry it;
* an undecodable body is answered 400, as a collector does.
"""

from __future__ import annotations

import dataclasses
import gzip
import re
import shutil
import socket
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsPartialSuccess,
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord


@dataclasses.dataclass(frozen=True)
class Reply:
    """One planned answer: a status, an optional ``Retry-After``, and for 200 how many records to refuse."""

    status: int = 200
    retry_after: str | None = None
    rejected: int = 0


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # the stdlib's 5 resets connections under a burst of concurrent requests
    daemon_threads = True


class StandInReceiver:
    """Decodes every request; answers from a plan, then 200 (see the module docstring)."""

    def __init__(self) -> None:
        self.requests: list[tuple[int, ExportLogsServiceRequest | None]] = []
        """(status answered, decoded request) of every request, in arrival order."""
        self._plan: deque[Reply] = deque()
        self._lock = threading.Lock()
        self.port = 0
        self._server: ThreadingHTTPServer | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/logs"

    def plan(self, *replies: Reply) -> None:
        with self._lock:
            self._plan.extend(replies)

    def accepted_records(self) -> list[LogRecord]:
        """The log records of every request answered 200, in order (refused ones included: they were sent)."""
        with self._lock:
            return [record for status, request in self.requests if status == 200 and request is not None
                    for resource in request.resource_logs for scope in resource.scope_logs
                    for record in scope.log_records]

    def start(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the tests read ``requests``."""

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    raw = gzip.decompress(raw)
                request: ExportLogsServiceRequest | None = ExportLogsServiceRequest()
                assert request is not None
                try:
                    request.ParseFromString(raw)
                    ok = self.headers.get("Content-Type") == "application/x-protobuf" and self.path == "/v1/logs"
                except Exception:  # any undecodable body is a 400, as a collector answers
                    ok = False
                with owner._lock:
                    reply = owner._plan.popleft() if owner._plan else Reply()
                if not ok:
                    reply, request = Reply(400), None
                with owner._lock:
                    owner.requests.append((reply.status, request))
                body = b""
                if reply.status == 200:
                    partial = ExportLogsPartialSuccess(rejected_log_records=reply.rejected,
                                                       error_message="too old" if reply.rejected else "")
                    body = ExportLogsServiceResponse(partial_success=partial).SerializeToString()
                self.send_response(reply.status)
                if reply.retry_after is not None:
                    self.send_header("Retry-After", reply.retry_after)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        server = _Server(("127.0.0.1", self.port), Handler)
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()


def rotel_binary() -> Path | None:
    """The rotel agent shipped in the ``rotel`` wheel, when it is installed and runs on this platform."""
    try:
        import rotel
    except ImportError:
        return None
    binary = Path(rotel.__file__).parent / "rotel-agent"
    return binary if binary.is_file() and shutil.which(str(binary)) else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Rotel:
    """The rotel agent on 127.0.0.1 with the debug exporter printing every log record it receives."""

    def __init__(self, binary: Path, workdir: Path) -> None:
        self.port = free_port()
        self._out = workdir / "rotel.out"
        self._handle = self._out.open("wb")
        self.process = subprocess.Popen(  # stopped by its own pid in stop()
            [str(binary), "start", "--otlp-http-endpoint", f"127.0.0.1:{self.port}",
             "--otlp-grpc-endpoint", f"127.0.0.1:{free_port()}", "--exporter", "blackhole",
             "--debug-log", "logs", "--debug-log-verbosity", "detailed", "--log-file", str(workdir / "rotel.log")],
            stdout=self._handle, stderr=subprocess.STDOUT, cwd=workdir)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/logs"

    def wait_listening(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
            except OSError:
                time.sleep(0.05)
            else:
                return True
        return False

    def output(self) -> str:
        return self._out.read_text(errors="replace")

    def records(self) -> list[dict[str, Any]]:
        """Every log record the agent printed, parsed (see ``parse_debug_records``)."""
        return parse_debug_records(self.output())

    def wait_for(self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 15.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.records()):
                return True
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self._handle.close()


_ATTRIBUTE = re.compile(r"^\s+-> (?P<key>[^:]+): (?P<value>.*)$")


def parse_debug_records(text: str) -> list[dict[str, Any]]:
    """The log records in rotel's detailed debug output: scope, timestamps, severity, body, trace ids and
    attributes (values as printed, e.g. ``Int(42)``, ``Str(paid)``)."""
    records: list[dict[str, Any]] = []
    scope = ""
    current: dict[str, Any] | None = None
    key: str | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if line.startswith("InstrumentationScope "):
            scope = line[len("InstrumentationScope "):].strip()
        elif line.startswith("LogRecord #"):
            current = {"scope": scope, "attributes": {}}
            records.append(current)
            key = None
        elif current is None:
            continue
        elif line.startswith(("ResourceLog #", "ScopeLogs #")):
            current, key = None, None
        elif (match := _ATTRIBUTE.match(line)) is not None and "attributes_open" in current:
            key = match["key"]
            current["attributes"][key] = match["value"]
        elif line.startswith("Attributes:"):
            current["attributes_open"] = True
        elif stripped.startswith(("Trace ID", "Span ID")):
            current["trace_id" if stripped.startswith("Trace") else "span_id"] = stripped.split(":", 1)[1].strip()
            current.pop("attributes_open", None)
        elif ":" in line and not line.startswith(" ") and line.split(":", 1)[0] in _FIELDS:
            name, value = line.split(":", 1)
            current[name] = value.strip()
            current.pop("attributes_open", None)
            key = None
        elif key is not None and "attributes_open" in current:  # a multi-line attribute value goes on
            current["attributes"][key] += "\n" + line
    for record in records:
        record.pop("attributes_open", None)
    return records


_FIELDS = frozenset({"ObservedTimestamp", "Timestamp", "SeverityText", "SeverityNumber", "Body", "Flags"})
