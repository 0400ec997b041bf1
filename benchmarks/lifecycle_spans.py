"""What lifecycle spans cost: building and stopping a pipeline with ``opentelemetry.spans`` off vs on.

    .venv/bin/python benchmarks/lifecycle_spans.py [--runs N] [--cycles N]

Each run is a fresh interpreter that installs an SDK ``TracerProvider`` exporting to memory (in both modes,
so the switch is the only difference), then times ``--cycles`` rounds of ``configure()`` with six plugins
(level, sampling, runtime, context, field_mask, memory) followed by ``shutdown()``. The report shows the
median per round over runs, the ratio on/off, and how many spans each mode exported (off must be 0).
Timings are reported, never asserted. Exit status 1 when a child fails or "off" exported a span.
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

    spans_on, cycles = sys.argv[1] == "on", int(sys.argv[2])
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    plugins = dict(filters=["level", {"type": "sampling", "rate": 1.0}], enrichers=["runtime", "context"],
                   redactors=["field_mask"], sinks=["memory"])
    fapilog.configure(opentelemetry={"spans": spans_on}, **plugins)  # warm-up: imports, discovery scan
    fapilog.shutdown(5.0)
    exporter.clear()
    took = []
    for _ in range(cycles):
        started = time.perf_counter()
        fapilog.configure(opentelemetry={"spans": spans_on}, **plugins)
        fapilog.shutdown(5.0)
        took.append(time.perf_counter() - started)
    took.sort()
    print(json.dumps({"median_ms": took[len(took) // 2] * 1000.0, "spans": len(exporter.get_finished_spans())}))
    """
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cycles", type=int, default=30)
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {"off": [], "on": []}
    for _ in range(max(1, args.runs)):
        for mode in ("off", "on"):  # interleaved, so a noisy moment hits both modes
            done = subprocess.run([sys.executable, "-c", CHILD, mode, str(args.cycles)], capture_output=True,
                                  text=True, timeout=300, check=False)
            if done.returncode != 0:
                print(done.stderr, file=sys.stderr)
                return 1
            results[mode].append(json.loads(done.stdout))
    medians = {mode: statistics.median(r["median_ms"] for r in runs) for mode, runs in results.items()}
    spans = {mode: runs[0]["spans"] for mode, runs in results.items()}
    print(f"configure()+shutdown() with 6 plugins, median of {args.runs} fresh processes x {args.cycles} rounds")
    for mode in ("off", "on"):
        print(f"  spans {mode:3}: {medians[mode]:8.3f} ms per round, {spans[mode]:3d} spans exported per run")
    print(f"  ratio on/off: {medians['on'] / medians['off']:.3f}")
    return 0 if spans["off"] == 0 and spans["on"] > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
