"""What sink write spans cost: delivering through a batch sink with ``opentelemetry.spans`` off vs on.

    .venv/bin/python benchmarks/write_spans.py [--runs N] [--events N]

Each run is a fresh interpreter that installs an SDK ``TracerProvider`` exporting to memory (in both modes, so
the switch is the only difference), configures one in-memory ``write_batch`` sink (batches of 64, no waiting
for age), logs ``--events`` events and flushes. The report shows the median wall time per event and per batch
over runs, the ratio on/off, and how many write spans each mode exported (off must be 0). Timings are
reported, never asserted. Exit status 1 when a child fails or "off" exported a span.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import json, sys, time
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    import fapilog

    spans_on, events = sys.argv[1] == "on", int(sys.argv[2])
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)

    class BatchSink:
        name = "batches"
        runs_on_worker_loop = True
        def __init__(self):
            self.batches = 0
        async def write_batch(self, records):
            self.batches += 1
        async def write(self, record):
            pass

    sink = BatchSink()
    fapilog.configure(sinks=[sink], sink_defaults={"batch_size": 64, "batch_max_age": 0.0},
                      queue={"batch_size": 64}, opentelemetry={"spans": spans_on})
    log = fapilog.get_logger("bench")
    for i in range(1000):  # warm-up
        log.info("warm", i=i)
    fapilog.flush(30.0)
    exporter.clear()
    before = sink.batches
    started = time.perf_counter()
    for i in range(events):
        log.info("event", i=i)
    assert fapilog.flush(60.0)
    took = time.perf_counter() - started
    batches = sink.batches - before
    spans = sum(1 for s in exporter.get_finished_spans() if s.name == "fapilog.sink.write")
    fapilog.shutdown(10.0)
    print(json.dumps({"us_per_event": took * 1e6 / events, "us_per_batch": took * 1e6 / max(1, batches),
                      "batches": batches, "spans": spans}))
    """
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--events", type=int, default=50_000)
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {"off": [], "on": []}
    for _ in range(args.runs):
        for mode in ("off", "on"):  # interleaved: drift in the machine's load hits both modes alike
            done = subprocess.run([sys.executable, "-c", CHILD, mode, str(args.events)], capture_output=True,
                                  text=True, timeout=600, check=False)
            if done.returncode != 0:
                print(done.stderr, file=sys.stderr)
                return 1
            results[mode].append(json.loads(done.stdout))
    summary: dict[str, dict[str, float]] = {
        mode: {key: round(statistics.median(run[key] for run in runs), 3)
               for key in ("us_per_event", "us_per_batch", "batches", "spans")}
        for mode, runs in results.items()
    }
    summary["ratio_on_over_off"] = {
        key: round(summary["on"][key] / summary["off"][key], 3) for key in ("us_per_event", "us_per_batch")}
    print(json.dumps(summary, indent=2))
    return 1 if any(run["spans"] for run in results["off"]) else 0


if __name__ == "__main__":
    sys.exit(main())
