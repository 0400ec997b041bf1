"""The built-in ``file`` sink: one JSON line per record, appended to a file rotated by size or time.

Design choices and why:

* Every blocking call (open, write, rename, gzip, fsync, close) runs on the sink's own
  :class:`~fapilog._kit.offload.BlockingWorker` thread: never on the event loop, and never in the
  default executor, which refuses work during interpreter shutdown when the exit drain still writes.
* All file state (descriptor, size, next time boundary) is touched only by that thread, and its jobs
  run one at a time in submission order, so there is no lock and lines keep the order of the calls.
* A batch becomes one ``bytes`` object and, unless a size rotation splits it, one ``write`` call.
  The descriptor is unbuffered and opened with ``O_APPEND``: once a write returns, its lines belong
  to the OS, so a crash of the process cannot lose them (``fsync=True`` also forces them to disk).
* Rotation renames ``app.log`` to ``app.log.1`` after shifting older backups up one number and
  dropping the one past ``backup_count``; ``compress=True`` turns the backup into ``app.log.1.gz``.
  ``backup_count=0`` keeps no backups: the file is truncated in place.
* When another tool (logrotate) moves or deletes the file, the next write notices -- the path is
  ``stat``-ed at most once per second -- and the sink reopens the path.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import math
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any

from fapilog._version import __version__
from fapilog.errors import FapilogError
from fapilog.plugins import BlockingWorker, dumps, json_lines
from fapilog.plugins.constraints import NonNegative, Positive, setting_error, settings_from
from fapilog.plugins.metadata import PluginMetadata

__all__ = ["FileSink", "FileSinkSettings"]

_NAMED_INTERVALS = {"hourly": 3600.0, "daily": 86400.0, "midnight": 86400.0}
_ROTATE_EVERY_ACCEPTED = "a number of seconds > 0, 'hourly', 'daily' or 'midnight' (UTC), or None"
_REOPEN_CHECK_SECONDS = 1.0
_OPEN_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0)  # non-inheritable
_GZIP_LEVEL = 6  # zlib's default: most of level 9's ratio at a fraction of the time
_COPY_CHUNK = 1 << 20
_IDLE, _RUNNING, _STOPPED = "idle", "running", "stopped"


def _check_path(path: object) -> None:
    """Refuse a ``path`` that cannot name the file to append to."""
    try:
        raw = os.fspath(path)  # type: ignore[call-overload]  # anything may arrive from a settings table
    except TypeError:
        raw = None
    if not isinstance(raw, str) or not raw:
        raise setting_error("path", f"must be a non-empty str or os.PathLike naming a file, got {path!r}")
    full = os.path.abspath(raw)
    if os.path.isdir(full):
        raise setting_error("path", f"{full!r} is a directory; name a file inside it, e.g. "
                                    f"{os.path.join(full, 'app.log')!r}")


def _rotation_seconds(value: str | float | None) -> float | None:
    """``rotate_every`` in seconds (named intervals and numeric text converted); NaN when it is not one."""
    if value is None:
        return None
    seconds = math.nan
    if isinstance(value, str):
        key = value.strip().lower()
        seconds = _NAMED_INTERVALS.get(key, math.nan)
        if math.isnan(seconds):
            with contextlib.suppress(ValueError):
                seconds = float(key)  # "3600" from an environment variable
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    return seconds if math.isfinite(seconds) and seconds > 0 else math.nan


def _boundary_after(moment: float, interval: float) -> float:
    """The first multiple of ``interval`` seconds since the Unix epoch strictly after ``moment``."""
    boundary = (math.floor(moment / interval) + 1) * interval
    return boundary if boundary > moment else boundary + interval


@dataclasses.dataclass(frozen=True)
class FileSinkSettings:
    """Settings of the ``file`` sink (values are checked when the sink is created).

    ``path``: the file to append JSON lines to; relative paths resolve against the working directory.
    ``max_bytes``: rotate before a write that would grow the file past this size (``None``: no size limit).
    ``rotate_every``: rotate at UTC time boundaries: ``"hourly"``, ``"daily"``/``"midnight"`` or seconds.
    ``backup_count``: rotated files to keep (``app.log.1`` is the newest); older ones are deleted.
    ``compress``: gzip rotated files (``app.log.1.gz``).
    ``mkdir``: create the file's directory if it is missing.
    ``fsync``: ``fsync`` after every batch, for durability over throughput.
    ``name``: the name this sink runs under in ``stats()`` and diagnostics.
    """

    path: str | os.PathLike[str]
    max_bytes: Annotated[int, Positive] | None = None
    rotate_every: str | float | None = None
    backup_count: Annotated[int, NonNegative] = 5
    compress: bool = False
    mkdir: bool = True
    fsync: bool = False
    name: str = "file"

    def __post_init__(self) -> None:
        _check_path(self.path)
        if self.rotate_every is not None and math.isnan(_rotation_seconds(self.rotate_every) or math.nan):
            raise setting_error("rotate_every", "must be a number of seconds > 0, 'hourly', 'daily' or 'midnight' "
                                                f"(UTC), or None; got {self.rotate_every!r}")


class FileSink:
    """Appends each record's JSON line to ``path`` and rotates the file by size and/or time.

    ``max_bytes`` rotates before a write that would make the file larger than that (a single line
    longer than ``max_bytes`` is written alone into a fresh file). ``rotate_every`` rotates at the
    first write past a UTC time boundary: intervals are counted from the Unix epoch, so ``"hourly"``
    (3600) rotates at the top of each hour and ``"daily"``/``"midnight"`` (86400) at 00:00 UTC.
    An empty file is never rotated. ``clock`` is the wall clock (seconds since the epoch) used for
    time rotation and for throttling the reopen check; tests inject a fake one.

    >>> sink = FileSink("/var/log/app.log", max_bytes=50_000_000, backup_count=10, compress=True)
    >>> await sink.start()
    """

    runs_on_worker_loop = True
    """Its coroutines never block (blocking I/O goes to its own I/O thread), so it needs no sink thread."""
    metadata = PluginMetadata(
        name="file",
        version=__version__,
        kind="sink",
        description="JSON lines to a file, rotated by size and/or time, with optional gzip of rotated files.",
        homepage="https://github.com/fapilog/fapilog/blob/main/docs/sinks/file.md",
        config_model=FileSinkSettings,
    )

    def __init__(
        self,
        settings: FileSinkSettings | str | os.PathLike[str] | None = None,
        /,
        *,
        clock: Callable[[], float] = time.time,
        **values: Any,
    ) -> None:
        """``settings`` (the registry passes the validated model), or the path, with the other fields as
        keywords: ``FileSink("app.log", max_bytes=50_000_000)``.

        ``clock`` (not a setting; for tests) is the wall clock in seconds since the epoch.
        """
        if settings is not None and not isinstance(settings, FileSinkSettings):
            values = {"path": settings, **values}
            settings = None
        self.settings = settings = settings_from(FileSinkSettings, settings, root="file", **values)
        self.name = settings.name
        self.path = os.path.abspath(os.fspath(settings.path))
        self.max_bytes = settings.max_bytes
        self.rotate_every = _rotation_seconds(settings.rotate_every)
        """The rotation interval in seconds (named intervals already converted), or ``None``."""
        self.backup_count = settings.backup_count
        self.compress = settings.compress
        self.mkdir = settings.mkdir
        self.fsync = settings.fsync
        # (plain attributes, copied once from the validated settings: the write path reads them per batch)
        self.compress_failures = 0
        """Rotated files left uncompressed because gzip failed (disk full, permissions)."""
        self._clock = clock
        self._worker = BlockingWorker(f"{self.name}:{self.path}")
        self._state = _IDLE
        # Everything below belongs to the I/O thread once start() has run.
        self._fd = -1
        self._identity = (0, 0)
        self._size = 0
        self._next_rollover = math.inf
        self._last_reopen_check = 0.0

    async def start(self) -> None:
        """Open the file for appending (creating parent directories when ``mkdir``) on a fresh I/O
        thread. Calling it while running does nothing; after ``stop()`` it reopens the file."""
        if self._state == _RUNNING:
            return
        self._worker = BlockingWorker(f"{self.name}:{self.path}")
        self._worker.start()
        try:
            await self._worker.run(self._open_blocking)
        except OSError as exc:
            self._worker.stop()
            raise FapilogError(
                f"file sink {self.name!r}: cannot open {self.path!r} ({exc.strerror or exc}); "
                "check that its directory exists (or pass mkdir=True) and is writable", code="FL-SNK-001"
            ) from exc
        self._state = _RUNNING

    async def stop(self) -> None:
        """Finish the writes already queued, sync when ``fsync``, close the file and end the I/O
        thread. Idempotent, and a no-op before ``start()``; later writes raise ``FapilogError``."""
        if self._state != _RUNNING:
            return
        self._state = _STOPPED
        try:
            await self._worker.run(self._close_blocking)
        finally:
            self._worker.stop()

    async def write(self, record: Mapping[str, Any]) -> None:
        """Append one record's JSON line, rotating first when its size or time limit says so."""
        self._ensure_running()
        await self._worker.run(self._write_blocking, dumps(record) + b"\n", None)

    async def write_batch(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Append a batch of records' JSON lines (see :meth:`write_lines`)."""
        await self.write_lines(json_lines(records))

    async def write_lines(self, lines: Sequence[bytes]) -> None:
        """Append a batch of JSON lines (no newline at their end) as one bytes object in one write; a size
        rotation inside the batch splits it at line boundaries so that no file grows past ``max_bytes``.

        The pipeline calls this one: the sink's buffer then holds lines, not records."""
        self._ensure_running()
        if not lines:
            return
        parts = list(lines)
        parts.append(b"")  # the join then ends with the last line's newline
        await self._worker.run(self._write_blocking, b"\n".join(parts), parts)

    async def flush(self) -> None:
        """Return once every earlier write has reached the OS (writes are unbuffered) and, with
        ``fsync=True``, the disk. A no-op when the sink is not running."""
        if self._state != _RUNNING:
            return
        await self._worker.run(self._flush_blocking)

    def _ensure_running(self) -> None:
        if self._state == _RUNNING:
            return
        if self._state == _STOPPED:
            raise FapilogError(
                f"file sink {self.name!r} ({self.path}) is stopped and rejects writes; "
                "await start() again to reopen the file", code="FL-SNK-002"
            )
        raise FapilogError(
            f"file sink {self.name!r} ({self.path}) is not started; await start() before writing", code="FL-SNK-002"
        )

    def _open_blocking(self) -> None:
        stat = self._open_file()
        now = self._clock()
        self._last_reopen_check = now
        if self.rotate_every is not None:
            # A file kept from an earlier run belongs to the period of its last write.
            since = min(now, stat.st_mtime) if self._size > 0 else now
            self._next_rollover = _boundary_after(since, self.rotate_every)

    def _open_file(self) -> os.stat_result:
        if self.mkdir:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
        fd = os.open(self.path, _OPEN_FLAGS, 0o666)
        stat = os.fstat(fd)
        self._fd, self._identity, self._size = fd, (stat.st_dev, stat.st_ino), stat.st_size
        return stat

    def _close_blocking(self) -> None:
        if self._fd < 0:
            return
        fd, self._fd = self._fd, -1
        try:
            if self.fsync:
                os.fsync(fd)
        finally:
            os.close(fd)

    def _flush_blocking(self) -> None:
        if self.fsync and self._fd >= 0:
            os.fsync(self._fd)

    def _write_blocking(self, data: bytes, lines: list[bytes] | None) -> None:
        now = self._clock()
        if self._fd < 0:  # an earlier reopen failed (directory gone?): try again for this write
            self._open_file()
        elif not 0.0 <= now - self._last_reopen_check < _REOPEN_CHECK_SECONDS:
            self._last_reopen_check = now  # at most once a second, or when the clock stepped back
            self._reopen_if_moved()
        if self.rotate_every is not None and now >= self._next_rollover:
            if self._size > 0:
                self._rotate()
            self._next_rollover = _boundary_after(now, self.rotate_every)

        view = memoryview(data)
        limit = self.max_bytes
        if limit is None or self._size + len(data) <= limit:
            self._write_all(view)
            return
        lengths = [len(data)] if lines is None else [len(line) + 1 for line in lines[:-1]]
        start = end = 0
        for length in lengths:
            pending = self._size + (end - start)
            if pending > 0 and pending + length > limit:
                self._write_all(view[start:end])
                self._rotate()
                start = end
            end += length
        self._write_all(view[start:end])

    def _write_all(self, view: memoryview) -> None:
        while view:
            written = os.write(self._fd, view)
            self._size += written
            view = view[written:]

    def _reopen_if_moved(self) -> None:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            pass  # removed or renamed away: reopen below
        except OSError:
            return  # cannot tell (permissions, transient error): keep the current descriptor
        else:
            if (stat.st_dev, stat.st_ino) == self._identity:
                self._size = stat.st_size  # copytruncate or another writer may have changed it
                return
        fd, self._fd = self._fd, -1
        with contextlib.suppress(OSError):
            os.close(fd)
        self._open_file()

    def _rotate(self) -> None:
        if self.fsync:
            os.fsync(self._fd)
        if self.backup_count == 0:
            os.ftruncate(self._fd, 0)
            self._size = 0
            return
        fd, self._fd = self._fd, -1
        os.close(fd)  # before renaming, so rotation also works where open files cannot be renamed
        first = f"{self.path}.1"
        moved = False
        try:
            self._shift_backups()
            with contextlib.suppress(FileNotFoundError):  # removed externally since the last check
                os.replace(self.path, first)
                moved = True
        finally:
            self._open_file()
        if moved and self.compress:
            self._compress(first)

    def _shift_backups(self) -> None:
        # Both suffixes, so backups stay counted right when ``compress`` changed between runs.
        for suffix in ("", ".gz"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(f"{self.path}.{self.backup_count}{suffix}")
        for index in range(self.backup_count - 1, 0, -1):
            for suffix in ("", ".gz"):
                with contextlib.suppress(FileNotFoundError):
                    os.replace(f"{self.path}.{index}{suffix}", f"{self.path}.{index + 1}{suffix}")

    def _compress(self, source: str) -> None:
        target = f"{source}.gz"
        partial = f"{target}.part"  # never seen under the final name half-written
        try:
            with (
                open(source, "rb") as plain,
                open(partial, "wb") as raw,
                gzip.GzipFile(
                    filename=os.path.basename(source),
                    mode="wb",
                    fileobj=raw,
                    compresslevel=_GZIP_LEVEL,
                ) as packed,
            ):
                shutil.copyfileobj(plain, packed, _COPY_CHUNK)
            os.replace(partial, target)
            os.remove(source)
        except OSError:
            self.compress_failures += 1  # the plain backup stays: the lines are kept, uncompressed
            with contextlib.suppress(OSError):
                os.remove(partial)
