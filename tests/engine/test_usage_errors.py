"""configure() and shutdown() called from plugin code on the worker are refused with a coded UsageError."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

import fapilog
from fapilog.errors import UsageError
from fapilog.plugins import PluginMetadata


class _CallsBack:
    """A real sink whose write() calls ``action`` on the worker and keeps what it raised."""

    metadata = PluginMetadata(name="calls_back", version="1.0", kind="sink")
    runs_on_worker_loop = True

    def __init__(self, action: Callable[[], object]) -> None:
        self.action = action
        self.raised: list[BaseException] = []

    async def start(self) -> None:
        """Nothing to open."""

    async def stop(self) -> None:
        """Nothing to close."""

    async def write(self, record: Mapping[str, Any]) -> None:
        try:
            self.action()
        except BaseException as exc:  # the test inspects whatever the call raised
            self.raised.append(exc)


@pytest.mark.parametrize(("name", "action"), [("configure", fapilog.configure),
                                              ("shutdown", fapilog.shutdown)])
def test_a_call_from_the_worker_is_a_usage_error_with_its_code(name: str, action: Callable[[], object]) -> None:
    """The call raises UsageError (also a RuntimeError) with FL-RUN-010, and the pipeline keeps running."""
    sink = _CallsBack(action)
    fapilog.configure(sinks=[sink], redactors=[])
    fapilog.get_logger("t").info("one")
    assert fapilog.flush(5.0)
    [exc] = sink.raised
    assert isinstance(exc, UsageError) and isinstance(exc, RuntimeError)
    assert exc.code == "FL-RUN-010"
    assert f"fapilog.{name}() cannot be called from a plugin" in str(exc)
    fapilog.get_logger("t").info("two")
    assert fapilog.flush(5.0)
    assert len(sink.raised) == 2
