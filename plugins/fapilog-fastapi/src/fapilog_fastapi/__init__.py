"""fapilog for FastAPI and any ASGI application: request ids, request-scoped context, structured access logs.

>>> from fastapi import FastAPI
>>> from fapilog_fastapi import RequestLoggingMiddleware, logging_lifespan
>>> app = FastAPI(lifespan=logging_lifespan(sinks=["stdout"], enrichers=["fastapi"]))
>>> app.add_middleware(RequestLoggingMiddleware, skip_paths=["/healthz"])

- :class:`RequestLoggingMiddleware`: takes or makes ``X-Request-ID``, binds the request's fields, echoes the
  id, logs one access event per request.
- :class:`FastAPIPlugin`: the ``fastapi`` enricher (this distribution's entry point): the current request's
  fields, route template included, on every event logged while it is served.
- :func:`logging_lifespan`: configure at start-up, flush and shut down at shutdown.
- :data:`RequestLogger` / :func:`request_logger`: a dependency giving the endpoint a request-bound logger.
- :func:`route_uvicorn_logs`: uvicorn's access log off, its other records through fapilog, once.

Only ``fapilog`` and ``fapilog.plugins`` (the public kit) are imported from the core.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from fapilog_fastapi._request import MAX_REQUEST_ID_LENGTH, is_valid_request_id, new_request_id
from fapilog_fastapi._version import __version__
from fapilog_fastapi.lifespan import logging_lifespan
from fapilog_fastapi.middleware import RequestLoggingMiddleware
from fapilog_fastapi.plugin import FastAPIPlugin, FastAPIPluginSettings
from fapilog_fastapi.server_logs import route_uvicorn_logs

if TYPE_CHECKING:
    from fapilog_fastapi.dependencies import RequestLogger, request_logger

__all__ = [
    "MAX_REQUEST_ID_LENGTH",
    "FastAPIPlugin",
    "FastAPIPluginSettings",
    "RequestLogger",
    "RequestLoggingMiddleware",
    "__version__",
    "is_valid_request_id",
    "logging_lifespan",
    "new_request_id",
    "request_logger",
    "route_uvicorn_logs",
]


def __getattr__(name: str) -> Any:
    # The dependency needs FastAPI itself; the entry point (the enricher) and the middleware do not, so
    # `configure(enrichers=["fastapi"])` does not pay for importing FastAPI.
    if name in ("RequestLogger", "request_logger"):
        return getattr(importlib.import_module("fapilog_fastapi.dependencies"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
