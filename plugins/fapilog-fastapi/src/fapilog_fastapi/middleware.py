"""``RequestLoggingMiddleware``: request ids, request-scoped context and one access event per request.

A pure ASGI middleware (not Starlette's ``BaseHTTPMiddleware``, which runs the endpoint in another task and
buffers streaming bodies): it wraps ``send`` to see the status and count the body bytes, and runs the rest of
the application in the same task, so the context it binds is what the endpoint, its dependencies and a
streaming body generator see, and it is restored in ``finally`` whatever happens.

Per HTTP request or WebSocket connection it:

1. takes the ``X-Request-ID`` header when it is a safe id (at most 128 letters, digits and ``._:=+/@-``) or
   makes a new one; an unsafe one is replaced, never logged or echoed, and the access event says so with
   ``request_id_replaced: true``;
2. binds ``request_id``, ``method``, ``path`` and ``client`` for the request's duration (``fapilog.bind``)
   and publishes the request to the :class:`~fapilog_fastapi.FastAPIPlugin` enricher, which adds the route
   template once the router has matched it;
3. echoes the id in the response (and in a WebSocket's accept);
4. logs one access event when the response is complete: ``method``, ``path``, ``route``, ``status``,
   ``duration_ms``, ``client``, ``request_id``, ``user_agent``, ``response_bytes``. When the application
   raises, the event says ``status: 500`` (or the status already sent) and ``error: <exception type>``, and the
   exception is re-raised for the server (or Starlette's error middleware) to answer and report. When the
   application receives ``http.disconnect`` before the response is complete, the event says
   ``client_disconnected: true`` (status 499 if nothing was sent) and is never sampled out.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import fapilog
from fapilog import ERROR

from fapilog_fastapi._asgi import ASGIApp, Message, Receive, Scope, Send
from fapilog_fastapi._options import DEFAULT_REDACTED_HEADERS, AccessLogOptions
from fapilog_fastapi._request import RequestInfo, current, is_valid_request_id, new_request_id

__all__ = ["RequestLoggingMiddleware"]

_CLIENT_CLOSED = 499
"""The status logged when the client went away before a response started (nginx's convention)."""
_USER_AGENT = b"user-agent"


class _Exchange:
    """One request's ``send`` and ``receive``, wrapped: what they saw of the response and of the client."""

    __slots__ = ("_echoed", "_header", "_receive", "_send", "complete", "disconnected", "ended", "response_bytes",
                 "status")

    def __init__(self, receive: Receive, send: Send, header: bytes, echoed: bytes) -> None:
        self._receive = receive
        self._send = send
        self._header = header
        self._echoed = echoed
        self.status: int | None = None
        self.response_bytes = 0
        self.complete = False
        """The last body message (``more_body`` false) was sent."""
        self.ended = 0
        """``perf_counter_ns()`` when it was: background tasks run after it, and are not the response's time."""
        self.disconnected = False
        """The application received ``http.disconnect`` before the response was complete."""

    async def send(self, message: Message) -> None:
        """The server's ``send``, recording status and body size and echoing the request id."""
        kind = message["type"]
        if kind == "http.response.body":
            if not self.disconnected:  # the server discards what is sent after a disconnect
                self.response_bytes += len(message.get("body", b""))
            if not message.get("more_body", False):
                self.complete = True
                self.ended = time.perf_counter_ns()
        elif kind == "http.response.start":
            self.status = int(message["status"])
            message = _with_header(message, self._header, self._echoed)
        elif kind == "websocket.accept":
            self.status = 101
            message = _with_header(message, self._header, self._echoed)
        elif kind == "websocket.close" and self.status is None:
            self.status = 403  # closed before accept: the server answers the handshake with 403
        elif kind == "websocket.http.response.start":
            self.status = int(message["status"])
        elif kind == "http.response.pathsend":  # the server sends a file itself: the response is complete
            self.complete = True
            self.ended = time.perf_counter_ns()
        await self._send(message)

    async def receive(self) -> Message:
        """The server's ``receive``, noting a client that went away before the response was complete."""
        message = await self._receive()
        # The server does not cancel the application when the client goes away; the application learns it
        # from receive() (a streaming response listens for it), and so does the access event.
        if message["type"] == "http.disconnect" and not self.complete:
            self.disconnected = True
        return message


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _with_header(message: Message, name: bytes, value: bytes) -> Message:
    headers = [(k, v) for k, v in message.get("headers") or () if bytes(k).lower() != name]
    headers.append((name, value))
    return {**message, "headers": headers}


class RequestLoggingMiddleware:
    """Request ids, request-scoped context and structured access events for any ASGI application.

    >>> app = FastAPI()
    >>> app.add_middleware(RequestLoggingMiddleware, skip_paths=["/healthz"], sample_rate=0.1)

    Options (validated here; a bad value raises :class:`fapilog.ConfigError` naming the option):

    ``header_name``
        the request-id header read and echoed (``X-Request-ID``).
    ``logger_name``
        the logger of access events (``fapilog_fastapi.access``), so its level can be set on its own.
    ``access_log``
        ``False`` keeps ids and context but logs no access events.
    ``skip_paths``
        paths that get no access event (``/healthz``); a trailing ``*`` matches a prefix (``/static/*``).
    ``sample_rate``
        the share of *successful* requests (status below 400) that get an access event; 4xx, 5xx and
        failed requests are always logged. Sampled-out requests still get their id and context.
    ``levels``
        the access event's level per status class, e.g. ``{"2xx": "DEBUG"}``; defaults: INFO up to 3xx,
        WARNING for 4xx, ERROR for 5xx.
    ``log_headers``
        add the request headers as ``headers``, with ``redact_headers`` (authorization, cookies, API keys by
        default) masked as ``"***"``.
    ``bind_context``
        ``False`` leaves fapilog's bound context alone; the request's fields then reach events only through
        the ``fastapi`` enricher.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        header_name: str = "X-Request-ID",
        logger_name: str = "fapilog_fastapi.access",
        access_log: bool = True,
        skip_paths: Iterable[str] = (),
        sample_rate: float = 1.0,
        levels: Mapping[str, str | int] | None = None,
        log_headers: bool = False,
        redact_headers: Iterable[str] = DEFAULT_REDACTED_HEADERS,
        bind_context: bool = True,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.app = app
        self.options = AccessLogOptions(
            header_name=header_name,
            logger_name=logger_name,
            access_log=access_log,
            skip_paths=skip_paths,
            sample_rate=sample_rate,
            levels=levels,
            log_headers=log_headers,
            redact_headers=redact_headers,
            bind_context=bind_context,
            rng=rng,
        )
        self.log = fapilog.get_logger(logger_name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection; lifespan and unknown scope types pass straight through."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter_ns()
        options = self.options
        header = options.header_bytes
        incoming = _header(scope, header)
        replaced = incoming is not None and not is_valid_request_id(incoming)
        request_id = incoming if incoming is not None and not replaced else new_request_id()
        info = RequestInfo(scope, request_id)
        exchange = _Exchange(receive, send, header, request_id.encode("ascii"))

        error: BaseException | None = None
        token = current.set(info)
        # fapilog.bind() returns the context variable's token: resetting it in `finally` is fapilog.scoped()
        # without the generator-based context manager, on a path every request takes.
        bound = (
            fapilog.bind(request_id=request_id, method=info.method, path=info.path, client=info.client)
            if options.bind_context
            else None
        )
        try:
            await self.app(scope, exchange.receive, exchange.send)
        except BaseException as exc:
            error = exc
            raise
        finally:
            if bound is not None:
                bound.var.reset(bound)
            current.reset(token)
            if options.access_log and not options.skips(info.path):
                self._access(info, exchange, started, error, replaced)

    def _access(
        self, info: RequestInfo, exchange: _Exchange, started: int, error: BaseException | None, replaced: bool
    ) -> None:
        options = self.options
        status = exchange.status
        if status is None:
            # No response started: the application raised (the server answers 500), the client went away
            # (cancelled), or the application returned without answering (the server answers 500 too).
            gone = exchange.disconnected or isinstance(error, asyncio.CancelledError)
            status = _CLIENT_CLOSED if gone else 500
        if error is None and not exchange.disconnected and options.sampled_out(status):
            return
        fields: dict[str, Any] = info.fields()
        fields["status"] = status
        fields["duration_ms"] = round(((exchange.ended or time.perf_counter_ns()) - started) / 1e6, 3)
        fields["user_agent"] = _header(info.scope, _USER_AGENT)
        fields["response_bytes"] = exchange.response_bytes
        if replaced:
            fields["request_id_replaced"] = True
        if exchange.disconnected:
            fields["client_disconnected"] = True
        if error is not None:
            fields["error"] = type(error).__name__
        if options.log_headers:
            fields["headers"] = options.headers(info.scope.get("headers") or ())
        level = options.level_for(status)
        if error is not None and not isinstance(error, asyncio.CancelledError) and not exchange.disconnected:
            level = max(level, ERROR)  # a failure of the application; one the client caused keeps its 4xx level
        self.log.log(level, "request finished", **fields)
