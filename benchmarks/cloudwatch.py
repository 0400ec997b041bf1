"""The ``cloudwatch`` sink: events/s into CloudWatch Logs (moto's server), requests per 10k events, and what
running boto3 on the sink's own thread buys the other sinks.

Each measurement runs in a fresh interpreter against moto's threaded server on 127.0.0.1 (started by this
process), repeated ``--runs`` times (medians reported). The child logs ``--events`` events to two sinks, the
``cloudwatch`` sink and a ``memory`` sink, and reports:

* events/s from the first log call to the end of ``flush()`` (both sinks done);
* PutLogEvents requests per 10,000 events (counted by a botocore ``before-send`` hook on the sink's client);
* how long the ``memory`` sink took to receive every event: the cost one sink's blocking calls put on others.

Two placements of the blocking boto3 calls are compared:

* ``thread`` (what the sink does): the core runs it on its own thread and event loop;
* ``worker_loop``: the same sink declared ``runs_on_worker_loop = True``, so boto3 blocks the worker's loop
  (what a naive sink would do) — shown only to measure the difference.

Each placement runs as is (moto answers within about a millisecond) and with ``--latency-ms`` added to every
PutLogEvents (a ``before-send`` hook that sleeps: a stand-in for the round trip to a real region).

The parent reads the stream back and checks every event arrived exactly once (accounting, not timing).

    .venv/bin/python benchmarks/cloudwatch.py [--events 50000] [--runs 3] [--latency-ms 50] [--quick]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import textwrap
from typing import Any

CHILD = textwrap.dedent(
    """
    import json, sys, threading, time
    import fapilog
    from fapilog.builtins.sinks.cloudwatch import CloudWatchSink
    from fapilog.builtins.sinks.memory import MemorySink

    mode, url, events, stream, latency = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5])

    class OnWorkerLoop(CloudWatchSink):
        runs_on_worker_loop = True

    kind = CloudWatchSink if mode == "thread" else OnWorkerLoop
    sink = kind("/bench", log_stream=stream, endpoint_url=url, region="us-east-1")
    memory = MemorySink()
    fapilog.configure(sinks=[sink, memory], queue={"wait_timeout": 60.0})
    puts = [0]

    def count(**_):  # counts each request; with a latency, blocks like a round trip to AWS would
        puts[0] += 1
        if latency:
            time.sleep(latency)

    sink.client.meta.events.register("before-send.cloudwatch-logs.PutLogEvents", count)
    log = fapilog.get_logger("bench")
    for i in range(1000):  # warm-up: lazy imports, the stream's creation, the first connection
        log.info("warm-up", i=-1)
    fapilog.flush(60.0)
    memory.clear()
    puts[0] = 0
    caught_up = []

    def watch():  # when did the memory sink have every event?
        while len(memory.lines) < events:
            time.sleep(0.001)
        caught_up.append(time.perf_counter_ns())

    watcher = threading.Thread(target=watch, daemon=True)
    start = time.perf_counter_ns()
    watcher.start()
    for i in range(events):
        log.info("request served", i=i, path="/orders", status=200, duration_ms=12.5, user="ünïcødé")
    flushed = fapilog.flush(300.0)
    total_s = (time.perf_counter_ns() - start) / 1e9
    watcher.join(60)
    stats = fapilog.stats()["sinks"]["cloudwatch"]
    fapilog.shutdown(5.0)
    print(json.dumps({"events_per_s": events / total_s, "flush_ok": bool(flushed), "puts": puts[0],
                      "memory_s": (caught_up[0] - start) / 1e9 if caught_up else None,
                      "delivered": stats["delivered"], "retried": stats["retried"]}))
    """
)


def _child(mode: str, url: str, events: int, stream: str, latency: float) -> dict[str, Any]:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION":
           "us-east-1"}
    env.pop("AWS_PROFILE", None)
    proc = subprocess.run([sys.executable, "-c", CHILD, mode, url, str(events), stream, str(latency)],
                          capture_output=True,
                          text=True, timeout=600, check=False, env=env)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{mode} child failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    return json.loads(lines[-1])  # type: ignore[no-any-return]


def _received(client: Any, stream: str) -> list[int]:
    ids: list[int] = []
    token = None
    while True:
        kwargs: dict[str, Any] = {"logGroupName": "/bench", "logStreamName": stream, "startFromHead": True}
        if token:
            kwargs["nextToken"] = token
        page = client.get_log_events(**kwargs)
        ids += [i for i in (json.loads(e["message"]).get("i") for e in page["events"]) if i != -1]
        if page["nextForwardToken"] == token or not page["events"]:
            return ids
        token = page["nextForwardToken"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=50.0,
                        help="added to each PutLogEvents in the second pair of runs (a round trip to AWS)")
    parser.add_argument("--quick", action="store_true", help="5,000 events, 1 run: a smoke run")
    args = parser.parse_args()
    latency = args.latency_ms / 1000
    events, runs = (5_000, 1) if args.quick else (args.events, args.runs)
    try:
        import boto3
        from moto.server import ThreadedMotoServer
    except ImportError:
        print("needs boto3 and moto[logs], flask, flask-cors (the dev extra)")
        return 1
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    client = boto3.client("logs", endpoint_url=url, region_name="us-east-1", aws_access_key_id="bench",
                          aws_secret_access_key="bench")
    order = ["thread", "worker_loop", "thread+latency", "worker_loop+latency"]
    results: dict[str, list[dict[str, Any]]] = {mode: [] for mode in order}
    problems: list[str] = []
    for run in range(runs):
        for mode in order[run % 4:] + order[:run % 4]:  # rotate which goes first
            stream = f"{mode.replace('+', '-')}-{run}"
            placement, _, slow = mode.partition("+")
            result = _child(placement, url, events, stream, latency if slow else 0.0)
            results[mode].append(result)
            got = _received(client, stream)
            if sorted(got) != list(range(events)):
                problems.append(f"run {run + 1} ({mode}): {len(got)} events read back, {len(set(got))} distinct, "
                                f"of {events}")
    server.stop()

    def median(mode: str, key: str) -> float:
        return statistics.median(float(r[key]) for r in results[mode] if r[key] is not None)

    print(f"## cloudwatch sink into moto ({runs} run(s) of {events:,} events, fresh processes, medians)\n")
    print("| boto3 runs on | events/s | PutLogEvents per 10k events | memory sink had every event after (s) |")
    print("|---|---:|---:|---:|")
    for mode in order:
        print(f"| {mode} | {median(mode, 'events_per_s'):,.0f} | {median(mode, 'puts') * 10_000 / events:.1f} | "
              f"{median(mode, 'memory_s'):.3f} |")
    for suffix, label in (("", "moto's answer time"), ("+latency", f"+{args.latency_ms:.0f} ms per request")):
        ratio = median("worker_loop" + suffix, "memory_s") / median("thread" + suffix, "memory_s")
        print(f"\nmemory sink catch-up, boto3 on the worker loop ÷ on its own thread ({label}): {ratio:.2f}x")
    for problem in problems:
        print(f"- accounting: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
