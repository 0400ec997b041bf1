"""A pipeline shut down before its worker built it: delivered on the shutting-down thread, with no event loop.

A pipeline that a log call starts builds itself on its worker thread a moment later (``runtime.START_DELAY``),
so a short script — a command-line tool, a cron job, a function's cold start — often ends before it has. Its
exit drain (or a :func:`fapilog.shutdown`) then finds the events queued and no worker. When every plugin the
settings name can run without an event loop (built-in redactors; ``stdout``/``stderr`` sinks with no
processors, delivery options or fallback sink of their own), :func:`deliver` writes them here, on the
shutting-down thread: each event becomes the record the worker would build, goes through the redactors (whose
coroutines finish without waiting), is serialized once, and is written to the stream, within the shutdown's
deadline. Neither asyncio nor the sink runners nor the stage chain is imported.

Anything else — any other plugin, settings that do not build, a redactor that raises or would wait, a flush queued
meanwhile, a stream with a ``write`` of its own — returns None before anything was written: the queue is as it
was, and the worker is built after all, exactly as before. Starting a thread is not allowed from ``atexit`` on
Python 3.12, so the writes happen on this thread; a stream that cannot take more (a full pipe nobody reads) is
waited for with ``select`` only until the deadline, and what it did not take is counted as undelivered.
"""

from __future__ import annotations

import io
import os
import select
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TextIO, cast

from fapilog._engine.flush_marker import FlushMarker
from fapilog._engine.ledger import SinkLedger
from fapilog._engine.notices import warn

if TYPE_CHECKING:
    from fapilog._engine.queue import EventQueue
    from fapilog._engine.stats_schema import PluginStats, SinkStats
    from fapilog.settings import LoggingSettings

__all__ = ["Delivered", "NeedsEventLoop", "deliver", "deliver_queued", "plan", "resolve_now", "retire"]

_STREAM_KEYS = frozenset({"type", "name", "format", "colour"})
"""What a ``stdout``/``stderr`` sink spec may set and still be delivered here: anything else (processors, delivery
options, a fallback) needs the sink's runner."""
_STREAM_SINKS = frozenset({("fapilog.builtins.sinks.stream", name) for name in ("StdoutSink", "StderrSink")})
"""The sink classes delivered here, exactly (a subclass may write its own way): the built-in stream sinks."""
_CHUNK = 4096
"""Bytes per write: at most ``PIPE_BUF``, so a pipe that ``select`` reports writable takes a chunk without
blocking."""


class DirectSink(Protocol):
    """What this module uses of the built-in ``stdout``/``stderr`` sinks (``builtins/sinks/stream.py``)."""

    def choose_format(self) -> bool: ...
    def console_lines(self, records: Sequence[Mapping[str, Any]]) -> list[str]: ...
    def _stream(self) -> TextIO: ...
    def _write_bytes(self, data: bytes) -> None: ...
    def _write_text(self, text: str) -> None: ...


class NeedsEventLoop(Exception):
    """A plugin's coroutine tried to wait for something: no event loop runs on this thread."""


def resolve_now(value: Any) -> Any:
    """``value``, or the result of ``value`` when it is an awaitable that finishes without waiting.

    A coroutine that never awaits anything unfinished (every built-in redactor's ``redact`` and
    ``redact_batch``) finishes on its first step; one that would suspend is closed and refused.
    """
    if not hasattr(value, "__await__"):
        return value
    steps = value.__await__()
    try:
        steps.send(None)
    except StopIteration as done:
        return done.value
    steps.close()
    raise NeedsEventLoop


class Plan:
    """The plugins of a pipeline that can be delivered here: its redactors and stream sinks, created."""

    __slots__ = ("redactors", "sinks")

    def __init__(self, redactors: list[tuple[str, Any]], sinks: list[tuple[str, DirectSink]]) -> None:
        self.redactors = redactors
        self.sinks = sinks

    def instances(self) -> list[object]:
        """Every plugin created for this plan (to :func:`retire` once the delivery is done or given up)."""
        return [obj for _, obj in self.redactors] + [sink for _, sink in self.sinks]


