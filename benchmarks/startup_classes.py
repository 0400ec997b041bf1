"""Every class a short script's start-up creates, and what each costs: the class-creation part of start-up.

    .venv/bin/python benchmarks/startup_classes.py [--runs N] [--top N] [--stmt STMT] [--all]

Runs ``python -c STMT`` (by default the start-up figure's script: ``import fapilog``, the first log call,
delivery at exit) ``--runs`` times in fresh interpreters with a prelude that times ``builtins.__build_class__``
(the class statement: its body and the metaclass, which for ``typing.NamedTuple``, ``TypedDict``, ``Enum``
and ``Protocol`` includes their own processing) and ``dataclasses._process_class`` (what ``@dataclass``
adds afterwards: generating and compiling ``__init__``, ``__repr__``, ``__eq__`` and, for frozen classes,
``__setattr__``, ``__delattr__`` and ``__hash__``). The report is taken at exit, after fapilog's own exit
drain. Each class's least time over the runs is reported (the least disturbed by other load); both times
include the garbage collections that happen to run meanwhile, which the least of several runs filters out.

Prints, as Markdown, the sums (every class; fapilog's; fapilog's dataclasses) and fapilog's classes by cost
(``--all`` lists the standard library's too). Timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence

FIRST_LOG = "import fapilog; fapilog.get_logger('bench').info('hi')"

# Registered before the statement runs, so its atexit handler runs after fapilog's drain (reverse order).
_PRELUDE = """
import atexit, builtins, dataclasses, json, sys, time
_rows = {}
_build_class = builtins.__build_class__
_process_class = dataclasses._process_class

def _timed_build_class(func, name, *bases, **kw):
    start = time.perf_counter()
    cls = _build_class(func, name, *bases, **kw)
    key = f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', name)}"
    row = _rows.setdefault(key, [0.0, 0.0, ""])
    row[0] += time.perf_counter() - start
    if isinstance(cls, type) and not row[2]:
        row[2] = ("NamedTuple" if issubclass(cls, tuple) and hasattr(cls, "_fields")
                  else "TypedDict" if hasattr(cls, "__total__") and issubclass(cls, dict)
                  else "Protocol" if getattr(cls, "_is_protocol", False)
                  else "Enum" if any(b.__name__ == "Enum" for b in cls.__mro__[1:])
                  else "")
    return cls

def _timed_process_class(cls, *args):
    start = time.perf_counter()
    out = _process_class(cls, *args)
    row = _rows.setdefault(f"{cls.__module__}.{cls.__qualname__}", [0.0, 0.0, ""])
    row[1] += time.perf_counter() - start
    row[2] = f"dataclass{' (frozen)' if out.__dataclass_params__.frozen else ''}, {len(dataclasses.fields(out))} fields"
    return out

def _report():
    sys.stderr.write("CLASSES " + json.dumps(_rows) + "\\n")

builtins.__build_class__ = _timed_build_class
dataclasses._process_class = _timed_process_class
atexit.register(_report)
"""


def _measure(stmt: str, runs: int) -> dict[str, tuple[float, float, str]]:
    """Least (class statement ms, dataclass ms, form) per class over ``runs`` launches."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE" and not k.startswith("FAPILOG_")}
    best: dict[str, tuple[float, float, str]] = {}
    for attempt in range(runs + 1):  # the first launch writes the bytecode caches and is not counted
        proc = subprocess.run([sys.executable, "-c", _PRELUDE + "\n" + stmt], env=env, capture_output=True,
                              text=True, check=True)
        [line] = [line for line in proc.stderr.splitlines() if line.startswith("CLASSES ")]
        rows: dict[str, list[float | str]] = json.loads(line.removeprefix("CLASSES "))
        if attempt == 0:
            continue
        for name, (body, process, form) in rows.items():
            ms = (float(body) * 1000, float(process) * 1000)
            old = best.get(name)
            if old is None or sum(ms) < old[0] + old[1]:
                best[name] = (ms[0], ms[1], str(form) or "class")
    return best


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--stmt", default=FIRST_LOG)
    parser.add_argument("--all", action="store_true", help="list the standard library's classes too")
    args = parser.parse_args(argv)
    runs = max(1, args.runs)
    best = _measure(args.stmt, runs)
    ours = {name: row for name, row in best.items() if name.startswith("fapilog")}
    data = {name: row for name, row in ours.items() if row[2].startswith("dataclass")}

    def total(rows: dict[str, tuple[float, float, str]]) -> float:
        return sum(body + process for body, process, _ in rows.values())

    print(f"`python -c \"{args.stmt}\"`: classes created, least time of {runs} runs per class\n")
    print(f"* every class: {len(best)}, {total(best):.1f} ms")
    print(f"* fapilog's: {len(ours)}, {total(ours):.1f} ms")
    print(f"  * of which dataclasses: {len(data)}, {total(data):.1f} ms "
          f"({sum(p for _, p, _ in data.values()):.1f} ms of it in `@dataclass` itself)\n")
    shown = best if args.all else ours
    print("| class | form | ms |")
    print("|---|---|---:|")
    for name, (body, process, form) in sorted(shown.items(), key=lambda item: -(item[1][0] + item[1][1]))[:args.top]:
        print(f"| `{name}` | {form} | {body + process:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
