"""Sinks that take lines (``write_lines``): they get each event's JSON bytes, in order and exactly once, through
every delivery path, and the pipeline keeps only the lines for them, never the records."""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import orjson
import pytest
from tests._waiting import wait_for
from tests.registry._dists import DistFactory, make

import fapilog
from fapilog._engine.line_items import as_line_items
from fapilog._registry.registry import LegacyPluginWarning, PluginRegistry
from fapilog.builtins.sinks.memory import MemorySink
from fapilog.builtins.sinks.stream import StdoutSink
from fapilog.errors import PluginValidationError
from fapilog.plugins import BatchResult, BatchTooLargeError, EventRecord, PluginMetadata, RetryableSinkError
from fapilog.testing import check_plugin

FAST_RETRY = {"initial_backoff": 0.01, "max_backoff": 0.05, "max_elapsed": 60.0, "max_attempts": 20}


@pytest.fixture
def dists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DistFactory]:
    yield from make(tmp_path, monkeypatch)




class Keeper:
    """A sink that takes records and keeps the bytes each record carries (what every sink shares)."""

    metadata = PluginMetadata(name="keeper", version="1.0.0", kind="sink", description="Keeps the bytes.")
    runs_on_worker_loop = True
    delivery_defaults: ClassVar[dict[str, Any]] = {"fallback": "off"}  # never fails: no fallback sink to start

    def __init__(self) -> None:
        self.lines: list[bytes] = []

    async def write(self, record: Mapping[str, Any]) -> None:
        await self.write_batch([record])

    async def write_batch(self, records: Sequence[Mapping[str, Any]]) -> None:
        assert all(isinstance(record, EventRecord) for record in records)
        self.lines += [record.json for record in records]  # type: ignore[attr-defined]


class Troubled:
    """A line sink on the worker's loop that fails in every way a backend can: the first call is throttled,
    batches of more than two lines are too large, and a line whose event carries ``bad`` is refused."""

    metadata = PluginMetadata(name="troubled", version="1.0.0", kind="sink", description="Fails every way.")
    runs_on_worker_loop = True

    def __init__(self) -> None:
        self.calls: list[list[bytes]] = []
        self.accepted: list[bytes] = []

    async def write(self, record: Mapping[str, Any]) -> None:
        raise AssertionError("the core gives a line sink its lines")

    async def write_lines(self, lines: Sequence[bytes]) -> BatchResult | None:
        assert all(type(line) is bytes for line in lines)
        self.calls.append(list(lines))
        if len(self.calls) == 1:
            raise RetryableSinkError("throttled", reason="throttled")
        if len(lines) > 2:
            raise BatchTooLargeError("at most two lines per request")
        refused = {index: "bad" for index, line in enumerate(lines) if orjson.loads(line).get("bad")}
        self.accepted += [line for index, line in enumerate(lines) if index not in refused]
        return BatchResult(rejected=refused) if refused else None


def test_retry_split_partial_and_fallback_keep_every_line_once_and_in_order(tmp_path: Path) -> None:
    """Through a retry, splits and a partial result, the line sink accepts every line but the refused ones,
    once and in order, the fallback file gets exactly the refused lines, and a record sink beside it gets all."""
    troubled, keeper = Troubled(), Keeper()
    fallback = tmp_path / "undelivered.log"
    fapilog.configure(sinks=[troubled, keeper], sink_defaults={
        "retry": FAST_RETRY, "batch_size": 16, "batch_max_age": 0.3,
        "fallback": {"type": "file", "path": str(fallback)}})
    log = fapilog.get_logger("lines")
    for i in range(12):
        log.info("event", i=i, bad=i in (4, 9))
    fapilog.flush(10.0)
    stats = fapilog.stats()["sinks"]
    assert fapilog.shutdown(5.0)
    every = keeper.lines
    assert [orjson.loads(line)["i"] for line in every] == list(range(12))
    refused = [line for line in every if orjson.loads(line)["bad"]]
    assert troubled.accepted == [line for line in every if line not in refused]
    assert fallback.read_bytes() == b"".join(line + b"\n" for line in refused)
    assert stats["troubled"]["retried"] >= 1 and stats["troubled"]["rejected"] == {"bad": 2}
    assert stats["troubled"]["delivered"] == 10 and stats["keeper"]["delivered"] == 12
    assert any(len(call) > 2 for call in troubled.calls)  # a batch was split


SPARE = '''
from fapilog.plugins import PluginMetadata

RECORDS = []


class Plugin:
    metadata = PluginMetadata(name="{name}", version="{version}", kind="sink", description="takes records")

    def __init__(self, **settings):
        self.settings = settings

    async def write(self, record):
        RECORDS.append(record)
'''


def test_a_record_fallback_gets_the_refused_lines_back_as_records(dists: DistFactory) -> None:
    """A fallback sink that takes records gets a line sink's refused lines parsed back, with their bytes and level."""
    module = dists.plugin("spare", source=SPARE)
    troubled = Troubled()
    fapilog.configure(sinks=[troubled], sink_defaults={"retry": FAST_RETRY, "fallback": {"type": "spare"}})
    fapilog.get_logger("lines").warning("refused", i=1, bad=True)
    fapilog.flush(10.0)
    assert fapilog.shutdown(5.0)
    [record] = sys.modules[module].RECORDS
    assert (record["message"], record["i"], record["level"]) == ("refused", 1, "WARNING")
    assert isinstance(record, EventRecord) and record.levelno == 30
    assert orjson.loads(record.json) == dict(record)


