"""Plugins on a running pipeline: load, unload, reload, health, and the diagnostics report.

Every change runs on the worker's loop while holding the batch lock, so it happens *between* batches: no
record is half-processed by an old instance and half by a new one. Unloading or reloading a sink first
waits until the old instance has written everything it was handed, then flushes and stops it; events
logged meanwhile wait in the queue. Nothing is lost and nothing is delivered twice.

Each call's ``timeout`` bounds, on the worker, the wait for the batch in progress, the new instance's
``start()`` and the old sink's drain, together: when it passes, nothing is changed (a new instance is stopped
again) and :class:`~fapilog.errors.PluginTimeoutError` says which step ran out of time. The caller waits a
little longer for that verdict; a worker that does not answer at all (plugin code blocking its loop) is
reported the same way.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from typing import Any, TextIO, TypeVar

from fapilog._engine.builder import build_sink, build_stage, check_switches, instantiate_sink, instantiate_stage
from fapilog._engine.delivery import SinkRunner
from fapilog._engine.hooks import call_hook, start_plugin, stop_plugin
from fapilog._engine.pipeline import Stage, StageKind
from fapilog._engine.runtime import Runtime
from fapilog._engine.worker import PipelineWorker
from fapilog._registry.specs import spec_label
from fapilog.errors import ConfigError, PluginError, PluginLoadError, PluginNotFoundError, PluginTimeoutError
from fapilog.plugins.health import check_health
from fapilog.plugins.metadata import KINDS, PluginHealth

__all__ = ["health", "load_plugin", "reload_plugin", "report", "unload_plugin"]

_KINDS = tuple(spec.kind for spec in KINDS)
_VERDICT_GRACE = 2.0
"""Seconds a caller waits beyond its ``timeout`` for the worker's verdict (stopping a late plugin)."""
_WIND_DOWN_FLOOR = 1.0
"""Seconds an old instance's flush() and stop() get even when the drain used up the caller's timeout."""
_T = TypeVar("_T")


def _worker(runtime: Runtime, timeout: float) -> PipelineWorker:
    runtime.boot_now()
    runtime.booted.wait(timeout)
    worker = runtime.worker
    if worker is None or not worker.started.wait(timeout) or worker.finished.is_set():
        raise PluginError("no running fapilog pipeline: log something or call fapilog.configure() first",
                          code="FL-RUN-005")
    return worker


def _find(worker: PipelineWorker, name: str) -> Stage | SinkRunner:
    for runner in worker.sinks:
        if runner.name == name:
            return runner
    for stage in worker.pipeline.stages:
        if stage.name == name:
            return stage
    running = [r.name for r in worker.sinks] + [s.name for s in worker.pipeline.stages]
    raise PluginNotFoundError(
        f"no running plugin named {name!r}; running: {', '.join(running) or 'none'}", plugin=name, code="FL-RUN-003"
    )


def _answer(worker: PipelineWorker, operation: str, name: str, fn: Callable[[], Coroutine[Any, Any, _T]],
            timeout: float) -> _T:
    """Run ``fn`` on the worker and return its result; a worker that gives no verdict in time is a coded error."""
    try:
        return worker.call(fn, timeout + _VERDICT_GRACE)
    except PluginTimeoutError:
        raise  # the worker's own verdict: a step ran out of time and nothing was changed
    except concurrent.futures.CancelledError as exc:  # the worker died meanwhile, cancelling the change
        raise PluginError(
            f"{operation}({name!r}): the fapilog worker stopped before the change finished, so it did not happen; "
            "the next log call starts a new pipeline with the configured plugins: call it again then",
            plugin=name, code="FL-RUN-005",
        ) from exc
    except TimeoutError as exc:
        raise PluginTimeoutError(
            f"{operation}({name!r}) got no answer from the fapilog worker within {timeout + _VERDICT_GRACE:.1f}s: "
            "plugin code is blocking the worker's event loop, so the change may still happen once it is free; "
            "check fapilog.debug_plugins(), and make that plugin await instead of block",
            plugin=name, code="FL-RUN-011",
        ) from exc


@contextlib.asynccontextmanager
async def _between_batches(worker: PipelineWorker, operation: str, name: str, deadline: float) -> AsyncIterator[None]:
    """Hold the batch lock, waiting for the batch in progress no later than ``deadline`` (loop time)."""
    lock = worker.batch_lock
    assert lock is not None
    try:
        async with asyncio.timeout_at(deadline):
            await lock.acquire()
    except TimeoutError as exc:
        raise PluginTimeoutError(
            f"{operation}({name!r}): the batch in progress did not finish in time (a sink with a full buffer "
            "waits for room); nothing was changed; call it again with a larger timeout, or look at "
            "fapilog.stats()['sinks'] for the sink that is behind", plugin=name, code="FL-RUN-011",
        ) from exc
    try:
        yield
    finally:
        lock.release()


