"""The awaitable log call against the sync one: loss and loop stall into a slow sink, and the call's cost.

Two measurements, each in fresh interpreters, the two forms interleaved run by run, medians reported:

1. **Slow sink** — a coroutine logs ``--events`` events (default 20,000) in bursts of ``--burst`` (default
   1,000, the loop gets a turn between bursts) into a sink that blocks 1 ms per ``write``, with the default
   queue settings. A ticker task sleeps 1 ms in a loop and records how late each wake-up is (the loop stall),
   through the logging phase and the drain; a run without logging gives the machine's own timer noise.
   Reports events lost (logged - delivered), the drop counters,
   and the stall p99 / max. The sync call never blocks the loop, so it drops (counted); ``await log.ainfo``
   waits for room without blocking the loop, so it loses nothing.
2. **Cost with room** — nanoseconds per call while the queue has room (blocks of 5,000 calls, flushed between
   blocks, so the queue never fills): ``log.info`` from a coroutine against ``await log.ainfo``.

    .venv/bin/python benchmarks/async_backpressure.py [--events 20000] [--burst 1000] [--runs 3] [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import textwrap

SLOW_SINK = textwrap.dedent(
    """
    import asyncio, json, sys, time, fapilog

    mode, n, burst = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

    class SlowSink:
        name = "slow"
        delivered = 0

        async def write(self, record):
            time.sleep(0.001)  # a blocking 1 ms write; the sink runs on its own thread
            SlowSink.delivered += 1

    async def main():
        fapilog.configure(sinks=[SlowSink()])
        log = fapilog.get_logger("bench")
        lateness, stop = [], False

        async def ticker():
            while not stop:
                before = time.perf_counter()
                await asyncio.sleep(0.001)
                lateness.append((time.perf_counter() - before - 0.001) * 1e3)

        task = asyncio.create_task(ticker())
        await asyncio.sleep(0.05)
        start = time.perf_counter()
        if mode == "none":  # the machine's own timer noise: the same ticker, no logging at all
            await asyncio.sleep(3.0)
        for first in range(0, n if mode != "none" else 0, burst):
            for i in range(first, min(n, first + burst)):
                if mode == "awaitable":
                    await log.ainfo("user login", user_id=i, status=200)
                else:
                    log.info("user login", user_id=i, status=200)
            await asyncio.sleep(0)
        log_s = time.perf_counter() - start
        flushed = (await fapilog.aflush(600.0)).ok
        stop = True
        await task
        stats = fapilog.stats()
        lateness.sort()
        p99 = lateness[min(len(lateness) - 1, int(len(lateness) * 0.99))]
        print(json.dumps({
            "lost": n - SlowSink.delivered if mode != "none" else 0,
            "dropped": stats["dropped"]["by_reason"], "flushed": flushed,
            "p99_ms": p99, "max_ms": lateness[-1], "log_s": log_s,
        }))

    asyncio.run(main())
    """
)

COST = textwrap.dedent(
    """
    import asyncio, json, sys, time, fapilog

    mode, blocks = sys.argv[1], int(sys.argv[2])
    BLOCK = 5000

    class Null:
        name = "null"

        async def write(self, record):
            return None

        async def write_batch(self, records):
            return None

    async def main():
        fapilog.configure(sinks=[Null()])
        log = fapilog.get_logger("bench")
        per_call = []
        for b in range(blocks + 1):
            await fapilog.aflush(30.0)  # an empty queue: every call of the block finds room
            start = time.perf_counter_ns()
            if mode == "awaitable":
                ainfo = log.ainfo
                for i in range(BLOCK):
                    await ainfo("user login", user_id=i, ip="10.0.0.1", method="GET", path="/a", status=200)
            else:
                info = log.info
                for i in range(BLOCK):
                    info("user login", user_id=i, ip="10.0.0.1", method="GET", path="/a", status=200)
            if b:  # the first block is the warm-up
                per_call.append((time.perf_counter_ns() - start) / BLOCK)
        await fapilog.aflush(30.0)
        dropped = fapilog.stats()["dropped"]["total"]
        per_call.sort()
        print(json.dumps({"ns": per_call[len(per_call) // 2], "dropped": dropped}))

    asyncio.run(main())
    """
)


def _child(code: str, *args: object) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, check=True, timeout=900
    )
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _median(runs: list[dict[str, object]], key: str) -> float:
    return statistics.median(float(r[key]) for r in runs)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--burst", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--blocks", type=int, default=40, help="blocks of 5,000 calls for the cost figure")
    parser.add_argument("--quick", action="store_true", help="2,000 events, 1 run, 5 blocks (a smoke run)")
    args = parser.parse_args()
    if args.quick:
        args.events, args.burst, args.runs, args.blocks = 2_000, 500, 1, 5

    slow: dict[str, list[dict[str, object]]] = {"none": [], "sync": [], "awaitable": []}
    cost: dict[str, list[dict[str, object]]] = {"sync": [], "awaitable": []}
    for _ in range(args.runs):  # interleaved, so machine noise hits both forms alike
        slow["none"].append(_child(SLOW_SINK, "none", args.events, args.burst))
        for mode in ("sync", "awaitable"):
            slow[mode].append(_child(SLOW_SINK, mode, args.events, args.burst))
            cost[mode].append(_child(COST, mode, args.blocks))

    print(f"Slow sink: {args.events:,} events in bursts of {args.burst:,} from a coroutine, 1 ms per write, "
          f"default queue; medians of {args.runs} fresh processes (lost: worst run)\n")
    print("| form | lost (worst) | drops by reason (last run) | loop stall p99 ms | stall max ms |")
    print("| --- | ---: | --- | ---: | ---: |")
    for mode, label in (("none", "no logging (the machine's floor)"), ("sync", "`log.info(...)`"),
                        ("awaitable", "`await log.ainfo(...)`")):
        runs = slow[mode]
        lost = max(int(r["lost"]) for r in runs)  # type: ignore[call-overload]
        print(f"| {label} | {lost:,} | {runs[-1]['dropped'] or '-'} | {_median(runs, 'p99_ms'):.2f} | "
              f"{_median(runs, 'max_ms'):.2f} |")
    sync_ns, awaitable_ns = _median(cost["sync"], "ns"), _median(cost["awaitable"], "ns")
    print(f"\nCost with room (median per call, {args.runs} processes x {args.blocks} blocks of 5,000 calls):")
    print("\n| call, from a coroutine | ns/call |\n| --- | ---: |")
    print(f"| `log.info(...)` | {sync_ns:,.0f} |\n| `await log.ainfo(...)` | {awaitable_ns:,.0f} |")
    print(f"\nratio awaitable / sync: {awaitable_ns / sync_ns:.2f}")
    if any(int(r["lost"]) for r in slow["awaitable"]):  # type: ignore[call-overload]
        raise SystemExit("the awaitable form lost events")


if __name__ == "__main__":
    main()
