"""How the caller and the worker share the GIL: thread CPU times, wake-ups and delivery latency, A/B by environment.

Each measurement runs in a fresh interpreter (``--child``); the driver alternates the variants given as
``--variant 'ENV=VALUE ...'`` (settings by ``FAPILOG_*`` variables, e.g. ``FAPILOG_QUEUE__LINGER=0``) and prints
the medians. Modes (the default file sink, the suite's 5-field event):

* ``suite``: the caller workload's shape: 1,000 warm-up calls, then 5,000 timed (``head``), then 200k in all
  (``full``), with the caller's and the worker's thread CPU per event.
* ``e2e``: 200k calls, then flush and shutdown: events/s, and the caller's and the worker's CPU.
* ``latency``: ``--group`` events logged together every 20 ms, 30 times: the median time until all are on disk.
* ``trickle``: 10 events every millisecond (5,000 in all): the caller's and the worker's CPU per event.

Experiments (not settings): ``EXP_SWITCH=seconds`` calls ``sys.setswitchinterval`` in the child (this
benchmark only; the library never changes it), ``EXP_INLINE_IO=1`` runs the file sink's writes on the
worker's loop instead of its I/O thread (to price the hop; unsafe with a stalling disk), ``EXP_GC=off`` (or
``EXP_GC=700,10,10``: thresholds) disables or retunes the cyclic garbage collector in the child (to price the
collections the events' allocations trigger; the library leaves the collector's settings to the application),
``EXP_GC_TIME=1`` times every collection through ``gc.callbacks`` (thread CPU) and reports ``gc_ms`` (all threads)
and ``gc_caller_ms`` (the caller's thread). ``PYTHONPATH=/path/to/other/src`` as a variant runs another checkout
of the library against this one, in alternating processes (``--variant 'PYTHONPATH=/tmp/main/src'``).

    .venv/bin/python benchmarks/caller_worker.py --mode suite --reps 6 \\
        --variant FAPILOG_QUEUE__LINGER=0 --variant FAPILOG_QUEUE__LINGER=0.005
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from variants import medians, run_alternated

HERE = Path(__file__).resolve().parent


def _child(mode: str, group: int) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    gc_ms = _interpreter_experiments()
    import fapilog
    from fixtures import IP, MESSAGE, METHOD, PATH, STATUS

    if os.environ.get("EXP_INLINE_IO"):
        from fapilog._kit import offload

        async def inline(self: Any, fn: Any, *args: Any) -> Any:
            return fn(*args)

        offload.BlockingWorker.run = inline  # type: ignore[method-assign]
    path = os.path.join(tempfile.mkdtemp(), "cw.log")
    fapilog.configure(level="INFO", sinks=[{"type": "file", "path": path}])
    info = fapilog.get_logger("bench").info

    def worker_cpu() -> float:
        for thread in threading.enumerate():
            if thread.name == "fapilog-worker" and thread.ident is not None:
                return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
        return float("nan")

    def emit(start: int, stop: int) -> None:
        for i in range(start, stop):
            info(MESSAGE, user_id=i, ip=IP, method=METHOD, path=PATH, status=STATUS)

    out: dict[str, Any] = {}
    n = 200_000
    if mode == "suite":
        emit(n, n + 1000)
        w0, c0, t0 = worker_cpu(), time.thread_time(), time.perf_counter_ns()
        emit(0, 5000)
        t1, c1, w1 = time.perf_counter_ns(), time.thread_time(), worker_cpu()
        emit(5000, n)
        t2, c2, w2 = time.perf_counter_ns(), time.thread_time(), worker_cpu()
        out.update(head_ns=(t1 - t0) / 5000, head_caller_cpu_ns=(c1 - c0) * 1e9 / 5000,
                   head_worker_cpu_ms=(w1 - w0) * 1e3, full_ns=(t2 - t0) / n,
                   full_caller_cpu_ns=(c2 - c0) * 1e9 / n, full_worker_cpu_ns=(w2 - w0) * 1e9 / n)
    elif mode == "e2e":
        w0, c0, t0 = worker_cpu(), time.thread_time(), time.perf_counter()
        emit(0, n)
        fapilog.flush(timeout=60)
        w1 = worker_cpu()
        fapilog.shutdown(timeout=60)
        out.update(events_per_s=n / (time.perf_counter() - t0), caller_cpu_ms=(time.thread_time() - c0) * 1e3,
                   worker_cpu_ms=(w1 - w0) * 1e3)
    elif mode == "latency":
        fapilog.flush()
        delays = []
        for i in range(30):
            t0 = time.perf_counter()
            for j in range(group):
                info("one", i=i, j=j)
            while Path(path).read_bytes().count(b"\n") < (i + 1) * group:
                time.sleep(0.00005)
            delays.append((time.perf_counter() - t0) * 1e6)
            time.sleep(0.02)
        out.update(latency_median_us=statistics.median(delays))
    elif mode == "trickle":
        c0, w0 = time.thread_time(), worker_cpu()
        for k in range(500):
            emit(k * 10, k * 10 + 10)
            time.sleep(0.001)
        out.update(caller_cpu_ns=(time.thread_time() - c0) * 1e9 / 5000,
                   worker_cpu_ns=(worker_cpu() - w0) * 1e9 / 5000)
    fapilog.flush(timeout=60)
    fapilog.shutdown(timeout=60)
    out["dropped"] = fapilog.stats()["dropped"]["total"]
    if gc_ms is not None:
        out.update(gc_ms=sum(gc_ms.values()) * 1e3, gc_caller_ms=gc_ms.get(threading.main_thread().ident, 0.0) * 1e3)
    return out


def _interpreter_experiments() -> dict[int | None, float] | None:
    """Apply ``EXP_SWITCH`` and ``EXP_GC``; with ``EXP_GC_TIME``, the collector's time by thread (else None)."""
    if os.environ.get("EXP_SWITCH"):
        sys.setswitchinterval(float(os.environ["EXP_SWITCH"]))
    if os.environ.get("EXP_GC"):
        import gc

        if os.environ["EXP_GC"] == "off":
            gc.disable()
        else:
            gc.set_threshold(*map(int, os.environ["EXP_GC"].split(",")))
    return _time_collections() if os.environ.get("EXP_GC_TIME") else None


def _time_collections() -> dict[int | None, float]:
    """Thread CPU seconds spent in the cyclic collector, by thread id (filled as collections happen)."""
    import gc

    spent: dict[int | None, float] = {}
    started: dict[int | None, float] = {}

    def timed(phase: str, info: dict[str, Any]) -> None:
        ident = threading.get_ident()
        if phase == "start":
            started[ident] = time.thread_time()
        elif ident in started:
            spent[ident] = spent.get(ident, 0.0) + time.thread_time() - started.pop(ident)

    gc.callbacks.append(timed)
    return spent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["suite", "e2e", "latency", "trickle"], default="suite")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--group", type=int, default=1, help="latency: events logged together")
    parser.add_argument("--variant", action="append", default=[], help="'ENV=VALUE ...' for one variant")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.mode, args.group)))
        return 0
    variants = args.variant or [""]
    results = run_alternated(__file__, ["--mode", args.mode, "--group", str(args.group)], variants, args.reps)
    for variant, runs in results.items():
        print(f"{variant or '(defaults)'}: " + ", ".join(f"{k}={v:,.1f}" for k, v in medians(runs).items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
