"""The stage chain the worker runs on every batch: filters → enrichers → redactors → processors.

Each stage is a plugin instance wrapped in a :class:`Stage` that knows its name and kind, uses the plugin's
batch form when it has one, and contains its failures: an exception is counted against the plugin and the
event goes on in the safest state for that kind (unfiltered, unenriched, *masked*, unprocessed).
"""

from __future__ import annotations

import asyncio
import inspect
import operator
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any, Literal

from fapilog._engine.hooks import cancelled_for_real
from fapilog._engine.notices import warn
from fapilog._engine.stage_call import Expiry, bounded
from fapilog._kit.record import EventRecord
from fapilog.plugins.metadata import KIND_BY_NAME

__all__ = ["CALL_RECORDS", "REDACTION_FAILED", "Pipeline", "Stage", "StageKind"]

StageKind = Literal["filter", "enricher", "redactor", "processor"]

REDACTION_FAILED = "[REDACTION_FAILED]"
_KEPT_ON_REDACTION_FAILURE = ("timestamp", "level", "logger", "seq")

Records = list[EventRecord]

CALL_RECORDS = 256
"""Most records one stage call gets (a batch form call, or the per-record form's loop), each call within
``stage_timeout``: however many events the worker takes per turn (``queue.batch_size``), the time a stage may
spend per record stays that of a 256-record batch."""


