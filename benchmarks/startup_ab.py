"""Start-up of two revisions of fapilog, side by side: wall and CPU time over bare Python, interleaved.

    .venv/bin/python benchmarks/startup_ab.py [--before REV] [--after REV] [--reps N] [--stmt STMT ...]

Extracts ``src/`` of each git revision (``--after`` defaults to the working tree) into a temporary directory
and launches ``python -c STMT`` with that tree first on ``PYTHONPATH``, alternating bare Python, the before
tree and the after tree ``--reps`` times, so load on a shared machine hits every case alike. Without
``--before`` only the after tree runs: handy to compare statements (``--stmt`` repeated) with each other.
Reports medians of the wall time and of the child's CPU time (user + system, from ``getrusage``), each minus
bare Python's. On a busy machine the CPU figure is the steadier one: waiting for a core is not counted in it.

Default statements: ``import fapilog``, and the start-up figure's script (import, first log, delivery at exit).
Bytecode caches are written by an unmeasured warm-up launch of each case. Timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_STMTS = ("import fapilog", "import fapilog; fapilog.get_logger('bench').info('hi')")


def _extract(rev: str, into: Path) -> Path:
    """``src/`` of ``rev`` under ``into`` (the working tree's own ``src`` when ``rev`` is empty)."""
    if not rev:
        return REPO / "src"
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", rev, "src"], capture_output=True,
                             check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def _launch(stmt: str, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one ``python -c stmt``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", stmt], env=env, capture_output=True, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default=None, help="git revision to compare against, e.g. main")
    parser.add_argument("--after", default="", help="git revision (default: the working tree)")
    parser.add_argument("--reps", type=int, default=21)
    parser.add_argument("--stmt", action="append", help="statement to time (repeatable)")
    args = parser.parse_args(argv)
    stmts = tuple(args.stmt or DEFAULT_STMTS)
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE" and not k.startswith("FAPILOG_")}
    with tempfile.TemporaryDirectory() as tmp:
        revisions = [("before", args.before)] if args.before is not None else []
        revisions.append(("after", args.after))
        trees = {name: _extract(rev, Path(tmp, name)) for name, rev in revisions}
        cases: list[tuple[str, str, dict[str, str]]] = [("bare", "pass", base)]
        cases += [(name, stmt, {**base, "PYTHONPATH": str(tree)}) for stmt in stmts for name, tree in trees.items()]
        for _, stmt, env in cases:
            _launch(stmt, env)  # warm-up: writes the bytecode caches
        samples: dict[int, list[tuple[float, float]]] = {i: [] for i in range(len(cases))}
        for _ in range(max(1, args.reps)):
            for i, (_, stmt, env) in enumerate(cases):
                samples[i].append(_launch(stmt, env))

    def median_ms(i: int, which: int) -> float:
        return statistics.median(s[which] for s in samples[i]) * 1e3

    bare_wall, bare_cpu = median_ms(0, 0), median_ms(0, 1)
    print(f"before = {args.before}, after = {args.after or 'working tree'}; medians of {args.reps} interleaved "
          f"launches; bare Python {bare_wall:.1f} ms wall, {bare_cpu:.1f} ms CPU\n")
    print("| statement | tree | wall ms over bare | CPU ms over bare |")
    print("|---|---|---:|---:|")
    for i, (name, stmt, _) in enumerate(cases[1:], start=1):
        print(f"| `{stmt}` | {name} | {median_ms(i, 0) - bare_wall:.1f} | {median_ms(i, 1) - bare_cpu:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
