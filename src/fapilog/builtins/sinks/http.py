"""The built-in ``http`` sink: batches of records POSTed to a URL (needs ``pip install 'fapilog[http]'``).

The sink only turns a batch into one request and the answer into an outcome; the core does the rest
(batching by count, bytes and age; retries with jittered backoff honouring ``Retry-After``; the circuit
breaker; the fallback; the counters). Status mapping:

* 2xx: delivered.
* 408, 425, 429, 5xx, a timeout or a connection error: retryable (``Retry-After`` in seconds or as an HTTP date
  is honoured, capped by ``delivery.retry.max_retry_after``).
* 413: the body is too large: the core sends the batch again in halves; one record still too large is rejected
  (``http_413``).
* any other status: permanent, the batch's records are rejected as ``http_<status>`` and not retried.

One ``httpx.AsyncClient`` per sink keeps connections alive between batches; it is closed by ``stop()``.
The HMAC signature (``hmac``) is the lowercase hex HMAC-SHA256 of the exact body bytes sent (after gzip).
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from fapilog._version import __version__
from fapilog.builtins.sinks._http_config import auth_header, check_headers, check_url, hmac_settings
from fapilog.builtins.sinks._http_transport import HttpTransport
from fapilog.plugins import dumps
from fapilog.plugins.constraints import NonEmpty, Range, setting_error, settings_from
from fapilog.plugins.metadata import PluginMetadata
from fapilog.plugins.outcomes import BatchResult

__all__ = ["HttpSink", "HttpSinkSettings"]

_CODE = "FL-SNK-003"
_CONTENT_TYPES = {"ndjson": "application/x-ndjson", "json_array": "application/json", "wrapped": "application/json"}
_GZIP_LEVEL = 6


@dataclasses.dataclass(frozen=True)
class HttpSinkSettings:
    """Settings of the ``http`` sink (batching and retries are the sink's ``delivery`` table, like any sink's).

    ``url``: where batches are POSTed (``http://`` or ``https://``).
    ``format``: ``ndjson`` (one JSON record per line), ``json_array`` (``[{...}, ...]``) or ``wrapped``
    (``{"<wrap_key>": [{...}, ...]}``).
    ``wrap_key``: the key holding the records with ``format="wrapped"``.
    ``compression``: ``"gzip"`` to send ``Content-Encoding: gzip`` bodies, or ``None``.
    ``headers``: extra request headers (e.g. an API key header; use ``auth`` for credentials).
    ``auth``: ``{"bearer": token}`` or ``{"basic": [user, password]}``; a secret may be ``{"env": "NAME"}``.
    ``hmac``: ``{"secret": key or {"env": "NAME"}, "header": "X-Signature"}``: sign each body (HMAC-SHA256, hex).
    ``timeout``: seconds for one request (connect, write, read), below ``delivery.write_timeout``.
    ``method``: ``POST`` or ``PUT``.
    ``bulk_action``: with ``format="ndjson"``, a JSON line written before each record (Elasticsearch/OpenSearch
    ``_bulk``, e.g. ``{"create": {}}``); the bulk answer's per-item failures are counted as rejected
    (``bulk_<status>``).
    ``name``: the name this sink runs under in ``stats()`` and diagnostics.
    """

    # url, headers, auth and hmac may hold credentials: they stay out of the repr
    url: str = dataclasses.field(repr=False)
    format: Literal["ndjson", "json_array", "wrapped"] = "ndjson"
    wrap_key: Annotated[str, NonEmpty] = "events"
    compression: Literal["gzip"] | None = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict, repr=False)
    auth: Any = dataclasses.field(default=None, repr=False)
    hmac: Any = dataclasses.field(default=None, repr=False)
    timeout: Annotated[float, Range(gt=0, le=3600)] = 5.0
    method: Literal["POST", "PUT"] = "POST"
    bulk_action: dict[str, Any] | None = None
    name: str = "http"

    def __post_init__(self) -> None:
        # What the annotations cannot say: the URL's shape, header text, the auth and HMAC tables (a secret
        # read from the environment must be set now, not fail on the first batch), bulk_action's format.
        check_url(self.url, code=_CODE)
        check_headers(self.headers, _CODE)
        auth_header(self.auth, _CODE)
        hmac_settings(self.hmac, _CODE)
        if self.bulk_action is not None and self.format != "ndjson":
            raise setting_error("bulk_action", "expected a table such as {'create': {}}, with format='ndjson'",
                                code=_CODE)


class HttpSink:
    """POSTs each batch as one request and reports the outcome to the core's delivery machinery.

    >>> sink = HttpSink("https://logs.example.com/ingest", compression="gzip",
    ...                 auth={"bearer": {"env": "LOGS_TOKEN"}})
    """

    runs_on_worker_loop = True
    """httpx's async client never blocks the loop, so the sink needs no thread of its own."""
    delivery_defaults: Mapping[str, Any] = {"batch_size": 500, "batch_max_bytes": 1_000_000, "batch_max_age": 1.0}
    """Batches of up to 500 records or 1 MB, sent at least every second; the user's ``delivery`` wins."""
    metadata = PluginMetadata(
        name="http",
        version=__version__,
        kind="sink",
        description="Batches of JSON records POSTed to an HTTP endpoint, with gzip, auth, HMAC and retries.",
        homepage="https://github.com/fapilog/fapilog/blob/main/docs/sinks/http.md",
        config_model=HttpSinkSettings,
    )

    def __init__(self, settings: HttpSinkSettings | str | None = None, /, **values: Any) -> None:
        """``settings`` (the registry passes the validated model), or the URL, with the other fields as
        keywords: ``HttpSink("https://logs.example.com/ingest", compression="gzip")``."""
        if settings is not None and not isinstance(settings, HttpSinkSettings):
            values = {"url": settings, **values}
            settings = None
        self.settings = settings = settings_from(HttpSinkSettings, settings, root="http", **values)
        self.name = settings.name
        self._transport = HttpTransport(settings.url, sink="http", name=settings.name, extra="http",
                                        headers=settings.headers, auth=settings.auth, timeout=settings.timeout,
                                        code=_CODE)
        self.url = self._transport.url
        """The URL without user info or query (safe to show)."""
        bulk_action = settings.bulk_action
        self._bulk_line = None if bulk_action is None else json.dumps(bulk_action).encode()
        self.format = settings.format
        self.compression = settings.compression
        self.timeout = settings.timeout
        self.method = settings.method
        self._hmac = hmac_settings(settings.hmac, _CODE)
        self._wrap_prefix = b'{' + json.dumps(settings.wrap_key).encode() + b':['

    def __repr__(self) -> str:
        return f"HttpSink(url={self.url!r}, format={self.format!r}, name={self.name!r})"

    async def start(self) -> None:
        """Open the persistent client (imports httpx: the extra is needed only by configurations that use it)."""
        headers = {"Content-Type": _CONTENT_TYPES[self.format]}
        if self.compression == "gzip":
            headers["Content-Encoding"] = "gzip"
        self._transport.start(headers)

    async def stop(self) -> None:
        await self._transport.stop()

    async def write(self, record: Mapping[str, Any]) -> None:
        await self.write_batch([record])

    def body(self, records: Sequence[Mapping[str, Any]]) -> bytes:
        """The request body for ``records`` in the configured format, before compression."""
        lines = [_json(record) for record in records]
        if self.format == "ndjson":
            if self._bulk_line is not None:
                lines = [part for line in lines for part in (self._bulk_line, line)]
            return b"\n".join(lines) + b"\n"
        if self.format == "json_array":
            return b"[" + b",".join(lines) + b"]"
        return self._wrap_prefix + b",".join(lines) + b"]}"

    async def write_batch(self, records: Sequence[Mapping[str, Any]]) -> BatchResult | None:
        content = self.body(records)
        if self.compression == "gzip":
            content = gzip.compress(content, compresslevel=_GZIP_LEVEL, mtime=0)
        headers: dict[str, str] = {}
        if self._hmac is not None:
            key, header = self._hmac
            headers[header] = hmac.new(key.reveal().encode(), content, hashlib.sha256).hexdigest()
        response = await self._transport.send(content, headers, self.method)
        self._transport.raise_for_status(response, len(content))
        return self._bulk_result(response) if self._bulk_line is not None else None

    @staticmethod
    def _bulk_result(response: Any) -> BatchResult | None:
        """Per-item failures of a ``_bulk`` answer (``{"errors": true, "items": [{"create": {"status": 400}}]}``)."""
        try:
            answer = response.json()
        except ValueError:
            return None
        items = answer.get("items") if isinstance(answer, dict) and answer.get("errors") is True else None
        if not isinstance(items, list):
            return None
        rejected: dict[int, str] = {}
        for index, item in enumerate(items):
            result = next(iter(item.values()), None) if isinstance(item, dict) and item else None
            status = result.get("status") if isinstance(result, dict) else None
            if isinstance(status, int) and status >= 300:
                rejected[index] = f"bulk_{status}"
        return BatchResult(rejected=rejected) if rejected else None


def _json(record: Mapping[str, Any]) -> bytes:
    """The record's JSON, serialized once by the pipeline (``record.json``) when available."""
    encoded = getattr(record, "json", None)
    return encoded if isinstance(encoded, bytes) else dumps(record)
