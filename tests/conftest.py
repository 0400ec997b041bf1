"""Shared fixtures: every test starts from a clean fapilog state and leaves none behind."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import fapilog
from fapilog.plugins.sinks.memory import MemorySink


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
