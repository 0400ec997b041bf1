"""The floor under the throughput targets: the fewest steps any pure-Python pipeline of fapilog's shape must run.

The e2e target (≥ 1.5x picologging's events/s) and the 200k-call caller target (≤ 0.5x picologging's ns per
call while the queue fills) are both bounded by the CPU one event costs end to end: the caller and the worker
share one GIL, and once the default queue (10,000 events) is full a caller can go no faster than the worker.
This benchmark runs, on one thread, only what no pipeline of this shape can skip, with none of fapilog's
machinery (no worker thread, no event loop, no accounting, no per-sink buffer, no flush or exit guarantees):

- **call**: ``log.info(message, **5 fields)`` on an object whose method checks the level, takes ``time.time_ns()``
  and appends one tuple to a ``deque`` (fapilog's capture, minus the context snapshot and the wake-up check);
- **record + json**, in one of two forms: the *record form* builds the event as a plain ``dict`` (timestamp text
  from a cached millisecond prefix, level name, logger, message, sequence number, the fields) and encodes it with
  ``orjson.dumps``; the *line form* (``FLOOR_FORM=splice`` in the child) builds no record: the fields alone go
  through orjson and the core keys are spliced in front as bytes (logger and message encoded once and cached), as
  fapilog's line-first path does (``fapilog._engine.line_first``);
- **secrets gate**: the default redactor's cheapest verdict for a plain record (its keys against the known-plain
  set, the line's bytes for ``@``, ``[`` and a second ``{``);
- **write**: one ``b"\\n".join`` and one ``os.write`` per 256 events.

Events are captured 10,000 at a time and then processed, as a full default queue holds them, so the cyclic
garbage collector sees what it sees under load (``--gc off`` prices it). The same run measures picologging's
e2e (the suite's workload: its text line to a file, in the caller's thread) in fresh processes, alternated with
both forms of the floor, and prints each target's budget in ns per event beside the floor. Every figure is CPU time (the
floor's one thread; picologging's whole process, where one thread does all the work), which other load on a
shared machine inflates far less than wall time. Medians of ``--runs``; never asserted.

    .venv/bin/python benchmarks/floor.py [--runs 5] [--events 200000]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CHUNK = 10_000
"""Events captured before the worker side runs: the default queue's capacity."""
BATCH = 256
"""The default ``queue.batch_size``: one join and one write per batch."""


class _Capture:
    """The least a log call can do: a level check, a timestamp, one tuple appended to a deque."""

    def __init__(self, items: deque[tuple[Any, ...]]) -> None:
        self.threshold = 20
        self.name = "bench"
        self.append = items.append

    def info(self, msg: Any, /, **fields: Any) -> None:
        if self.threshold > 20:
            return
        self.append((time.time_ns(), 20, self.name, msg, fields))


def _floor_child(n: int) -> dict[str, float]:  # noqa: PLR0912 - the two forms inlined in one loop
    import orjson

    if os.environ.get("FLOOR_GC") == "off":
        gc.disable()
    sys.path.insert(0, str(HERE))
    from fixtures import IP, MESSAGE, METHOD, PATH, STATUS

    plain = frozenset({"timestamp", "level", "logger", "message", "seq", "user_id", "ip", "method", "path", "status"})
    superset = plain.issuperset
    dumps = orjson.dumps
    at, open_list, open_object = 64, 91, b"{"
    names = {20: "INFO"}
    level_bytes = {20: b'","level":"INFO","logger":'}
    splice = os.environ.get("FLOOR_FORM") == "splice"
    encoded: dict[Any, bytes] = {}
    items: deque[tuple[Any, ...]] = deque()
    log = _Capture(items)
    fd, path = tempfile.mkstemp()
    base_ms = -1
    prefix = ""
    stamp = b""
    seq = 0
    call_ns = rest_ns = 0
    try:
        for start in range(0, n, CHUNK):
            t0 = time.thread_time_ns()
            for i in range(start, min(n, start + CHUNK)):
                log.info(MESSAGE, user_id=i, ip=IP, method=METHOD, path=PATH, status=STATUS)
            t1 = time.thread_time_ns()
            call_ns += t1 - t0
            popleft = items.popleft
            while items:
                lines: list[bytes] = []
                add = lines.append
                for _ in range(min(BATCH, len(items))):
                    ts_ns, level, name, message, fields = popleft()
                    ms = ts_ns // 1_000_000
                    if ms != base_ms:
                        base_ms = ms
                        prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}"
                        stamp = b'{"timestamp":"' + prefix.encode() + b"Z"
                    if splice:
                        # No record at all: the fields alone through orjson, the core keys spliced in as bytes
                        # (the logger's name and the message encoded once each and cached).
                        body = dumps(fields)
                        who = encoded.get(name)
                        if who is None:
                            who = encoded[name] = dumps(name)
                        what = encoded.get(message)
                        if what is None:
                            what = encoded[message] = dumps(message)
                        line = b"".join((stamp, level_bytes[level], who, b',"message":', what, b',"seq":',
                                         str(seq).encode(), b",", body[1:]))
                        keys_plain = superset(fields)
                    else:
                        record = {"timestamp": prefix + "Z", "level": names[level], "logger": name,
                                  "message": message, "seq": seq, **fields}
                        line = dumps(record)
                        keys_plain = superset(record)
                    seq += 1
                    if not (keys_plain and at not in line and open_list not in line and line.rfind(open_object) == 0):
                        raise AssertionError("the benchmark's event is plain: the gate must pass it")
                    add(line)
                add(b"")
                os.write(fd, b"\n".join(lines))
            rest_ns += time.thread_time_ns() - t1
    finally:
        os.close(fd)
        with open(path, "rb") as fh:
            written = sum(1 for _ in fh)
        os.unlink(path)
    if written != n:
        raise AssertionError(f"wrote {written} lines for {n} events")
    return {"call_ns": call_ns / n, "worker_ns": rest_ns / n, "total_ns": (call_ns + rest_ns) / n}