def plan(settings: LoggingSettings) -> Plan | None:
    """The plugins ``settings`` name, created by the builder, when all of them can run here; else None.

    Sink specs are judged before anything is created, so a pipeline with another sink creates and imports
    nothing here. Any error creating a plugin also answers None: the worker's build reports it, as it always
    did. Instances created for a pipeline that is not delivered here are retired in the registry at once.
    """
    from fapilog._engine import builder

    fallback = settings.sink_defaults.fallback
    if not isinstance(fallback, str) or fallback not in ("summary", "off"):
        return None
    created: list[object] = []
    try:
        sink_specs = _sink_specs(settings)
        redactor_specs = _redactor_specs(settings) if sink_specs is not None else None
        if sink_specs is None or redactor_specs is None:
            return None
        redactors: list[tuple[str, Any]] = []
        taken: set[str] = set()
        for where, spec in redactor_specs:
            name, obj = builder.instantiate_stage("redactor", spec, settings, where)
            created.append(obj)
            redactors.append((builder.unique_name(name, taken), obj))  # the stage names the worker would give
        sinks: list[tuple[str, DirectSink]] = []
        for where, spec in sink_specs:
            name, sink = builder.instantiate_sink(spec, settings, where)
            created.append(sink)
            sinks.append((name, sink))  # type: ignore[arg-type]  # checked below, with the redactors
    except Exception:  # noqa: BLE001 - the worker's build raises or reports it, as it always did
        retire(created)
        return None
    names = [name for name, _ in sinks]
    if len(set(names)) < len(names) or not all(map(_builtin_redactor, created[: len(redactors)])) or not all(
        _stream_sink(sink) for _, sink in sinks
    ):  # another class under a built-in's name, or two sinks under one name: the worker's handling applies
        retire(created)
        return None
    return Plan(redactors, sinks)


def _sink_specs(settings: LoggingSettings) -> list[tuple[str, Any]] | None:
    """``(where, spec)`` of the sinks switched on, when all are plain ``stdout``/``stderr`` specs; else None."""
    from fapilog._engine.builder import check_switches

    specs = [(f"sinks[{i}]", spec) for i, spec in enumerate(settings.sinks)]
    specs = [(where, spec) for where, spec in specs if check_switches(spec, settings.plugins, where)]
    return specs if specs and all(_stream_spec(spec) for _, spec in specs) else None


def _redactor_specs(settings: LoggingSettings) -> list[tuple[str, Any]] | None:
    """``(where, spec)`` of the stages switched on, when all are redactors named by the settings; else None."""
    from fapilog._engine.builder import check_switches, stage_specs
    from fapilog.plugins.metadata import KINDS

    found: list[tuple[str, Any]] = []
    for kind in KINDS:
        if kind.kind == "sink":
            continue
        for where, spec in stage_specs(settings, kind.settings_field):
            if not check_switches(spec, settings.plugins, where):
                continue
            if kind.kind != "redactor" or not isinstance(spec, (str, Mapping)):  # an object passed in: the worker
                return None
            found.append((where, spec))
    return found


def retire(instances: Sequence[object]) -> None:
    """Record ``instances`` as stopped in the plugin registry (they were created here and never started)."""
    from fapilog._registry.registry import default_registry

    registry = default_registry()
    for instance in instances:
        try:
            resolve_now(registry.stop(instance))  # a never-started instance is only recorded, not called
        except Exception:  # noqa: BLE001 - bookkeeping only: the instance holds nothing to release
            pass


def _builtin_redactor(obj: object) -> bool:
    """A built-in redactor class that declares itself copy-on-write (its coroutines never wait)."""
    cls = type(obj)
    return cls.__module__.startswith("fapilog.builtins.redactors.") and vars(cls).get("_copy_on_write") is True


def _stream_sink(obj: object) -> bool:
    cls = type(obj)
    return (cls.__module__, cls.__qualname__) in _STREAM_SINKS


def _stream_spec(spec: Any) -> bool:
    if isinstance(spec, str):
        return spec in ("stdout", "stderr")
    return isinstance(spec, Mapping) and spec.get("type") in ("stdout", "stderr") and _STREAM_KEYS.issuperset(spec)


