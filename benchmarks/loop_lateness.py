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
import tempfile
import time
from typing import Any

from probes import percentile
from variants import medians, run_alternated


async def _child(bursts: int, burst: int, gap: float) -> dict[str, Any]:
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
    return {"p50_ms": percentile(lateness, 50), "p99_ms": percentile(lateness, 99), "max_ms": max(lateness),
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
    variants = args.variant or [""]
    child_args = ["--bursts", str(args.bursts), "--burst", str(args.burst), "--gap", str(args.gap)]
    for variant, runs in run_alternated(__file__, child_args, variants, args.reps).items():
        print(f"{variant or '(defaults)'}: " + ", ".join(f"{key}={value:,.2f}" for key, value in medians(runs).items()))


if __name__ == "__main__":
    main()
