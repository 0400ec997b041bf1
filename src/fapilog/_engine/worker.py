"""The worker: one daemon thread with its own asyncio loop that turns captured events into delivered records.

It sleeps on a future while the queue is empty (no polling: an idle logger costs no CPU). A producer that
finds the ``sleeping`` flag set wakes it with one ``call_soon_threadsafe``; while the worker is busy no
producer pays for a wake-up. Woken to find a burst under way (two or more events queued), it *lingers*
(``queue.linger`` seconds) before taking it: the burst's log calls then run without the worker taking the
GIL between them, and the worker takes full batches. A lone event is taken at once; a flush, a stop and a
full queue end a linger early. Each turn takes up to ``batch_size`` events, builds records (timestamp, level,
context, fields, exception), runs the stage chain, serializes each record once, and hands the batch to every
sink's own buffer. Flush markers travel the same road, so a flush means exactly "everything before me".
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from itertools import islice
from typing import Any, TypeVar

from fapilog._engine.builder import BuiltPipeline
from fapilog._engine.delivery import SinkRunner
from fapilog._engine.hooks import start_plugin, stop_plugin
from fapilog._engine.line_first import LineEncoder, LineVerdict, line_verdicts, with_records
from fapilog._engine.notices import warn
from fapilog._engine.queue import EventQueue, FlushMarker
from fapilog._engine.reentry import divert_reentrant, from_pipeline, mark_pipeline
from fapilog._engine.stage_call import end_tasks
from fapilog._kit.context import get_context
from fapilog._kit.record import EventRecord, IsoClock, build_records
from fapilog._kit.serialize import Serializer
from fapilog.errors import PluginError
from fapilog.plugins.metadata import metadata_of

__all__ = ["PipelineWorker"]

T = TypeVar("T")
_BURST = 2
"""Events queued when the worker wakes that make it linger: fewer is a lone event, taken at once."""
_CATCH_UP_TURNS = 3
"""Extra loop turns the worker gives after a batch while a sink holds more than one batch of records."""


class PipelineWorker:
    """Consumes an :class:`EventQueue` on the thread that calls :meth:`run`, with its own event loop."""

    def __init__(self, queue: EventQueue, built: BuiltPipeline, *, batch_size: int, linger: float = 0.0) -> None:
        self.queue = queue
        self.pipeline = built.pipeline
        self.sinks = built.sinks
        self.start_order = built.start_order
        self.batch_size = batch_size
        self.linger = linger
        """Seconds to wait, once woken to a burst, before taking it (0: never)."""
        self._pipeline_woke = False
        """Set when the last wake-up came from code the pipeline runs (a sink that logs): the next turn does not
        linger, so events it logged are diverted as promptly as without a linger."""
        self.lingered = 0
        """How many times the worker lingered (a counter for tests and benchmarks)."""
        self.serializer = Serializer()
        self.processed = 0
        self.high_water = 0
        self.next_seq = 0
        self.start_failures: dict[str, BaseException] = {}
        self.starting: str | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.started = threading.Event()
        self.finished = threading.Event()
        self.batch_lock: asyncio.Lock | None = None
        """Held while a batch is processed; plugin reloads take it to swap between batches."""
        self._stopping = False
        self.gave_up = False
        """Set by a shutdown whose deadline passed: stop taking events from the queue."""
        self._idle: asyncio.Future[None] | None = None
        self._clock = IsoClock()
        self._encoder = LineEncoder()
        self._reported_drops: dict[str, int] = {}
        self.reentrant = 0
        """Events logged by plugin code the pipeline runs: written to stderr instead, never fed back in."""
        self.on_died: Callable[[BaseException], None] = _ignore_death
        """Called (on the worker thread, just before it ends) when the worker dies of anything but a stop."""
        self.death: BaseException | None = None
        self.holding: list[Any] = []
        """Events taken from the queue that no stage has seen yet (a batch waiting for the batch lock, or the part
        of it behind a flush marker): if this worker dies, they go back to the head of its queue."""
        self.report_start_failures = False
        """Write a stderr line for each plugin whose ``start()`` fails: set when no ``configure()`` call waits to
        raise them (a pipeline the first log call or the supervisor started)."""

    # -- control, from any thread -----------------------------------------------------------------------
    def run(self) -> None:
        """Run the worker on the calling thread until it is stopped (the runtime's daemon thread calls this)."""
        loop = self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self.queue.wake = self._wake_threadsafe
        try:
            loop.run_until_complete(self._lifetime())
        except BaseException as exc:  # noqa: BLE001 - the worker must report, never vanish silently
            if not self._stopping:
                self.death = exc
                warn("worker-crash", f"worker stopped unexpectedly: {type(exc).__name__}: {exc}", force=True,
                     code="FL-RUN-007")
                try:
                    self.on_died(exc)
                except Exception as err:  # noqa: BLE001 - reporting the death must not hide it
                    warn("worker-crash-handler", f"restarting the worker failed: {type(err).__name__}: {err}",
                         force=True, code="FL-RUN-008")
        finally:
            self.started.set()
            self.finished.set()
            try:
                end_tasks(loop)  # bounded: a stage call left behind at stage_timeout may never end
            finally:
                loop.close()

    def _wake_threadsafe(self) -> None:
        loop = self.loop
        if loop is None:
            return
        if from_pipeline(get_context()):  # woken by plugin code the pipeline runs: no caller's burst to wait out
            self._pipeline_woke = True
        try:
            loop.call_soon_threadsafe(self._wake)
        except RuntimeError:
            pass  # loop already closed: what is left in the queue is reported as undelivered at shutdown

    def request_stop(self) -> None:
        """Ask the worker to drain everything, stop every plugin and end its thread."""
        self._stopping = True  # seen by the consume loop even if its event loop does not exist yet
        loop = self.loop
        if loop is None:
            return
        try:
            loop.call_soon_threadsafe(self._wake)
        except RuntimeError:
            pass  # already stopped

    def call(self, coro_fn: Callable[[], Coroutine[Any, Any, T]], timeout: float) -> T:
        """Run ``coro_fn()`` on the worker's loop from another thread and wait for its result."""
        loop = self.loop
        if loop is None or self.finished.is_set():
            raise PluginError("the fapilog worker is not running (it stopped meanwhile); call fapilog.configure() to "
                              "start a new pipeline", code="FL-RUN-005")
        return asyncio.run_coroutine_threadsafe(coro_fn(), loop).result(timeout)

    # -- the loop ---------------------------------------------------------------------------------------
    async def _lifetime(self) -> None:
        mark_pipeline()  # every task and I/O thread started from here on logs as "the pipeline"
        self.batch_lock = asyncio.Lock()
        runners = {id(r.sink): r for r in self.sinks}
        for name, plugin in self.start_order:
            runner = runners.get(id(plugin))
            self.starting = name  # named by configure() if this start() outlasts start_timeout
            failure = await (runner.start_sink() if runner is not None else start_plugin(plugin))
            if failure is not None:
                self.start_failures[name] = failure
                if self.report_start_failures:
                    warn(f"start-failed:{name}", f"plugin {name!r} failed to start: {type(failure).__name__}: "
                         f"{failure}; fix its settings (or remove it) and call configure()", force=True,
                         code="FL-RUN-001")
            if runner is not None:
                runner.start(failure)
        self.started.set()
        self.starting = None
        await self._consume()
        # Stages stop first and may still log (a rate limiter's last "suppressed N" summary): drain those
        # events too, then let every sink deliver what it holds and stop it. What a sink needs to the end —
        # its own processors and every plugin it requires — stops with the sinks, after the sink that needs
        # it: everything stops in reverse start order, so a required plugin always stops last.
        late = _needed_by_sinks(self.start_order, self.sinks)
        await self._stop_all([(n, p) for n, p in reversed(self.start_order) if id(p) not in late], runners)
        await self._consume()
        for runner in self.sinks:
            await runner.close()
        await self._stop_all([(n, p) for n, p in reversed(self.start_order) if id(p) in late], runners)

    async def _stop_all(self, plugins: list[tuple[str, object]], runners: dict[int, SinkRunner]) -> None:
        for name, plugin in plugins:
            owner = runners.get(id(plugin))
            failure = await (owner.stop_sink() if owner is not None else stop_plugin(plugin))
            if failure is not None:
                warn(f"stop-failed:{name}", f"plugin {name!r} failed to stop: {type(failure).__name__}: {failure}",
                     code="FL-RUN-002")
                runner = runners.get(id(plugin))
                if runner is not None:
                    runner.count_error(failure)

    def _wake(self) -> None:
        if not self.queue.sealed:  # a sealed queue keeps the flag set: it is how late callers forward events
            self.queue.sleeping = False
        idle = self._idle
        if idle is not None and not idle.done():
            idle.set_result(None)

    async def _consume(self) -> None:
        queue = self.queue
        items = queue.items
        loop = asyncio.get_running_loop()
        if self.linger > 0:  # just started: the first events may be a burst under way, as after a sleep
            await self._linger(loop)
        while True:
            if self.gave_up:  # a shutdown deadline passed: what is still queued is counted by the shutdown
                return
            if not items:
                if self._stopping:
                    return
                self._idle = loop.create_future()
                queue.sleeping = True
                if items or self._stopping:  # a producer raced us: do not sleep on its event
                    queue.sleeping = False
                    continue
                await self._idle
                if self.linger > 0:
                    await self._linger(loop)
                continue
            depth = len(items)
            self.high_water = max(self.high_water, depth - queue.markers)
            taken: list[Any] = []
            with queue.lock:  # a drop_oldest producer looks at the head of the queue under this lock
                try:
                    # popleft() called in C until the batch is full; what extend() appended stays on an error.
                    taken.extend(islice(iter(items.popleft, _NEVER), min(depth, self.batch_size)))
                except IndexError:
                    pass  # a drop_oldest producer took the last one: the batch is simply shorter
            queue.room_made()
            self.holding = taken
            assert self.batch_lock is not None
            async with self.batch_lock:
                await self._process(taken)
            self._report_drops()
            # Let the sinks' drain tasks take what this batch gave them before the next one: with a queue
            # that never empties they would otherwise starve, and a fast sink would shed records. A sink
            # that is behind gets a few more turns (cycles of the loop, never a wait on its I/O).
            await asyncio.sleep(0)

    async def _linger(self, loop: asyncio.AbstractEventLoop) -> None:
        """Just woken: if a burst is under way, give its callers ``linger`` seconds without the worker.

        The wait is a timer on the loop (the thread sleeps in its selector, off the GIL). ``_wake`` ends it
        early: a flush marker and a stop always call it, and a caller that finds the queue full calls it while
        ``queue.lingering`` is set. No linger when plugin code the pipeline runs woke the worker (a sink that
        logs): there is no caller's burst to wait out, and its events are diverted as promptly as before.
        """
        queue = self.queue
        queue.lingering = True  # before the checks: a caller that fills the queue from here on ends the wait
        woken_by_pipeline, self._pipeline_woke = self._pipeline_woke, False
        try:
            if woken_by_pipeline or self._stopping or queue.markers or not _BURST <= len(queue.items) < queue.capacity:
                return
            self.lingered += 1
            idle = self._idle = loop.create_future()
            timer = loop.call_later(self.linger, _resolve, idle)
            try:
                await idle
            finally:
                timer.cancel()
        finally:
            queue.lingering = False

    async def _process(self, taken: list[Any]) -> None:
        # ``holding`` is what no stage has seen yet; _deliver() counts its events as processed before its first
        # await, so each segment leaves ``holding`` just as it is handed over.
        if self.queue.markers and FlushMarker in map(type, taken):  # the test in C: a flush may be far behind
            start = 0
            for index, item in enumerate(taken):
                if isinstance(item, FlushMarker):
                    self.holding = taken[index:]
                    await self._deliver(taken[start:index])
                    self.queue.take_marker()
                    item.expect(len(self.sinks))
                    for runner in self.sinks:
                        runner.put_marker(item)
                    start = index + 1
            taken = taken[start:]
        self.holding = _NOTHING
        await self._deliver(taken)

    async def _deliver(self, items: list[Any]) -> None:
        if not items:
            return
        self.processed += len(items)
        items, diverted = divert_reentrant(items, self.reentrant)
        self.reentrant += diverted
        if not items:
            return
        for runner in self.sinks:  # until each sink has them, a shutdown deadline counts them as its failures
            runner.expect(len(items))
        verdicts = line_verdicts(self.pipeline, self.sinks)
        if verdicts is not None:
            lines, levels = await self._lines(items, verdicts)
        else:
            records = await self._stages_and_json(self._build(items))
        # Every sink with room gets the batch before any sink is waited for: one slow sink with a full buffer
        # must not keep the others from their records.
        waiting = []
        for runner in self.sinks:
            own = runner.prepare_lines(lines, levels) if verdicts is not None else await runner.prepare(records)
            taken = runner.offer(own)
            if taken < len(own):
                waiting.append(runner.put(own[taken:]))
        if len(waiting) == 1:
            await waiting[0]
        elif waiting:
            await asyncio.gather(*waiting)

    async def _stages_and_json(self, records: list[EventRecord]) -> list[EventRecord]:
        """The stage chain, and every record's JSON line made once.

        Before a chain of copy-on-write stages (the default: the ``secrets`` redactor) the records are
        serialized first: those the chain passes on untouched keep their bytes (a redactor judges them by it),
        only the ones it changed are serialized again. Any other chain runs first, as sinks must get the bytes
        of the records as the chain left them.
        """
        pipeline, serializer = self.pipeline, self.serializer
        if not pipeline.stages:
            serializer.encode_into(records)
            return records
        early = pipeline.copy_on_write
        if early:
            serializer.encode_early(records)
        out = await pipeline.run(records)
        if len(out) != len(records):  # filtered: counted as intentional drops, not pending
            for runner in self.sinks:
                runner.expect(len(out) - len(records))
        if early:
            serializer.encode_rest(out)
        else:
            serializer.encode_into(out)
        return out

    async def _lines(self, items: list[Any], verdicts: list[LineVerdict]) -> tuple[list[bytes], list[int]]:
        """The batch's JSON lines and levels: made straight from the events the verdicts pass, through records,
        the chain and the serializer for the rest, each in its place."""
        seq = self.next_seq
        lines, levels = self._encoder.encode(items, seq, self._clock, verdicts)
        self.next_seq = seq + len(items)
        if None not in lines:  # the usual batch: every event was made as a line (the test in C)
            return lines, levels  # type: ignore[return-value]  # no None in it
        slow = [index for index, line in enumerate(lines) if line is None]
        stamp = self._clock.format
        out = await self._stages_and_json([build_records((items[index],), seq + index, stamp)[0][0] for index in slow])
        return with_records(lines, levels, slow, seq, out)

    def _build(self, items: list[Any]) -> list[EventRecord]:
        records, self.next_seq = build_records(items, self.next_seq, self._clock.format)
        return records

    def _report_drops(self) -> None:
        """One rate-limited stderr line per drop reason whose count grew (queue and every sink buffer)."""
        dropped = self.queue.snapshot_drops() if self.queue.dropped else {}
        for runner in self.sinks:
            if runner.dropped:
                dropped[f"sink_buffer_full:{runner.name}"] = runner.dropped
        for reason, total in dropped.items():
            if total != self._reported_drops.get(reason, 0) and warn(
                f"drops:{reason}",
                f"dropped {total} event(s) so far: {reason}; see fapilog.stats() and the backpressure settings",
                code="FL-LOG-007",
            ):
                self._reported_drops[reason] = total


def _needed_by_sinks(plugins: list[tuple[str, object]], sinks: list[SinkRunner]) -> set[int]:
    """ids of the sinks, their processors, and every plugin they require, directly or through another."""
    needed = {id(runner.sink) for runner in sinks}
    needed.update(id(stage.obj) for runner in sinks for stage in runner.processors)
    by_name: dict[str, object] = {}
    requires: dict[int, list[str]] = {}
    for name, plugin in plugins:
        md = metadata_of(plugin)
        by_name.setdefault(md.name if md is not None else name, plugin)
        requires[id(plugin)] = [r.name for r in md.requirements] if md is not None else []
    todo = [plugin for _, plugin in plugins if id(plugin) in needed]
    while todo:
        for dep_name in requires.get(id(todo.pop()), ()):
            dep = by_name.get(dep_name)
            if dep is not None and id(dep) not in needed:
                needed.add(id(dep))
                todo.append(dep)
    return needed


def _resolve(idle: asyncio.Future[None]) -> None:
    if not idle.done():
        idle.set_result(None)


_NEVER = object()
"""A sentinel no queue holds: ``iter(popleft, _NEVER)`` pops until told to stop."""
_NOTHING: list[Any] = []
"""``holding`` between batches (never appended to)."""


def _ignore_death(exc: BaseException) -> None:
    """Default: nobody supervises this worker."""
