"""A stand-in for Grafana Loki's push API, over a real socket on 127.0.0.1 (no Loki can run on these machines).

It is not Loki: it implements the documented behaviour the ``loki`` sink depends on, as written down in
``/work/shared/reference/loki-push-api.md`` (Loki's "HTTP API — ingest logs" and "Request validation and
rate-limit errors" pages, and ``pkg/push/push.proto``):

* ``POST /loki/api/v1/push`` only (anything else: 404);
* JSON bodies (``application/json``), raw or ``Content-Encoding: gzip``/``deflate``; a timestamp that is not a
  string is a 400; the optional third value of an entry is structured metadata (string to string);
* protobuf bodies (``application/x-protobuf``): snappy **block** compressed ``logproto.PushRequest``, decoded
  with the ``protobuf`` package from a descriptor built here from the message definitions (independent of
  the sink's hand encoder);
* ``X-Scope-OrgID`` required (401 ``no org id`` without it), unless ``require_tenant`` is off;
* validation, each a 400 whose text has one line per refused entry naming its stream and timestamp: label
  names ``[a-zA-Z_][a-zA-Z0-9_]*`` not starting ``__``, at least one and at most 15 label names, no
  duplicates, name ≤ 1024 and value ≤ 2048 bytes (the whole stream is refused); a line over
  ``max_line_size`` (``256KB``, read by Loki as 256,000 bytes); older than ``reject_old_samples_max_age``
  (one week: ``oldest_ns`` overrides the bound); newer than now + 10 minutes; within a stream, older than the
  newest entry minus one hour.
  Valid entries of a request with refused ones are stored, as Loki does;
* faults on cue (``plan``): ``Fault(429, retry_after="1")`` or any status, ``Fault("slow", delay=…)`` (answer
  after a delay), ``Fault("drop")`` (read the body, then reset the connection without an answer).

What it stores: every accepted entry as :class:`Entry` (tenant, labels, timestamp, line, metadata), in arrival
order, and every request's raw size and encoding.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import re
import socket
import struct
import threading
import time
import zlib
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import cramjam
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, timestamp_pb2
from tests._http_server import serve, stop_serving

PUSH_PATH = "/loki/api/v1/push"
_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
_SELECTOR = re.compile(r'\s*([^=\s{},]+)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|\})')
_WEEK_NS = 7 * 24 * 3600 * 10**9
_FUTURE_NS = 10 * 60 * 10**9
_BEHIND_NS = 3600 * 10**9


def _push_request_class() -> Any:
    """``logproto.PushRequest`` built from a descriptor written here (the field numbers of push.proto)."""
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(timestamp_pb2.DESCRIPTOR.serialized_pb)
    proto = descriptor_pb2.FileDescriptorProto(name="loki_standin_push.proto", package="logproto", syntax="proto3",
                                               dependency=["google/protobuf/timestamp.proto"])
    field = descriptor_pb2.FieldDescriptorProto
    layout = {
        "LabelPairAdapter": [(1, "name", field.TYPE_STRING, ""), (2, "value", field.TYPE_STRING, "")],
        "EntryAdapter": [(1, "timestamp", field.TYPE_MESSAGE, ".google.protobuf.Timestamp"),
                         (2, "line", field.TYPE_STRING, ""),
                         (3, "structuredMetadata", field.TYPE_MESSAGE, ".logproto.LabelPairAdapter")],
        "StreamAdapter": [(1, "labels", field.TYPE_STRING, ""),
                          (2, "entries", field.TYPE_MESSAGE, ".logproto.EntryAdapter")],
        "PushRequest": [(1, "streams", field.TYPE_MESSAGE, ".logproto.StreamAdapter")],
    }
    repeated = {("EntryAdapter", 3), ("StreamAdapter", 2), ("PushRequest", 1)}
    for name, fields in layout.items():
        message = proto.message_type.add(name=name)
        for number, field_name, kind, type_name in fields:
            label = field.LABEL_REPEATED if (name, number) in repeated else field.LABEL_OPTIONAL
            added = message.field.add(name=field_name, number=number, type=kind, label=label)
            if type_name:
                added.type_name = type_name
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("logproto.PushRequest"))


PushRequest = _push_request_class()


@dataclasses.dataclass(frozen=True)
class Fault:
    """One planned misbehaviour: an HTTP status (with ``Retry-After``), ``"slow"`` or ``"drop"``."""

    action: int | str
    retry_after: str | None = None
    delay: float = 0.0


@dataclasses.dataclass(frozen=True)
class Entry:
    tenant: str | None
    labels: dict[str, str]
    ts: int
    line: str
    metadata: dict[str, str]

    @property
    def record(self) -> dict[str, Any]:
        return json.loads(self.line)  # type: ignore[no-any-return]


@dataclasses.dataclass(frozen=True)
class Push:
    """One request as received: its headers, the raw body size, and the answer's status."""

    headers: dict[str, str]
    size: int
    status: int | str
    streams: list[tuple[dict[str, str], list[int]]]
    """Per stream of the body: its labels and its entries' timestamps, in body order."""
    received: float = 0.0
    """``time.monotonic()`` when the body was read."""


