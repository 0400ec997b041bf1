"""``RequestLogger``: a FastAPI dependency giving the endpoint a logger bound to its request.

The logger carries ``request_id``, ``method``, ``path``, ``route`` and ``client`` as bound fields, so its events
have them whether or not the ``fastapi`` enricher is configured, and even when the code that receives the
logger passes it to another thread or task::

    @app.get("/items/{item_id}")
    async def read_item(item_id: int, log: RequestLogger) -> dict[str, int]:
        log.info("item read", item_id=item_id)
        return {"item_id": item_id}

Without the middleware the request has no id of its own; the logger then binds the route fields only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import fapilog
from fastapi import Depends, Request

from fapilog_fastapi._request import RequestInfo, current

__all__ = ["RequestLogger", "request_logger"]


def request_logger(name: str | None = None) -> Callable[[Request], fapilog.Logger]:
    """A dependency returning a logger named ``name`` (default: the endpoint's module) bound to the request.

    >>> @app.get("/")
    ... async def index(log: fapilog.Logger = Depends(request_logger("shop.api"))) -> None: ...
    """

    def dependency(request: Request) -> fapilog.Logger:
        scope = request.scope
        info = current.get()
        if info is None or info.scope is not scope:
            info = RequestInfo(scope, "")  # no middleware: bind what the request itself tells
        endpoint = scope.get("endpoint")
        logger_name = name or getattr(endpoint, "__module__", None) or "fapilog_fastapi.request"
        fields = {key: value for key, value in info.fields().items() if value}
        return fapilog.get_logger(logger_name).bind(**fields)

    return dependency


RequestLogger = Annotated[fapilog.Logger, Depends(request_logger())]
"""Annotate an endpoint parameter with it to receive a request-bound logger named after the endpoint's module."""
