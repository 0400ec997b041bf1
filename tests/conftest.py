"""Shared fixtures: every test starts from a clean fapilog state and leaves none behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import fapilog
from fapilog.builtins.sinks.memory import MemorySink

if TYPE_CHECKING:
    from tests._http_server import RecordingServer

REPO = Path(__file__).resolve().parents[1]
_CACHES = frozenset({".pytest_cache", ".hypothesis", ".mypy_cache", ".ruff_cache", "__pycache__", "site", "build"})


@pytest.fixture(autouse=True)
def _repository_root_stays_clean(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that writes into the repository root (a relative path in a plugin's settings, a marker file)
    fails here, naming itself, instead of leaving the file for someone to find later. Defined first, so it
    is torn down last: files written while the pipeline shuts down after the test count too."""
    before = {entry.name for entry in REPO.iterdir()}
    yield
    left = sorted(entry.name for entry in REPO.iterdir() if entry.name not in before and entry.name not in _CACHES)
    for name in left:
        target = REPO / name
        if target.is_file():
            target.unlink()  # clean up, then report: the next run starts clean either way
    assert not left, f"{request.node.nodeid} left {left} in the repository root; write under tmp_path instead"


@pytest.fixture(autouse=True)
def _clean_fapilog() -> Iterator[None]:
    yield
    fapilog.release_stdlib()
    fapilog.shutdown(timeout=1.0)
    fapilog.clear_context()


@pytest.fixture
def long_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    """A start delay no test outlasts: a lazily started pipeline's worker builds only when something asks for it
    (so a shutdown in the test always comes first and delivers without it)."""
    from fapilog._engine import start_delay

    monkeypatch.setattr(start_delay, "START_DELAY", 60.0)


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
