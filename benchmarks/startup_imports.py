"""What a short script's start-up imports, and what of it fapilog could avoid: an ``-X importtime`` top list.

    .venv/bin/python benchmarks/startup_imports.py [--runs N] [--top N] [--stmt STMT]

Runs ``python -X importtime -c STMT`` (by default the start-up figure's script: ``import fapilog``, the first
log call, delivery at exit) ``--runs`` times in fresh interpreters with bytecode caches, takes each module's
least self time over the runs (the least is the least disturbed by other load on a shared machine), and splits
the modules into (what bare ``python -c pass`` imports is left out altogether)

* the *floor*: what ``import orjson, threading`` imports by itself (the serializer, which brings ``dataclasses``,
  ``inspect``, ``uuid``, ``datetime`` and ``json`` with it, and the worker thread): fapilog cannot avoid these while
  it writes JSON with orjson. A short script delivered without its worker imports no ``asyncio``; when the
  statement imports it anyway (``--stmt`` with ``fapilog.flush()``, a pipeline with another plugin), the part only
  ``asyncio`` brings is reported too;
* everything else: fapilog's own modules and the standard-library modules only they import.

Prints both sums and the top modules of each as Markdown. Timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Sequence

FIRST_LOG = "import fapilog; fapilog.get_logger('bench').info('hi')"
FLOOR = "import orjson, threading"
LOOP = "import asyncio"
_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")


def _self_times(stmt: str, runs: int) -> dict[str, int]:
    """Least self time (µs) per module over ``runs`` launches of ``python -X importtime -c stmt``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    best: dict[str, int] = {}
    for _ in range(runs + 1):  # the first launch writes the bytecode caches and is not counted
        proc = subprocess.run([sys.executable, "-X", "importtime", "-c", stmt], env=env, capture_output=True,
                              text=True, check=True)
        seen: dict[str, int] = {}
        for line in proc.stderr.splitlines():
            m = _LINE.match(line)
            if m:
                seen[m.group(4)] = int(m.group(1))
        if _ == 0:
            continue
        for name, us in seen.items():
            best[name] = min(us, best.get(name, us))
    return best


def _table(rows: Sequence[tuple[str, int]], top: int) -> list[str]:
    lines = ["| module | self ms |", "|---|---:|"]
    lines += [f"| `{name}` | {us / 1000:.1f} |" for name, us in rows[:top]]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--stmt", default=FIRST_LOG)
    args = parser.parse_args(argv)
    runs = max(1, args.runs)
    measured = _self_times(args.stmt, runs)
    bare = set(_self_times("pass", 1))  # the interpreter's own start-up (site, encodings): not ours to count
    measured = {name: us for name, us in measured.items() if name not in bare}
    floor_names = set(_self_times(FLOOR, 1))
    # what the statement imported that only the event loop needs (nothing, when it never imported asyncio)
    loop_names = set(_self_times(LOOP, 1)) - floor_names if "asyncio" in measured else set()
    floor = sorted(((n, us) for n, us in measured.items() if n in floor_names), key=lambda r: -r[1])
    loop = sum(us for n, us in measured.items() if n in loop_names)
    own = sorted(((n, us) for n, us in measured.items() if n not in floor_names | loop_names), key=lambda r: -r[1])
    print(f"`python -X importtime -c \"{args.stmt}\"`, least self time of {runs} runs per module\n")
    print(f"* modules imported: {len(measured)}; total self time {sum(measured.values()) / 1000:.1f} ms")
    print(f"* floor (`{FLOOR}` imports them too): {len(floor)} modules, {sum(us for _, us in floor) / 1000:.1f} ms")
    print(f"* what only `asyncio` brings (the worker's event loop): {loop / 1000:.1f} ms")
    print(f"* the rest (fapilog's own and what only they import): {len(own)} modules, "
          f"{sum(us for _, us in own) / 1000:.1f} ms\n")
    print("The rest, top modules:\n")
    print("\n".join(_table(own, args.top)))
    print("\nThe floor, top modules:\n")
    print("\n".join(_table(floor, args.top)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
