"""The request-bound logger dependency, the lifespan helper and the distribution's metadata."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

import fapilog
import pytest
from fapilog.builtins.sinks.memory import MemorySink
from fapilog.testing import capture_events
from fastapi import Depends, FastAPI
from starlette.testclient import TestClient

from _helpers import asgi_client
from fapilog_fastapi import (
    RequestLogger,
    RequestLoggingMiddleware,
    __version__,
    logging_lifespan,
    request_logger,
)

ROOT = Path(__file__).resolve().parent.parent


def _get(app: Any, path: str, **kwargs: Any) -> None:
    async def go() -> None:
        async with asgi_client(app) as client:
            await client.get(path, **kwargs)

    asyncio.run(go())


def _logger_app(*, middleware: bool) -> FastAPI:
    app = FastAPI()

    @app.get("/users/{user_id}")
    async def user(user_id: int, log: RequestLogger) -> dict[str, int]:
        fapilog.clear_context()  # even with the bound context gone, the logger keeps the request's fields
        log.info("user read", user_id=user_id)
        return {"user_id": user_id}

    @app.get("/named")
    async def named(log: Annotated[fapilog.Logger, Depends(request_logger("shop.api"))]) -> None:
        log.info("named")

    if middleware:
        app.add_middleware(RequestLoggingMiddleware)
    return app


def test_request_logger_is_bound_to_the_request_and_named_after_the_endpoint_module() -> None:
    """RequestLogger carries request_id, method, path, route and client, and is named after the endpoint's module."""
    with capture_events() as events:
        _get(_logger_app(middleware=True), "/users/5", headers={"X-Request-ID": "u-5"})
    event = events.find("user read")
    assert event["logger"] == __name__ and event["request_id"] == "u-5"
    assert event["route"] == "/users/{user_id}" and event["path"] == "/users/5" and event["method"] == "GET"


def test_request_logger_takes_a_name() -> None:
    """request_logger("shop.api") names the logger."""
    with capture_events() as events:
        _get(_logger_app(middleware=True), "/named")
    assert events.find("named")["logger"] == "shop.api"


def test_request_logger_without_the_middleware_binds_the_route_only() -> None:
    """Without the middleware there is no request id, but the route fields are still bound."""
    with capture_events() as events:
        _get(_logger_app(middleware=False), "/users/6")
    event = events.find("user read")
    assert "request_id" not in event and event["route"] == "/users/{user_id}"


def test_lifespan_configures_at_startup_and_delivers_everything_at_shutdown() -> None:
    """logging_lifespan applies the settings at start-up, runs the app's own lifespan, and flushes at shutdown."""
    sink = MemorySink()
    order: list[str] = []

    @contextlib.asynccontextmanager
    async def own(app: FastAPI) -> AsyncIterator[None]:
        order.append("app start")
        fapilog.get_logger("app").info("app started")
        yield
        order.append("app stop")
        fapilog.get_logger("app").info("app stopping")

    app = FastAPI(lifespan=logging_lifespan(sinks=[sink], inner=own, enrichers=["fastapi"], uvicorn_logs=False))
    app.add_middleware(RequestLoggingMiddleware)

    @app.get("/")
    async def index() -> None:
        fapilog.get_logger("app").info("index")

    with TestClient(app) as client:
        client.get("/")
    # No flush here: the lifespan's shutdown delivered every event before the client context ended.
    assert order == ["app start", "app stop"]
    messages = [r["message"] for r in sink.records]
    assert messages == ["app started", "index", "request finished", "app stopping"]
    assert next(r for r in sink.records if r["message"] == "index")["route"] == "/"


def test_lifespan_with_bad_settings_refuses_to_start() -> None:
    """A bad setting raises ConfigError at start-up, so the application does not serve without logging."""
    app = FastAPI(lifespan=logging_lifespan(level="LOUD", uvicorn_logs=False))
    with pytest.raises(fapilog.ConfigError, match="level"), TestClient(app):
        pass


def test_distribution_metadata_matches_the_package() -> None:
    """The installed distribution's version, requirement and entry point are the ones pyproject.toml declares."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    dist = importlib.metadata.distribution("fapilog-fastapi")
    assert dist.version == project["version"] == __version__
    assert "fapilog<4.0,>=3.0" in (dist.requires or []) or "fapilog>=3.0,<4.0" in (dist.requires or [])
    (entry,) = [e for e in dist.entry_points if e.group == "fapilog.plugins"]
    assert (entry.name, entry.value) == ("fastapi", "fapilog_fastapi:FastAPIPlugin")


def test_only_the_public_kit_of_the_core_is_imported() -> None:
    """The package's source imports fapilog and fapilog.plugins only, never the core's private modules."""
    for path in (ROOT / "src" / "fapilog_fastapi").glob("*.py"):
        for line in path.read_text().splitlines():
            words = line.split()
            if words[:1] in (["import"], ["from"]) and words[1].startswith("fapilog") and not words[1].startswith(
                "fapilog_fastapi"
            ):
                assert words[1] in ("fapilog", "fapilog.plugins"), f"{path.name}: {line}"