class Stage:
    """One plugin instance in the chain, with its error counter."""

    __slots__ = ("_batch", "_late", "_one", "degraded", "errors", "expanded", "kind", "name", "obj", "spec",
                 "timeout")

    def __init__(self, kind: StageKind, name: str, obj: object, spec: object = None,
                 timeout: float | None = None) -> None:
        self.kind = kind
        self.name = name
        self.spec = spec
        self.timeout = timeout
        """Seconds one call (a whole batch) may take (``stage_timeout``); None: no bound."""
        """What the plugin was configured from (a name or table lets it be reloaded with new settings)."""
        self.errors = 0
        self.degraded = 0
        """Records that went on in this stage's failure state because it raised (one exception of a batch form
        counts every record of the batch)."""
        self.expanded = 0
        """Extra records this stage produced by splitting events (processors' batch form only)."""
        self.replace(obj)

    def replace(self, obj: object) -> None:
        """Swap in another instance of the plugin (the caller makes sure no batch is in flight)."""
        self.obj = obj
        self._late: set[asyncio.Task[Any]] = set()
        """A call of this instance that caught its cancellation at ``stage_timeout`` and goes on (at most one:
        see :mod:`.stage_call`); a replaced instance's late call no longer holds the stage back."""
        kind, name = self.kind, self.name
        spec = KIND_BY_NAME[kind]
        method = spec.method
        one = getattr(obj, method, None)
        if one is None or not callable(one):
            raise TypeError(f"{kind} {name!r} has no {method}() method")
        self._one: Callable[[Any], Any] = one
        batch = getattr(obj, spec.batch_method, None)
        self._batch: Callable[[Any], Any] | None = batch if callable(batch) else None

    def _failed(self, exc: BaseException) -> None:
        self.errors += 1
        if isinstance(exc, TimeoutError) and not str(exc):  # the stage_timeout fired, the plugin raised nothing
            warn(f"plugin-timeout:{self.name}", f"{self.kind} {self.name!r} did not finish a batch within "
                 f"{self.timeout}s (stage_timeout); its events continued ({KIND_BY_NAME[self.kind].failure_effect})",
                 code="FL-LOG-001")
            return
        warn(
            f"plugin-error:{self.name}:{type(exc).__name__}",
            f"{self.kind} {self.name!r} raised {type(exc).__name__}: {exc}; "
            f"the event continued ({KIND_BY_NAME[self.kind].failure_effect})", code="FL-LOG-001",
        )

    async def _call(self, fn: Callable[[Any], Any], arg: Any) -> Any:
        result = fn(arg)
        if inspect.isawaitable(result):
            result = await result
        return result

    async def run(self, records: Records) -> tuple[Records, int]:
        """Apply the stage to a batch; returns the surviving records and how many this stage dropped.

        A batch larger than :data:`CALL_RECORDS` is handed over in parts of that size, each one call under its
        own ``stage_timeout``; once a part timed out the rest of the batch goes on in the failure state without
        calling the stage again (a hang costs one timeout per batch, as with a single call)."""
        if self._late:  # a call it would not stop still runs: not called again until that one ends
            self.errors += 1
            warn(f"plugin-late:{self.name}", f"{self.kind} {self.name!r} is still running a call it did not stop "
                 f"when cancelled at stage_timeout; it is not called until that call ends, its events continued "
                 f"({KIND_BY_NAME[self.kind].failure_effect})", code="FL-LOG-001")
            return self._on_batch_failure(records), 0
        if len(records) <= CALL_RECORDS:
            kept, dropped, _ = await self._run_part(records)
            return kept, dropped
        kept, dropped, timed_out = [], 0, False
        for start in range(0, len(records), CALL_RECORDS):
            part = records[start:start + CALL_RECORDS]
            if timed_out:
                kept += self._on_batch_failure(part)
                continue
            part_kept, part_dropped, timed_out = await self._run_part(part)
            kept += part_kept
            dropped += part_dropped
        return kept, dropped

    async def _run_part(self, records: Records) -> tuple[Records, int, bool]:
        """One call's worth of records: the survivors, how many were dropped, whether the call timed out."""
        if self._batch is not None:
            failure: BaseException | None = None
            try:
                in_time, out = await self._bounded(self._call(self._batch, records), Expiry())
                if in_time:  # else a result after the deadline, or none: not one to trust
                    return (*self._after_batch(records, out), False)
            except BaseException as exc:
                if _cancelled_for_real(exc):
                    raise
                failure = exc
            self._failed(failure if failure is not None else TimeoutError())
            return self._on_batch_failure(records), 0, failure is None
        return await self._run_each(records)

    async def _bounded(self, call: Coroutine[Any, Any, Any], expiry: Expiry) -> tuple[bool, Any]:
        """``call`` under ``stage_timeout`` (a hang costs a batch, not the pipeline; see :mod:`.stage_call`)."""
        if self.timeout is None:
            return True, await call
        return await bounded(call, self.timeout, expiry, self._late)

    async def _run_each(self, records: Records) -> tuple[Records, int, bool]:
        kept: Records = []
        counts = [0, 0]  # records done, records a filter dropped: kept up to date for a timeout mid-batch
        expiry = Expiry()
        in_time, _ = await self._bounded(self._each(records, kept, counts, expiry), expiry)  # one call, one timer
        if not in_time:  # the call in progress and the rest go on in the failure state
            self._failed(TimeoutError())
        kept += [self._on_failure(record) for record in records[counts[0]:]]
        return kept, counts[1], not in_time

    async def _each(self, records: Records, kept: Records, counts: list[int], expiry: Expiry) -> None:
        """The stage on each record in turn, appending to ``kept`` and counting in ``counts``; stops at the first
        call that returns (or raises) after the batch's time is up, leaving that record and the rest uncounted."""
        for record in records:
            try:
                out = await self._call(self._one, record)
                if expiry.expired:
                    return
                if self.kind == "filter":
                    if out is None:
                        counts[0] += 1
                        counts[1] += 1
                        continue
                    result = _as_record(out, record)
                elif self.kind == "enricher":
                    _merge(record, out)
                    result = record
                else:
                    result = _as_record(out, record)
            except BaseException as exc:
                if _cancelled_for_real(exc):
                    raise
                if expiry.expired:  # it turned the stage_timeout's cancellation into another exception
                    return
                self._failed(exc)
                result = self._on_failure(record)
            kept.append(result)
            counts[0] += 1

    def _after_batch(self, records: Records, out: Any) -> tuple[Records, int]:
        if self.kind == "enricher":
            for record, extra in zip(records, out, strict=True):
                _merge(record, extra)
            return records, 0
        if self.kind == "filter":
            kept = [_as_record(r, None) for r in out if r is not None]
            if len(kept) > len(records):
                raise ValueError(f"filter_batch returned {len(kept)} records for {len(records)}; filters only drop")
            return kept, len(records) - len(kept)
        if len(out) == len(records):
            # A record passed on untouched (the common case for redactors) needs no re-wrapping.
            if all(map(operator.is_, out, records)):
                return records, 0
            return [old if new is old else _as_record(new, old) for new, old in zip(out, records, strict=True)], 0
        return self._expanded(records, out), 0

    def _expanded(self, records: Records, out: Any) -> Records:
        """A processor split events into several records: each must carry the ``seq`` of the event it came from."""
        origins = {record.get("seq"): record for record in records}
        result: Records = []
        for new in out:
            origin = origins.get(new.get("seq")) if isinstance(new, Mapping) else None
            if origin is None:
                raise ValueError(f"{self.kind} returned {len(out)} records for {len(records)}; extra records must "
                                 "keep the seq of the event they were split from")
            result.append(_as_record(new, origin))
        if len(result) < len(records):
            raise ValueError(f"{self.kind} returned {len(result)} records for {len(records)}; only filters drop")
        self.expanded += len(result) - len(records)
        return result

    def _on_failure(self, record: EventRecord) -> EventRecord:
        self.degraded += 1
        if self.kind == "redactor":
            return _masked(record, self.name)
        return record

    def _on_batch_failure(self, records: Records) -> Records:
        return [self._on_failure(r) for r in records]


