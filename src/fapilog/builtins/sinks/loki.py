"""The built-in ``loki`` sink: batches pushed to Grafana Loki (needs ``pip install 'fapilog[loki]'``).

Each batch becomes one ``POST {url}/loki/api/v1/push``: snappy-compressed protobuf (``logproto.PushRequest``,
the default of Loki's own clients) or JSON, optionally gzip-compressed. Records are grouped into streams by
their labels (the static ``labels`` plus the ``label_fields`` a record carries), each stream's entries sorted
by the event's own nanosecond timestamp. The line is the record's JSON, serialized once by the pipeline;
``structured_metadata`` copies the listed fields into Loki's structured metadata as well.

The core does batching, retries with jittered backoff, ``Retry-After``, the circuit breaker, the fallback and
the counters. Answers:

* 204 (any 2xx): delivered.
* 400: permanent. The reason is read from Loki's text (``greater_than_max_sample_age``, ``line_too_long``…);
  when every line of it names an entry of the batch, only those entries are rejected (Loki stored the rest),
  otherwise the whole batch is.
* 429, 5xx, a timeout or a lost connection: retryable, honouring ``Retry-After``.
* 413: the batch is sent again in halves; any other status is permanent (``http_401`` without a tenant…).
"""

from __future__ import annotations

import dataclasses
import datetime
import gzip
import time
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from fapilog._version import __version__
from fapilog.builtins.processors.size_guard import LOKI_MAX_LINE_BYTES
from fapilog.builtins.sinks._http_config import auth_header, check_headers, check_url
from fapilog.builtins.sinks._http_transport import HttpTransport
from fapilog.builtins.sinks._loki_answer import StreamKey, reason_of, refused_entries
from fapilog.builtins.sinks._loki_labels import (
    check_field_names,
    check_labels,
    label_value,
    selector,
    warn_about,
)
from fapilog.builtins.sinks._loki_proto import Entry, encode_push_request
from fapilog.errors import ConfigError
from fapilog.plugins import dumps
from fapilog.plugins.constraints import NonEmpty, NonNegative, Range, setting_error, settings_from
from fapilog.plugins.metadata import PluginHealth, PluginMetadata
from fapilog.plugins.outcomes import BatchResult, PermanentSinkError

__all__ = ["LokiSink", "LokiSinkSettings"]

PUSH_PATH = "/loki/api/v1/push"
DEFAULT_MAX_LINE_SIZE = LOKI_MAX_LINE_BYTES
"""Loki's default ``max_line_size`` (``256KB``, which Loki reads as 256,000 bytes)."""
_GZIP_LEVEL = 6
_CODE = "FL-SNK-005"
_MIN_LINE_SIZE = 256
_MARKER = b"...[truncated by fapilog: %d bytes]"