class Delivered:
    """What :func:`deliver` did: the counters ``stats()`` and the shutdown report show in place of a worker's."""

    __slots__ = ("degraded", "in_flight", "ledgers", "next_seq", "processed", "redactors", "undelivered")

    def __init__(self, redactors: list[tuple[str, Any]]) -> None:
        self.redactors = redactors
        """(name, plugin) of the redactors the events went through (late events go through them too)."""
        self.processed = 0
        self.next_seq = 0
        self.degraded = 0
        self.ledgers: dict[str, SinkLedger] = {}
        self.undelivered: dict[str, int] = {}
        """Records a sink did not take before the deadline, as ``sink:<name>``."""
        self.in_flight = 0
        """Records whose line was cut off by the deadline part-way through its write."""

    def snapshot(self, sinks: dict[str, SinkStats], plugins: dict[str, PluginStats], *, capacity: int) -> None:
        """This delivery's part of ``stats()``: each sink's counters, and every plugin it ran, never started."""
        from fapilog._engine.sink_stats import direct_snapshot

        for name, ledger in self.ledgers.items():
            sinks[name] = direct_snapshot(ledger, capacity)
            plugins[name] = {"kind": "sink", "errors": 0, "load_ms": None, "start_ms": None}
        for name, _ in self.redactors:
            plugins[name] = {"kind": "redactor", "errors": 0, "load_ms": None, "start_ms": None}


def deliver_queued(queue: EventQueue, settings: LoggingSettings, deadline: float) -> Delivered | None:
    """:func:`deliver` what ``queue`` holds (the shutdown closed it), then remove it; when that is not possible,
    the queue is left as it is, for the worker. Until then the events stay queued, so ``stats()`` read meanwhile
    (a metrics scrape) counts them as waiting: ``submitted`` never goes back."""
    with queue.lock:
        items = queue.items.copy()  # one C call: callers appending at the right cannot interleave with it
    # A flush that found the pipeline running before the shutdown closed it may have queued its marker since:
    # the worker answers it, after the events before it.
    if any(isinstance(item, FlushMarker) for item in items):
        return None
    done = deliver(settings, items, deadline)
    if done is not None:
        with queue.lock:  # only this thread takes from the left now; by identity all the same
            head = queue.items
            for item in items:
                if head and head[0] is item:
                    head.popleft()
    return done


def deliver(settings: LoggingSettings, items: Sequence[Any], deadline: float) -> Delivered | None:
    """Build, redact, serialize and write ``items`` (captured events, no flush marker) to every sink, or None —
    before anything was written — when this pipeline cannot be delivered without its worker."""
    found = plan(settings)
    if found is None:
        return None
    if any(_target(sink._stream()) is None for _, sink in found.sinks):  # a stream with a write of its own
        retire(found.instances())
        return None
    from fapilog._kit.record import IsoClock, build_records
    from fapilog._kit.serialize import Serializer

    built, next_seq = build_records(items, 0, IsoClock().format)
    records = _redacted(found.redactors, built)
    retire(found.instances())
    if records is None:
        return None
    serializer = Serializer()
    lines = [serializer.encode(record) for record in records]
    done = Delivered(found.redactors)
    done.processed, done.next_seq, done.degraded = len(items), next_seq, serializer.degraded
    for name, sink in found.sinks:
        ledger = done.ledgers[name] = SinkLedger()
        ledger.admit(len(lines))
        ledger.take(len(lines))
        _write(name, sink, lines if sink.choose_format() else sink.console_lines(records), ledger, deadline, done)
    return done


def _redacted(redactors: list[tuple[str, Any]], records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]] | None:
    """``records`` through every redactor's batch form, or None when one raises, would wait, or returns
    something else than one record per record (the worker then contains it, as it always does)."""
    out = list(records)
    for _, redactor in redactors:
        try:
            result = resolve_now(redactor.redact_batch(out))
        except Exception:  # noqa: BLE001 - NeedsEventLoop or a failing redactor
            return None
        if not isinstance(result, list) or len(result) != len(out):
            return None
        out = result
    return out


