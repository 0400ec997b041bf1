"""``FastAPIPlugin``: the ``fastapi`` enricher, the distribution's entry point.

Events logged while a request is served (by the endpoint, a dependency, a library it calls, a stdlib logger
routed through ``capture_stdlib``) get the request's ``request_id``, ``method``, ``path``, ``route`` and
``client``, without the code that logs ever seeing the request. The route template is the part the bound
context cannot carry: the middleware runs before routing, so only the enricher, reading the request at the log
call, knows it.

Enrichers run on fapilog's worker thread, where the request is long gone, so the enricher uses the core's
``capture()`` hook: at each log call, on the caller's task, it reads the request the
:class:`~fapilog_fastapi.RequestLoggingMiddleware` published (one ``ContextVar.get()`` outside requests), and
``enrich()`` returns what was captured. Enrichers add and never overwrite: a field the event already has (a
call field, or the middleware's bound context) wins.

>>> fapilog.configure(enrichers=["fastapi"])          # by its entry-point name
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from fapilog.plugins import PluginMetadata

from fapilog_fastapi._request import current
from fapilog_fastapi._version import __version__
from fapilog_fastapi.errors import config_error

__all__ = ["FIELDS", "FastAPIPlugin", "FastAPIPluginSettings"]

_NAME = "fastapi"
FIELDS: tuple[str, ...] = ("request_id", "method", "path", "route", "client")
"""The request fields the enricher can add, in this order."""
_NOTHING: Mapping[str, Any] = MappingProxyType({})


@dataclasses.dataclass(frozen=True)
class FastAPIPluginSettings:
    """Settings of the ``fastapi`` enricher (validated on creation)."""

    fields: Sequence[str] = FIELDS
    """Which request fields to add (any of ``request_id``, ``method``, ``path``, ``route``, ``client``)."""

    def __post_init__(self) -> None:
        chosen = self.fields
        if isinstance(chosen, str) or not isinstance(chosen, Iterable):
            raise config_error(f"{_NAME}.fields: expected a list of field names out of {list(FIELDS)}, got {chosen!r}",
                               field="fields", code="FL-FAS-001")
        unknown = [name for name in chosen if name not in FIELDS]
        if unknown:
            raise config_error(f"{_NAME}.fields: unknown request field(s) {unknown}; choose from {list(FIELDS)}",
                               field="fields", code="FL-FAS-001")
        object.__setattr__(self, "fields", tuple(chosen))


class FastAPIPlugin:
    """Adds the current request's fields to every event logged while it is served (see the module docstring)."""

    metadata = PluginMetadata(
        name=_NAME,
        version=__version__,
        kind="enricher",
        description="Adds the current FastAPI/ASGI request's id, method, path, route template and client to events.",
        homepage="https://github.com/fapilog/fapilog/tree/main/plugins/fapilog-fastapi",
        config_model=FastAPIPluginSettings,
    )

    capture_enabled = True
    """Always on: outside a request the capture is one ``ContextVar.get()`` returning ``None``."""

    def __init__(self, *, fields: Sequence[str] = FIELDS) -> None:
        self.fields: tuple[str, ...] = tuple(FastAPIPluginSettings(fields).fields)

    def capture(self) -> Mapping[str, Any] | None:
        """The current request's fields, read on the logging task (called by the core at each log call)."""
        info = current.get()
        if info is None:
            return None
        values = info.fields()
        return {name: values[name] for name in self.fields if values[name] is not None}

    async def start(self) -> None:
        """Nothing to open."""

    async def stop(self) -> None:
        """Nothing to close."""

    async def enrich(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        """The fields captured at the log call, or nothing for events logged outside a request."""
        captured = getattr(record, "captured", None)
        found = captured.get(_NAME) if captured else None
        return found if found else _NOTHING

    async def enrich_batch(self, records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """:meth:`enrich` for a whole batch."""
        out: list[Mapping[str, Any]] = []
        for record in records:
            captured = getattr(record, "captured", None)
            found = captured.get(_NAME) if captured else None
            out.append(found if found else _NOTHING)
        return out