def _held_records() -> int:
    """How many records of the ``held`` events are alive (tracked by the collector, as every record is)."""
    gc.collect()
    return sum(1 for obj in gc.get_objects() if type(obj) is EventRecord and obj.get("message") == "held")


class GatedLines:
    """A line sink on its own thread that blocks in its first write until ``release()``."""

    metadata = PluginMetadata(name="gated", version="1.0.0", kind="sink", description="Blocks until released.")

    def __init__(self) -> None:
        self.entered = threading.Event()
        self._open = threading.Event()
        self.lines: list[bytes] = []

    def release(self) -> None:
        self._open.set()

    async def write(self, record: Mapping[str, Any]) -> None:
        raise AssertionError("the core gives a line sink its lines")

    async def write_lines(self, lines: Sequence[bytes]) -> None:
        self.entered.set()
        self._open.wait(30)  # blocks this sink's own thread only
        self.lines += lines


def test_drop_oldest_evicts_the_oldest_unprotected_lines_and_never_an_error() -> None:
    """A full line buffer under drop_oldest sheds the oldest INFO lines; ERROR lines are kept and all stay in order."""
    gate = GatedLines()
    fapilog.configure(sinks=[gate], sink_defaults={"buffer_capacity": 4, "buffer_policy": "drop_oldest",
                                                   "batch_size": 1, "write_timeout": 30.0})
    log = fapilog.get_logger("lines")
    log.info("first")
    assert gate.entered.wait(10)
    log.error("e0")
    log.info("i0")
    log.error("e1")
    log.info("i1")
    for i in range(2, 10):
        log.info(f"i{i}")
    assert wait_for(lambda: fapilog.stats()["sinks"]["gated"]["dropped"] == 8)
    gate.release()
    assert fapilog.flush(10.0).ok is False  # the sink shed events: the flush says so
    stats = fapilog.stats()["sinks"]["gated"]
    assert [orjson.loads(line)["message"] for line in gate.lines] == ["first", "e0", "e1", "i8", "i9"]
    assert stats["dropped_protected"] == 0 and stats["delivered"] == 5


def _records_alive_while_blocked(gate: GatedLines | GatedRecords) -> int:
    """Block ``gate`` in its first write, buffer 200 ``held`` events behind it, and count their live records;
    then release it and let everything through."""
    fapilog.configure(sinks=[gate], sink_defaults={"batch_size": 1, "write_timeout": 30.0})
    log = fapilog.get_logger("lines")
    log.info("first")
    assert gate.entered.wait(10)
    for i in range(200):
        log.info("held", i=i)
    try:
        assert wait_for(lambda: fapilog.stats()["sinks"]["gated"]["buffered"] == 200)
        alive = _held_records()
    finally:
        gate.release()
    assert fapilog.flush(10.0)
    return alive


def test_a_line_sinks_buffer_holds_no_record() -> None:
    """While a line sink is blocked with events buffered, none of their records is alive: only their lines are."""
    gate = GatedLines()
    assert _records_alive_while_blocked(gate) < 200 // 10  # a record sink would hold all 200 (see the next test)
    assert len(gate.lines) == 201


class GatedRecords:
    """The same gate taking records: what a sink without ``write_lines`` keeps alive while it is blocked."""

    metadata = PluginMetadata(name="gated", version="1.0.0", kind="sink", description="Blocks until released.")

    def __init__(self) -> None:
        self.entered = threading.Event()
        self._open = threading.Event()

    def release(self) -> None:
        self._open.set()

    async def write(self, record: Mapping[str, Any]) -> None:
        await self.write_batch([record])

    async def write_batch(self, records: Sequence[Mapping[str, Any]]) -> None:
        self.entered.set()
        self._open.wait(30)


def test_a_record_sinks_buffer_holds_its_records() -> None:
    """The counterpart of the test above: a blocked sink that takes records keeps every buffered record alive."""
    assert _records_alive_while_blocked(GatedRecords()) == 200


BOTH = '''
from fapilog.plugins import PluginMetadata

LINES = []
BATCHES = []


class Plugin:
    metadata = PluginMetadata(name="{name}", version="{version}", kind="sink", description="takes lines")

    def __init__(self, **settings):
        self.settings = settings

    async def write(self, record):
        BATCHES.append([record])

    async def write_batch(self, records):
        BATCHES.append(list(records))

    async def write_lines(self, lines):
        LINES.extend(lines)
'''