_PICO = """
import sys, tempfile, time, json
sys.path.insert(0, {here!r})
from libs.picologging_adapter import PicologgingAdapter
from fixtures import check_file
n = {n}
path = tempfile.mkdtemp() + "/p.log"
adapter = PicologgingAdapter()
adapter.to_file(path)
start = time.perf_counter()
c0 = time.process_time()
adapter.emit(0, n)
adapter.drain(60.0)
elapsed = time.perf_counter() - start
cpu = time.process_time() - c0
assert check_file(path, range(n)).lines == n
print(json.dumps({{"pico_wall_ns": elapsed * 1e9 / n, "pico_cpu_ns": cpu * 1e9 / n}}))
"""


def _run(args: list[str], env: dict[str, str] | None = None) -> dict[str, float]:
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, check=True, timeout=600,
                          env={**os.environ, **(env or {})})
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_floor_child(args.events)))
        return
    samples: dict[str, list[float]] = {}
    me = [str(Path(__file__).resolve()), "--child", "--events", str(args.events)]
    forms: dict[str, dict[str, str]] = {
        "record form": {}, "record form, collector off": {"FLOOR_GC": "off"}, "line form": {"FLOOR_FORM": "splice"},
        "line form, collector off": {"FLOOR_FORM": "splice", "FLOOR_GC": "off"},
    }
    for _ in range(args.runs):
        for form, env in forms.items():
            for key, value in _run(me, env).items():
                samples.setdefault(f"{form}: {key}", []).append(value)
        for key, value in _run(["-c", _PICO.format(here=str(HERE), n=args.events)]).items():
            samples.setdefault(key, []).append(value)
    med = {key: statistics.median(values) for key, values in samples.items()}
    pico = med["pico_cpu_ns"]  # its whole process's CPU: one thread does everything, and load inflates it less
    print(f"## The floor under the throughput targets ({args.runs} runs, {args.events:,} events each; medians)\n")
    print("| per event, ns | the call | record + JSON + gate + write | whole |\n| --- | ---: | ---: | ---: |")
    for form in forms:
        print(f"| floor, {form} | {med[f'{form}: call_ns']:,.0f} | {med[f'{form}: worker_ns']:,.0f} | "
              f"{med[f'{form}: total_ns']:,.0f} |")
    print(f"\npicologging e2e: {pico:,.0f} ns of CPU per event ({med['pico_wall_ns']:,.0f} wall); budget of e2e ≥ 1.5x "
          f"picologging: {pico / 1.5:,.0f}; of 200k calls ≤ 0.5x picologging: {pico * 0.5:,.0f}")
    best = min(med["record form: total_ns"], med["line form: total_ns"])
    print(f"\nthe lower floor ÷ picologging: {best / pico:.2f}x the time per event ({pico / best:.2f}x its events/s)")


if __name__ == "__main__":
    main()
