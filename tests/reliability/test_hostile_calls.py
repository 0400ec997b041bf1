"""Calls a hostile or careless application makes: a nonsense timeout, a plugin that ends the process when imported,
a sink whose failure quotes a URL with its password. Each gets a clear error or a masked line, never a lost
queue, an exit of the host application or a password on stderr."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from tests.registry._dists import DistFactory, make

import fapilog
from fapilog.builtins.sinks.memory import MemorySink
from fapilog.errors import ConfigError, PluginLoadError


@pytest.fixture
def dists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DistFactory]:
    yield from make(tmp_path, monkeypatch)
    fapilog.shutdown()


@pytest.mark.parametrize("timeout", [-1, -0.5, math.nan, math.inf, "5", True, None])
def test_a_nonsense_timeout_is_refused_before_anything_is_dropped(timeout: Any) -> None:
    """flush() and shutdown() refuse a timeout that is not a finite number >= 0 (FL-CFG-012), and the queued events
    are still delivered by the next proper call."""
    sink = MemorySink()
    fapilog.configure(sinks=[sink])
    log = fapilog.get_logger("careless")
    for i in range(50):
        log.info("queued", i=i)
    for call in (fapilog.flush, fapilog.shutdown):
        with pytest.raises(ConfigError) as refused:
            call(timeout)
        assert refused.value.code == "FL-CFG-012" and "finite number of seconds >= 0" in str(refused.value)
    report = fapilog.shutdown(10.0)
    assert report.ok and len(sink.records) == 50


def test_zero_is_a_timeout() -> None:
    """``shutdown(0)`` is accepted: it waits for nothing and reports what it did not deliver."""
    fapilog.configure(sinks=[MemorySink()])
    fapilog.get_logger("x").info("one")
    report = fapilog.shutdown(0)
    assert report is not None


EXITS_AT_IMPORT = """
import sys

sys.exit(3)
"""


def test_a_plugin_ending_the_process_at_import_is_a_load_error(dists: DistFactory) -> None:
    """configure() naming a plugin whose module calls sys.exit() when imported raises PluginLoadError (FL-IMP-004)
    naming the plugin and its distribution; the application goes on and the previous configuration stays."""
    sink = MemorySink()
    fapilog.configure(sinks=[sink])
    dists.plugin("quits-at-import", source=EXITS_AT_IMPORT)
    with pytest.raises(PluginLoadError) as refused:
        fapilog.configure(sinks=["quits-at-import"])
    message = str(refused.value)
    assert refused.value.code == "FL-IMP-004"
    assert "sys.exit(3) while being imported" in message and "pip uninstall fapilog-quits-at-import" in message
    fapilog.get_logger("still").info("alive")
    assert fapilog.flush(10.0).ok and [r["message"] for r in sink.records] == ["alive"]


class _StopQuotesItsUrl(MemorySink):
    """A memory sink whose stop() fails the way a client library reports a refused connection: with the URL."""

    async def stop(self) -> None:
        raise ConnectionError("cannot close https://admin:hunter2@logs.example.com/intake")


class _WriteQuotesItsUrl(MemorySink):
    """A memory sink whose every batch fails quoting the backend's URL with its credentials."""

    async def write_batch(self, records: Sequence[Mapping[str, Any]]) -> None:
        raise ConnectionError("refused by postgres://app:s3cret@db.internal/logs")


def test_stderr_lines_mask_the_password_a_plugin_failure_quotes(capsys: pytest.CaptureFixture[str]) -> None:
    """fapilog's own stderr lines (a failed write, a failed stop) keep the URL but mask its password."""
    fapilog.configure(sinks=[_WriteQuotesItsUrl(), _StopQuotesItsUrl()],
                      sink_defaults={"retry": {"max_attempts": 1, "initial_backoff": 0.01}})
    fapilog.get_logger("x").info("one")
    fapilog.flush(5.0)
    fapilog.shutdown(5.0)
    err = capsys.readouterr().err
    assert "hunter2" not in err and "s3cret" not in err
    assert "https://admin:***@logs.example.com/intake" in err and "FL-RUN-002" in err
    assert "postgres://app:***@db.internal/logs" in err


class _NeverStarts(MemorySink):
    """A memory sink whose start() never finishes (a connection without a timeout)."""

    async def start(self) -> None:
        import asyncio

        await asyncio.sleep(3600)


def test_a_start_that_never_finishes_is_named_by_configure() -> None:
    """configure() names the plugin whose start() outlasted start_timeout, not an anonymous '<startup>'."""
    with pytest.raises(PluginLoadError) as refused:
        fapilog.configure(sinks=[MemorySink(), _NeverStarts()], start_timeout=0.3)
    message = str(refused.value)
    assert "'memory#2' failed to start" in message and "its start() did not finish within 0.3s" in message
    assert "<startup>" not in message
