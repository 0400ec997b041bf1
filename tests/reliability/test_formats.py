"""Every built-in format survives any key, value and message (reliability items 2 and 18, and the property).

JSON (file, stdout) and the console format get hostile input: lone surrogates in keys, values and messages
(as `surrogateescape` decoding of header bytes produces), values whose ``__repr__`` raises, huge integers,
NaN, cycles, control characters that could forge a terminal line. Each event degrades on its own, counted in
``serialization.degraded``; the worker lives; every event is one line.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fapilog

SURROGATE_KEY = "k\ud800"


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


# -- item 2: a lone surrogate in a key ---------------------------------------------------------------------------
def test_a_surrogate_in_a_field_name_degrades_that_key_and_the_worker_lives(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    fapilog.configure(sinks=[{"type": "file", "path": str(path)}])
    log = fapilog.get_logger("keys")
    log.info("before")
    log.info("kwargs", **{SURROGATE_KEY: 1})
    log.bind(**{"b\udcff": 2}).info("bound")
    with fapilog.scoped(**{"c\udc80": 3}):
        log.info("scoped")
    log.info("nested", d={"x\ud800": {("tuple", "key"): 1}})
    log.info("message \ud800")
    log.info("after")
    assert fapilog.flush(10.0)
    stats = fapilog.stats()
    assert stats["state"] == "running"
    records = _lines(path)
    assert [r["message"] for r in records] == [
        "before", "kwargs", "bound", "scoped", "nested", "message \\ud800", "after",
    ]
    assert records[1]["k\\ud800"] == 1 and records[2]["b\\udcff"] == 2 and records[3]["c\\udc80"] == 3
    assert records[4]["d"] == "{'x\\ud800': {('tuple', 'key'): 1}}"  # the nested field as its repr
    assert stats["serialization"]["degraded"] == 5
    assert stats["sinks"]["file"]["delivered"] == 7 and stats["dropped"]["total"] == 0


def test_stdlib_extra_with_surrogateescaped_header_bytes_is_delivered(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    fapilog.configure(sinks=[{"type": "file", "path": str(path)}])
    fapilog.capture_stdlib()
    header = b"X-Trace-\xff".decode("utf-8", "surrogateescape")  # what a WSGI server hands over
    logging.getLogger("web").warning("request", extra={header: b"v\xfe".decode("utf-8", "surrogateescape")})
    logging.getLogger("web").warning("next")
    assert fapilog.flush(10.0)
    records = _lines(path)
    assert [r["message"] for r in records] == ["request", "next"]
    assert records[0]["X-Trace-\\udcff"] == "v\\udcfe"
    assert fapilog.stats()["state"] == "running"


# -- item 18: the console format ---------------------------------------------------------------------------------
class _BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


@contextlib.contextmanager
def _captured(stream: str) -> Iterator[io.TextIOWrapper]:
    """Replace sys.<stream> with a real text stream over bytes (the sinks look the stream up at write time)."""
    fake = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    original = getattr(sys, stream)
    setattr(sys, stream, fake)
    try:
        yield fake
    finally:
        setattr(sys, stream, original)


def _text_of(stream: io.TextIOWrapper) -> str:
    stream.flush()
    raw = stream.buffer.getvalue()  # type: ignore[attr-defined]
    return str(raw.decode("utf-8"))


def test_console_format_degrades_per_event_and_escapes_control_characters() -> None:
    with _captured("stdout") as out:
        # Redaction off: the default redactor would replace the unprintable value before the format meets it.
        fapilog.configure(sinks=[{"type": "stdout", "format": "console", "colour": False}], redactors=[])
        log = fapilog.get_logger("console")
        for i in range(100):
            if i == 10:
                log.info("bad repr", value=_BadRepr())
            elif i == 20:
                log.info("surrogate \ud800 in message")
            elif i == 30:
                log.info('x\n{"level":"CRITICAL"}\r\x1b[31mFAKE', note="a\nb")
            else:
                log.info("ok", i=i)
        assert fapilog.flush(10.0)
        text = _text_of(out)
    lines = text.splitlines()
    assert len(lines) == 100, text
    assert fapilog.stats()["sinks"]["stdout"]["delivered"] == 100
    assert "<unrepresentable _BadRepr: RuntimeError>" in lines[10]
    assert "surrogate \\ud800 in message" in lines[20]
    assert 'x\\n{"level":"CRITICAL"}\\r\\x1b[31mFAKE' in lines[30] and "note='a\\nb'" in lines[30]
    assert "\x1b" not in text and "\r" not in text


def test_console_output_to_an_ascii_only_stream_is_escaped_not_lost() -> None:
    script = textwrap.dedent(
        """
        import fapilog
        fapilog.configure(sinks=[{"type": "stdout", "format": "console", "colour": False}])
        log = fapilog.get_logger("ascii")
        log.info("caf\\u00e9 \\u2603")
        log.info("plain")
        assert fapilog.flush(10.0)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, timeout=60, check=False,
        env={"PYTHONIOENCODING": "ascii", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.decode("ascii").splitlines()
    assert len(lines) == 2 and "caf\\xe9 \\u2603" in lines[0] and lines[1].endswith("plain")


# -- the property: any key, value and message through every format ----------------------------------------------
_ANY_CHAR = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
_NASTY = st.sampled_from(["\ud800", "\udcff", "\n", "\r", "\x1b[31m", "\x00", "\x7f", "\x85", "\u2028", "é"])
_TEXT = st.lists(st.one_of(_ANY_CHAR, _NASTY), max_size=12).map("".join)
_KEYS = _TEXT.filter(lambda key: key != "exc_info")


def _recursive_list() -> list[Any]:
    items: list[Any] = [1]
    items.append(items)
    return items


_LEAVES = st.one_of(
    _TEXT,
    st.binary(max_size=8),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.builds(_BadRepr),
    st.builds(_recursive_list),
)
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(_TEXT, st.integers(), st.tuples(st.integers())), inner, max_size=3),
    ),
    max_leaves=8,
)
_EVENTS = st.lists(
    st.tuples(st.one_of(_TEXT, _VALUES), st.dictionaries(_KEYS, _VALUES, max_size=4)), min_size=1, max_size=6
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(events=_EVENTS)
def test_any_event_through_every_format_is_delivered_as_one_line_or_counted(
    events: list[tuple[Any, dict[str, Any]]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("fmt") / "app.log"
    with _captured("stdout") as out, _captured("stderr") as err:
        fapilog.configure(sinks=[
            {"type": "file", "path": str(path)},
            {"type": "stdout", "format": "json"},
            {"type": "stderr", "format": "console", "colour": False},
        ])
        log = fapilog.get_logger("property")
        for message, fields in events:
            log.info(message, **fields)
        assert fapilog.flush(10.0)
        stats = fapilog.stats()
        fapilog.shutdown(10.0)
        json_out, console = _text_of(out), _text_of(err)
    n = len(events)
    assert stats["state"] == "running"
    for name in ("file", "stdout", "stderr"):
        sink = stats["sinks"][name]
        assert sink["delivered"] + sink["failed"] + sink["dropped"] + stats["dropped"]["total"] == n, (name, sink)
        assert sink["delivered"] == n, (name, sink)
    for text in (path.read_text("utf-8"), json_out):
        # JSON lines end at "\n" only: U+0085 and U+2028 are valid raw in JSON strings (splitlines() would cut)
        records = [json.loads(line) for line in text.split("\n")[:-1]]
        assert len(records) == n
        assert all("message" in r and r["logger"] == "property" for r in records)
    # stderr also carries fapilog's own diagnostics ("fapilog: redactor 'secrets' could not redact a value ...",
    # for a list that contains itself); every console event line starts with its timestamp instead.
    console_lines = [line for line in console.split("\n")[:-1] if not line.startswith("fapilog: ")]
    assert len(console_lines) == n, console
    assert not any(c in console for c in ("\x1b", "\r", "\x00", "\x85", "\u2028"))
