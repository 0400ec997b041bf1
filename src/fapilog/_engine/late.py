"""Events logged after the exit drain: built and redacted on the caller's thread, written to stderr.

After the drain no pipeline delivers any more (from ``atexit`` functions that run after fapilog's, or threads
still running). Each such event becomes the record the worker would have built (timestamp, level, logger,
message, ``seq``, context, bound and call fields, structured exception) plus ``"late": true``, goes through the
redactors of the pipeline the drain stopped, and is written to stderr as one JSON line. During finalization no
new thread or event loop can be relied on, and the redactors are plain objects that need neither. A redactor
that fails, or would have to wait for an event loop, turns the event into the pipeline's masked stub: a secret
never bypasses redaction.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fapilog._engine.emit import capture_event

if TYPE_CHECKING:
    from fapilog._engine.runtime import Runtime
    from fapilog._kit.record import EventRecord, IsoClock
    from fapilog._kit.serialize import Serializer

__all__ = ["after_fork_in_child", "emit", "emit_captured"]

_lock = threading.RLock()
"""Serializes late events: the record builder's clock and the redactor objects expect one caller at a time."""
_LOCK_TIMEOUT = 1.0
"""Seconds a late event waits for another thread's; one frozen at finalization while holding it never lets go."""
_chain: list[tuple[str, Any]] | None = None
_chain_error: str | None = None
"""Where building the redactors for late events failed: every late event is then written as a masked stub."""
_depth = 0
_seq = 0
_clock: IsoClock | None = None
_serializer: Serializer | None = None


def emit(
    level: int,
    name: str,
    message: Any,
    fields: dict[str, Any],
    bound: Mapping[str, Any] | None = None,
    exc: BaseException | None = None,
    *_: Any,
) -> None:
    """After the exit drain no pipeline delivers any more: write the event to stderr as one JSON line.

    The record is the one the worker would build (timestamp, level, logger, message, ``seq``, context, bound
    and call fields, structured exception) plus ``"late": true``, and it goes through the drained pipeline's
    redactors, here on the caller's thread: during finalization no new thread or event loop can be relied
    on, and the redactors are plain objects that need neither. A redactor that fails, or would have to wait
    for an event loop, turns the event into the pipeline's masked stub: a secret never bypasses redaction.
    """
    emit_captured(capture_event(level, name, message, fields, bound, exc))


def emit_captured(item: tuple[Any, ...]) -> None:
    """:func:`emit` for an event captured before the exit drain ended (handed over to no pipeline)."""
    line = _line(item)
    try:
        sys.stderr.write(line)
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass  # stderr is gone too: the interpreter is tearing down and no channel is left


def _line(item: tuple[Any, ...]) -> str:
    """The JSON line for one late event (with its newline), redacted or masked."""
    global _depth
    if not _lock.acquire(timeout=_LOCK_TIMEOUT):
        # Held by a thread that finalization stopped: the redactors cannot be used safely, so mask.
        record = _records(item, _new_clock())[0]
        del record["seq"]  # the shared numbering is behind the lock
        return _json(_stub(record, "<late events blocked>"))
    try:
        record = _records(item, None)[0]
        if _depth:  # a redactor logged while redacting a late event: redacting that one could loop
            return _json(_stub(record, "<reentrant>"))
        _depth += 1
        try:
            return _json(_redacted(record))
        finally:
            _depth -= 1
    finally:
        _lock.release()


def _new_clock() -> IsoClock:
    from fapilog._kit.record import IsoClock

    return IsoClock()


def _records(item: tuple[Any, ...], clock: IsoClock | None) -> list[EventRecord]:
    """The worker's record for ``item`` (numbered after the drained pipeline's last one when ``clock`` is None)."""
    global _clock, _seq
    from fapilog._kit.record import build_records

    if clock is not None:  # without the lock: leave the shared numbering alone
        return build_records([item], 0, clock.format)[0]
    if _clock is None:
        _clock = _new_clock()
        source = _pipeline()
        worker = source.worker if source is not None else None
        direct = source.direct if source is not None else None
        _seq = worker.next_seq if worker is not None else direct.next_seq if direct is not None else 0
    records, _seq = build_records([item], _seq, _clock.format)
    return records


def _redacted(record: EventRecord) -> Mapping[str, Any]:
    """``record`` through every redactor of the late-event chain, or the masked stub naming the one that failed."""
    record["late"] = True
    chain = _redactors()
    if chain is None:
        return _stub(record, _chain_error or "<redactors>")
    from fapilog._engine.direct import resolve_now

    current: Mapping[str, Any] = record
    for name, plugin in chain:
        try:
            out = resolve_now(plugin.redact(current))
        except Exception:  # noqa: BLE001 - contained like in the pipeline: the event is masked, never leaked
            return _stub(record, name)
        if not isinstance(out, Mapping):
            return _stub(record, name)
        current = out
    return current


def _pipeline() -> Runtime | None:
    """The pipeline late events follow: the one the exit drain stopped, else the last one stopped."""
    from fapilog._engine import exit_drain, state  # imported by now: state routes log calls here

    return exit_drain._late_source or state._last_stopped or state._runtime


def _redactors() -> list[tuple[str, Any]] | None:
    """(name, plugin) of the redactors late events go through; None when they could not be built.

    Those of the pipeline the exit drain stopped (or the last one :func:`shutdown` stopped), so a late event
    is redacted exactly like the events before it. When no pipeline ever ran, the pipeline the settings
    describe is built now, on this thread, by the same builder, and only its redactors are kept (the other
    plugins are never started; built-in redactors need no ``start()``).
    """
    global _chain, _chain_error
    if _chain is not None or _chain_error is not None:
        return _chain
    source = _pipeline()
    worker = source.worker if source is not None else None
    if worker is not None:
        stages = worker.pipeline.stages
    elif source is not None and source.direct is not None:  # the shutdown delivered it without a worker
        _chain = list(source.direct.redactors)
        return _chain
    else:
        from fapilog._engine.builder import build_pipeline

        try:
            from fapilog._engine import state

            stages = build_pipeline(state.current_settings()).pipeline.stages
        except Exception as exc:  # noqa: BLE001 - a pipeline that cannot be built masks every late event
            _chain_error = getattr(exc, "plugin", None) or "<redactors>"
            return None
    _chain = [(stage.name, stage.obj) for stage in stages if stage.kind == "redactor"]
    return _chain


def _stub(record: Mapping[str, Any], plugin: str) -> dict[str, Any]:
    """The pipeline's masked form of an event its redactor could not handle, marked late."""
    from fapilog._engine.pipeline import REDACTION_FAILED

    stub = {key: record[key] for key in ("timestamp", "level", "logger", "seq") if key in record}
    stub.update(message=REDACTION_FAILED, redaction_failed=plugin, late=True)
    return stub


def _json(record: Mapping[str, Any]) -> str:
    global _serializer
    if _serializer is None:
        from fapilog._kit.serialize import Serializer

        _serializer = Serializer()
    return _serializer.encode(record).decode("utf-8", "backslashreplace") + "\n"


def after_fork_in_child() -> None:
    """A parent's thread may have held the lock at the fork: the child starts with a fresh one."""
    global _lock
    _lock = threading.RLock()