async def _drained(runner: SinkRunner, operation: str, deadline: float, consequence: str) -> None:
    """Wait until ``runner``'s sink has written everything it holds, no later than ``deadline`` (loop time)."""
    try:
        async with asyncio.timeout_at(deadline):
            await runner.drained()
    except TimeoutError as exc:
        held = runner.pending()  # none held: the drain task waits in the sink's flush() (a flush marker's)
        what = f"finish writing the {held} record(s) it holds" if held else "return from its flush()"
        raise PluginTimeoutError(
            f"{operation}({runner.name!r}): the running sink did not {what} in time (its backend is slow or not "
            f"answering); {consequence}; call it again "
            "with a larger timeout, or see fapilog.health() and stats()['sinks'] for that sink",
            plugin=runner.name, code="FL-RUN-011",
        ) from exc


def _remaining(deadline: float) -> float:
    return max(0.0, deadline - asyncio.get_running_loop().time())


async def _wound_down(operation: str, name: str, step: str, deadline: float, timeout: float,
                      call: Callable[[], Awaitable[_T]]) -> _T:
    """The old instance's ``step`` (``flush()``/``stop()``), bounded by what is left of the caller's timeout (at
    least :data:`_WIND_DOWN_FLOOR`, which stays within the verdict's grace): a backend that never answers must
    not keep the batch lock, and the caller learns which step it was, not that the worker is blocked."""
    try:
        async with asyncio.timeout(max(_remaining(deadline), _WIND_DOWN_FLOOR)):
            return await call()
    except TimeoutError as exc:
        raise PluginTimeoutError(
            f"{operation}({name!r}): the old instance was taken out of the pipeline, but its {step} did not finish "
            f"within the {timeout}s timeout; fapilog no longer calls it (its files or connections may stay open: "
            "see why its backend does not answer)", plugin=name, code="FL-RUN-011",
        ) from exc


async def _started(name: str, plugin: object, runner: SinkRunner | None = None, timeout: float | None = None,
                   given: float | None = None) -> None:
    """Start ``plugin`` (a sink where its runner runs it) within ``timeout``; a failure (a timeout included)
    stops it again and is raised, so a plugin that did not start in time is never added later. ``given``: the
    caller's whole timeout, named in the message (``timeout`` is what is left of it)."""
    starting = start_plugin(plugin) if runner is None else runner.call(lambda: start_plugin(plugin))
    try:
        failure = await asyncio.wait_for(starting, timeout)
    except TimeoutError:
        failure = TimeoutError(f"start() did not finish within {timeout if given is None else given}s")
    if failure is not None:
        if runner is None:
            await stop_plugin(plugin)
        else:
            await runner.call(lambda: stop_plugin(plugin))
        raise PluginLoadError(f"plugin {name!r} failed to start: {type(failure).__name__}: {failure}",
                              plugin=name, code="FL-RUN-001") from failure


def load_plugin(runtime: Runtime, kind: str, spec: Any, timeout: float) -> str:
    """Create, start and add a plugin to the running pipeline; returns the name it runs under."""
    if kind not in _KINDS:
        raise ConfigError(f"kind: got {kind!r}; accepted: {', '.join(_KINDS)}", field="kind", code="FL-CFG-009")
    worker = _worker(runtime, timeout)
    settings = runtime.settings
    if not check_switches(spec, settings.plugins, "load_plugin"):
        raise ConfigError(f"load_plugin: {spec!r} is switched off in plugins.disabled", field="plugins.disabled",
                          code="FL-CFG-006")

    label = spec_label(spec)

    async def add() -> str:
        deadline = asyncio.get_running_loop().time() + timeout
        async with _between_batches(worker, "load_plugin", label, deadline):
            if kind == "sink":
                runner = build_sink(spec, settings, {r.name for r in worker.sinks}, "load_plugin")
                await _started(runner.name, runner.sink, runner, _remaining(deadline), timeout)
                runner.start()
                worker.sinks.append(runner)
                worker.start_order.append((runner.name, runner.sink))
                return runner.name
            stage_kind: StageKind = kind  # narrowed by the membership check and the sink branch above
            stage = build_stage(stage_kind, spec, settings, {s.name for s in worker.pipeline.stages}, "load_plugin")
            await _started(stage.name, stage.obj, None, _remaining(deadline), timeout)
            worker.pipeline.add(stage)
            worker.start_order.append((stage.name, stage.obj))
            return stage.name

    # The start is bounded by ``timeout`` on the worker (a plugin that misses it is stopped, never added); the
    # caller waits a little longer for that verdict.
    name = _answer(worker, "load_plugin", label, add, timeout)
    runtime.refresh_emit()
    return name


