"""The ``http`` sink: events/s into a local HTTP server, and the caller's cost while the server is down.

Three measurements, each in a fresh interpreter, repeated ``--runs`` times (medians reported):

* ``throughput``: log ``--events`` events to the ``http`` sink pointed at a local server (in this process, on
  127.0.0.1, answering 200), ``flush()``; events/s from the first log call to the end of the flush, and the
  server's count of received records (must equal the events, each once: accounting, not timing, is checked);
* ``healthy``: the caller's ns/event (timed around the logging loop only) for ``--calls`` events, fewer than
  the queue holds, with that server up;
* ``down``: the same with nothing listening on the port (connection refused, retries, the circuit opening);
  the ratio ``down ÷ healthy`` is the headline: the log call must not pay for a dead backend.

    .venv/bin/python benchmarks/network.py [--events 50000] [--calls 5000] [--runs 5] [--quick]

Exit status 1 when a child failed or the healthy server did not receive every event exactly once.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHILD = textwrap.dedent(
    """
    import json, sys, time
    import fapilog

    mode, url, events = sys.argv[1], sys.argv[2], int(sys.argv[3])
    # Default queue and buffer settings (wait, 10,000): the throughput run is lossless; the caller runs log
    # fewer events than the queue holds, so they time the log call, not back-pressure.
    fapilog.configure(sinks=[{"type": "http", "url": url, "timeout": 2.0}])
    log = fapilog.get_logger("bench")
    for i in range(1000):  # warm-up: lazy imports, the client's first connection
        log.info("warm-up", i=-1)
    fapilog.flush(30.0 if mode != "down" else 1.0)  # down: the first attempts and backoff are under way
    start = time.perf_counter_ns()
    for i in range(events):
        log.info("request served", i=i, path="/orders", status=200, duration_ms=12.5)
    call_ns = (time.perf_counter_ns() - start) / events
    flushed = fapilog.flush(120.0 if mode != "down" else 0.5)
    total_s = (time.perf_counter_ns() - start) / 1e9
    sink = fapilog.stats()["sinks"]["http"]
    report = fapilog.shutdown(2.0)
    print(json.dumps({"ns_per_event": call_ns, "events_per_s": events / total_s, "flush_ok": bool(flushed),
                      "delivered": sink["delivered"], "retried": sink["retried"], "circuit": sink["circuit"],
                      "undelivered": report.undelivered, "dropped": sink["dropped"]}))
    """
)


class _Counter(BaseHTTPRequestHandler):
    """Counts the NDJSON lines it receives (ids checked once each) and answers 200."""

    seen: set[int] = set()  # noqa: RUF012 - one server per process, shared by its handler threads
    duplicates = 0
    lock = threading.Lock()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        ids = [json.loads(line).get("i") for line in body.splitlines() if line]
        with _Counter.lock:
            for i in ids:
                if isinstance(i, int) and i >= 0:
                    if i in _Counter.seen:
                        _Counter.duplicates += 1
                    _Counter.seen.add(i)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


class _Server(ThreadingHTTPServer):
    request_queue_size = 256
    daemon_threads = True


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _child(mode: str, url: str, events: int) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-c", CHILD, mode, url, str(events)], capture_output=True, text=True,
                          timeout=300, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{mode} child failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    return json.loads(lines[-1])  # type: ignore[no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--calls", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="5,000 events, 1 run: a smoke run")
    args = parser.parse_args()
    events, calls, runs = (5_000, 2_000, 1) if args.quick else (args.events, args.calls, args.runs)
    server = _Server(("127.0.0.1", 0), _Counter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    up = f"http://127.0.0.1:{server.server_address[1]}/ingest"
    down = f"http://127.0.0.1:{_free_port()}/ingest"
    results: dict[str, list[dict[str, Any]]] = {"throughput": [], "healthy": [], "down": []}
    problems: list[str] = []
    order = ["throughput", "healthy", "down"]
    for run in range(runs):
        for mode in order[run % 3:] + order[:run % 3]:  # rotate the order between runs
            _Counter.seen.clear()
            _Counter.duplicates = 0
            count = events if mode == "throughput" else calls
            result = _child(mode, down if mode == "down" else up, count)
            results[mode].append(result)
            if mode != "down" and (len(_Counter.seen) != count or _Counter.duplicates):
                problems.append(f"run {run + 1} ({mode}): server got {len(_Counter.seen)} of {count} events, "
                                f"{_Counter.duplicates} duplicates")
    server.shutdown()

    def median(mode: str, key: str) -> float:
        return statistics.median(float(r[key]) for r in results[mode])

    healthy_ns, down_ns = median("healthy", "ns_per_event"), median("down", "ns_per_event")
    print(f"## http sink ({runs} run(s), fresh processes, medians)\n")
    print(f"Throughput into a local server: {median('throughput', 'events_per_s'):,.0f} events/s "
          f"({events:,} events, first log call to the end of flush()).\n")
    print(f"| server | caller ns/event ({calls:,} calls) | delivered | retried | circuit |")
    print("|---|---:|---:|---:|---|")
    for mode in ("healthy", "down"):
        last = results[mode][-1]
        print(f"| {mode} | {median(mode, 'ns_per_event'):,.0f} | {last['delivered']:,} | {last['retried']} | "
              f"{last['circuit']} |")
    print(f"\ncaller cost, server down ÷ healthy: {down_ns / healthy_ns:.2f}x")
    for problem in problems:
        print(f"- accounting: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
