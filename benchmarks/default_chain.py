"""Cost of the default pipeline and of the recommended stage chain, end to end, against the bare pipeline.

Bare is ``redactors=[]`` (no stage at all); the default runs the ``secrets`` redactor every pipeline gets; the
chain: ``runtime`` + ``context`` enrichers, ``secrets`` + the ``credentials`` preset and ``size_guard``. Each
measurement runs in a fresh interpreter: N events of 5 fields are logged into a file sink and timed until
``flush()`` returns; the line count proves nothing was lost. Prints medians, the per-event cost the chain
adds on the worker, and the ratio of throughputs.

    .venv/bin/python benchmarks/default_chain.py [--events 100000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

CHAIN = {
    "enrichers": [{"type": "runtime", "service": "bench"}, "context"],
    "redactors": [{"type": "preset", "names": ["credentials"]}],
    "processors": ["size_guard"],
}

CHILD = textwrap.dedent(
    """
    import json, sys, time, fapilog
    path, n, chain = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
    fapilog.configure(sinks=[{"type": "file", "path": path}], **chain)
    log = fapilog.get_logger("bench")
    start = time.perf_counter()
    with fapilog.scoped(request_id="r-1"):
        for i in range(n):
            log.info("user login", user_id=i, ip="10.0.0.1", method="GET", path="/api/v1/items", token="t-1")
    ok = fapilog.flush(120.0).ok
    elapsed = time.perf_counter() - start
    with open(path, "rb") as fh:
        lines = sum(1 for _ in fh)
    print(json.dumps({"eps": n / elapsed, "lines": lines, "ok": ok}))
    """
)


def measure(chain: dict[str, object], events: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "out.log"
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, str(path), str(events), json.dumps(chain)],
            capture_output=True, text=True, check=True, timeout=600,
        )
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    if result["lines"] != events or not result["ok"]:
        raise SystemExit(f"lost events: {result}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    bare: list[float] = []
    default: list[float] = []
    chained: list[float] = []
    for _ in range(args.runs):  # interleaved, so machine noise hits all alike
        bare.append(measure({"redactors": []}, args.events)["eps"])
        default.append(measure({}, args.events)["eps"])
        chained.append(measure(CHAIN, args.events)["eps"])
    b, d, c = statistics.median(bare), statistics.median(default), statistics.median(chained)
    print("| pipeline | events/s (median) |\n| --- | ---: |")
    print(f"| no stages (`redactors=[]`) | {b:,.0f} |\n| defaults (`secrets`) | {d:,.0f} |")
    print(f"| runtime + context + secrets + credentials preset + size_guard | {c:,.0f} |")
    print(f"\ndefaults add {1e6 / d - 1e6 / b:.2f} µs per event; throughput ratio {d / b:.2f}")
    print(f"chain adds {1e6 / c - 1e6 / b:.2f} µs per event; throughput ratio {c / b:.2f}")


if __name__ == "__main__":
    main()
