"""The ``fastapi`` enricher: request fields, route template included, on events logged during a request."""

from __future__ import annotations

import asyncio
from typing import Any

import fapilog
import pytest
from fapilog.builtins.sinks.memory import MemorySink
from fapilog.testing import check_plugin
from fastapi import FastAPI

from _helpers import asgi_client, build_app
from fapilog_fastapi import FastAPIPlugin, RequestLoggingMiddleware


def _serve(app: Any, *paths: str, headers: dict[str, str] | None = None) -> None:
    async def go() -> None:
        async with asgi_client(app, raise_app_exceptions=False) as client:
            for path in paths:
                await client.get(path, headers=headers)

    asyncio.run(go())


def _pipeline(*enrichers: Any) -> MemorySink:
    sink = MemorySink()
    fapilog.configure(level="DEBUG", sinks=[sink], enrichers=list(enrichers))
    return sink


def test_configured_by_entry_point_name_it_adds_the_route_template() -> None:
    """enrichers=["fastapi"] loads the plugin by name, and endpoint events get the matched route template."""
    sink = _pipeline("fastapi")
    _serve(build_app(), "/items/42", headers={"X-Request-ID": "r-42"})
    assert fapilog.flush(5.0)
    event = next(r for r in sink.records if r["message"] == "item read")
    assert event["route"] == "/items/{item_id}" and event["request_id"] == "r-42" and event["path"] == "/items/42"


def test_without_bound_context_the_enricher_supplies_every_request_field() -> None:
    """With bind_context=False the request fields come from the enricher alone (and are absent without it)."""
    app = build_app(bind_context=False)
    sink = _pipeline(FastAPIPlugin())
    _serve(app, "/sync/3", headers={"X-Request-ID": "r-3"})
    assert fapilog.flush(5.0)
    event = next(r for r in sink.records if r["message"] == "sync work")
    assert {k: event[k] for k in ("request_id", "method", "path", "route", "client")} == {
        "request_id": "r-3", "method": "GET", "path": "/sync/3", "route": "/sync/{n}", "client": "127.0.0.1"}

    bare = _pipeline()
    _serve(app, "/sync/4", headers={"X-Request-ID": "r-4"})
    assert fapilog.flush(5.0)
    plain = next(r for r in bare.records if r["message"] == "sync work")
    assert "request_id" not in plain and "route" not in plain


def test_events_outside_a_request_get_nothing() -> None:
    """An event logged outside any request gains no request field."""
    sink = _pipeline(FastAPIPlugin())
    fapilog.get_logger("batch").info("nightly job")
    assert fapilog.flush(5.0)
    (event,) = sink.records
    assert not {"request_id", "route", "method", "path", "client"} & set(event)


def test_fields_setting_limits_what_is_added() -> None:
    """fields=["route"] adds only the route template."""
    sink = _pipeline(FastAPIPlugin(fields=["route"]))
    _serve(build_app(bind_context=False), "/items/1")
    assert fapilog.flush(5.0)
    event = next(r for r in sink.records if r["message"] == "item read")
    assert event["route"] == "/items/{item_id}" and "request_id" not in event and "client" not in event


@pytest.mark.parametrize("fields", [["route", "user"], "route", 5])
def test_bad_fields_setting_is_a_config_error(fields: Any) -> None:
    """An unknown field name or a non-list fails with a ConfigError naming fastapi.fields."""
    with pytest.raises(fapilog.ConfigError, match=r"fastapi\.fields"):
        FastAPIPlugin(fields=fields)


def test_call_fields_win_over_the_enricher() -> None:
    """A field the log call sets is never overwritten by the enricher."""
    app = FastAPI()

    @app.get("/x")
    async def x() -> None:
        fapilog.get_logger("t").info("custom", route="mine")

    app.add_middleware(RequestLoggingMiddleware, bind_context=False)
    sink = _pipeline(FastAPIPlugin())
    _serve(app, "/x")
    assert fapilog.flush(5.0)
    assert next(r for r in sink.records if r["message"] == "custom")["route"] == "mine"


def test_mounted_sub_application_route_includes_the_mount_prefix() -> None:
    """A route of a mounted sub-application reads like the URL: mount prefix plus the inner template."""
    inner = FastAPI()

    @inner.get("/orders/{order_id}")
    async def order(order_id: int) -> dict[str, int]:
        fapilog.get_logger("t").info("order read")
        return {"order_id": order_id}

    outer = FastAPI()
    outer.mount("/v2", inner)
    outer.add_middleware(RequestLoggingMiddleware)
    sink = _pipeline(FastAPIPlugin())
    _serve(outer, "/v2/orders/9")
    assert fapilog.flush(5.0)
    routes = {r["message"]: r.get("route") for r in sink.records}
    assert routes["order read"] == routes["request finished"] == "/v2/orders/{order_id}"


def test_plugin_passes_the_testing_kits_contract() -> None:
    """check_plugin (what `fapilog plugin check` runs) reports no failure for FastAPIPlugin."""
    report = check_plugin(FastAPIPlugin)
    assert report.ok, report
