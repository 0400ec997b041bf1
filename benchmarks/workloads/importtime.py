"""(e) import: wall time of ``python -c "IMPORT"`` minus ``python -c "pass"``, in fresh interpreters.

Runs in the parent (it times whole interpreter launches). Launches are interleaved — baseline, then each
library, repeated — so drift on a noisy machine hits all of them alike; medians are reported. fapilog's
start-up figure (:data:`FIRST_LOG`) is the whole life of a short script: ``import fapilog``, the first log
call (which builds the pipeline), and the event's delivery at exit.

The launches run with bytecode caches, as an installed package has them (pip compiles wheels): one unmeasured
warm-up launch per statement writes them, and ``PYTHONDONTWRITEBYTECODE`` is left out of the launches'
environment, so a developer shell that sets it does not turn the figure into one of compiling source.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Mapping

BASELINE = "pass"
FIRST_LOG = "import fapilog; fapilog.get_logger('bench').info('hi')"
"""fapilog's start-up: import, first log call, and delivery at exit (to stdout, the default sink)."""


def _launch_s(stmt: str, env: Mapping[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", stmt], env=dict(env), check=True, capture_output=True)
    return time.perf_counter() - start


def measure(stmts: Mapping[str, str], reps: int, env: Mapping[str, str]) -> dict[str, dict[str, float]]:
    """Per library: median launch ms, bare-Python median ms, and their difference (``import_ms``)."""
    env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    samples: dict[str, list[float]] = {name: [] for name in (BASELINE, *stmts)}
    for stmt in stmts.values():
        _launch_s(stmt, env)  # warm-up: writes the bytecode caches
    for _ in range(reps):
        samples[BASELINE].append(_launch_s(BASELINE, env))
        for name, stmt in stmts.items():
            samples[name].append(_launch_s(stmt, env))
    bare_ms = statistics.median(samples[BASELINE]) * 1e3
    return {
        name: {
            "import_ms": statistics.median(samples[name]) * 1e3 - bare_ms,
            "launch_ms": statistics.median(samples[name]) * 1e3,
            "bare_ms": bare_ms,
            "reps": float(reps),
        }
        for name in stmts
    }