def _cancelled_for_real(exc: BaseException) -> bool:
    """Propagate only a cancellation of the worker's task; a plugin raising CancelledError (or SystemExit,
    KeyboardInterrupt) itself is contained like any other failure."""
    if not isinstance(exc, asyncio.CancelledError):
        return False
    return cancelled_for_real()


def _merge(record: EventRecord, extra: Mapping[str, Any] | None) -> None:
    if extra:
        for key, value in extra.items():
            record.setdefault(key, value)


def _as_record(value: Mapping[str, Any], origin: EventRecord | None) -> EventRecord:
    """``value`` as an EventRecord that keeps the capture attributes of the record it came from."""
    if not isinstance(value, Mapping):
        raise TypeError(f"expected a mapping (the record), got {type(value).__name__}")
    if type(value) is EventRecord:
        record = value
    elif origin is not None:
        record = origin.derive(value)  # the plugin's fields, the event's capture attributes
    else:
        record = EventRecord(value)
    for attribute, default in (("ts_ns", 0), ("levelno", 0), ("captured", None)):
        if not hasattr(record, attribute):  # what neither carried: the origin's, else the value's, else a default
            source = origin if origin is not None else value
            setattr(record, attribute, getattr(source, attribute, default))
    return record


def _masked(record: EventRecord, plugin: str) -> EventRecord:
    safe = record.derive({k: record[k] for k in _KEPT_ON_REDACTION_FAILURE if k in record}, captured=False)
    safe["message"] = REDACTION_FAILED
    safe["redaction_failed"] = plugin
    return safe


class Pipeline:
    """The ordered stages; ``run`` returns the records that reach the sinks and drops per filter."""

    def __init__(self, stages: Sequence[Stage]) -> None:
        # sorted() is stable: stages of one kind keep their configured order
        self.stages = sorted(stages, key=lambda s: KIND_BY_NAME[s.kind].order)
        self.filtered: dict[str, int] = {}

    @property
    def copy_on_write(self) -> bool:
        """Whether every stage is copy-on-write: it never changes a record in place, returns a record it leaves
        alone as the very same object and one it changes as a new object without ``json``. The worker then
        serializes records before the chain and keeps the bytes of those passed on untouched, which lets a
        redactor judge a flat record by its JSON line. Only a class that declares it in its own body
        (``_copy_on_write = True``: the built-in redactors) counts, never one that inherits it: a subclass may
        change records in place, and stale bytes would carry the old content to every sink.
        Read per batch: stages are added, removed and reloaded between batches."""
        return all(vars(type(stage.obj)).get("_copy_on_write") is True for stage in self.stages)

    def add(self, stage: Stage) -> None:
        """Append a stage after the others of its kind (between batches)."""
        self.stages = Pipeline([*self.stages, stage]).stages

    async def run(self, records: Records) -> Records:
        for stage in self.stages:
            if not records:
                break
            records, dropped = await stage.run(records)
            if dropped:
                self.filtered[stage.name] = self.filtered.get(stage.name, 0) + dropped
        return records