def unload_plugin(runtime: Runtime, name: str, timeout: float) -> None:
    """Remove a running plugin; a sink first delivers everything it was handed, then flushes and stops."""
    worker = _worker(runtime, timeout)

    async def remove() -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        async with _between_batches(worker, "unload_plugin", name, deadline):
            target = _find(worker, name)
            if isinstance(target, SinkRunner):
                await _drained(target, "unload_plugin", deadline, "it keeps running")
                worker.sinks.remove(target)
                await target.close()
                sink = plugin = target.sink
            else:
                worker.pipeline.stages = [s for s in worker.pipeline.stages if s is not target]
                plugin = target.obj
            worker.start_order[:] = [(n, p) for n, p in worker.start_order if p is not plugin]
        # Out of the pipeline now: its flush and stop run without the batch lock, bounded.
        if isinstance(target, SinkRunner):
            try:
                await _wound_down("unload_plugin", name, "flush()", deadline, timeout,
                                  lambda: target.call(lambda: call_hook(sink, "flush")))
            except PluginTimeoutError:
                if target.thread is not None:
                    target.thread.stop()  # the sink's loop is let go with the hung call
                raise
            failure = await _wound_down("unload_plugin", name, "stop()", deadline, timeout, target.stop_sink)
        else:
            failure = await _wound_down("unload_plugin", name, "stop()", deadline, timeout,
                                        lambda: stop_plugin(plugin))
        if failure is not None:
            raise PluginError(f"plugin {name!r} was removed but failed to stop: {failure}", plugin=name,
                              code="FL-RUN-002")

    _answer(worker, "unload_plugin", name, remove, timeout)
    runtime.refresh_emit()


def reload_plugin(runtime: Runtime, name: str, settings: Mapping[str, Any], timeout: float) -> None:
    """Replace a running plugin with a fresh instance built with ``settings`` merged over its configuration.

    The new instance is created and started first (a failure leaves the old one running); then the old one
    delivers what it holds, flushes and stops, and the new one takes over between two batches.
    """
    worker = _worker(runtime, timeout)

    async def swap() -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        async with _between_batches(worker, "reload_plugin", name, deadline):
            target = _find(worker, name)
            spec = _respec(name, target.spec, settings)
            if isinstance(target, SinkRunner):
                _, fresh = instantiate_sink(spec, runtime.settings, f"reload_plugin({name!r})")
                await _started(name, fresh, target, _remaining(deadline), timeout)
                try:
                    await _drained(target, "reload_plugin", deadline,
                                   "it keeps running and the new instance was stopped")
                except PluginTimeoutError:
                    await target.call(lambda: stop_plugin(fresh))
                    raise
                old = target.sink
                try:
                    async with asyncio.timeout(max(_remaining(deadline), _WIND_DOWN_FLOOR)):
                        await target.call(lambda: call_hook(old, "flush"))
                except TimeoutError as exc:
                    await _wound_down("reload_plugin", name, "stop()", deadline, timeout,
                                      lambda: target.call(lambda: stop_plugin(fresh)))
                    raise PluginTimeoutError(
                        f"reload_plugin({name!r}): the running sink's flush() did not finish within the {timeout}s "
                        "timeout; it keeps running and the new instance was stopped; see why its backend does "
                        "not answer", plugin=name, code="FL-RUN-011") from exc
                target.replace_sink(fresh)
            else:
                _, fresh = instantiate_stage(target.kind, spec, runtime.settings, f"reload_plugin({name!r})")
                await _started(name, fresh, None, _remaining(deadline), timeout)
                old = target.obj
                target.replace(fresh)
            target.spec = spec
            worker.start_order[:] = [(n, fresh if p is old else p) for n, p in worker.start_order]
        # Replaced now: the old instance's stop runs without the batch lock, bounded.
        failure = await _wound_down("reload_plugin", name, "stop()", deadline, timeout,
                                    (lambda: target.call(lambda: stop_plugin(old))) if isinstance(target, SinkRunner)
                                    else (lambda: stop_plugin(old)))
        if failure is not None:
            sys.stderr.write(f"fapilog: the replaced instance of {name!r} failed to stop: {failure} [FL-RUN-002]\n")

    _answer(worker, "reload_plugin", name, swap, timeout)
    runtime.refresh_emit()


