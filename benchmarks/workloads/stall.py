"""(c) loop stall: how late a 1 ms asyncio ticker runs while the app logs into a 1 ms-per-write sink.

The library is configured inside the running loop (as an async app's startup would). A producer logs one
event per ``interval_s`` (default 1 ms) for ``n`` events; a ticker task sleeps 1 ms in a loop and records
how late each wake-up is. The ticker keeps running through the final drain, so a backlog processed on the
loop afterwards is seen too. Lost = logged - delivered after the drain (generous deadline).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from accounting import loss_report
from fixtures import DelaySink
from libs.base import Adapter
from probes import percentile

_TICK_S = 0.001


async def _scenario(adapter: Adapter, params: dict[str, Any]) -> dict[str, Any]:
    n = int(params["n"])
    interval = float(params.get("interval_s", 0.001))
    deadline_s = float(params.get("deadline_s", 60.0))
    sink = DelaySink(float(params.get("write_s", 0.001)))
    adapter.to_delay(sink)

    lateness_ms: list[float] = []
    in_logging_phase: list[bool] = []
    phase = {"logging": False, "stop": False}

    async def ticker() -> None:
        while not phase["stop"]:
            before = time.perf_counter()
            await asyncio.sleep(_TICK_S)
            lateness_ms.append((time.perf_counter() - before - _TICK_S) * 1e3)
            in_logging_phase.append(phase["logging"])

    tick_task = asyncio.create_task(ticker())
    await asyncio.sleep(0.05)  # ticker settles before the first event

    phase["logging"] = True
    start = time.perf_counter()
    for i in range(n):
        adapter.emit(i, i + 1)
        wait = start + (i + 1) * interval - time.perf_counter()
        await asyncio.sleep(wait if wait > 0 else 0)
    log_phase_s = time.perf_counter() - start
    phase["logging"] = False

    drain_start = time.perf_counter()
    pending = 0
    if adapter.self_accounting:
        drained = await asyncio.to_thread(adapter.drain, deadline_s)
    else:
        drained = await asyncio.to_thread(sink.wait_for, n, time.perf_counter() + deadline_s)
        if drained:
            drained = await asyncio.to_thread(adapter.drain, deadline_s)
    delivered = sink.delivered  # read once: an undrained worker may still be delivering
    if not adapter.self_accounting:
        pending = n - delivered
    drain_s = time.perf_counter() - drain_start
    phase["stop"] = True
    await tick_task

    during = [v for v, flag in zip(lateness_ms, in_logging_phase, strict=True) if flag]
    return {
        "max_ms": max(lateness_ms, default=0.0),
        "p99_ms": percentile(lateness_ms, 99),
        "p50_ms": percentile(lateness_ms, 50),
        "max_logging_ms": max(during, default=0.0),
        "ticks": len(lateness_ms),
        "log_phase_s": log_phase_s,
        "drain_s": drain_s,
        "drained": drained,
        "mean_write_ms": sink.mean_write_ms(),
        **loss_report(n, delivered, adapter.accounting(), pending=pending),
    }


def run(adapter: Adapter, params: dict[str, Any], tmp: Path) -> dict[str, Any]:
    return asyncio.run(_scenario(adapter, params))
