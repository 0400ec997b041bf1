"""Tests of the built-in rotating ``file`` sink, against real files and a real event loop."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import os
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from fapilog._kit.record import EventRecord
from fapilog._kit.serialize import dumps
from fapilog.builtins.sinks.file import FileSink
from fapilog.errors import ConfigError, FapilogError
from fapilog.plugins.protocols import Sink


class FakeClock:
    """A wall clock the test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def rec(seq: int, pad: int = 0) -> dict[str, Any]:
    """A record whose line length depends only on ``pad`` (for seq < 1_000_000)."""
    return {"seq": seq, "message": "x" * (pad + 6 - len(str(seq)))}


def line_len(pad: int = 0) -> int:
    return len(dumps(rec(0, pad))) + 1


def run(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(main())


@contextlib.asynccontextmanager
async def running(sink: FileSink) -> AsyncIterator[FileSink]:
    await sink.start()
    try:
        yield sink
    finally:
        await sink.stop()


def seqs(path: Path | str) -> list[int]:
    with open(path, "rb") as fh:
        raw = fh.read()
    if str(path).endswith(".gz"):
        raw = gzip.decompress(raw)
    return [json.loads(line)["seq"] for line in raw.splitlines()]


def chain(log: Path, backups: int) -> list[int]:
    """Every seq across ``log.N`` ... ``log.1``, ``log``: oldest file first."""
    out: list[int] = []
    for index in range(backups, 0, -1):
        out += seqs(f"{log}.{index}")
    return out + seqs(log)


# -- writing ------------------------------------------------------------------------------------


def test_lines_are_written_in_call_order(tmp_path: Path) -> None:
    """Sequential, concurrent and batched writes land in the order they were called."""
    log = tmp_path / "app.log"

    async def main() -> None:
        async with running(FileSink(log)) as sink:
            for i in range(10):
                await sink.write(rec(i))
            await asyncio.gather(*(sink.write(rec(i)) for i in range(10, 60)))
            await sink.write_batch([rec(i) for i in range(60, 100)])
            await sink.write_batch([])

    run(main)
    assert seqs(log) == list(range(100))


def test_every_line_is_the_records_json(tmp_path: Path) -> None:
    """Each line parses as JSON and equals its record; an EventRecord's cached JSON is reused."""
    log = tmp_path / "app.log"
    cached = EventRecord(seq=1, message="ignored")
    cached.json = b'{"seq":1,"cached":true}'
    plain = {"seq": 2, "message": "héllo", "nested": {"a": [1, 2]}}

    async def main() -> None:
        async with running(FileSink(log)) as sink:
            await sink.write(cached)
            await sink.write_batch([plain])

    run(main)
    lines = log.read_bytes().split(b"\n")
    assert lines == [b'{"seq":1,"cached":true}', dumps(plain), b""]
    assert json.loads(lines[1]) == plain


def test_batch_without_rotation_is_one_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch that fits is joined into one bytes object and written with one call."""
    calls: list[int] = []
    original = FileSink._write_all

    def spy(self: FileSink, view: memoryview) -> None:
        calls.append(len(view))
        original(self, view)

    monkeypatch.setattr(FileSink, "_write_all", spy)
    log = tmp_path / "app.log"

    async def main() -> None:
        async with running(FileSink(log, max_bytes=1_000_000)) as sink:
            await sink.write_batch([rec(i) for i in range(100)])

    run(main)
    assert calls == [100 * line_len()]
    assert seqs(log) == list(range(100))


def test_mkdir_creates_parents_and_existing_content_is_kept(tmp_path: Path) -> None:
    """Missing parent directories are created; an existing file is appended to, not replaced."""
    log = tmp_path / "a" / "b" / "app.log"

    async def main() -> None:
        async with running(FileSink(log)) as sink:
            await sink.write(rec(0))
        async with running(FileSink(log)) as sink:
            await sink.write(rec(1))

    run(main)
    assert seqs(log) == [0, 1]


def test_missing_directory_without_mkdir_fails_at_start(tmp_path: Path) -> None:
    """With mkdir=False a missing directory makes start() raise FapilogError naming the fix."""
    sink = FileSink(tmp_path / "missing" / "app.log", mkdir=False)
    with pytest.raises(FapilogError, match="mkdir=True"):
        run(sink.start)
    assert not (tmp_path / "missing").exists()


def test_satisfies_the_sink_protocol(tmp_path: Path) -> None:
    """FileSink is a Sink and exposes its name."""
    sink = FileSink(tmp_path / "app.log", name="audit")
    assert isinstance(sink, Sink)
    assert sink.name == "audit"


# -- size rotation ------------------------------------------------------------------------------


def test_size_rotation_keeps_backup_count_files_within_max_bytes(tmp_path: Path) -> None:
    """Size rotation never lets a file pass max_bytes and keeps exactly backup_count backups."""
    log = tmp_path / "app.log"
    max_bytes = 200

    async def main() -> None:
        async with running(FileSink(log, max_bytes=max_bytes, backup_count=3)) as sink:
            for i in range(60):
                await sink.write(rec(i))

    run(main)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "app.log",
        "app.log.1",
        "app.log.2",
        "app.log.3",
    ]
    assert all(p.stat().st_size <= max_bytes for p in tmp_path.iterdir())
    kept = chain(log, 3)
    assert kept == list(range(60 - len(kept), 60))
    assert len(seqs(f"{log}.1")) == max_bytes // line_len()  # rotated files are filled


def test_batch_straddling_rotation_is_split_at_line_boundaries(tmp_path: Path) -> None:
    """A batch crossing max_bytes is split at line boundaries so no file passes the limit."""
    log = tmp_path / "app.log"
    max_bytes = 3 * line_len() + 1  # room for three lines

    async def main() -> None:
        async with running(FileSink(log, max_bytes=max_bytes, backup_count=10)) as sink:
            await sink.write(rec(0))
            await sink.write(rec(1))
            await sink.write_batch([rec(i) for i in range(2, 12)])

    run(main)
    assert [seqs(f"{log}.{n}") for n in (3, 2, 1)] == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert seqs(log) == [9, 10, 11]
    assert all(p.stat().st_size <= max_bytes for p in tmp_path.iterdir())


def test_oversize_line_goes_alone_into_a_file(tmp_path: Path) -> None:
    """A line longer than max_bytes is written alone into its own file, in a batch or on its own."""
    log = tmp_path / "app.log"
    max_bytes = 2 * line_len()
    big = 3 * max_bytes

    async def main() -> None:
        async with running(FileSink(log, max_bytes=max_bytes, backup_count=10)) as sink:
            await sink.write(rec(0, pad=big))  # into the empty file
            await sink.write(rec(1))
            await sink.write_batch([rec(2), rec(3, pad=big), rec(4)])

    run(main)
    assert chain(log, 3) == [0, 1, 2, 3, 4]
    assert [seqs(f"{log}.{n}") for n in (3, 2, 1)] == [[0], [1, 2], [3]]
    assert seqs(log) == [4]


def test_existing_file_size_counts_toward_max_bytes(tmp_path: Path) -> None:
    """Bytes already in the file when the sink starts count toward the first rotation."""
    log = tmp_path / "app.log"
    log.write_bytes(dumps(rec(0)) + b"\n" + dumps(rec(1)) + b"\n")

    async def main() -> None:
        async with running(FileSink(log, max_bytes=3 * line_len())) as sink:
            await sink.write_batch([rec(2), rec(3)])

    run(main)
    assert seqs(f"{log}.1") == [0, 1, 2]
    assert seqs(log) == [3]


def test_backup_count_zero_truncates_and_keeps_no_backups(tmp_path: Path) -> None:
    """With backup_count=0 rotation truncates the file in place and leaves no backup behind."""
    log = tmp_path / "app.log"

    async def main() -> None:
        async with running(FileSink(log, max_bytes=3 * line_len(), backup_count=0)) as sink:
            for i in range(7):
                await sink.write(rec(i))

    run(main)
    assert [p.name for p in tmp_path.iterdir()] == ["app.log"]
    assert seqs(log) == [6]


# -- time rotation ------------------------------------------------------------------------------


def test_time_rotation_happens_at_interval_boundaries(tmp_path: Path) -> None:
    """Rotation happens at the first write on or after each multiple of rotate_every seconds."""
    log = tmp_path / "app.log"
    clock = FakeClock(1005.0)

    async def main() -> None:
        async with running(FileSink(log, rotate_every=10, clock=clock)) as sink:
            await sink.write(rec(0))
            clock.now = 1009.5
            await sink.write(rec(1))
            clock.now = 1010.0
            await sink.write(rec(2))
            clock.now = 1015.0
            await sink.write(rec(3))
            clock.now = 1031.0
            await sink.write_batch([rec(4), rec(5)])

    run(main)
    assert [seqs(f"{log}.{n}") for n in (2, 1)] == [[0, 1], [2, 3]]
    assert seqs(log) == [4, 5]


@pytest.mark.parametrize(
    ("every", "period"), [("hourly", 3600), ("daily", 86400), ("midnight", 86400)]
)
def test_named_intervals_rotate_on_utc_boundaries(tmp_path: Path, every: str, period: int) -> None:
    """'hourly' rotates at the top of the UTC hour, 'daily' and 'midnight' at 00:00 UTC."""
    log = tmp_path / "app.log"
    boundary = 20_000 * 86400.0  # a UTC midnight, hence also the top of an hour
    clock = FakeClock(boundary - 1.0)

    async def main() -> None:
        async with running(FileSink(log, rotate_every=every, clock=clock)) as sink:
            await sink.write(rec(0))
            clock.now = boundary
            await sink.write(rec(1))
            clock.now = boundary + period - 1.0
            await sink.write(rec(2))

    run(main)
    assert seqs(f"{log}.1") == [0]
    assert seqs(log) == [1, 2]


def test_time_rotation_skips_an_empty_file(tmp_path: Path) -> None:
    """Crossing a boundary with nothing written creates no empty backup."""
    log = tmp_path / "app.log"
    clock = FakeClock(1000.0)

    async def main() -> None:
        async with running(FileSink(log, rotate_every=10, clock=clock)) as sink:
            clock.now = 1055.0
            await sink.write(rec(0))
            clock.now = 1061.0
            await sink.write(rec(1))

    run(main)
    assert seqs(f"{log}.1") == [0]
    assert seqs(log) == [1]
    assert not Path(f"{log}.2").exists()


def test_file_from_an_earlier_period_rotates_on_first_write(tmp_path: Path) -> None:
    """A non-empty file last written in an earlier period is rotated before the first new line."""
    log = tmp_path / "app.log"
    log.write_bytes(dumps(rec(0)) + b"\n")
    os.utime(log, (1000.0, 1000.0))
    clock = FakeClock(5000.0)

    async def main() -> None:
        async with running(FileSink(log, rotate_every="hourly", clock=clock)) as sink:
            await sink.write(rec(1))

    run(main)
    assert seqs(f"{log}.1") == [0]
    assert seqs(log) == [1]


def test_size_and_time_rotation_combine(tmp_path: Path) -> None:
    """With both limits set, either one rotates the file."""
    log = tmp_path / "app.log"
    clock = FakeClock(100.0)

    async def main() -> None:
        sink = FileSink(log, max_bytes=2 * line_len(), rotate_every=60, clock=clock)
        async with running(sink):
            await sink.write_batch([rec(0), rec(1), rec(2)])  # size: [0, 1] | [2]
            clock.now = 120.0
            await sink.write(rec(3))  # time: [2] | [3]

    run(main)
    assert [seqs(f"{log}.{n}") for n in (2, 1)] == [[0, 1], [2]]
    assert seqs(log) == [3]


# -- compression --------------------------------------------------------------------------------


def test_rotated_files_are_gzipped(tmp_path: Path) -> None:
    """compress=True leaves only numbered .gz backups that hold the rotated lines."""
    log = tmp_path / "app.log"

    async def main() -> None:
        sink = FileSink(log, max_bytes=2 * line_len(), backup_count=2, compress=True)
        async with running(sink):
            for i in range(9):
                await sink.write(rec(i))

    run(main)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.log", "app.log.1.gz", "app.log.2.gz"]
    assert seqs(f"{log}.2.gz") == [4, 5]
    assert seqs(f"{log}.1.gz") == [6, 7]
    assert seqs(log) == [8]
    with gzip.open(f"{log}.1.gz", "rb") as fh:
        assert fh.read() == dumps(rec(6)) + b"\n" + dumps(rec(7)) + b"\n"


def test_compression_runs_on_the_sinks_io_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Gzip of a rotated file runs on the sink's I/O thread, not on the event loop's thread."""
    threads: list[str] = []
    original = FileSink._compress

    def spy(self: FileSink, source: str) -> None:
        threads.append(threading.current_thread().name)
        original(self, source)

    monkeypatch.setattr(FileSink, "_compress", spy)
    loop_thread: list[str] = []

    async def main() -> None:
        loop_thread.append(threading.current_thread().name)
        async with running(FileSink(tmp_path / "app.log", max_bytes=10, compress=True)) as sink:
            await sink.write_batch([rec(0), rec(1)])

    run(main)
    assert len(threads) == 1
    assert threads[0].startswith("fapilog-io:")
    assert threads[0] != loop_thread[0]


# -- external rotation --------------------------------------------------------------------------


def test_removed_file_is_reopened_after_the_check_interval(tmp_path: Path) -> None:
    """A deleted file is recreated by the first write once the 1 s check interval has passed."""
    log = tmp_path / "app.log"
    clock = FakeClock(100.0)

    async def main() -> None:
        async with running(FileSink(log, clock=clock)) as sink:
            await sink.write(rec(0))
            log.unlink()
            clock.now = 100.5
            await sink.write(rec(1))  # within the interval: still the old (deleted) file
            assert not log.exists()
            clock.now = 101.0
            await sink.write(rec(2))
            await sink.write(rec(3))

    run(main)
    assert seqs(log) == [2, 3]


def test_renamed_file_is_reopened(tmp_path: Path) -> None:
    """After a logrotate-style rename, old lines stay in the moved file, new ones go to the path."""
    log = tmp_path / "app.log"
    moved = tmp_path / "app.log-20240101"
    clock = FakeClock(100.0)

    async def main() -> None:
        async with running(FileSink(log, clock=clock)) as sink:
            await sink.write(rec(0))
            log.rename(moved)
            clock.now = 102.0
            await sink.write(rec(1))

    run(main)
    assert seqs(moved) == [0]
    assert seqs(log) == [1]


def test_external_truncation_resets_the_size(tmp_path: Path) -> None:
    """After copytruncate empties the file, its size is re-read and no needless rotation happens."""
    log = tmp_path / "app.log"
    clock = FakeClock(100.0)

    async def main() -> None:
        async with running(FileSink(log, max_bytes=3 * line_len(), clock=clock)) as sink:
            await sink.write_batch([rec(0), rec(1), rec(2)])
            os.truncate(log, 0)
            clock.now = 101.0
            await sink.write(rec(3))

    run(main)
    assert not Path(f"{log}.1").exists()
    assert seqs(log) == [3]


# -- configuration and lifecycle ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "field", "accepted"),
    [
        ({"max_bytes": -1}, "max_bytes", "a whole number > 0"),
        ({"max_bytes": 0}, "max_bytes", "a whole number > 0, got 0"),
        ({"max_bytes": 1.5}, "max_bytes", "a whole number > 0"),
        ({"rotate_every": "weekly"}, "rotate_every", "'hourly', 'daily' or 'midnight'"),
        ({"rotate_every": 0}, "rotate_every", "seconds > 0"),
        ({"rotate_every": -60.0}, "rotate_every", "seconds > 0"),
        ({"rotate_every": float("nan")}, "rotate_every", "finite number"),
        ({"rotate_every": True}, "rotate_every", "got True"),
        ({"backup_count": -1}, "backup_count", ">= 0"),
        ({"backup_count": True}, "backup_count", ">= 0"),
    ],
)
def test_invalid_options_raise_config_error(
    tmp_path: Path, options: dict[str, Any], field: str, accepted: str
) -> None:
    """Invalid options raise ConfigError at construction, naming the field and what is accepted."""
    with pytest.raises(ConfigError, match=field) as info:
        FileSink(tmp_path / "app.log", **options)
    assert info.value.field == field
    assert accepted in str(info.value)