def test_a_third_party_sink_with_both_forms_gets_lines(dists: DistFactory, tmp_path: Path) -> None:
    """A sink installed through entry-point metadata that offers write_batch and write_lines gets only lines,
    byte for byte those the built-in file sink writes for the same events."""
    module = dists.plugin("linesink", source=BOTH)
    path = tmp_path / "same.log"
    fapilog.configure(sinks=["linesink", {"type": "file", "path": str(path)}])
    for i in range(5):
        fapilog.get_logger("k").info("e", i=i)
    assert fapilog.flush(10.0)
    assert fapilog.shutdown(5.0)
    plugin = sys.modules[module]
    assert plugin.BATCHES == []
    assert path.read_bytes().splitlines() == plugin.LINES
    assert [orjson.loads(line)["i"] for line in plugin.LINES] == list(range(5))


def test_per_sink_processors_run_before_a_line_sink_gets_its_lines(tmp_path: Path) -> None:
    """A line sink's own processors change only its copies: its lines carry their result, other sinks' do not."""
    path = tmp_path / "guarded.log"
    memory = MemorySink()
    fapilog.configure(sinks=[memory, {"type": "file", "path": str(path),
                                      "processors": [{"type": "size_guard", "max_bytes": 600}]}])
    fapilog.get_logger("p").info("big", blob="x" * 2000)
    assert fapilog.flush(10.0)
    assert fapilog.shutdown(5.0)
    [line] = path.read_bytes().splitlines()
    assert len(line) <= 600 and orjson.loads(line)["message"].startswith("big")
    assert memory.records[0]["blob"] == "x" * 2000


def test_the_stdout_sink_takes_lines_only_in_json_format() -> None:
    """The stream sinks offer write_lines for JSON output; the console format needs the records, so it has none."""
    assert callable(StdoutSink(format="json").write_lines)
    assert StdoutSink(format="console").write_lines is None


def test_a_write_lines_the_core_cannot_call_is_refused_at_registration(dists: DistFactory) -> None:
    """write_lines is checked at registration like write_batch: a signature without ``lines`` is refused."""
    source = ("from fapilog.plugins.metadata import PluginMetadata\n"
              "class Plugin:\n"
              "    metadata = PluginMetadata(name='{name}', version='1.0', kind='sink')\n"
              "    async def write(self, record): pass\n"
              "    async def write_lines(self): pass\n")
    dists.plugin("shaped", source=source)
    with pytest.raises(PluginValidationError, match=r"write_lines\(lines\).*`async def write_lines\(self, lines\)`"):
        PluginRegistry().load("shaped")


class SyncLines:
    """A legacy sink (no metadata) whose methods block: the registry's adapter runs them off the worker's loop."""

    name = "synclines"

    def __init__(self) -> None:
        self.lines: list[bytes] = []
        self.thread_names: set[str] = set()

    def write(self, record: Mapping[str, Any]) -> None:
        raise AssertionError("the core gives a line sink its lines")

    def write_lines(self, lines: Sequence[bytes]) -> None:
        self.thread_names.add(threading.current_thread().name)
        self.lines += lines


def test_a_legacy_sink_with_a_blocking_write_lines_gets_lines_on_its_io_thread() -> None:
    """A legacy sink's synchronous write_lines is adapted like its write: it gets the lines on an I/O thread."""
    sink = SyncLines()
    with pytest.warns(LegacyPluginWarning):
        fapilog.configure(sinks=[sink])
    for i in range(3):
        fapilog.get_logger("legacy").info("e", i=i)
    assert fapilog.flush(10.0)
    assert [orjson.loads(line)["i"] for line in sink.lines] == [0, 1, 2]
    assert sink.thread_names and "fapilog-worker" not in sink.thread_names


class OnlyLines:
    """A sink whose only batch form is write_lines."""

    metadata = PluginMetadata(name="only-lines", version="1.0.0", kind="sink", description="Takes lines.")
    received: ClassVar[list[bytes]] = []

    async def write(self, record: Mapping[str, Any]) -> None:
        await self.write_lines([orjson.dumps(dict(record))])

    async def write_lines(self, lines: Sequence[bytes]) -> None:
        if not all(isinstance(line, bytes) for line in lines):
            raise TypeError("lines must be bytes")
        OnlyLines.received += lines


def test_the_contract_checks_a_sinks_write_lines() -> None:
    """check_plugin's batch_form calls a sink's write_lines with JSON lines (and passes a correct one)."""
    report = check_plugin(OnlyLines, checks=["batch_form"])
    assert report.ok, str(report)
    assert "skip" not in str(report).lower()
    assert OnlyLines.received and all(orjson.loads(line)["message"] for line in OnlyLines.received)


def test_buffered_lines_are_the_same_bytes_even_when_one_holds_a_newline() -> None:
    """Lines are buffered as compact copies of the same bytes; a line with a raw newline (bytes a plugin set by
    hand, never the serializer's) keeps every line whole rather than splitting it."""
    plain = [EventRecord(message=f"m{i}") for i in range(3)]
    for i, record in enumerate(plain):
        record.json, record.levelno = orjson.dumps(dict(record)), 40 if i == 1 else 20
    assert as_line_items(plain, protect_level=40) == [plain[0].json, (40, plain[1].json), plain[2].json]
    odd = EventRecord(message="odd")
    odd.json, odd.levelno = b'{"message":"a"}\n{"message":"b"}', 20
    assert as_line_items([plain[0], odd], protect_level=40) == [plain[0].json, odd.json]