def rfc3339(ts: int) -> str:
    """Unix nanoseconds as RFC 3339 with up to nine fraction digits (trailing zeros trimmed), UTC."""
    seconds, nanos = divmod(ts, 10**9)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    fraction = f"{nanos:09d}".rstrip("0")
    return text + (f".{fraction}" if fraction else "") + "Z"


class _BadRequest(Exception):
    pass


def _parse_selector(text: str) -> list[tuple[str, str]]:
    text = text.strip()
    if not text.startswith("{") or not text.endswith("}"):
        raise _BadRequest(f"error parsing labels {text!r}: expected {{name=\"value\", ...}}")
    if text == "{}":
        return []
    pairs: list[tuple[str, str]] = []
    position = 1
    while position < len(text):
        found = _SELECTOR.match(text, position)
        if found is None:
            raise _BadRequest(f"error parsing labels {text!r}: parse error at {position}")
        value = re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), found.group(2))
        pairs.append((found.group(1), value))
        position = found.end()
    return pairs


def _format_selector(labels: dict[str, str]) -> str:
    def quoted(value: str) -> str:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    return "{" + ", ".join(f'{k}="{quoted(v)}"' for k, v in sorted(labels.items())) + "}"


class LokiReceiver:
    """The stand-in server and what it stored (thread-safe: handlers run on the server's threads)."""

    def __init__(self, *, require_tenant: bool = True) -> None:
        self.require_tenant = require_tenant
        self.max_line_size = 256_000  # "256KB": Loki counts a KB as 1,000 bytes
        self.oldest_ns: int | None = None
        """The oldest accepted timestamp; ``None``: now minus one week (Loki's reject_old_samples_max_age)."""
        self.entries: list[Entry] = []
        self.pushes: list[Push] = []
        self._newest: dict[tuple[str | None, str], int] = {}
        self._plan: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def plan(self, *faults: Fault) -> None:
        """Answer the next requests with ``faults``, in order, then normally."""
        with self._lock:
            self._plan.extend(faults)

    def by_stream(self) -> dict[tuple[tuple[str, str], ...], list[Entry]]:
        with self._lock:
            streams: dict[tuple[tuple[str, str], ...], list[Entry]] = {}
            for entry in self.entries:
                streams.setdefault(tuple(sorted(entry.labels.items())), []).append(entry)
            return streams

    # -- decoding -------------------------------------------------------------------------------------------

    def _decode(self, headers: dict[str, str], raw: bytes) -> list[tuple[str, list[tuple[int, str, dict[str, str]]]]]:
        kind = headers.get("content-type", "").split(";")[0].strip()
        if kind == "application/x-protobuf":
            try:
                request = PushRequest.FromString(bytes(cramjam.snappy.decompress_raw(raw)))
            except Exception as exc:
                raise _BadRequest(f"unparsable protobuf body: {exc}") from exc
            return [(stream.labels, [(e.timestamp.seconds * 10**9 + e.timestamp.nanos, e.line,
                                      {p.name: p.value for p in e.structuredMetadata}) for e in stream.entries])
                    for stream in request.streams]
        if kind != "application/json":
            raise _BadRequest(f"unsupported Content-Type {kind!r}")
        encoding = headers.get("content-encoding", "")
        body = gzip.decompress(raw) if encoding == "gzip" else zlib.decompress(raw) if encoding == "deflate" else raw
        try:
            document = json.loads(body)
        except ValueError as exc:
            raise _BadRequest(f"unparsable JSON body: {exc}") from exc
        streams = []
        for stream in document.get("streams", []):
            labels = stream.get("stream", {})
            values = []
            for value in stream.get("values", []):
                if not isinstance(value[0], str) or not value[0].isdigit():
                    raise _BadRequest(f"timestamp {value[0]!r} is not a string of unix nanoseconds")
                metadata = value[2] if len(value) > 2 else {}
                if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
                    raise _BadRequest("structured metadata must map strings to strings")
                values.append((int(value[0]), value[1], metadata))
            streams.append((_format_selector(labels), values))
        return streams

    # -- validation and storage -------------------------------------------------------------------------------

    def _label_error(self, selector: str) -> tuple[dict[str, str] | None, str | None]:
        """The stream's labels, or the reason the whole stream is refused."""
        try:
            pairs = _parse_selector(selector)
        except _BadRequest as exc:
            return None, f"stream '{selector}': invalid labels: {exc}"
        names = [name for name, _ in pairs]
        labels = dict(pairs)
        shown = _format_selector(labels)
        problems = [
            (not pairs, "missing labels"),
            (len(set(names)) != len(names), "duplicate label names"),
            (len(names) > 15, f"has {len(names)} label names; the maximum number of label names is 15"),
            *((not _NAME.match(n) or n.startswith("__"), f"invalid label name {n!r}") for n in names),
            *((len(n.encode()) > 1024, "label name too long") for n in names),
            *((len(v.encode()) > 2048, "label value too long") for _, v in pairs),
        ]
        problem = next((text for failed, text in problems if failed), None)
        if problem is not None:
            return None, f"stream '{shown}': {problem}"
        return labels, None

    def _store(self, tenant: str | None, streams: list[tuple[str, list[tuple[int, str, dict[str, str]]]]]
               ) -> list[str]:
        errors: list[str] = []
        now = time.time_ns()
        oldest = now - _WEEK_NS if self.oldest_ns is None else self.oldest_ns
        with self._lock:
            for selector, values in streams:
                labels, problem = self._label_error(selector)
                if labels is None:
                    errors.append(str(problem))
                    continue
                shown = _format_selector(labels)
                key = (tenant, shown)
                for ts, line, metadata in values:
                    if len(line.encode()) > self.max_line_size:
                        errors.append(f"Max entry size '{self.max_line_size}' bytes exceeded for stream '{shown}' "
                                      f"while adding an entry with length '{len(line.encode())}' bytes")
                    elif ts < oldest:
                        errors.append(f"entry for stream '{shown}' has timestamp too old: {rfc3339(ts)}, oldest "
                                      f"acceptable timestamp is: {rfc3339(oldest)}")
                    elif ts > now + _FUTURE_NS:
                        errors.append(f"entry for stream '{shown}' has timestamp too new: {rfc3339(ts)}")
                    elif ts < self._newest.get(key, 0) - _BEHIND_NS:
                        errors.append(f"entry for stream '{shown}' with timestamp {rfc3339(ts)} is out of order: "
                                      "too far behind")
                    else:
                        self._newest[key] = max(self._newest.get(key, 0), ts)
                        self.entries.append(Entry(tenant, labels, ts, line, dict(metadata)))
        return errors

    # -- serving --------------------------------------------------------------------------------------------

    def _next_fault(self) -> Fault | None:
        with self._lock:
            return self._plan.popleft() if self._plan else None

    def _push(self, headers: dict[str, str], raw: bytes, status: int | str,
              streams: list[tuple[str, list[tuple[int, str, dict[str, str]]]]]) -> None:
        summary = [(dict(_parse_selector(selector)) if selector.startswith("{") else {}, [v[0] for v in values])
                   for selector, values in streams]
        with self._lock:
            self.pushes.append(Push(headers, len(raw), status, summary, time.monotonic()))

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length", "0"))
        raw = handler.rfile.read(length)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        if handler.path != PUSH_PATH:
            _answer(handler, 404, b"404 page not found\n")
            return
        fault = self._next_fault()
        if fault is not None and fault.action == "drop":
            self._push(headers, raw, "drop", [])
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            handler.close_connection = True
            return
        if fault is not None and fault.action == "slow":
            time.sleep(fault.delay)
        elif fault is not None and isinstance(fault.action, int):
            self._push(headers, raw, fault.action, [])
            extra = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            _answer(handler, fault.action, b"Ingestion rate limit exceeded\n" if fault.action == 429 else
                    b"internal server error\n", extra)
            return
        tenant = headers.get("x-scope-orgid")
        if self.require_tenant and not tenant:
            self._push(headers, raw, 401, [])
            _answer(handler, 401, b"no org id\n")
            return
        try:
            streams = self._decode(headers, raw)
        except _BadRequest as exc:
            self._push(headers, raw, 400, [])
            _answer(handler, 400, f"{exc}\n".encode())
            return
        errors = self._store(tenant, streams)
        self._push(headers, raw, 400 if errors else 204, streams)
        if errors:
            _answer(handler, 400, ("\n".join(errors) + "\n").encode())
        else:
            _answer(handler, 204, b"")

    def start(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the tests read ``entries`` and ``pushes``."""

            def do_POST(self) -> None:
                owner.handle(self)

        self._server, self._thread = serve(Handler)
        self.port = self._server.server_address[1]

    def stop(self) -> None:
        server, self._server = self._server, None
        stop_serving(server, self._thread)


def _answer(handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
    handler.send_response(status)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    if status != 204:
        handler.send_header("Content-Type", "text/plain; charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if status != 204:
        handler.wfile.write(body)
