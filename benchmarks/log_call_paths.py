"""The caller's CPU per log call on each of its paths, A/B by environment (another checkout by ``PYTHONPATH``).

The level methods take one of several paths: with room and nothing else to do they append the event themselves
(``plain``); capture hooks (``hooks``), an exception (``exc_info``), ``log.log()`` (``log``) and a bound handle
(``bound``) each take their own. This prices each path alone: the log calls are routed to a queue of their own
with no worker (the queue is emptied between rounds, off the clock), so nothing but the call is measured, in the
calling thread's CPU time (``time.thread_time``: the shared machine's other load does not count). Each
measurement runs in a fresh interpreter; the driver alternates the variants and prints medians of ns per call.

    .venv/bin/python benchmarks/log_call_paths.py --reps 6 \\
        --variant 'PYTHONPATH=/tmp/base-before/src' --variant 'X=1'
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Any

from variants import medians, run_alternated

PATHS = ("plain", "hooks", "exc_info", "log", "bound")
_CALLS = 2_000
"""Calls per round (the queue's capacity is larger: every call finds room)."""
_ROUNDS = 100


def _child() -> dict[str, float]:
    import fapilog
    from fapilog._engine import logger as logger_module
    from fapilog._engine.emit import make_emit
    from fapilog._engine.queue import EventQueue

    log = fapilog.get_logger("bench")
    log._threshold = 0
    bound = log.bind(request_id="r-1")
    queue = EventQueue(_CALLS * 2, "drop_newest", wait_timeout=0.0, protect_level=100)
    error = ValueError("boom")
    plain = make_emit(queue)
    hooked = make_emit(queue, [("span", lambda: None)])
    emits = {"plain": plain, "hooks": hooked, "exc_info": plain, "log": plain, "bound": plain}
    result: dict[str, float] = {}
    for path in PATHS:
        logger_module.route(emits[path])
        per_round = []
        for _ in range(_ROUNDS):
            queue.items.clear()
            per_round.append(_timed(path, log, bound, error))
        result[path] = statistics.median(per_round)
    return result


def _timed(path: str, log: Any, bound: Any, error: BaseException) -> float:
    """ns per call over one round (the loop is written out per path: no extra call on the clock)."""
    n = range(_CALLS)
    start = time.thread_time_ns()
    if path in ("plain", "hooks"):
        for _ in n:
            log.info("request", method="GET", status=200)
    elif path == "exc_info":
        for _ in n:
            log.error("request", exc_info=error, method="GET", status=200)
    elif path == "log":
        for _ in n:
            log.log(20, "request", method="GET", status=200)
    else:
        for _ in n:
            bound.info("request", method="GET", status=200)
    return (time.thread_time_ns() - start) / _CALLS


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=6)
    parser.add_argument("--variant", action="append", default=[], help="'ENV=VALUE ...' for one variant")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child()))
        return 0
    variants = args.variant or [""]
    by_variant = {v: medians(runs) for v, runs in run_alternated(__file__, [], variants, args.reps).items()}
    first = variants[0]
    for variant, by_path in by_variant.items():
        ratios = ", ".join(f"{p}={by_path[p]:,.0f} ns ({by_path[p] / by_variant[first][p]:.2f}x)" for p in PATHS)
        print(f"{variant or '(defaults)'}: {ratios}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
