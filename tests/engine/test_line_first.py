"""Lines made straight from captured events (``fapilog._engine.line_first``): byte for byte the lines the record path
makes, only for events the chain would pass on untouched, and never when something needs the records."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fapilog
from fapilog._engine import worker as worker_module
from fapilog._engine.line_first import LineEncoder
from fapilog._kit.record import IsoClock, build_records
from fapilog._kit.serialize import _TEXT_KEYS
from fapilog.builtins.redactors.secrets import SecretsRedactor

_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_TRICKY = st.sampled_from(["https://u:pw@example.com/x", "postgres://app:s3cret@db/x", "a@b.c", "[1]", "{}", 'q"\\'])
_VALUE = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**64 - 1), st.floats(allow_nan=False), _TEXT,
                   _TRICKY, st.lists(st.integers(), max_size=2), st.dictionaries(_TEXT, st.integers(), max_size=2))
_KEYS = st.one_of(_TEXT, st.sampled_from(["password", "token", "user", "message", "seq", "exception", "ip", "url"]))
_FIELDS = st.dictionaries(_KEYS, _VALUE, max_size=5)
_EVENT = st.tuples(
    st.integers(1_600_000_000_000_000_000, 1_900_000_000_000_000_000),  # ts_ns
    st.sampled_from([5, 10, 20, 25, 30, 40, 50]),  # level, a custom one among them
    st.one_of(st.just("svc"), _TEXT),  # logger name
    st.one_of(_TEXT, _TRICKY, st.sampled_from(["user login", "mail to a@b.c", "see [1]", "{x}"]), st.integers()),
    _FIELDS,
    st.one_of(st.none(), st.just(MappingProxyType({})), _FIELDS.map(MappingProxyType)),  # context
    st.one_of(st.none(), _FIELDS),  # bound
)


_FLAT = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**64 - 1), st.floats(allow_nan=False), _TEXT,
                  st.sampled_from(["10.0.0.1", "GET", "/api/v1/items", "a@b.c", "x}", "y]"]))
_FLAT_FIELDS = st.dictionaries(st.sampled_from(["user_id", "ip", "method", "path", "status", "é", "k\"q"]), _FLAT,
                               max_size=5)
_FLAT_EVENT = st.tuples(
    st.integers(1_600_000_000_000_000_000, 1_900_000_000_000_000_000), st.sampled_from([10, 20, 25, 40]),
    st.sampled_from(["svc", "svc.db", "ünï"]), st.sampled_from(["user login", "done", "é ☃", "tab\there"]),
    _FLAT_FIELDS, st.one_of(st.none(), _FLAT_FIELDS.map(MappingProxyType)), st.one_of(st.none(), _FLAT_FIELDS),
)


def _item(event: tuple[Any, ...]) -> tuple[Any, ...]:
    ts_ns, level, name, message, fields, context, bound = event
    return (ts_ns, level, name, message, fields, context, bound, None, None)


def _record_line(item: tuple[Any, ...], seq: int) -> bytes:
    record = build_records([item], seq, IsoClock().format)[0][0]
    return orjson.dumps(record, option=_TEXT_KEYS)


def _warm_secrets(**fields: Any) -> SecretsRedactor:
    """A ``secrets`` redactor that has judged one record with ``fields``, as after the worker's first batch (it
    learns from the records it judges that the core keys ``logger`` and ``message``, and these, are plain)."""
    redactor = SecretsRedactor()
    asyncio.run(redactor.redact_batch(build_records([_item((1, 20, "svc", "hi", fields, None, None))], 0,
                                                    IsoClock().format)[0]))
    return redactor


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_EVENT, min_size=1, max_size=8), st.integers(0, 10**9))
def test_a_line_made_without_a_record_is_the_records_line_byte_for_byte(events: list[Any], seq: int) -> None:
    """With no stage, every line the encoder makes equals the serialized record of the same event and seq."""
    items = [_item(event) for event in events]
    lines, levels = LineEncoder().encode(items, seq, IsoClock(), [])
    assert levels == [item[1] for item in items]
    for index, (item, line) in enumerate(zip(items, lines, strict=True)):
        if line is not None:
            assert line == _record_line(item, seq + index)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_FLAT_EVENT, min_size=1, max_size=40), st.integers(0, 10**9), st.booleans())
def test_a_batch_of_flat_events_is_encoded_whole_to_the_records_lines(
    events: list[Any], seq: int, judged: bool
) -> None:
    """Batches of flat events (the usual ones, encoded in one orjson call and split) give each event its record's
    line, with or without the ``secrets`` verdict; what the verdict holds back is what it must."""
    redactor = _warm_secrets(user_id=1, ip=1, method=1, path=1, status=1, **{"é": 1, 'k"q': 1})
    verdict = redactor._line_verdict()
    assert verdict is not None
    items = [_item(event) for event in events]
    lines, _ = LineEncoder().encode(items, seq, IsoClock(), [verdict] if judged else [])
    if not judged:
        assert None not in lines
    for index, (item, line) in enumerate(zip(items, lines, strict=True)):
        expected = _record_line(item, seq + index)
        if line is not None:
            assert line == expected
        else:
            assert judged and (b"@" in expected or b"[" in expected or expected.rfind(b"{") != 0)


@pytest.mark.parametrize("seq", [0, 990, 999_990, 1_000_000 - 3, 123_456_789_995])
def test_seq_numbers_across_thousands_are_the_records_own(seq: int) -> None:
    """A batch whose ``seq`` values cross a multiple of 1000 (or start below it) writes each number as the record
    does, with and without fields after it."""
    items = [_item((1_700_000_000_000_000_000 + i, 20, "svc", "m", {"i": i} if i % 3 else {}, None, None))
             for i in range(25)]
    lines, _ = LineEncoder().encode(items, seq, IsoClock(), [])
    assert lines == [_record_line(item, seq + index) for index, item in enumerate(items)]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_EVENT, min_size=1, max_size=8))
def test_an_event_the_secrets_verdict_passes_is_one_the_redactor_leaves_untouched(events: list[Any]) -> None:
    """Every line the ``secrets`` verdict lets through belongs to a record the redactor itself passes on unchanged."""
    redactor = _warm_secrets()
    verdict = redactor._line_verdict()
    assert verdict is not None
    items = [_item(event) for event in events]
    lines, _ = LineEncoder().encode(items, 0, IsoClock(), [verdict])
    for index, (item, line) in enumerate(zip(items, lines, strict=True)):
        if line is None:
            continue
        record = build_records([item], index, IsoClock().format)[0][0]
        record.json = orjson.dumps(record, option=_TEXT_KEYS)
        assert asyncio.run(redactor.redact_batch([record]))[0] is record
        assert b"hunter2" not in line


def test_events_the_record_path_must_judge_get_no_line() -> None:
    """An exception, a field named like a core key, a value orjson cannot encode, a secret-named field, text the
    redactor's rules read (``@``), a container, a message that is not text: each is left to the record path."""
    verdict = _warm_secrets(a=1, big=1, to="x", items=1)._line_verdict()
    assert verdict is not None
    base = (time.time_ns(), 20, "svc", "user login")
    items = [
        (*base, {"a": 1}, None, None, None, None),
        (*base, {"a": 1}, None, None, ValueError("x"), None),
        (*base, {"message": "again"}, None, None, None, None),
        (*base, {"big": 2**70}, None, None, None, None),
        (*base, {"password": "hunter2"}, None, None, None, None),
        (*base, {"to": "a@b.c"}, None, None, None, None),
        (*base, {"items": [1, 2]}, None, None, None, None),
        (*base, {"a": 1}, None, {"token": "t"}, None, None),
        (time.time_ns(), 20, "svc", 42, {"a": 1}, None, None, None, None),
    ]
    lines, _ = LineEncoder().encode(items, 0, IsoClock(), [verdict])
    assert lines[0] is not None
    assert lines[1:] == [None] * (len(items) - 1)


