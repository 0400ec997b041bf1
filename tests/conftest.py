"""Shared fixtures: every test starts from a clean fapilog state and leaves none behind."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

import fapilog
from fapilog.plugins.sinks.memory import MemorySink

if TYPE_CHECKING:
    from tests._http_server import RecordingServer


@pytest.fixture(autouse=True)
def _clean_fapilog() -> Iterator[None]:
    yield
    fapilog.release_stdlib()
    fapilog.shutdown(timeout=1.0)
    fapilog.clear_context()


@pytest.fixture
def memory() -> MemorySink:
    """A memory sink installed as the only sink, at DEBUG."""
    sink = MemorySink()
    fapilog.configure(level="DEBUG", sinks=[sink])
    return sink


@pytest.fixture
def http_server() -> Iterator[RecordingServer]:
    """A real HTTP server on 127.0.0.1 that records every request and answers as planned (200 by default)."""
    from tests._http_server import RecordingServer  # imported here: the scaffold tests copy this file alone

    server = RecordingServer()
    server.start()
    yield server
    fapilog.shutdown(timeout=2.0)  # before the server goes: a sink retrying against it must not outlive it
    server.close()


@pytest.fixture
def moto_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's CloudWatch Logs server on a free port of 127.0.0.1, emptied, with dummy AWS credentials."""
    from tests._cloudwatch import start_moto

    server, url = start_moto(monkeypatch)
    yield url
    fapilog.shutdown(timeout=5.0)  # before the server goes: a sink retrying against it must not outlive it
    server.stop()
