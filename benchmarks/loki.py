"""The ``loki`` sink: events/s into the Loki stand-in, and body bytes on the wire per event, by encoding.

For each encoding (``protobuf``: snappy-compressed ``PushRequest``, the default; ``json+gzip``; ``json``
uncompressed, for reference) a fresh interpreter logs ``--events`` events to the ``loki`` sink pointed at the
test suite's Loki stand-in (``tests/_loki_receiver.py``, in this process, on 127.0.0.1: it decodes every body
and validates every entry, as Loki would) and flushes. Measured: events/s from the first log call to the end
of ``flush()``, and the request bodies' bytes per event as received (headers excluded). The stand-in must
hold every event exactly once (accounting is checked, timings are not). Encodings are run in rotated order,
``--runs`` times; medians are reported, with ratios to protobuf.

    .venv/bin/python benchmarks/loki.py [--events 50000] [--runs 5] [--quick]

Exit status 1 when a child failed or an event was lost or doubled.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests._loki_receiver import LokiReceiver  # noqa: E402 - the stand-in lives in the test suite

ENCODINGS = {"protobuf": {"encoding": "protobuf"}, "json+gzip": {"encoding": "json", "compression": "gzip"},
             "json": {"encoding": "json"}}

CHILD = textwrap.dedent(
    """
    import json, sys, time
    import fapilog

    url, settings, events = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
    fapilog.configure(sinks=[{"type": "loki", "url": url, "tenant": "bench", "timeout": 5.0,
                              "labels": {"service": "bench", "env": "prod"}, "label_fields": ["level"],
                              "structured_metadata": ["trace_id"], **settings}])
    log = fapilog.get_logger("bench")
    for i in range(1000):  # warm-up: lazy imports, the client's first connection
        log.info("warm-up", i=-1)
    fapilog.flush(30.0)
    print(json.dumps({"warm": True}), flush=True)
    sys.stdin.readline()  # the parent resets its counters, then says go
    start = time.perf_counter_ns()
    for i in range(events):
        (log.warning if i % 10 == 0 else log.info)("request served", i=i, path="/orders/1042", status=200,
                                                    duration_ms=12.5, trace_id="4bf92f3577b34da6a3ce929d0e0e4736")
    flushed = fapilog.flush(120.0)
    total_s = (time.perf_counter_ns() - start) / 1e9
    sink = fapilog.stats()["sinks"]["loki"]
    fapilog.shutdown(5.0)
    print(json.dumps({"events_per_s": events / total_s, "flush_ok": bool(flushed), "delivered": sink["delivered"]}))
    """
)


def _child(url: str, settings: dict[str, Any], events: int, receiver: LokiReceiver) -> dict[str, Any]:
    proc = subprocess.Popen([sys.executable, "-c", CHILD, url, json.dumps(settings), str(events)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdin is not None and proc.stdout is not None
    warm = proc.stdout.readline()
    if not warm.startswith("{"):
        proc.kill()
        raise RuntimeError(f"child failed before the run: {proc.communicate()[1].strip()[-500:]}")
    receiver.entries.clear()
    receiver.pushes.clear()
    proc.stdin.write("go\n")
    proc.stdin.flush()
    out, err = proc.communicate(timeout=300)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"child failed ({proc.returncode}): {err.strip()[-500:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    ids = [json.loads(entry.line)["i"] for entry in receiver.entries]
    result["received"], result["unique"] = len(ids), len(set(ids))
    result["bytes_per_event"] = sum(push.size for push in receiver.pushes) / max(1, len(ids))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="5,000 events, 1 run: a smoke run")
    args = parser.parse_args()
    events, runs = (5_000, 1) if args.quick else (args.events, args.runs)
    receiver = LokiReceiver()
    receiver.start()
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in ENCODINGS}
    problems: list[str] = []
    order = list(ENCODINGS)
    try:
        for run in range(runs):
            for name in order[run % 3:] + order[:run % 3]:  # rotate the order between runs
                result = _child(receiver.url, ENCODINGS[name], events, receiver)
                results[name].append(result)
                if result["received"] != events or result["unique"] != events or not result["flush_ok"]:
                    problems.append(f"run {run + 1} ({name}): stand-in got {result['received']} entries, "
                                    f"{result['unique']} distinct, of {events}")
    finally:
        receiver.stop()

    def median(name: str, key: str) -> float:
        return statistics.median(float(r[key]) for r in results[name])

    base_rate, base_bytes = median("protobuf", "events_per_s"), median("protobuf", "bytes_per_event")
    print(f"## loki sink ({runs} run(s) of {events:,} events, fresh processes, medians)\n")
    print("| encoding | events/s | ÷ protobuf | body bytes/event | ÷ protobuf |")
    print("|---|---:|---:|---:|---:|")
    for name in ENCODINGS:
        rate, size = median(name, "events_per_s"), median(name, "bytes_per_event")
        print(f"| {name} | {rate:,.0f} | {rate / base_rate:.2f}x | {size:,.1f} | {size / base_bytes:.2f}x |")
    for problem in problems:
        print(f"- accounting: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
