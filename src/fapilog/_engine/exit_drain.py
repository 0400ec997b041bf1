"""The exit drain: deliver what the current pipeline holds when the process ends, and say what could not be.

An ``atexit`` hook drains the runtime of :mod:`fapilog._engine.state` within ``exit_timeout``: at that point the
worker is a live daemon thread (non-daemon threads have been joined, daemon threads not yet frozen), so the
drain needs no new thread or event loop during finalization.

A ``multiprocessing`` child never reaches ``atexit`` when it was forked (fork and forkserver ``Process``, pool
workers): it leaves with ``os._exit()``. The last Python code it runs is the end of its bootstrap, which calls
``threading._shutdown()`` and with it every hook registered through ``threading._register_atexit``, so the
same drain is hooked there (see :func:`_at_process_exit`); it runs once per process. Events logged after
the drain (from ``atexit`` functions that run later, or threads still running) are built and redacted on the
caller's thread exactly as the pipeline would, and written to stderr (see :mod:`fapilog._engine.late`).
"""

from __future__ import annotations

import atexit
import contextlib
import sys
import threading
import time
from typing import TYPE_CHECKING

from fapilog._engine import handover
from fapilog._engine import logger as _logger

if TYPE_CHECKING:
    from fapilog._engine.runtime import Runtime

__all__ = ["install"]

_late_source: Runtime | None = None
"""The pipeline the exit drain stopped: late events go through its redactors and continue its ``seq``."""


def _at_exit() -> None:
    """The exit drain: deliver everything within ``exit_timeout``, report what could not be, then route later
    events to :func:`fapilog._engine.late.emit`. Runs once per process, from ``atexit`` or :func:`_at_process_exit`."""
    global _late_source
    from fapilog._engine import state  # imported by now: it installed this hook

    with state._lock:
        if state._finalized:
            return  # drained already: a spawned multiprocessing child gets here from both hooks
        runtime = state._runtime
        state._finalized = True
    if (runtime is None or runtime.state != "running") and state._events_waiting():
        runtime = state._ensure_runtime()  # events logged during an earlier shutdown waited for a pipeline: deliver
    if runtime is None or runtime.state not in ("running", "failed"):
        _logger.route(state._bootstrap_emit)
        handover.finish_at_exit()
        return
    started = time.monotonic()
    handover.retire(runtime)
    report = runtime.shutdown(runtime.settings.exit_timeout)
    _late_source = runtime
    _logger.route(state._bootstrap_emit)  # finalized: anything logged from now on goes straight to stderr
    late = handover.finish_at_exit()  # logged by other threads while the drain ran, after it emptied the queue
    if not report.ok or late:
        counts = dict(report.details)
        if late:
            counts["during_exit"] = late
        if report.in_flight:  # the process ends now: a write that has not finished will not
            counts["in_unfinished_writes"] = report.in_flight
        parts = ", ".join(f"{where}={n}" for where, n in counts.items())
        _write_stderr(
            f"fapilog: exit drain gave up after {time.monotonic() - started:.1f}s: "
            f"{report.undelivered + report.in_flight + late} event(s) not delivered ({parts}); raise exit_timeout "
            "or fix the sink [FL-LOG-009]\n"
        )
    if report.dropped:
        reasons = ", ".join(f"{reason}={n}" for reason, n in sorted(report.dropped.items()))
        _write_stderr(f"fapilog: {sum(report.dropped.values())} event(s) were dropped in total ({reasons}) "
                      "[FL-LOG-010]\n")


def _write_stderr(text: str) -> None:
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass  # stderr is gone: the interpreter is tearing down and no channel is left


def _at_process_exit() -> None:
    """Drain a ``multiprocessing`` child as it ends; in any other process leave that to ``atexit``.

    Every multiprocessing child (fork, forkserver and spawn ``Process``, pool and ``ProcessPoolExecutor``
    workers) ends ``BaseProcess._bootstrap`` with ``threading._shutdown()``, which calls the hooks registered
    with ``threading._register_atexit`` before it joins the child's non-daemon threads. Fork and forkserver
    children then leave with ``os._exit()``: ``atexit`` never runs, so this is their last chance. (A spawned
    child goes on to ``atexit``, which finds the drain done.) In the main process the same shutdown runs
    before non-daemon threads are joined: draining there would cut their last events off, so it does nothing.
    """
    process = sys.modules.get("multiprocessing.process")
    if process is None or process.parent_process() is None:
        return
    _at_exit()


def install() -> None:
    """Register the drain with ``atexit`` and with threading's shutdown (called once, by the state module)."""
    atexit.register(_at_exit)
    # CPython's hook for code that must run when threading shuts down (concurrent.futures uses it too). It is
    # private, hence the getattr: without it a forked multiprocessing child keeps the old behaviour (its events
    # are delivered only up to its last flush()).
    register_at_threading_shutdown = getattr(threading, "_register_atexit", None)
    if register_at_threading_shutdown is not None:
        with contextlib.suppress(RuntimeError):  # imported while the interpreter shuts down: no child exit ahead
            register_at_threading_shutdown(_at_process_exit)
