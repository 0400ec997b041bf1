"""The built-in ``otlp`` sink: records as OTLP log records over HTTP/protobuf (``pip install 'fapilog[otlp]'``).

The way to ship logs to an OpenTelemetry Collector (or any OTLP/HTTP receiver: Grafana Alloy, Honeycomb,
Datadog's agent...). Each batch becomes one ``ExportLogsServiceRequest`` (see
:mod:`fapilog.builtins.sinks._otlp_encode` for the mapping) POSTed to the logs endpoint; the core's delivery
machinery does batching, retries, the circuit breaker, the fallback and the counters, like for every network
sink. The answer follows the OTLP/HTTP specification:

* 2xx: delivered; a ``partial_success`` with ``rejected_log_records`` N counts N records as rejected
  (``otlp_rejected``; OTLP does not say which, so the batch's last N stand for them in the fallback).
* 429, 502, 503, 504, a timeout or a connection error: retryable, honouring ``Retry-After``.
* 413: the core sends the batch again in halves.
* any other status (400 for a malformed request, 401/403...): permanent, rejected as ``http_<status>``.

The request is built with ``opentelemetry-proto``'s messages and sent with one ``httpx.AsyncClient`` per sink
(the ``http`` sink's client code: address resolution off the loop, auth headers kept secret) rather than with
the OpenTelemetry SDK's ``OTLPLogExporter``: that exporter blocks, retries on its own for up to its timeout,
reports only success or failure (a 400 and a 503 look the same), ignores ``partial_success`` and needs each
record rebuilt as an SDK log record first. See ``docs/sinks/otlp.md`` for the measurements.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from fapilog._version import __version__
from fapilog.builtins.sinks._http_config import Secret, auth_header, check_headers, check_url, public_url
from fapilog.builtins.sinks._http_resolve import Resolver
from fapilog.errors import ConfigError
from fapilog.plugins.constraints import NonEmpty, Range, settings_from
from fapilog.plugins.metadata import PluginMetadata
from fapilog.plugins.outcomes import (
    BatchResult,
    BatchTooLargeError,
    PermanentSinkError,
    RetryableSinkError,
    parse_retry_after,
)

__all__ = ["OtlpSink", "OtlpSinkSettings"]

DEFAULT_ENDPOINT = "http://localhost:4318/v1/logs"
_RETRYABLE = frozenset({429, 502, 503, 504})
"""The statuses OTLP/HTTP names as retryable; every other 4xx/5xx is permanent."""
_GZIP_LEVEL = 6
_CODE = "FL-SNK-004"
_INSTALL = "pip install 'fapilog[otlp]'"
_PACKAGES = (("httpx", "httpx"), ("opentelemetry", "opentelemetry-proto"), ("google", "protobuf"))
"""(module prefix, distribution) of what the sink imports, to name what is missing."""


@dataclasses.dataclass(frozen=True)
class OtlpSinkSettings:
    """Settings of the ``otlp`` sink (batching and retries are the sink's ``delivery`` table, like any sink's).

    ``endpoint``: the OTLP/HTTP logs URL, path included (a Collector listens on ``http://HOST:4318/v1/logs``).
    ``service_name``: the ``service.name`` resource attribute (default: ``OTEL_SERVICE_NAME``, else
    ``unknown_service:python`` as OpenTelemetry's SDKs say).
    ``resource``: more resource attributes (``{"deployment.environment": "prod"}``).
    ``compression``: ``"gzip"`` (``Content-Encoding: gzip``) or ``None``.
    ``headers``: extra request headers (a vendor's API key header; use ``auth`` for credentials).
    ``auth``: ``{"bearer": token}`` or ``{"basic": [user, password]}``; a secret may be ``{"env": "NAME"}``.
    ``timeout``: seconds for one request (connect, write, read), below ``delivery.write_timeout``.
    ``name``: the name this sink runs under in ``stats()`` and diagnostics.
    """

    # endpoint, headers and auth may hold credentials: they stay out of the repr
    endpoint: str = dataclasses.field(default=DEFAULT_ENDPOINT, repr=False)
    service_name: Annotated[str, NonEmpty] | None = None
    resource: dict[str, Any] = dataclasses.field(default_factory=dict)
    compression: Literal["gzip"] | None = "gzip"
    headers: dict[str, str] = dataclasses.field(default_factory=dict, repr=False)
    auth: Any = dataclasses.field(default=None, repr=False)
    timeout: Annotated[float, Range(gt=0, le=3600)] = 5.0
    name: str = "otlp"

    def __post_init__(self) -> None:
        # What the annotations cannot say: the endpoint's shape, header text and the auth table (a secret read
        # from the environment must be set now, not fail on the first batch).
        check_url(self.endpoint, "endpoint", _CODE)
        check_headers(self.headers, _CODE)
        auth_header(self.auth, _CODE)


class OtlpSink:
    """Exports each batch as one OTLP/HTTP protobuf request and reports the outcome to the core.

    >>> sink = OtlpSink("http://otel-collector:4318/v1/logs", service_name="checkout",
    ...                 resource={"deployment.environment": "prod"})
    """

    runs_on_worker_loop = False
    """Encoding a batch costs about 35 µs per record (``benchmarks/otlp_exporter.py``): done on the sink's own
    thread and loop (where its httpx client lives), it never holds up the worker or the other sinks."""
    delivery_defaults: Mapping[str, Any] = {"batch_size": 512, "batch_max_bytes": 1_000_000, "batch_max_age": 1.0}
    """Up to 512 records or about 1 MB of records per request, sent at least every second."""
    metadata = PluginMetadata(
        name="otlp",
        version=__version__,
        kind="sink",
        description="OTLP log records over HTTP/protobuf to an OpenTelemetry Collector, with retries.",
        homepage="https://github.com/fapilog/fapilog/blob/main/docs/sinks/otlp.md",
        config_model=OtlpSinkSettings,
    )

    def __init__(self, settings: OtlpSinkSettings | str | None = None, /, **values: Any) -> None:
        """``settings`` (the registry passes the validated model), or the endpoint, with the other fields as
        keywords: ``OtlpSink("http://otel-collector:4318/v1/logs", service_name="checkout")``."""
        if settings is not None and not isinstance(settings, OtlpSinkSettings):
            values = {"endpoint": settings, **values}
            settings = None
        self.settings = settings = settings_from(OtlpSinkSettings, settings, root="otlp", **values)
        self.name = settings.name
        self._endpoint = Secret(settings.endpoint)  # user info and query may hold credentials
        self._auth = auth_header(settings.auth, _CODE)
        self.endpoint = public_url(settings.endpoint)
        """The endpoint without user info or query (safe to show)."""
        self.service_name = (settings.service_name or os.environ.get("OTEL_SERVICE_NAME")
                             or "unknown_service:python")
        self.resource = {"service.name": self.service_name, **settings.resource}
        self.compression = settings.compression
        self.timeout = settings.timeout
        self._headers = dict(settings.headers)
        self._client: Any = None
        self._encode: Any = None
        self._rejected_count: Any = None
        self._resolver = Resolver(self._endpoint.reveal(), self.name)

    def __repr__(self) -> str:
        return f"OtlpSink(endpoint={self.endpoint!r}, service_name={self.service_name!r}, name={self.name!r})"

    async def start(self) -> None:
        """Open the persistent client (imports httpx and opentelemetry-proto: the extra is needed only here)."""
        try:
            import httpx

            from fapilog.builtins.sinks._otlp_encode import encode, rejected_count
        except ImportError as exc:
            module = exc.name or ""
            package = next((dist for prefix, dist in _PACKAGES if module.startswith(prefix)), "a dependency")
            raise ConfigError(f"otlp sink: {package} is not installed; run: {_INSTALL}", field="type",
                              code="FL-SNK-007") from exc
        self._encode, self._rejected_count = encode, rejected_count
        headers = {"Content-Type": "application/x-protobuf", "User-Agent": f"fapilog/{__version__}",
                   **self._headers}
        if self.compression == "gzip":
            headers["Content-Encoding"] = "gzip"
        if self._auth is not None:
            headers["Authorization"] = self._auth.reveal()
        self._resolver.start()
        self._client = httpx.AsyncClient(headers=headers, timeout=self.timeout, follow_redirects=False)

    async def stop(self) -> None:
        client, self._client = self._client, None
        self._resolver.stop()
        if client is not None:
            await client.aclose()

    async def write(self, record: Mapping[str, Any]) -> None:
        await self.write_batch([record])

    def body(self, records: Sequence[Mapping[str, Any]]) -> bytes:
        """The serialized ``ExportLogsServiceRequest`` for ``records``, before compression (after ``start()``)."""
        if self._encode is None:
            raise RetryableSinkError("otlp sink: not started", reason="not_started")
        return self._encode(records, self.resource)  # type: ignore[no-any-return]

    async def write_batch(self, records: Sequence[Mapping[str, Any]]) -> BatchResult | None:
        import httpx

        if self._client is None:
            raise RetryableSinkError("otlp sink: not started", reason="not_started")
        content = self.body(records)
        if self.compression == "gzip":
            content = gzip.compress(content, compresslevel=_GZIP_LEVEL, mtime=0)
        try:
            url, host, extensions = await self._resolver.target()
            response = await self._client.post(url, content=content, headers=host, extensions=extensions)
        except httpx.TimeoutException as exc:
            raise RetryableSinkError(f"otlp sink {self.name!r}: no answer from {self.endpoint} within "
                                     f"{self.timeout}s", reason="timeout") from exc
        except httpx.TransportError as exc:
            self._resolver.forget()
            raise RetryableSinkError(f"otlp sink {self.name!r}: {type(exc).__name__} talking to {self.endpoint}",
                                     reason=type(exc).__name__) from exc
        except OSError as exc:  # the name did not resolve
            self._resolver.forget()
            raise RetryableSinkError(f"otlp sink {self.name!r}: cannot resolve the host of {self.endpoint} "
                                     f"({type(exc).__name__})", reason="dns") from exc
        status = response.status_code
        if 200 <= status < 300:
            return self._partial(response, len(records))
        reason = f"http_{status}"
        message = f"otlp sink {self.name!r}: {self.endpoint} answered {status}"
        if status == 413:
            raise BatchTooLargeError(f"{message} (body of {len(content)} bytes too large)", reason=reason)
        if status in _RETRYABLE:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise RetryableSinkError(message, retry_after=retry_after, reason=reason)
        raise PermanentSinkError(f"{message}{_status_detail(response)}", reason=reason)

    def _partial(self, response: Any, size: int) -> BatchResult | None:
        """``partial_success``: the receiver refused some records (it does not say which: the last N stand in)."""
        body = response.content
        if not body:
            return None
        kind = response.headers.get("Content-Type", "")
        try:
            if "json" in kind:
                partial = json.loads(body).get("partialSuccess") or {}
                rejected = int(partial.get("rejectedLogRecords") or 0)
            else:
                rejected, _ = self._rejected_count(body)
        except (ValueError, TypeError, AttributeError):
            return None  # not an OTLP answer (a proxy's page): the 2xx still says the records were taken
        rejected = min(max(rejected, 0), size)
        if not rejected:
            return None
        return BatchResult(rejected=dict.fromkeys(range(size - rejected, size), "otlp_rejected"))


def _status_detail(response: Any) -> str:
    """The receiver's own words for a refusal when it gave them as text or JSON, short and on one line."""
    kind = response.headers.get("Content-Type", "")
    if "text" not in kind and "json" not in kind:
        return ""  # a protobuf google.rpc.Status: its bytes are no message for a person
    text = response.content[:200].decode("utf-8", "replace")
    printable = "".join(ch for ch in text if ch.isprintable()).strip()
    return f": {printable}" if printable else ""
