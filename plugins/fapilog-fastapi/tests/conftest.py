"""Fixtures: a clean fapilog state per test, and a real uvicorn server on 127.0.0.1 started and stopped per test."""

from __future__ import annotations

from collections.abc import Iterator

import fapilog
import pytest
from fastapi import FastAPI

from _helpers import build_app, serve


@pytest.fixture(autouse=True)
def _clean_fapilog() -> Iterator[None]:
    yield
    fapilog.release_stdlib()
    fapilog.shutdown(timeout=2.0)
    fapilog.clear_context()


@pytest.fixture
def live_app() -> FastAPI:
    """The test application with the middleware's default options (override this fixture to change them)."""
    return build_app()


@pytest.fixture
def live_server(live_app: FastAPI) -> Iterator[str]:
    """The base URL of ``live_app`` served by a real uvicorn server on 127.0.0.1, stopped after the test."""
    with serve(live_app) as (url, _server):
        yield url