def _respec(name: str, spec: object, settings: Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(spec, str):
        return {"type": spec, **settings}
    if isinstance(spec, Mapping):
        return {**spec, **settings}
    raise PluginError(
        f"plugin {name!r} was configured as a ready-made object, so fapilog cannot build a fresh one; "
        "configure it by name (e.g. {'type': ...}) to reload it, or unload_plugin() and load_plugin() a new object",
        plugin=name, code="FL-RUN-004",
    )


def health(runtime: Runtime | None, timeout: float) -> dict[str, PluginHealth]:
    """Every running plugin's ``health_check()``, each bounded by ``timeout``."""
    if runtime is None or runtime.worker is None:
        return {}
    worker = runtime.worker
    plugins = _running(worker)
    try:
        return worker.call(lambda: check_health(plugins, timeout), timeout + 1.0)
    except (PluginError, RuntimeError, TimeoutError) as exc:  # PluginError: the worker stopped meanwhile
        return _unanswered(plugins, exc)


def _unanswered(plugins: Mapping[str, object], exc: BaseException) -> dict[str, PluginHealth]:
    """Every plugin unhealthy: the worker that would run their checks did not answer (dead, stuck, stopped)."""
    return {name: PluginHealth("unhealthy", f"worker did not answer: {exc!r}", code="FL-HLT-002") for name in plugins}


async def ahealth(runtime: Runtime | None, timeout: float) -> dict[str, PluginHealth]:
    """:func:`health` for async code."""
    if runtime is None or runtime.worker is None or runtime.worker.loop is None:
        return {}
    worker = runtime.worker
    plugins = _running(worker)
    if worker.finished.is_set():  # its loop is closed: nothing could run the checks
        return _unanswered(plugins, RuntimeError("the fapilog worker is not running"))
    assert worker.loop is not None
    checks = check_health(plugins, timeout)
    try:
        future = asyncio.run_coroutine_threadsafe(checks, worker.loop)
    except RuntimeError as exc:  # the loop closed since the test above
        checks.close()
        return _unanswered(plugins, exc)
    try:
        return await asyncio.wait_for(asyncio.wrap_future(future), timeout + 1.0)
    except TimeoutError as exc:
        return _unanswered(plugins, exc)


def _running(worker: PipelineWorker) -> dict[str, object]:
    return {**{s.name: s.obj for s in worker.pipeline.stages}, **{r.name: r.sink for r in worker.sinks}}


def report(runtime: Runtime | None, file: TextIO | None, health_timeout: float) -> list[dict[str, Any]]:
    """Rows for ``debug_plugins()``: the catalogue plus running instances, their timings and health."""
    from fapilog._registry.registry import default_registry
    from fapilog._registry.report import collect, print_rows

    rows = collect()
    by_name = {row["name"]: row for row in rows}
    registry = default_registry()
    # Rows of running plugins describe exactly the running instance; others, the latest record of that name.
    latest = {info.name: info for info in reversed(registry.instances())}
    checked = health(runtime, health_timeout)
    running = _running(runtime.worker) if runtime is not None and runtime.worker is not None else {}
    for name, plugin in running.items():
        if name not in by_name:
            row = {"name": name, "kind": "?", "version": "-", "distribution": "-", "compatible": True,
                   "reason": f"configured as an object ({type(plugin).__qualname__})", "state": "loaded",
                   "source": "object", "legacy": False}
            rows.append(row)
            by_name[name] = row
    disabled = set(runtime.settings.plugins.disabled) if runtime is not None else set()
    for name, row in by_name.items():
        if name in disabled and name not in running:
            row["state"] = "disabled"
            row["reason"] = "switched off in plugins.disabled"
            continue
        info = registry.instance_info(running[name]) if name in running else latest.get(name)
        if info is not None:
            row["state"] = info.state
            row["kind"] = info.kind or row["kind"]
            row["load_ms"] = round(info.load_ms, 3)
            row["start_ms"] = round(info.start_ms, 3) if info.start_ms is not None else None
            if info.error:
                row["reason"] = info.error
        result = checked.get(name)
        row["health"] = result.status if result is not None else "-"
        if result is not None and not result.healthy:
            row["reason"] = f"health: {result.detail}" + (f" [{result.code}]" if result.code else "")
    print_rows(rows, file if file is not None else sys.stdout)
    return rows
