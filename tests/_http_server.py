"""A real HTTP server on 127.0.0.1 for the network-delivery tests: records every request, misbehaves on cue.

Each request takes the next planned answer (``plan(...)``) or the default one. Answers:

* ``Answer(503, retry_after="1")``: a status, optionally with ``Retry-After`` (seconds or an HTTP date);
* ``Answer("hang")``: read the request, then say nothing until ``release()`` (or the server stops);
* ``Answer("reset")``: read the request, then reset the connection (RST, no response);
* ``Answer("slow", delay=0.2)``: answer 200 after ``delay`` seconds.

Only requests answered 2xx count as ``accepted``; every request (whatever its answer) is in ``requests``.
``stop()`` closes the listening socket (connections are refused: a dead backend) and ``start()`` listens
again on the same port.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # the stdlib's 5 resets connections under a burst of concurrent requests
    daemon_threads = True


def serve(handler: type[BaseHTTPRequestHandler], port: int = 0) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """A threaded server for ``handler`` on 127.0.0.1 (``port`` 0: a free one), serving on a daemon thread."""
    server = _Server(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server, thread


def stop_serving(server: ThreadingHTTPServer | None, thread: threading.Thread | None) -> None:
    """Stop ``server`` and close its listening socket (new connections are refused)."""
    if server is not None:
        server.shutdown()
        server.server_close()
    if thread is not None:
        thread.join(5)


@dataclasses.dataclass(frozen=True)
class Answer:
    """One planned answer: an HTTP status, or ``"hang"``, ``"reset"``, ``"slow"``."""

    action: int | str = 200
    retry_after: str | None = None
    delay: float = 0.0


@dataclasses.dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    raw: bytes
    """The body as sent (possibly gzip)."""
    answer: Answer
    received: float = 0.0
    """``time.monotonic()`` when the body was read."""

    @property
    def body(self) -> bytes:
        """The body, gunzipped when ``Content-Encoding: gzip``."""
        if self.headers.get("content-encoding") == "gzip":
            return gzip.decompress(self.raw)
        return self.raw

    def records(self) -> list[dict[str, Any]]:
        """The JSON records of an NDJSON, JSON array or wrapped body."""
        text = self.body
        if text.startswith(b"["):
            return json.loads(text)  # type: ignore[no-any-return]
        if text.startswith(b"{") and not text.rstrip().count(b"\n"):
            value = json.loads(text)
            if isinstance(value, dict) and len(value) == 1 and isinstance(next(iter(value.values())), list):
                return next(iter(value.values()))  # type: ignore[no-any-return]
            return [value]
        return [json.loads(line) for line in text.splitlines() if line.strip()]


class RecordingServer:
    """The server and its record of requests (thread-safe; handlers run on the server's threads)."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.default = Answer(200)
        self.max_body: int | None = None
        """Answer 413 to bodies larger than this many bytes (as sent)."""
        self._plan: deque[Answer] = deque()
        self._lock = threading.Lock()
        self._release = threading.Event()
        self.port = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.on_request: Callable[[Request], None] | None = None
        self.body_for: Callable[[Request], bytes] = lambda request: b"{}"
        """The body of a 2xx answer."""
        self._connections: set[socket.socket] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ingest"

    def plan(self, *answers: Answer) -> None:
        """Answer the next requests with ``answers``, in order, then with ``default``."""
        with self._lock:
            self._plan.extend(answers)

    def release(self) -> None:
        """End every hanging answer (they then close without a response)."""
        self._release.set()

    def accepted(self) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if (isinstance(r.answer.action, int) and 200 <= r.answer.action < 300)
                    or r.answer.action == "slow"]

    def accepted_records(self) -> list[dict[str, Any]]:
        return [record for request in self.accepted() for record in request.records()]

    def _next(self) -> Answer:
        with self._lock:
            return self._plan.popleft() if self._plan else self.default

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)
        if self.on_request is not None:
            self.on_request(request)

    def start(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                with owner._lock:
                    owner._connections.add(self.connection)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the tests read ``requests``."""

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                answer = owner._next()
                if owner.max_body is not None and len(raw) > owner.max_body:
                    answer = Answer(413)
                request = Request("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, raw, answer,
                                  time.monotonic())
                owner._record(request)
                if answer.action == "hang":
                    owner._release.wait(30)
                    self.close_connection = True
                    return
                if answer.action == "reset":
                    # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                    return
                status = 200
                if answer.action == "slow":
                    owner._release.wait(answer.delay)
                elif isinstance(answer.action, int):
                    status = answer.action
                self.send_response(status)
                if answer.retry_after is not None:
                    self.send_header("Retry-After", answer.retry_after)
                payload = owner.body_for(request) if 200 <= status < 300 else b"{}"
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_PUT = do_POST

        self._server, self._thread = serve(Handler, self.port)
        self.port = self._server.server_address[1]

    def stop(self) -> None:
        """Stop listening: new connections are refused (a dead backend)."""
        server, self._server = self._server, None
        stop_serving(server, self._thread)
        with self._lock:
            connections, self._connections = self._connections, set()
        for connection in connections:  # kept-alive connections die with the server, as a crash would end them
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by its handler

    def close(self) -> None:
        self.release()
        self.stop()
