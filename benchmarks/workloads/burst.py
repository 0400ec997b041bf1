"""(d) burst: log ``n`` events as fast as possible into a sink whose every write takes 0.1 ms.

Only for libraries that queue (fapilog, stdlib-queue, loguru with enqueue=True). Reports the peak RSS
growth (sampled every 10 ms), the time until the last event left the queue, and what happened to every
event. The whole run is capped at ``cap_s``: a library still logging or draining then is reported as
capped, with the events still queued counted as ``pending`` (fapilog must count them as dropped).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from accounting import loss_report
from fixtures import DelaySink
from libs.base import Adapter
from probes import RssSampler

_CHUNK = 1000


def run(adapter: Adapter, params: dict[str, Any], tmp: Path) -> dict[str, Any]:
    n = int(params["n"])
    cap_s = float(params["cap_s"])
    sink = DelaySink(float(params.get("write_s", 0.0001)))
    adapter.to_delay(sink)
    pending = 0
    with RssSampler(0.01) as rss:
        start = time.perf_counter()
        deadline = start + cap_s
        logged = 0
        while logged < n and time.perf_counter() < deadline:
            stop = min(n, logged + _CHUNK)
            adapter.emit(logged, stop)
            logged = stop
        log_phase_s = time.perf_counter() - start
        remaining = max(1.0, deadline - time.perf_counter())
        if adapter.self_accounting:
            drained = adapter.drain(remaining)
        else:
            drained = sink.wait_for(logged, time.perf_counter() + remaining)
            if drained:
                drained = adapter.drain(remaining)
        elapsed = time.perf_counter() - start
    delivered = sink.delivered  # read once: a capped worker may still be delivering
    if not adapter.self_accounting:
        pending = logged - delivered
    capped = logged < n or not drained
    return {
        "elapsed_s": elapsed,
        "log_phase_s": log_phase_s,
        "rss_growth_mb": rss.growth_mb,
        "rss_samples": rss.samples,
        "capped": capped,
        "drained": drained,
        "mean_write_ms": sink.mean_write_ms(),
        # Capped libraries without their own accounting still hold events in a worker: exit hard.
        "hard_exit": capped and not adapter.self_accounting,
        **loss_report(logged, delivered, adapter.accounting(), pending=pending),
    }
