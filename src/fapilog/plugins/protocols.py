"""The async contracts of the five pipeline stage kinds.

A plugin needs no base class: any object with the right ``async`` methods works. ``start``/``stop`` are part
of every contract; the core calls them when present and treats a missing one as a no-op, so the smallest
useful plugin is a class with a single method.

Every stage may also offer a *batch form* (``filter_batch``, ``enrich_batch``, ``redact_batch``,
``process_batch``, ``write_batch``) taking and returning a list; the worker uses it when present, which saves
one coroutine round-trip per event. A sink that only needs each record's JSON line may offer ``write_lines``
(:class:`LineSink`) instead: it gets the lines, and the core keeps only the lines for it, not the records.

Records are mappings from field name to value; the concrete object is a ``dict`` subclass
(:class:`fapilog._kit.record.EventRecord`) that also carries ``levelno`` (the numeric level) and ``ts_ns``
(the capture time in nanoseconds) as attributes, so stages need not parse them back from text. The core's
own keys are ``timestamp`` (ISO 8601, UTC), ``level``, ``logger``, ``message`` and ``seq``; bound context and
call fields sit beside them, and ``exception`` holds structured exception data when one was logged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

__all__ = ["BatchSink", "Enricher", "Filter", "LineSink", "Processor", "Record", "Redactor", "Sink"]

Record = Mapping[str, Any]
"""What every stage sees: field name to JSON-friendly value."""


@runtime_checkable
class Filter(Protocol):
    """Runs first; returns the record to keep it or ``None`` to drop it (counted as an intentional drop)."""

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def filter(self, record: Record) -> Record | None: ...


@runtime_checkable
class Enricher(Protocol):
    """Returns fields to merge into the record (existing keys are kept; enrichers add, they do not overwrite)."""

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def enrich(self, record: Record) -> Mapping[str, Any]: ...


@runtime_checkable
class Redactor(Protocol):
    """Returns the record with sensitive values masked. Runs after enrichers; cannot be bypassed per call."""

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def redact(self, record: Record) -> Record: ...


@runtime_checkable
class Processor(Protocol):
    """Returns a transformed record (size guards, renames, vendor shapes). Runs after redactors."""

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def process(self, record: Record) -> Record: ...


@runtime_checkable
class Sink(Protocol):
    """Delivers records. ``write_batch(records)``, ``write_lines(lines)`` and ``flush()`` are optional and used
    when present.

    The record a sink receives carries its serialized JSON: ``fapilog._kit.serialize.dumps(record)`` returns
    the bytes the core already produced (once per event, shared by every sink), never serializing twice.
    Raising from ``write`` marks the records as failed for this sink; the error is counted and reported.
    """

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def write(self, record: Record) -> None: ...


class BatchSink(Sink, Protocol):
    """A sink that takes a whole batch per call (preferred by the core when present)."""

    async def write_batch(self, records: Sequence[Record]) -> None: ...


class LineSink(Sink, Protocol):
    """A sink that only needs each record's JSON line (a file, a stream, a socket taking JSON lines).

    ``write_lines(lines)`` gets a batch of ``bytes``, one serialized record each, without a trailing newline, in
    the order the events were logged; it has the outcome semantics of ``write_batch`` (return ``None`` or a
    :class:`~fapilog.plugins.outcomes.BatchResult` whose indices are positions in ``lines``, or raise one of the
    :mod:`fapilog.plugins.outcomes` errors; retries resend the same lines). The core prefers it over
    ``write_batch`` when a sink has both, and buffers only the lines for this sink, so the records themselves
    are freed as soon as every sink has its form of them. It is looked up once the sink has started (and at a
    reload), so a sink that knows only then whether it wants lines may make it a property returning ``None``.
    A per-sink processor still works: its output is serialized and then handed over as lines.
    """

    async def write_lines(self, lines: Sequence[bytes]) -> None: ...