def test_a_redactor_that_has_not_seen_a_record_offers_no_verdict_yet() -> None:
    """Before its first record the redactor does not know ``logger`` and ``message`` are plain: no verdict."""
    assert SecretsRedactor()._line_verdict() is None
    assert _warm_secrets()._line_verdict() is not None


class _Spy:
    """Counts the lines the worker's encoder made (wraps the real ``LineEncoder.encode``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.made = 0
        real = LineEncoder.encode

        def encode(encoder: LineEncoder, *args: Any) -> tuple[list[bytes | None], list[int]]:
            lines, levels = real(encoder, *args)
            self.made += sum(line is not None for line in lines)
            return lines, levels

        monkeypatch.setattr(LineEncoder, "encode", encode)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Spy]:
    yield _Spy(monkeypatch)
    fapilog.shutdown()


def _log_mixed(path: Path, **config: Any) -> list[bytes]:
    """Log a mix of plain and not-so-plain events to a file through the default chain, in three batches."""
    fapilog.configure(level="DEBUG", sinks=[{"type": "file", "path": str(path)}], **config)
    log = fapilog.get_logger("svc")
    for batch in range(3):
        for i in range(50):
            log.info("user login", user_id=i, ip="10.0.0.1", batch=batch)
        log.info("with a secret", password="hunter2", user="bob")
        log.info("mail", to="a@b.c")
        log.error("failed", code=500, nested={"token": "t", "ok": 1})
        log.bind(request="r1").warning("bound", detail="x")
        log.info(7, reserved_seq=1, seq=3)
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            log.exception("caught", attempt=batch)
        assert fapilog.flush(30.0).ok
    fapilog.shutdown()
    return path.read_bytes().splitlines()


def _without_timestamps(lines: list[bytes]) -> list[dict[str, Any]]:
    out = []
    for line in lines:
        record = json.loads(line)
        record.pop("timestamp")
        if "exception" in record:
            record["exception"].pop("frames", None)
        out.append(record)
    return out


def test_the_default_chain_writes_the_same_file_with_and_without_records(
    tmp_path: Path, spy: _Spy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the default ``secrets`` chain and the file sink, the lines made without records give the same file
    (in order, secrets masked) as the record path alone; most events were made as lines."""
    fast = _log_mixed(tmp_path / "fast.log")
    assert spy.made >= 100  # the plain events after the first batch
    made = spy.made
    monkeypatch.setattr(worker_module, "line_verdicts", lambda pipeline, sinks: None)
    slow = _log_mixed(tmp_path / "slow.log")
    assert spy.made == made  # the record path alone this time
    assert _without_timestamps(fast) == _without_timestamps(slow)
    assert b"hunter2" not in b"".join(fast)
    assert [json.loads(line)["seq"] for line in fast] == list(range(len(fast)))