def _write(name: str, sink: DirectSink, lines: list[bytes] | list[str], ledger: SinkLedger, deadline: float,
           done: Delivered) -> None:
    """Write ``lines`` (JSON lines as bytes, or console lines as text) to the sink's stream within ``deadline``;
    each ends delivered, failed, undelivered (not written by the deadline) or in flight (cut off part-way)."""
    stream = sink._stream()
    console = lines if lines and isinstance(lines[0], str) else None
    try:
        if _target(stream) == "memory":  # it never blocks: the sink's own write
            if console is not None:
                sink._write_text("".join(f"{line}\n" for line in console))
            else:
                sink._write_bytes(b"".join(line + b"\n" for line in cast("list[bytes]", lines)))
            ledger.deliver(len(lines))
            return
        fd = stream.fileno()  # a closed file raises here: counted below
        stream.flush()  # keep order with what the text and buffer layers still hold
        if console is not None:  # the console format as the stream's text layer writes it
            lines = [_encoded(line, stream) for line in console]
        _write_fd(name, fd, cast("list[bytes]", lines), ledger, deadline, done)
    except Exception as exc:  # noqa: BLE001 - a closed or broken stream: counted and summarized, never raised
        reason = type(exc).__name__
        lost = ledger.in_flight
        ledger.fail(lost, reason)
        warn(f"undeliverable:{name}:{reason}",
             f"sink {name!r} could not deliver {lost} event(s) ({reason}); {lost} so far for this reason "
             f"(stats: sinks.{name}.failed)", code="FL-LOG-005")


def _target(stream: object) -> str | None:
    """How a stream is written here: ``fd`` (its descriptor, which is all its layers do with the bytes),
    ``memory`` (the sink's own write: an in-memory stream never blocks), or None (a stream with a write of its
    own, such as a tee or a wrapper that hands out another stream's descriptor: only its sink's runner calls
    that write, as it always did)."""
    if type(stream) is io.StringIO:
        return "memory"
    if not isinstance(stream, io.TextIOWrapper) or any(
        getattr(type(stream), method) is not getattr(io.TextIOWrapper, method) for method in ("write", "flush")
    ):
        return None
    buffer = stream.buffer
    if type(buffer) is io.BytesIO:
        return "memory"
    raw = buffer.raw if type(buffer) in (io.BufferedWriter, io.BufferedRandom) else buffer
    return "fd" if type(raw) is io.FileIO else None


def _encoded(line: str, stream: TextIO) -> bytes:
    """A console line in the stream's encoding and with its error handler, as its text layer writes it; what
    that cannot write is escaped (the sink's own fallback)."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        return line.encode(encoding, getattr(stream, "errors", None) or "strict")
    except (UnicodeEncodeError, LookupError):
        return line.encode(encoding, "backslashreplace")


def _write_fd(name: str, fd: int, lines: list[bytes], ledger: SinkLedger, deadline: float, done: Delivered) -> None:
    for chunk, sizes in _chunks(lines):
        sent = _write_within(fd, chunk, deadline)
        if sent == len(chunk):
            ledger.deliver(len(sizes))
            continue
        whole = end = 0
        for size in sizes:
            if end + size > sent:
                break
            end += size
            whole += 1
        ledger.deliver(whole)
        cut = 1 if sent > end else 0  # half a line reached the reader: its outcome is unknown, left in flight
        done.in_flight += cut
        left = ledger.in_flight - cut
        ledger.fail(left, "shutdown_timeout")
        done.undelivered[f"sink:{name}"] = left
        return


def _chunks(lines: list[bytes]) -> Iterator[tuple[bytes, list[int]]]:
    """Runs of whole lines (each with its newline) of up to ``_CHUNK`` bytes, with each line's size; a longer
    line is a run of its own."""
    part: list[bytes] = []
    sizes: list[int] = []
    total = 0
    for line in lines:
        size = len(line) + 1
        if part and total + size > _CHUNK:
            yield b"".join(part), sizes
            part, sizes, total = [], [], 0
        part.append(line + b"\n")
        sizes.append(size)
        total += size
    if part:
        yield b"".join(part), sizes


def _write_within(fd: int, data: bytes, deadline: float) -> int:
    """Write ``data`` to ``fd`` in pieces the descriptor reports it can take; returns the bytes written (all of
    them, unless the reader stopped reading). Only the waiting ends at ``deadline``: what the descriptor takes at
    once is still written after it (a tiny ``exit_timeout`` spent on building the records loses nothing a
    reader is ready for)."""
    view = memoryview(data)
    written = 0
    while written < len(view):
        remaining = deadline - time.monotonic()
        _, ready, _ = select.select((), (fd,), (), max(0.0, remaining))
        if not ready:
            break
        try:
            written += os.write(fd, view[written:written + _CHUNK])
        except BlockingIOError:  # a non-blocking descriptor that filled up meanwhile: wait again, until the deadline
            if remaining <= 0:
                break
    return written
