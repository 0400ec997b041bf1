"""(b) e2e: events per second from the first call until every event is on disk (close included).

Then the file's lines are counted (``lines_lost = n - lines``, must be 0) and every id is checked.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from accounting import loss_report
from fixtures import check_file
from libs.base import Adapter


def run(adapter: Adapter, params: dict[str, Any], tmp: Path) -> dict[str, Any]:
    n = int(params["n"])
    path = str(tmp / "e2e.log")
    adapter.to_file(path)
    start = time.perf_counter()
    adapter.emit(0, n)
    drained = adapter.drain(timeout=float(params.get("drain_timeout_s", 60.0)))
    elapsed = time.perf_counter() - start
    check = check_file(path, range(n))
    return {
        "events_per_s": n / elapsed,
        "elapsed_s": elapsed,
        "drained": drained,
        "lines_lost": n - check.lines,
        **check.as_dict(),
        **loss_report(n, check.unique_ids, adapter.accounting()),
    }
