"""A pipeline delivered by its shutdown, without a worker, under the conditions a hostile user creates.

Each test here failed against the first version of ``fapilog._engine.direct``: flushes racing the shutdown, a
``sys.stdout`` that writes its own way, two redactors of one type, a stream's own error handler, a stream sink's
plugin settings, a tiny ``exit_timeout``, stats() read mid-delivery. Short scripts run in real child interpreters;
the in-process tests lengthen the start delay so the shutdown always comes first, and make a race's window
certain by acting from inside it (what the other thread would do there, done at that point).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests._direct_delivery import ENV, child, direct_and_built, lazy_pipeline, without_timestamps

import fapilog
from fapilog._engine import state
from fapilog._engine.flush_marker import FlushMarker
from fapilog._engine.start_delay import BuildClaim
from fapilog.builtins.redactors.secrets import SecretsRedactor


@pytest.mark.usefixtures("long_delay")
def test_a_flush_that_races_the_shutdown_is_answered_and_loses_nothing(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """A flush() from another thread whose marker lands just as the shutdown claims the build: the shutdown
    neither raises nor loses the event, and the flush gets its answer."""
    lazy_pipeline(sinks=["stdout"])
    fapilog.get_logger("race").info("before the flush")
    runtime = state._runtime
    assert runtime is not None
    marker = FlushMarker()
    claim = BuildClaim.shutdown_takes

    def flush_lands_first(self: BuildClaim) -> bool:
        # What flush() does once it found the pipeline running, on a thread the shutdown overtook: its marker
        # arrives after the shutdown looked for markers and before it takes the queue (the window, made certain).
        runtime.queue.put_marker(marker)
        return claim(self)

    monkeypatch.setattr(BuildClaim, "shutdown_takes", flush_lands_first)
    report = fapilog.shutdown(timeout=10.0)
    assert report.ok and report.undelivered == 0
    assert marker.future.result(30.0) == []  # the flush is answered: every sink passed it
    assert json.loads(capfd.readouterr().out)["message"] == "before the flush"


def test_a_stdout_that_writes_its_own_way_gets_the_lines_through_its_write(tmp_path: Path) -> None:
    """sys.stdout replaced by an object with its own write() (a tee to a file) that hands out the real
    descriptor: the lines go through its write(), as the worker writes them, so the tee's file has them too."""
    copy = tmp_path / "tee.log"
    code = f"""
        import sys, fapilog

        class Tee:
            def __init__(self, stream, path):
                self.stream, self.copy = stream, open(path, "w")
            def write(self, text):
                self.copy.write(text)
                self.copy.flush()
                return self.stream.write(text)
            def flush(self):
                self.stream.flush()
            def fileno(self):
                return self.stream.fileno()
            def isatty(self):
                return False

        sys.stdout = Tee(sys.stdout, {str(copy)!r})
        fapilog.get_logger("tee").info("teed", password="hunter2")
    """
    proc = child(code)
    assert proc.returncode == 0, proc.stderr
    [shown] = proc.stdout.splitlines()
    [kept] = copy.read_text().splitlines()
    assert shown == kept and json.loads(kept)["message"] == "teed" and json.loads(kept)["password"] == "***"


@pytest.mark.usefixtures("long_delay")
def test_two_redactors_of_one_type_are_named_apart_as_the_worker_names_them() -> None:
    """Two ``regex_mask`` redactors: stats() lists both, under the names the worker gives them (``name#2``)."""
    lazy_pipeline(sinks=["stdout"], redactors=["regex_mask", {"type": "regex_mask", "patterns": ["pw"]}])
    fapilog.get_logger("two").info("event")
    runtime = state._runtime
    assert runtime is not None
    assert fapilog.shutdown(timeout=5.0).ok
    assert runtime.direct is not None  # delivered by the shutdown indeed
    plugins = runtime.stats()["plugins"]
    assert {name: p["kind"] for name, p in plugins.items()} == {
        "secrets": "redactor", "regex_mask": "redactor", "regex_mask#2": "redactor", "stdout": "sink"}


