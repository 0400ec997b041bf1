"""Sinks without ``write_batch``: a batch written one ``write()`` call per record, each failing alone.

Per-record sinks keep the simple contract: a record whose ``write()`` raises is counted as failed (by error
type) and the next one is tried; nothing is retried (retries, the circuit breaker and the fallback belong to
the batch form, :mod:`fapilog._engine.batch_send`). ``write_timeout`` bounds each call; a sink that hangs costs one
timeout per batch, not one per record.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fapilog._engine.hooks import cancelled_for_real
from fapilog._engine.notices import warn
from fapilog._engine.sink_thread import call_inline
from fapilog._kit.record import EventRecord

if TYPE_CHECKING:
    from fapilog._engine.delivery import SinkRunner

__all__ = ["RecordWriter"]


class RecordWriter:
    """Writes batches through ``write()`` for one runner and counts each record's outcome in its ledger."""

    def __init__(self, runner: SinkRunner) -> None:
        self.runner = runner
        self.job: _EachJob | None = None

    async def write(self, write: Callable[[EventRecord], Any], batch: list[EventRecord]) -> None:
        runner = self.runner
        runner.writing = 1
        job = self.job = _EachJob(write, batch, runner.write_timeout)
        try:
            if runner.thread is None:
                await job.run()
            else:
                await self._watch(job)
        finally:
            self.job = None
            runner.writing = 0
        self._settle(job, batch)

    async def _watch(self, job: _EachJob) -> None:
        """Run a per-record job on the sink's thread; give up on it when no record finishes within
        ``write_timeout`` (the sink blocks its own thread: a timeout there cannot fire)."""
        thread = self.runner.thread
        assert thread is not None
        task = asyncio.ensure_future(thread.call(job.run))
        seen = -1
        while not task.done():
            await asyncio.wait({task}, timeout=self.runner.write_timeout)
            if task.done() or job.progress != seen:
                seen = job.progress
                continue
            job.abort = True
            job.hung = True
            # The stuck write keeps its thread; the job stops there if it ever returns, and a record it still
            # delivers then is counted (late_delivered), having been counted failed already.
            task.add_done_callback(lambda ended: self._late(job, ended))
            return
        task.result()

    def _settle(self, job: _EachJob, batch: list[EventRecord]) -> None:
        """Count a per-record job's outcomes; records it never got to are failed (or were counted by a
        shutdown that gave up)."""
        runner = self.runner
        outcomes = list(job.outcomes)
        job.settled = len(outcomes)
        for error in outcomes:
            if error is None:
                runner.delivered_now(1)
            else:
                self.failed(error, 1)
        rest = len(batch) - len(outcomes)
        if rest > 0 and not runner.abandoned:
            self.failed(TimeoutError("write timed out"), rest)
        elif rest > 0 and job.hung:
            runner.ledger.fail(1, "timeout")  # the record stuck in the sink when the shutdown gave up on it
        runner.in_flight_at_abandon = 0

    def _late(self, job: _EachJob, ended: asyncio.Future[None]) -> None:
        """A job given up as hung has ended: count the records it delivered after it was settled."""
        if not ended.cancelled():
            ended.exception()  # retrieved: the job's own failure was counted when it was settled
        late = sum(1 for error in job.outcomes[job.settled:] if error is None)
        if late:
            runner = self.runner
            runner.ledger.deliver_late(late)
            warn(f"late-delivery:{runner.name}", f"sink {runner.name!r} delivered {late} event(s) after their "
                 f"write was given up (already counted as failed; stats: sinks.{runner.name}.late_delivered)",
                 code="FL-LOG-015")

    def failed(self, exc: BaseException, lost: int) -> None:
        runner = self.runner
        if isinstance(exc, TimeoutError):
            runner.stalled = True
            runner.ledger.fail(lost, "timeout")
            warn(f"sink-timeout:{runner.name}", f"sink {runner.name!r} did not finish a write within "
                 f"{runner.write_timeout}s; {lost} event(s) counted as failed", code="FL-LOG-002")
            return
        runner.ledger.fail(lost, type(exc).__name__)
        warn(f"sink-error:{runner.name}:{type(exc).__name__}",
             f"sink {runner.name!r} raised {type(exc).__name__}: {exc}; {lost} event(s) counted as failed",
             code="FL-LOG-002")

    def unfinished(self) -> int | None:
        """Records of the running job not yet attempted plus the one being written; None without a job."""
        job = self.job
        return None if job is None else max(0, len(job.batch) - job.progress)

    def abort(self) -> None:
        if self.job is not None:
            self.job.abort = True


class _EachJob:
    """A batch written one ``write()`` call at a time, where the sink runs; its progress is readable from the
    worker's loop while it runs (ints and a list, each written by the sink's side only)."""

    __slots__ = ("abort", "batch", "hung", "outcomes", "progress", "settled", "timeout", "write")

    def __init__(self, write: Callable[[EventRecord], Any], batch: list[EventRecord], timeout: float) -> None:
        self.write = write
        self.batch = batch
        self.timeout = timeout
        self.outcomes: list[BaseException | None] = []
        """One entry per record attempted: None when delivered, else what the write raised."""
        self.progress = 0
        self.abort = False
        self.hung = False
        self.settled = 0
        """Outcomes counted when the job was settled; any later one came after it was given up."""

    async def run(self) -> None:
        write = self.write
        for record in self.batch:
            if self.abort:
                return
            try:
                async with asyncio.timeout(self.timeout):
                    await call_inline(lambda record=record: write(record))  # type: ignore[misc]
            except asyncio.CancelledError:
                if cancelled_for_real():
                    raise
                self.outcomes.append(asyncio.CancelledError("the sink raised CancelledError"))
            except BaseException as exc:  # noqa: BLE001 - one bad record fails alone, counted
                self.outcomes.append(exc)
                if isinstance(exc, TimeoutError):
                    self.abort = True  # a hanging sink: the rest of the batch fails at once, not one timeout each
            else:
                self.outcomes.append(None)
            self.progress += 1