def test_a_chain_that_needs_records_gets_them(tmp_path: Path, spy: _Spy) -> None:
    """An enricher in the chain (it adds to each record) means records for every event: no line made early."""
    lines = _log_mixed(tmp_path / "enriched.log", enrichers=["runtime"])
    assert spy.made == 0
    assert len(lines) == 3 * 56
    assert all("pid" in json.loads(line) for line in lines)


def test_a_sink_that_takes_records_gets_records(tmp_path: Path, spy: _Spy) -> None:
    """A sink that takes records beside the file sink: the worker builds records, and both get every event."""
    fapilog.configure(sinks=[{"type": "file", "path": str(tmp_path / "x.log")}, "memory"])
    log = fapilog.get_logger("svc")
    for i in range(300):
        log.info("user login", user_id=i)
    assert fapilog.flush(30.0).ok
    assert spy.made == 0
    fapilog.shutdown()
    assert len((tmp_path / "x.log").read_bytes().splitlines()) == 300


class _StricterSecrets(SecretsRedactor):
    """A user's subclass that masks more than its base: it declares itself copy-on-write, as its base does."""

    _copy_on_write = True

    async def redact_batch(self, records: Any) -> Any:
        out = await super().redact_batch(records)
        return [r.derive({**r, "user": "***"}) if "user" in r else r for r in out]


def test_a_subclass_that_redacts_its_own_way_gets_every_record(tmp_path: Path, spy: _Spy) -> None:
    """A redactor subclass overriding how it judges records offers no verdict: every event reaches its code."""
    assert _StricterSecrets()._line_verdict() is None
    fapilog.configure(sinks=[{"type": "file", "path": str(tmp_path / "x.log")}], redactors=[_StricterSecrets()])
    log = fapilog.get_logger("svc")
    for i in range(600):
        log.info("login", user=f"u{i}")
        if i % 256 == 0:
            assert fapilog.flush(30.0).ok
    fapilog.shutdown()
    lines = (tmp_path / "x.log").read_bytes().splitlines()
    assert len(lines) == 600 and spy.made == 0
    assert all(json.loads(line)["user"] == "***" for line in lines)
