"""Where the worker's time goes per event, for the default pipeline writing to a file.

Each step the worker runs for a batch is timed on its own, in this process, over batches of the queue's
batch size (the benchmark's 5-field event, the default ``secrets`` redactor, the built-in file sink):

- the line-first encoding (``LineEncoder.encode`` with the ``secrets`` verdict): what the worker runs for the
  default pipeline, whose events need no record (``fapilog._engine.line_first``);
- the record path, for the events the verdicts do not pass (and every pipeline whose stages or sinks need
  records): record build (without the timestamp), timestamp formatting, serialization, the stage chain (in the
  worker's order: the default chain is copy-on-write, so records are serialized before it and the redactor reads
  the JSON lines);
- the write: joining the batch's lines and one ``os.write`` (this runs on the file sink's I/O thread);
- the whole worker thread, measured by its CPU time while it delivers N events queued beforehand (so every
  batch is full): what is left after the steps above is the hand-over to the sink's buffer, cutting its
  batches, the delivery machinery, the event loop, and the cache misses of reading events the caller wrote
  long before (the isolated steps run over 40 batches that stay in the CPU's caches). It is computed against the
  line-first step: the whole worker runs the default pipeline.

Every figure is CPU time of the thread that does the work, so other processes on the machine inflate it
far less than wall time.

Medians over ``--runs`` repetitions of every step, ns per event. Meant for comparing versions of the core
on one machine, in one run; never asserted.

    .venv/bin/python benchmarks/worker_breakdown.py [--events 100000] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from typing import Any

from fapilog._engine.builder import build_pipeline
from fapilog._engine.captured_event import CapturedEvent
from fapilog._engine.line_first import LineEncoder, line_verdicts
from fapilog._kit.record import IsoClock, build_records
from fapilog._kit.serialize import Serializer
from fapilog.settings import LoggingSettings

FIELDS = {"ip": "10.0.0.1", "method": "GET", "path": "/api/v1/items", "status": 200}
BATCH = LoggingSettings().queue.batch_size

# The whole worker thread's CPU time per event, in a fresh interpreter. The events are queued while the worker
# is held at the queue's lock, then released at once: every batch is full, as under load. (A worker that keeps
# up takes smaller batches and pays its per-batch costs more often: CPU per event is then no measure of it.)
WHOLE = textwrap.dedent(
    """
    import json, os, sys, tempfile, threading, time
    import fapilog
    from fapilog._engine import state

    n = int(sys.argv[1])
    path = os.path.join(tempfile.mkdtemp(), "out.log")
    fapilog.configure(sinks=[{"type": "file", "path": path}], queue={"capacity": n + 10})
    info = fapilog.get_logger("bench").info
    info("warm-up")
    assert fapilog.flush(60.0).ok
    worker = next(t for t in threading.enumerate() if t.name == "fapilog-worker")
    clock = time.pthread_getcpuclockid(worker.ident)
    with state._runtime.queue.lock:  # the worker cannot take a batch until every event is queued
        for i in range(n):
            info("user login", user_id=i, ip="10.0.0.1", method="GET", path="/api/v1/items", status=200)
        start = time.clock_gettime(clock)
    assert fapilog.flush(120.0).ok
    used = time.clock_gettime(clock) - start
    fapilog.shutdown(30.0)
    with open(path, "rb") as fh:
        assert sum(1 for _ in fh) == n + 1
    print(json.dumps({"worker_ns": used * 1e9 / n}))
    """
)


def _items(n: int) -> list[tuple[Any, ...]]:
    now = time.time_ns()
    return [CapturedEvent(now + i * 1000, 20, "bench", "user login", {"user_id": i, **FIELDS}, None, None, None, None)
            for i in range(n)]


def _per_event(fn: Callable[[list[Any]], object], batches: list[list[Any]], n: int, rounds: int = 7) -> float:
    """The median over ``rounds`` of this thread's CPU time for ``fn`` over every batch, per event."""
    times = []
    for _ in range(rounds):
        start = time.thread_time_ns()
        for batch in batches:
            fn(batch)
        times.append((time.thread_time_ns() - start) / n)
    return statistics.median(times)