@dataclasses.dataclass(frozen=True)
class LokiSinkSettings:
    """Settings of the ``loki`` sink (batching and retries are its ``delivery`` table, like any sink's).

    ``url``: Loki's base URL (``https://logs-prod-eu-west-0.grafana.net``); the push path is added unless the
    URL already ends with it.
    ``labels``: the static stream labels, e.g. ``{"service": "api", "env": "prod"}`` (at least one).
    ``label_fields``: record fields promoted to labels, e.g. ``["level"]``: only low-cardinality ones.
    ``structured_metadata``: record fields also sent as Loki structured metadata, e.g. ``["trace_id"]``.
    ``tenant``: the ``X-Scope-OrgID`` header (multi-tenant Loki).
    ``encoding``: ``"protobuf"`` (snappy-compressed ``PushRequest``) or ``"json"``.
    ``compression``: ``"gzip"`` for JSON bodies, or ``None`` (protobuf bodies are always snappy).
    ``headers``: extra request headers. ``auth``: ``{"basic": [user, token]}`` or ``{"bearer": token}``; a
    secret may be ``{"env": "NAME"}``.
    ``timeout``: seconds for one request. ``max_line_size``: bytes; a longer line is cut and marked (0: never).
    ``name``: the name this sink runs under in ``stats()`` and diagnostics.
    """

    # url, headers and auth may hold credentials: they stay out of the repr
    url: str = dataclasses.field(repr=False)
    labels: dict[str, str] = dataclasses.field(default_factory=lambda: {"job": "fapilog"})
    label_fields: list[str] = dataclasses.field(default_factory=list)
    structured_metadata: list[str] = dataclasses.field(default_factory=list)
    tenant: Annotated[str, NonEmpty] | None = None
    encoding: Literal["protobuf", "json"] = "protobuf"
    compression: Literal["gzip"] | None = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict, repr=False)
    auth: Any = dataclasses.field(default=None, repr=False)
    timeout: Annotated[float, Range(gt=0, le=3600)] = 5.0
    max_line_size: Annotated[int, NonNegative] = DEFAULT_MAX_LINE_SIZE
    name: str = "loki"

    def __post_init__(self) -> None:
        # What the annotations cannot say: the URL's shape, header text, the auth table (a secret read from the
        # environment must be set now), label names Loki accepts, and settings that only go together.
        check_url(self.url, code=_CODE)
        check_headers(self.headers, _CODE)
        if self.tenant is not None and ("\r" in self.tenant or "\n" in self.tenant):
            raise setting_error("tenant", "a tenant id (sent as X-Scope-OrgID) may not contain a line break",
                                code=_CODE)
        auth_header(self.auth, _CODE)
        if self.compression == "gzip" and self.encoding != "json":
            raise setting_error("compression", "expected None, or 'gzip' with encoding='json' (protobuf bodies are "
                                               f"always snappy-compressed), got {self.compression!r}", code=_CODE)
        if 0 < self.max_line_size < _MIN_LINE_SIZE:
            raise setting_error("max_line_size", f"expected bytes >= {_MIN_LINE_SIZE} (or 0: never cut), got "
                                                 f"{self.max_line_size!r}", code=_CODE)
        check_labels(self.labels)
        check_field_names(self.label_fields, "label_fields")
        check_field_names(self.structured_metadata, "structured_metadata")


