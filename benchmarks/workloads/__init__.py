"""Workloads run inside a child process: each takes an adapter and parameters and returns a flat dict.

The import workload is not here: it times whole interpreter launches, so the parent runs it
(see ``importtime.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from libs.base import Adapter
from workloads import burst, caller, e2e, idle, stall

Workload = Callable[[Adapter, dict[str, Any], Path], dict[str, Any]]

WORKLOADS: dict[str, Workload] = {
    "caller": caller.run,
    "e2e": e2e.run,
    "stall": stall.run,
    "burst": burst.run,
    "idle": idle.run,
}