def _batches(seq: list[Any]) -> list[list[Any]]:
    return [seq[i:i + BATCH] for i in range(0, len(seq), BATCH)]


def steps(n: int, tmp: str) -> dict[str, float]:
    """ns per event of each step of the worker's batch loop, measured in isolation (on 40 batches)."""
    n = min(n, 40 * BATCH)
    item_batches = _batches(_items(n))
    clock = IsoClock()
    out: dict[str, float] = {}
    out["record build + timestamp"] = _per_event(lambda b: build_records(b, 0, clock.format), item_batches, n)
    out["timestamp alone"] = _per_event(lambda b: [clock.format(item[0]) for item in b], item_batches, n)
    out["record build (without timestamp)"] = out["record build + timestamp"] - out["timestamp alone"]
    built = build_pipeline(LoggingSettings.load({"sinks": [{"type": "file", "path": os.path.join(tmp, "x")}]},
                                                environ={}))
    record_batches = [build_records(b, 0, clock.format)[0] for b in item_batches]
    serializer = Serializer()
    if built.pipeline.copy_on_write:  # as the worker does: serialized before the chain, the rest after it
        out["serialization (orjson)"] = _per_event(
            lambda b: (serializer.encode_early(b), serializer.encode_rest(b)), record_batches, n)
    redactor = built.pipeline.stages[0].obj
    asyncio.run(redactor.redact_batch(record_batches[0][:1]))  # as the worker's first batch: the keys are learned
    verdicts = line_verdicts(built.pipeline, [_LineSink()])
    assert verdicts is not None, "the default chain must take the line-first path"
    encoder, line_clock = LineEncoder(), IsoClock()
    out["line-first encode (default pipeline)"] = _per_event(
        lambda b: encoder.encode(b, 0, line_clock, verdicts), item_batches, n)
    loop = asyncio.new_event_loop()
    try:
        out["stage chain (default: secrets)"] = _per_event(
            lambda b: loop.run_until_complete(built.pipeline.run(b)), record_batches, n)
    finally:
        loop.close()
    if not built.pipeline.copy_on_write:
        out["serialization (orjson)"] = _per_event(serializer.encode_into, record_batches, n)
    fd = os.open(os.path.join(tmp, "write.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        out["write: join + os.write (I/O thread)"] = _per_event(
            lambda b: os.write(fd, b"\n".join([r.json for r in b] + [b""])), record_batches, n)
    finally:
        os.close(fd)
    return out


class _LineSink:
    """Stands for a runner whose sink takes lines as made (all ``line_verdicts`` asks of a sink)."""

    takes_lines_as_made = True


def whole(n: int) -> float:
    proc = subprocess.run([sys.executable, "-c", WHOLE, str(n)], capture_output=True, text=True, check=True,
                          timeout=600)
    return float(__import__("json").loads(proc.stdout.strip().splitlines()[-1])["worker_ns"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    samples: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.runs):
            for name, value in steps(args.events, tmp).items():
                samples.setdefault(name, []).append(value)
            samples.setdefault("worker thread, whole (CPU)", []).append(whole(args.events))
    med = {name: statistics.median(values) for name, values in samples.items()}
    parts = ("record build (without timestamp)", "timestamp alone", "stage chain (default: secrets)",
             "serialization (orjson)")
    first = "line-first encode (default pipeline)"
    rest = med["worker thread, whole (CPU)"] - med[first]
    print("| step | ns/event (median) |\n| --- | ---: |")
    print(f"| {first} | {med[first]:,.0f} |")
    for name in parts:
        print(f"| record path: {name} | {med[name]:,.0f} |")
    print(f"| record path, all four | {sum(med[p] for p in parts):,.0f} |")
    print(f"| write: join + os.write (I/O thread) | {med['write: join + os.write (I/O thread)']:,.0f} |")
    print(f"| rest of the worker: hand-over, batching, delivery machinery, event loop, cold memory | {rest:,.0f} |")
    print(f"| **worker thread, whole (CPU)** | **{med['worker thread, whole (CPU)']:,.0f}** |")


if __name__ == "__main__":
    main()