class LokiSink:
    """Pushes each batch to Loki as one request and reports the outcome to the core's delivery machinery.

    >>> sink = LokiSink("http://loki:3100", labels={"service": "api", "env": "prod"}, label_fields=["level"],
    ...                 structured_metadata=["trace_id"], tenant="team-a")
    """

    runs_on_worker_loop = True
    """httpx's async client never blocks the loop; encoding a batch is pure CPU."""
    delivery_defaults: Mapping[str, Any] = {"batch_size": 1000, "batch_max_bytes": 1_000_000, "batch_max_age": 1.0}
    """Batches of up to 1000 records or 1 MB, sent at least every second; the user's ``delivery`` wins."""
    metadata = PluginMetadata(
        name="loki",
        version=__version__,
        kind="sink",
        description="Batches pushed to Grafana Loki (snappy protobuf or JSON), with labels, tenant and auth.",
        homepage="https://github.com/fapilog/fapilog/blob/main/docs/sinks/loki.md",
        config_model=LokiSinkSettings,
    )

    def __init__(self, settings: LokiSinkSettings | str | None = None, /, **values: Any) -> None:
        """``settings`` (the registry passes the validated model), or the URL, with the other fields as
        keywords: ``LokiSink("http://loki:3100", labels={"service": "api"})``."""
        if settings is not None and not isinstance(settings, LokiSinkSettings):
            values = {"url": settings, **values}
            settings = None
        self.settings = settings = settings_from(LokiSinkSettings, settings, root="loki", **values)
        self.name = name = settings.name
        url = settings.url
        if not url.rstrip("/").endswith(PUSH_PATH) and "?" not in url:
            url = url.rstrip("/") + PUSH_PATH
        self._transport = HttpTransport(url, sink="loki", name=name, extra="loki", headers=settings.headers,
                                        auth=settings.auth, timeout=settings.timeout, code=_CODE)
        self.url = self._transport.url
        """The push URL without user info or query (safe to show)."""
        self.labels = dict(settings.labels)
        self.label_fields = tuple(settings.label_fields)
        self.structured_metadata = tuple(settings.structured_metadata)
        self.encoding = settings.encoding
        self.compression = settings.compression
        self.tenant = settings.tenant
        self.max_line_size = settings.max_line_size
        self.notes = warn_about(self.labels, self.label_fields, name)
        """Configuration warnings (labels that look per-event, too many labels), also shown by plugin check."""
        self.truncated = 0
        """Lines cut to ``max_line_size`` so far."""
        self._selectors: dict[tuple[str, ...], tuple[bytes, StreamKey]] = {}

    def __repr__(self) -> str:
        return f"LokiSink(url={self.url!r}, labels={self.labels!r}, encoding={self.encoding!r}, name={self.name!r})"

    async def start(self) -> None:
        """Open the persistent client (imports httpx and cramjam: the extra is needed only when used)."""
        if self.encoding == "protobuf":
            try:
                import cramjam  # noqa: F401 - checked here so a missing extra fails at start, not per batch
            except ImportError as exc:
                raise ConfigError("loki sink: cramjam is not installed (snappy for protobuf bodies); run: pip "
                                  "install 'fapilog[loki]', or set encoding='json'", field="encoding",
                                  code="FL-SNK-007") from exc
        headers = {"Content-Type": "application/x-protobuf" if self.encoding == "protobuf" else "application/json"}
        if self.compression == "gzip":
            headers["Content-Encoding"] = "gzip"
        if self.tenant is not None:
            headers["X-Scope-OrgID"] = self.tenant
        self._transport.start(headers)

    async def stop(self) -> None:
        await self._transport.stop()

    async def health_check(self) -> PluginHealth:
        """Degraded once lines had to be cut to ``max_line_size`` (the detail says how many)."""
        if self.truncated:
            return PluginHealth("degraded", f"{self.truncated} lines cut to max_line_size={self.max_line_size}",
                                code="FL-HLT-006")
        return PluginHealth("healthy")

    async def write(self, record: Mapping[str, Any]) -> None:
        await self.write_batch([record])

    async def write_batch(self, records: Sequence[Mapping[str, Any]]) -> BatchResult | None:
        streams = self.streams(records)
        content = self.body(streams)
        response = await self._transport.send(content)
        if response.status_code == 400:
            return self._refused(response.text, streams, len(records))
        self._transport.raise_for_status(response, len(content))
        return None

    # -- the request body ------------------------------------------------------------------------------------

    def streams(self, records: Sequence[Mapping[str, Any]]) -> dict[bytes, _Stream]:
        """The batch grouped into streams by selector, each stream's entries sorted by timestamp."""
        streams: dict[bytes, _Stream] = {}
        fields = self.label_fields
        for index, record in enumerate(records):
            values = tuple(_label(record.get(field)) for field in fields)
            found = self._selectors.get(values)
            if found is None:
                found = self._selector(values)
            text, key = found
            stream = streams.get(text)
            if stream is None:
                stream = streams[text] = _Stream(key)
            stream.add(_ts_ns(record), self._line(record), self._metadata(record), index)
        for stream in streams.values():
            stream.sort()
        return streams

    def _selector(self, values: tuple[str, ...]) -> tuple[bytes, StreamKey]:
        labels = dict(self.labels)
        labels.update((name, value) for name, value in zip(self.label_fields, values, strict=True) if value)
        text = selector(labels)
        found = text.encode(), tuple(sorted(labels.items()))
        if len(self._selectors) < 10_000:  # bounded: a label field that turned out per-event cannot grow memory
            self._selectors[values] = found
        return found

    def _line(self, record: Mapping[str, Any]) -> bytes:
        encoded = getattr(record, "json", None)
        line = encoded if isinstance(encoded, bytes) else dumps(record)
        limit = self.max_line_size
        if limit and len(line) > limit:
            self.truncated += 1
            room = limit - len(_MARKER % len(line))  # the marker's longest form: the result stays within limit
            cut = line[:room].decode(errors="ignore").encode()  # never half a UTF-8 character
            line = cut + _MARKER % (len(line) - len(cut))
        return line

    def _metadata(self, record: Mapping[str, Any]) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = []
        for name in self.structured_metadata:
            value = record.get(name)
            if value is not None:
                pairs.append((name, value if isinstance(value, str) else dumps(value).decode()))
        return pairs

    def body(self, streams: Mapping[bytes, _Stream]) -> bytes:
        """The request body in the configured encoding and compression."""
        if self.encoding == "protobuf":
            import cramjam

            push: list[tuple[bytes, list[Entry]]] = [
                (text, [(ts, line, [(n.encode(), v.encode()) for n, v in meta])
                        for ts, _, line, meta in stream.entries])
                for text, stream in streams.items()
            ]
            return bytes(cramjam.snappy.compress_raw(encode_push_request(push)))
        body = dumps({"streams": [
            {"stream": dict(stream.key),
             "values": [[str(ts), line.decode(errors="replace"), dict(meta)] if meta else
                        [str(ts), line.decode(errors="replace")] for ts, _, line, meta in stream.entries]}
            for stream in streams.values()
        ]})
        if self.compression == "gzip":
            return gzip.compress(body, compresslevel=_GZIP_LEVEL, mtime=0)
        return body

    # -- the answer ---------------------------------------------------------------------------------------------

    def _refused(self, text: str, streams: Mapping[bytes, _Stream], count: int) -> BatchResult:
        """A 400: the entries Loki names are rejected by reason; if it names none, the whole batch is."""
        entries: dict[tuple[StreamKey, int], list[int]] = {}
        by_stream: dict[StreamKey, list[int]] = {}
        for stream in streams.values():
            for ts, index, _, _ in stream.entries:
                entries.setdefault((stream.key, ts), []).append(index)
                by_stream.setdefault(stream.key, []).append(index)
        found = refused_entries(text, entries, by_stream)
        if found is None:
            reason = reason_of(text.splitlines()[0] if text.strip() else "")
            raise PermanentSinkError(f"loki sink {self.name!r}: {self.url} answered 400 ({reason}): "
                                     f"{text.strip()[:200]}", reason=reason)
        refused, _ = found
        return BatchResult(rejected=refused)


