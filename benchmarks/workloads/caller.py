"""(a) caller: nanoseconds per logging call, timed around the calling loop only.

The library writes to a file; draining and closing happen after the timed region. A short warm-up
(ids after the measured ones) runs first so lazy initialisation and first-use caches are not counted.
The file is then checked: every id must be there once. The first 5,000 calls are also reported on their
own (``ns_per_event_head``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from accounting import loss_report
from fixtures import check_file
from libs.base import Adapter

# The first events are also timed on their own: a queued library's queue still has room for them, so
# this is its call cost before back-pressure; the full figure includes waiting for a full queue.
_HEAD = 5000


def run(adapter: Adapter, params: dict[str, Any], tmp: Path) -> dict[str, Any]:
    n = int(params["n"])
    warmup = int(params.get("warmup", min(1000, n // 20)))
    path = str(tmp / "caller.log")
    adapter.to_file(path)
    adapter.emit(n, n + warmup)
    head = min(_HEAD, n // 2)
    start = time.perf_counter_ns()
    adapter.emit(0, head)
    head_ns = time.perf_counter_ns() - start
    adapter.emit(head, n)
    elapsed_ns = time.perf_counter_ns() - start
    drain_start = time.perf_counter()
    drained = adapter.drain(timeout=float(params.get("drain_timeout_s", 60.0)))
    drain_s = time.perf_counter() - drain_start
    check = check_file(path, range(n + warmup))
    return {
        "ns_per_event": elapsed_ns / n,
        "ns_per_event_head": head_ns / head,
        "drain_s": drain_s,
        "drained": drained,
        **check.as_dict(),
        **loss_report(n + warmup, check.unique_ids, adapter.accounting()),
    }
