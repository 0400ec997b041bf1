"""How late a 1 ms asyncio ticker runs while the loop's own code logs bursts that the worker has to catch up with.

The `stall` workload logs one event per millisecond, so the worker never has a backlog and its turns stay small.
This one logs ``--burst`` events at once on the loop every ``--gap`` seconds (a request handler that logs a lot),
so the worker takes large turns on its thread while the ticker waits for the GIL. Each variant runs in fresh
processes, alternated, and the medians of each percentile are printed (settings by ``FAPILOG_*`` variables):

    .venv/bin/python benchmarks/loop_lateness.py --reps 4 \\
        --variant FAPILOG_QUEUE__BATCH_SIZE=256 --variant FAPILOG_QUEUE__BATCH_SIZE=2048
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


async def _child(bursts: int, burst: int, gap: float) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    import fapilog
    from fixtures import IP, MESSAGE, METHOD, PATH, STATUS

    fapilog.configure(level="INFO", sinks=[{"type": "file", "path": os.path.join(tempfile.mkdtemp(), "l.log")}])
    info = fapilog.get_logger("bench").info
    lateness: list[float] = []
    running = True

    async def ticker() -> None:
        while running:
            before = time.perf_counter()
            await asyncio.sleep(0.001)
            lateness.append((time.perf_counter() - before - 0.001) * 1e3)

    task = asyncio.create_task(ticker())
    for _ in range(bursts):
        for i in range(burst):
            info(MESSAGE, user_id=i, ip=IP, method=METHOD, path=PATH, status=STATUS)
        await asyncio.sleep(gap)
    running = False
    await task
    fapilog.flush(timeout=30)
    dropped = fapilog.stats()["dropped"]["total"]
    fapilog.shutdown(timeout=30)
    lateness.sort()
    count = len(lateness)
    return {"p50_ms": lateness[count // 2], "p99_ms": lateness[int(count * 0.99)], "max_ms": lateness[-1],
            "dropped": dropped}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variant", action="append", default=[], help="'ENV=VALUE ...' for one variant")
    parser.add_argument("--reps", type=int, default=4)
    parser.add_argument("--bursts", type=int, default=40)
    parser.add_argument("--burst", type=int, default=3000)
    parser.add_argument("--gap", type=float, default=0.03)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(_child(args.bursts, args.burst, args.gap))))
        return
    variants = args.variant or ["X=1"]
    results: dict[str, list[dict[str, Any]]] = {variant: [] for variant in variants}
    for _ in range(args.reps):
        for variant in variants:
            env = {**os.environ, **dict(pair.split("=", 1) for pair in variant.split())}
            out = subprocess.run(
                [sys.executable, __file__, "--child", "--bursts", str(args.bursts), "--burst", str(args.burst),
                 "--gap", str(args.gap)], env=env, capture_output=True, text=True, check=True)
            results[variant].append(json.loads(out.stdout.strip().splitlines()[-1]))
    for variant, runs in results.items():
        medians = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        print(f"{variant}: " + ", ".join(f"{key}={value:,.2f}" for key, value in medians.items()))


if __name__ == "__main__":
    main()
