"""(f) idle CPU: CPU time the whole process burns while the app does nothing after one log call.

The library writes one event to a file and is flushed; then the main thread sleeps ``window_s`` and the
process's user+system CPU time over that window is reported (background workers included).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from accounting import loss_report
from fixtures import check_file
from libs.base import Adapter
from probes import cpu_seconds


def run(adapter: Adapter, params: dict[str, Any], tmp: Path) -> dict[str, Any]:
    window = float(params["window_s"])
    path = str(tmp / "idle.log")
    adapter.to_file(path)
    adapter.emit(0, 1)
    adapter.flush()
    threads = threading.active_count()
    cpu_before = cpu_seconds()
    wall_before = time.perf_counter()
    time.sleep(window)
    cpu_ms = (cpu_seconds() - cpu_before) * 1e3
    wall_s = time.perf_counter() - wall_before
    adapter.drain(timeout=10.0)
    check = check_file(path, range(1))
    return {
        "cpu_ms": cpu_ms,
        "cpu_pct": cpu_ms / 1e3 / wall_s * 100,
        "window_s": wall_s,
        "threads": threads,
        **loss_report(1, check.unique_ids, adapter.accounting()),
    }
