"""The stdlib bridge: third-party `logging` records through the same pipeline, never twice."""

from __future__ import annotations

import logging

import pytest

import fapilog
from fapilog.builtins.sinks.memory import MemorySink


def test_stdlib_records_reach_fapilog_with_extra_fields(memory: MemorySink) -> None:
    """A stdlib log call arrives with level, logger name, formatted message and extra fields."""
    fapilog.capture_stdlib(level="INFO")
    logging.getLogger("thirdparty.client").warning("retry %d of %d", 2, 5, extra={"host": "db-1"})
    assert fapilog.flush(5.0)
    (record,) = memory.records
    assert record["level"] == "WARNING" and record["logger"] == "thirdparty.client"
    assert record["message"] == "retry 2 of 5" and record["host"] == "db-1"


def test_capture_twice_installs_one_handler_and_no_duplicates(memory: MemorySink) -> None:
    """Calling capture_stdlib() twice leaves one handler and each record appears once."""
    fapilog.capture_stdlib(level="INFO")
    fapilog.capture_stdlib(level="DEBUG")
    root = logging.getLogger()
    assert sum(isinstance(h, fapilog.integrations.stdlib.FapilogHandler) for h in root.handlers) == 1
    logging.getLogger("lib").debug("once")
    assert fapilog.flush(5.0)
    assert [r["message"] for r in memory.records] == ["once"]


def test_exclusive_capture_silences_other_handlers_and_release_restores(
    memory: MemorySink, capsys: pytest.CaptureFixture[str]
) -> None:
    """Existing handlers are taken off while captured (no double output) and put back by release."""
    lib = logging.getLogger("noisy")
    lib.propagate = False
    stream = logging.StreamHandler()
    lib.addHandler(stream)
    try:
        fapilog.capture_stdlib(loggers=["noisy"])
        lib.info("through fapilog only")
        assert fapilog.flush(5.0)
        assert "through fapilog only" not in capsys.readouterr().err
        fapilog.release_stdlib()
        assert lib.handlers == [stream]
    finally:
        lib.removeHandler(stream)
        lib.propagate = True
    assert [r["message"] for r in memory.records] == ["through fapilog only"]


def test_stdlib_exception_info_is_structured(memory: MemorySink) -> None:
    """logger.exception() from stdlib becomes fapilog's structured exception field."""
    fapilog.capture_stdlib()
    try:
        {}["missing"]
    except KeyError:
        logging.getLogger("lib").exception("lookup failed")
    assert fapilog.flush(5.0)
    assert memory.records[0]["exception"]["type"] == "KeyError"


def test_fapilog_levels_apply_to_captured_records(memory: MemorySink) -> None:
    """A per-logger fapilog threshold also filters records arriving from stdlib."""
    fapilog.capture_stdlib(level="DEBUG")
    fapilog.set_level("ERROR", logger="chatty")
    logging.getLogger("chatty.sub").warning("filtered")
    logging.getLogger("other").warning("kept")
    assert fapilog.flush(5.0)
    assert [r["message"] for r in memory.records] == ["kept"]


def test_capture_again_takes_off_handlers_added_in_between(
    memory: MemorySink, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second exclusive capture removes a handler re-added since (as uvicorn does); release restores it."""
    lib = logging.getLogger("reconfigured")
    lib.propagate = False
    try:
        fapilog.capture_stdlib(loggers=["reconfigured"])
        stream = logging.StreamHandler()
        lib.addHandler(stream)
        fapilog.capture_stdlib(loggers=["reconfigured"])
        lib.info("printed once")
        assert fapilog.flush(5.0)
        assert "printed once" not in capsys.readouterr().err
        fapilog.release_stdlib()
        assert lib.handlers == [stream]
        lib.removeHandler(stream)
    finally:
        lib.propagate = True
    assert [r["message"] for r in memory.records] == ["printed once"]


def _dict_config(name: str) -> None:
    """What uvicorn does for every server it creates: logging.config.dictConfig with a stream handler."""
    import logging.config

    logging.config.dictConfig({
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"console": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr"}},
        "loggers": {name: {"handlers": ["console"], "level": "INFO", "propagate": False}},
    })


def test_capture_again_after_dict_config_reinstalls_the_handler(
    memory: MemorySink, capsys: pytest.CaptureFixture[str]
) -> None:
    """dictConfig removes fapilog's handler; capturing again puts it back, so records still arrive, once."""
    name = "server.like.uvicorn"
    try:
        _dict_config(name)
        fapilog.capture_stdlib(loggers=[name])
        _dict_config(name)  # a second server in the same process re-applies its log config
        fapilog.capture_stdlib(loggers=[name])
        logging.getLogger(name).warning("after the second configuration")
        assert fapilog.flush(5.0)
        assert [r["message"] for r in memory.records] == ["after the second configuration"]
        assert "after the second configuration" not in capsys.readouterr().err
        fapilog.release_stdlib()
        handlers = logging.getLogger(name).handlers
        assert len(handlers) == 1 and isinstance(handlers[0], logging.StreamHandler)  # the current one, once
    finally:
        logging.getLogger(name).handlers.clear()