class _Stream:
    """One stream of a batch: its labels and its entries (timestamp, batch index, line, metadata)."""

    __slots__ = ("entries", "key")

    def __init__(self, key: StreamKey) -> None:
        self.key = key
        self.entries: list[tuple[int, int, bytes, list[tuple[str, str]]]] = []

    def add(self, ts: int, line: bytes, metadata: list[tuple[str, str]], index: int) -> None:
        self.entries.append((ts, index, line, metadata))

    def sort(self) -> None:
        """By timestamp, then by position in the batch (the order events were logged)."""
        self.entries.sort(key=lambda entry: (entry[0], entry[1]))


def _label(value: Any) -> str:
    """A record field's label value; ``""`` (the label is left out) when the record lacks it."""
    return "" if value is None or value == "" else label_value(value)


def _ts_ns(record: Mapping[str, Any]) -> int:
    """The event's own nanoseconds (``record.ts_ns``), else its ISO ``timestamp``, else now."""
    ts = getattr(record, "ts_ns", None)
    if isinstance(ts, int) and ts > 0:
        return ts
    stamp = record.get("timestamp")
    if isinstance(stamp, str):
        try:
            moment = datetime.datetime.fromisoformat(stamp)
        except ValueError:
            return time.time_ns()
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.UTC)
        delta = moment - datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
        return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000
    return time.time_ns()