def test_the_console_format_uses_the_streams_own_error_handler() -> None:
    """A stdout that replaces what it cannot encode (PYTHONIOENCODING=ascii:replace) shows the console lines
    exactly as the worker's writes through that stream do."""
    code = 'import fapilog\nfapilog.get_logger("enc").info("naïve ✓ café", v="ü")\n'
    env = {**ENV, "FAPILOG_FORMAT": "console", "PYTHONIOENCODING": "ascii:replace"}
    direct, built = direct_and_built(code, env=env)
    assert without_timestamps(direct.stdout) == without_timestamps(built.stdout)
    assert "na?ve ? caf?" in direct.stdout


def test_the_stream_sinks_plugin_settings_choose_the_format_as_for_the_worker() -> None:
    """``plugins.settings.stdout.format = "console"`` with the default ``stdout`` sink: the lines the shutdown
    writes are in the console format, as the worker's are (the global ``format`` fills in only what neither
    the sink's table nor its plugin settings set)."""
    code = 'import fapilog\nfapilog.get_logger("ps").info("event", password="hunter2")\n'
    env = {**ENV, "FAPILOG_PLUGINS__SETTINGS": '{"stdout": {"format": "console"}}'}
    direct, built = direct_and_built(code, env=env)
    assert without_timestamps(direct.stdout) == without_timestamps(built.stdout)
    assert "ps: event" in direct.stdout and "password='***'" in direct.stdout


def test_a_tiny_exit_timeout_still_writes_what_the_reader_takes_at_once() -> None:
    """exit_timeout far shorter than building the records takes: the deadline ends the waiting for a full
    stream, not the writes a ready reader takes at once, so nothing is lost and nothing is reported."""
    proc = child("import fapilog\nfor i in range(3): fapilog.get_logger('t').info('tiny', i=i)\n",
                  env={**ENV, "FAPILOG_EXIT_TIMEOUT": "0.001"})
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(line)["i"] for line in proc.stdout.splitlines()] == [0, 1, 2]
    assert "FL-LOG-009" not in proc.stderr


@pytest.mark.usefixtures("long_delay")
def test_stats_read_while_the_shutdown_delivers_never_lose_the_events(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """stats() read while the shutdown is delivering (a metrics scrape; here from inside the redactor's batch,
    the middle of the delivery) still counts every event as submitted: the counter never goes back."""
    lazy_pipeline(sinks=["stdout"])
    log = fapilog.get_logger("scrape")
    for i in range(5):
        log.info("event", i=i)
    runtime = state._runtime
    assert runtime is not None
    seen: list[int] = []
    redact_batch = SecretsRedactor.redact_batch

    async def scraped(self: SecretsRedactor, records: list[Any]) -> list[Any]:
        seen.append(runtime.stats()["submitted"])
        return await redact_batch(self, records)

    monkeypatch.setattr(SecretsRedactor, "redact_batch", scraped)
    assert fapilog.shutdown(timeout=5.0).ok
    assert runtime.direct is not None and seen  # delivered by the shutdown, scraped on the way
    assert seen == [5] and runtime.stats()["submitted"] == runtime.stats()["processed"] == 5
    assert len(capfd.readouterr().out.splitlines()) == 5


@pytest.mark.usefixtures("long_delay")
def test_a_flush_queued_while_the_shutdown_writes_is_answered_at_once(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """A flush() whose marker lands while the shutdown is writing (after it took the events): the shutdown
    answers it (everything before it was delivered) instead of dropping it and leaving the caller to time out."""
    lazy_pipeline(sinks=["stdout"])
    fapilog.get_logger("late-flush").info("event")
    runtime = state._runtime
    assert runtime is not None
    marker = FlushMarker()
    redact_batch = SecretsRedactor.redact_batch

    async def flush_lands(self: SecretsRedactor, records: list[Any]) -> list[Any]:
        runtime.queue.put_marker(marker)  # what flush() does once it found the pipeline running
        return await redact_batch(self, records)

    monkeypatch.setattr(SecretsRedactor, "redact_batch", flush_lands)
    assert fapilog.shutdown(timeout=5.0).ok
    assert runtime.direct is not None
    assert marker.future.done() and marker.future.result() == []
    assert json.loads(capfd.readouterr().out)["message"] == "event"