@pytest.mark.parametrize("path", ["", 42])
def test_invalid_path_raises_config_error(path: Any) -> None:
    """An empty or non-path value raises ConfigError for the path field."""
    with pytest.raises(ConfigError) as info:
        FileSink(path)
    assert info.value.field == "path"


def test_directory_path_raises_config_error(tmp_path: Path) -> None:
    """A path that is a directory raises ConfigError suggesting a file inside it."""
    with pytest.raises(ConfigError, match="is a directory") as info:
        FileSink(tmp_path)
    assert info.value.field == "path"
    assert "app.log" in str(info.value)


@pytest.mark.parametrize(
    ("every", "seconds"),
    [("hourly", 3600.0), (" Daily ", 86400.0), ("midnight", 86400.0), ("90", 90.0), (0.5, 0.5)],
)
def test_rotate_every_accepts_names_and_seconds(
    tmp_path: Path, every: str | float, seconds: float
) -> None:
    """rotate_every takes the named intervals (any case) and positive seconds, also as a string."""
    assert FileSink(tmp_path / "app.log", rotate_every=every).rotate_every == seconds


def test_write_before_start_and_after_stop_raise_fapilog_error(tmp_path: Path) -> None:
    """Writing before start() or after stop() raises FapilogError saying what to do."""
    sink = FileSink(tmp_path / "app.log")

    async def main() -> None:
        with pytest.raises(FapilogError, match="not started"):
            await sink.write(rec(0))
        async with running(sink):
            await sink.write(rec(1))
        with pytest.raises(FapilogError, match="stopped"):
            await sink.write(rec(2))
        with pytest.raises(FapilogError, match="stopped"):
            await sink.write_batch([rec(3)])

    run(main)
    assert seqs(tmp_path / "app.log") == [1]


def test_stop_is_idempotent_and_start_reopens(tmp_path: Path) -> None:
    """stop() before start, twice, or with flush() after it is harmless; start() again appends."""
    log = tmp_path / "app.log"
    sink = FileSink(log)

    async def main() -> None:
        await sink.stop()
        await sink.start()
        await sink.start()
        await sink.write(rec(0))
        await sink.stop()
        await sink.stop()
        await sink.flush()
        await sink.start()
        await sink.write(rec(1))
        await sink.stop()

    run(main)
    assert seqs(log) == [0, 1]


def test_fsync_option_syncs_on_flush_and_stop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With fsync=True, flush() and stop() call os.fsync; without it they never do."""
    synced: list[int] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)

    async def main(fsync: bool) -> None:
        async with running(FileSink(tmp_path / f"{fsync}.log", fsync=fsync)) as sink:
            await sink.write(rec(0))
            await sink.flush()

    asyncio.run(main(False))
    assert synced == []
    asyncio.run(main(True))
    assert len(synced) == 2
