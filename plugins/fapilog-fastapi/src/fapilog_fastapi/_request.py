"""The request being served: its id (taken from the client only when safe), client, and route template.

The middleware sets :data:`current` for the duration of a request; the enricher's ``capture()`` and the
request-bound logger dependency read it. It holds the ASGI ``scope`` itself, which the router updates in place
once it has matched a route, so code running inside the endpoint sees the route template even though the
middleware ran before routing.
"""

from __future__ import annotations

import contextvars
import os
import re
from typing import Any

from fapilog_fastapi._asgi import Scope

__all__ = ["MAX_REQUEST_ID_LENGTH", "RequestInfo", "current", "is_valid_request_id", "new_request_id"]

MAX_REQUEST_ID_LENGTH = 128
"""Longest incoming id accepted: room for a UUID, a W3C trace id with a prefix, or a load balancer's id."""

_SAFE_ID = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._:=+/@-]{{0,{MAX_REQUEST_ID_LENGTH - 1}}}")
"""Letters, digits and a few separators: nothing that can break a log line, a header, or a query language."""


def is_valid_request_id(value: str) -> bool:
    """Whether an incoming request id may be trusted as it is (length and characters)."""
    return _SAFE_ID.fullmatch(value) is not None


def new_request_id() -> str:
    """A fresh random id: 32 hex digits (128 bits, like a UUID4 without the dashes)."""
    return os.urandom(16).hex()


class RequestInfo:
    """One request's identity, shared by the middleware, the enricher and the logger dependency."""

    __slots__ = ("client", "method", "path", "request_id", "root_path", "scope")

    def __init__(self, scope: Scope, request_id: str) -> None:
        self.scope = scope
        self.request_id = request_id
        self.method: str = scope.get("method") or ("WEBSOCKET" if scope["type"] == "websocket" else "")
        self.path: str = scope.get("path", "")
        self.root_path: str = scope.get("root_path", "")
        client = scope.get("client")
        self.client: str | None = str(client[0]) if client else None

    @property
    def route(self) -> str | None:
        """The matched route's template (``/items/{item_id}``), or ``None`` before routing or when none matched.

        A mounted sub-application extends ``root_path`` by its prefix; the part added since the middleware ran
        is put back in front of the inner route's path, so the template reads like the URL.
        """
        route = self.scope.get("route")
        template = getattr(route, "path", None)
        if not isinstance(template, str):
            return None
        if getattr(route, "routes", None) is not None:
            return template  # a Mount matched but nothing inside it did: its prefix is the best template
        root = self.scope.get("root_path", "")
        mounted = root[len(self.root_path):] if isinstance(root, str) and root.startswith(self.root_path) else ""
        return mounted + template

    def fields(self) -> dict[str, Any]:
        """The fields every event logged during this request should carry."""
        return {
            "request_id": self.request_id,
            "method": self.method,
            "path": self.path,
            "route": self.route,
            "client": self.client,
        }


current: contextvars.ContextVar[RequestInfo | None] = contextvars.ContextVar("fapilog_fastapi_request", default=None)
"""The request being served by this task (``None`` outside a request)."""
