"""Plugin discovery and load time with 50 installed plugin distributions.

    .venv/bin/python benchmarks/plugin_discovery.py [--quick] [--runs N] [--events N] [--json PATH]

Writes 50 real ``fapilog_bench_plugin_NN-1.0.dist-info`` directories (``METADATA`` with
``Requires-Dist: fapilog>=3.0,<4.0``, ``entry_points.txt`` in group ``fapilog.plugins``) and their modules
(each a null sink declaring ``PluginMetadata``, byte-compiled as pip would) into a temporary directory, then
measures in fresh interpreters that have that directory on ``PYTHONPATH``, as if pip had installed the 50:

1. a cold ``discovery.scan()`` of the whole environment (and, for reference, of the environment without
   the 50);
2. the cached second ``scan()``;
3. ``PluginRegistry().load(name)`` (version gate, import, validation) of one plugin and of all 50;
4. the caller-side CPU cost of ``log.info("m", a=1)`` (``time.thread_time_ns()``) with one null sink passed
   as an object, and with five of the installed plugins configured by name: the registry works at
   ``configure()`` time only, so both figures should be the same.

Every measurement runs ``--runs`` times (at least 5), each in its own fresh subprocess, and the report
shows medians. Exit status: 0 when every plugin was discovered and loaded, 1 when something failed to load
or a child failed (timings are never asserted), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

PLUGINS = 50
"""How many plugin distributions the benchmark installs."""
CONFIGURED = 5
"""How many of them the "with plugins" log-cost run configures as sinks."""
GROUP = "fapilog.plugins"
REQUIREMENT = "fapilog>=3.0,<4.0"
MIN_RUNS = 5

PLUGIN_SOURCE = '''\
"""Benchmark plugin {nn}: a sink that counts and discards records (written by plugin_discovery.py)."""

from collections.abc import Mapping, Sequence
from typing import Any

from fapilog.plugins.metadata import PluginMetadata


class BenchSink:
    """Discards every record; counts them so the benchmark can check delivery."""

    metadata = PluginMetadata(
        name="{name}",
        version="1.0",
        kind="sink",
        description="null sink number {nn} for the plugin discovery benchmark",
    )

    def __init__(self) -> None:
        self.count = 0

    async def start(self) -> None:
        """Nothing to open."""

    async def stop(self) -> None:
        """Nothing to close."""

    async def write(self, record: Mapping[str, Any]) -> None:
        """Count one record."""
        self.count += 1

    async def write_batch(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Count a batch."""
        self.count += len(records)
'''


def plugin_name(index: int) -> str:
    """The configured (entry-point) name of benchmark plugin ``index``."""
    return f"bench_plugin_{index:02d}"


def write_environment(root: Path, count: int = PLUGINS) -> list[str]:
    """Write ``count`` installed-looking plugin distributions into ``root``; returns their plugin names."""
    names: list[str] = []
    for index in range(count):
        nn = f"{index:02d}"
        name = plugin_name(index)
        module = f"fapilog_bench_plugin_{nn}"
        info = root / f"{module}-1.0.dist-info"
        info.mkdir(parents=True)
        metadata = [
            "Metadata-Version: 2.1",
            f"Name: fapilog-bench-plugin-{nn}",
            "Version: 1.0",
            f"Summary: benchmark null sink {nn}",
            f"Requires-Dist: {REQUIREMENT}",
        ]
        (info / "METADATA").write_text("\n".join(metadata) + "\n", encoding="utf-8")
        (info / "entry_points.txt").write_text(f"[{GROUP}]\n{name} = {module}:BenchSink\n", encoding="utf-8")
        (info / "top_level.txt").write_text(module + "\n", encoding="utf-8")
        (info / "INSTALLER").write_text("plugin_discovery.py\n", encoding="utf-8")
        (root / f"{module}.py").write_text(PLUGIN_SOURCE.format(nn=nn, name=name), encoding="utf-8")
        names.append(name)
    return names


# -- children: each runs in a fresh interpreter and prints one JSON object -------------------------------

CHILD_SCAN = """
import json, time
from fapilog._registry import discovery

t0 = time.perf_counter_ns()
result = discovery.scan()
t1 = time.perf_counter_ns()
discovery.scan()
t2 = time.perf_counter_ns()
bench = [e for n, e in result.plugins.items() if n.startswith("bench_plugin_")]
print(json.dumps({
    "cold_ms": (t1 - t0) / 1e6,
    "cached_us": (t2 - t1) / 1e3,
    "entry_points": len(result.plugins) + sum(len(c.candidates) for c in result.conflicts.values()),
    "bench_found": len(bench),
    "bench_incompatible": [e.name for e in bench if not e.verdict.compatible],
    "conflicts": sorted(result.conflicts),
}))
"""

CHILD_LOAD = """
import json, sys, time
from fapilog._registry import discovery
from fapilog._registry.registry import PluginRegistry

names = json.loads(sys.argv[1])
discovery.scan()  # measured separately: this child times loading only
registry = PluginRegistry()
failures = {}
times = []
for name in names:
    t0 = time.perf_counter_ns()
    try:
        info = registry.load(name)
    except Exception as exc:
        failures[name] = f"{type(exc).__name__}: {exc}"
        continue
    times.append((time.perf_counter_ns() - t0) / 1e6)
    if info.state != "loaded" or info.kind != "sink" or info.legacy:
        failures[name] = f"state={info.state} kind={info.kind} legacy={info.legacy}"
print(json.dumps({
    "first_ms": times[0] if times else None,
    "all_ms": sum(times),
    "loaded": len(times),
    "failures": failures,
}))
"""

CHILD_LOG = """
import json, sys, time
import fapilog
from fapilog.plugins.metadata import PluginMetadata

mode, events, chunks = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
names = json.loads(sys.argv[4])


class NullSink:
    metadata = PluginMetadata(name="null", version="1.0", kind="sink", description="discards records")

    async def write(self, record):
        pass

    async def write_batch(self, records):
        pass


if mode == "object":
    sinks = [NullSink()]
elif mode == "objects":
    sinks = [NullSink() for _ in names]  # same class five times: the core names them null, null#2, ...
else:
    sinks = names
error = None
t0 = time.perf_counter_ns()
try:
    fapilog.configure(sinks=sinks, queue={"capacity": events + 10_000})
except fapilog.FapilogError as exc:
    error = f"{type(exc).__name__}: {exc}"
configure_ms = (time.perf_counter_ns() - t0) / 1e6
if error is not None:
    print(json.dumps({"error": error}))
    raise SystemExit(0)
log = fapilog.get_logger("bench")
for _ in range(2_000):  # warm-up: first-call paths, allocator, worker start
    log.info("m", a=1)
fapilog.flush(30.0)
samples = []
for _ in range(chunks):
    t0 = time.thread_time_ns()
    for _ in range(events):
        log.info("m", a=1)
    t1 = time.thread_time_ns()
    samples.append((t1 - t0) / events)
    fapilog.flush(30.0)
stats = fapilog.stats()
fapilog.shutdown(30.0)
print(json.dumps({
    "configure_ms": configure_ms,
    "ns_per_event": sorted(samples)[len(samples) // 2],
    "sinks": sorted(stats.get("sinks", {})),
    "delivered": {k: v.get("delivered") for k, v in stats.get("sinks", {}).items()},
    "dropped": stats.get("dropped", {}).get("total"),
}))
"""


def run_child(code: str, args: Sequence[str], pythonpath: Sequence[Path]) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter with ``pythonpath`` first on ``PYTHONPATH``; returns its JSON."""
    env = dict(os.environ)
    parts = [str(p) for p in pythonpath]
    if env.get("PYTHONPATH"):
        parts.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(parts)
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child exited {proc.returncode}:\n{proc.stderr.strip()}")
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"child printed no result:\n{proc.stdout}\n{proc.stderr}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


class Series:
    """Samples of one measurement across runs, with the unit they are in."""

    def __init__(self, label: str, unit: str) -> None:
        self.label = label
        self.unit = unit
        self.values: list[float] = []

    def add(self, value: float | None) -> None:
        """Record one run's value (``None`` when the run produced none)."""
        if value is not None:
            self.values.append(float(value))

    def row(self) -> str:
        """This series as a Markdown table row: median, min, max and run count."""
        if not self.values:
            return f"| {self.label} | n/a | n/a | n/a | 0 |"
        med, lo, hi = statistics.median(self.values), min(self.values), max(self.values)
        return f"| {self.label} | {fmt(med)} {self.unit} | {fmt(lo)} | {fmt(hi)} | {len(self.values)} |"


def fmt(value: float) -> str:
    """Three significant figures, without scientific notation for the ranges measured here."""
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options; ``--quick`` shrinks the log loop and uses the minimum number of runs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="short run (under 30 s on 2 cores)")
    parser.add_argument("--runs", type=int, default=None, help=f"fresh subprocesses per measurement (>= {MIN_RUNS})")
    parser.add_argument(
        "--events", type=int, default=None, help="log calls per timed chunk (the queue is flushed between chunks)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the raw samples to this file")
    args = parser.parse_args(argv)
    if args.runs is None:
        args.runs = MIN_RUNS if args.quick else 9
    if args.events is None:
        args.events = 5_000
    if args.runs < MIN_RUNS:
        parser.error(f"--runs must be at least {MIN_RUNS}")
    if args.events <= 0:
        parser.error("--events must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Build the environment, run every child ``--runs`` times (interleaved), print the report."""
    args = parse_args(argv)
    chunks = 4 if args.quick else 20
    started = time.monotonic()
    problems: list[str] = []
    series = {
        "cold": Series(f"cold `discovery.scan()`, environment + {PLUGINS} plugins", "ms"),
        "cold_base": Series("cold `discovery.scan()`, environment alone (reference)", "ms"),
        "cached": Series("cached second `scan()`", "µs"),
        "load1": Series("`PluginRegistry().load(name)`, 1 plugin (gate + import + validate)", "ms"),
        "load50": Series(f"`PluginRegistry().load(name)`, all {PLUGINS} plugins", "ms"),
        "log_object": Series('`log.info("m", a=1)` caller CPU, 1 null sink passed as an object', "ns/event"),
        "log_objects": Series(
            f'`log.info("m", a=1)` caller CPU, {CONFIGURED} null sinks passed as objects', "ns/event"
        ),
        "log_named": Series(
            f'`log.info("m", a=1)` caller CPU, {CONFIGURED} installed plugins configured by name', "ns/event"
        ),
        "configure_object": Series("`configure(sinks=[NullSink()])` (no discovery)", "ms"),
        "configure_named": Series(f"`configure(sinks=[{CONFIGURED} names])` (scan, load, start)", "ms"),
    }
    entry_points = 0
    with tempfile.TemporaryDirectory(prefix="fapilog-bench-plugins-") as tmp:
        site = Path(tmp) / "site"
        names = write_environment(site)
        # pip byte-compiles what it installs; do the same so children import from .pyc as they would for real.
        if not compileall.compile_dir(str(site), quiet=1):
            problems.append(f"byte-compiling the benchmark plugins in {site} failed")
        configured = json.dumps(names[:CONFIGURED])
        steps: list[tuple[str, Callable[[], None]]] = []

        def scan_step() -> None:
            nonlocal entry_points
            out = run_child(CHILD_SCAN, [], [site])
            series["cold"].add(out["cold_ms"])
            series["cached"].add(out["cached_us"])
            entry_points = out["entry_points"]
            if out["bench_found"] != PLUGINS or out["bench_incompatible"] or out["conflicts"]:
                problems.append(
                    f"scan found {out['bench_found']}/{PLUGINS} plugins; incompatible: "
                    f"{out['bench_incompatible']}; conflicts: {out['conflicts']}"
                )

        def base_step() -> None:
            series["cold_base"].add(run_child(CHILD_SCAN, [], [])["cold_ms"])

        def load_step() -> None:
            out = run_child(CHILD_LOAD, [json.dumps(names)], [site])
            if out["failures"] or out["loaded"] != PLUGINS:
                problems.append(f"loaded {out['loaded']}/{PLUGINS}; failures: {out['failures']}")
                return
            series["load1"].add(out["first_ms"])
            series["load50"].add(out["all_ms"])

        def log_step(mode: str) -> None:
            out = run_child(CHILD_LOG, [mode, str(args.events), str(chunks), configured], [site])
            if "error" in out:
                problems.append(f"configure(sinks=...) with {mode} sinks failed: {out['error']}")
                return
            expected = 2_000 + args.events * chunks
            short = {k: v for k, v in out["delivered"].items() if v != expected}
            if short or out["dropped"]:
                problems.append(f"{mode} run: delivered {out['delivered']} of {expected}, dropped {out['dropped']}")
            if len(out["sinks"]) != (1 if mode == "object" else CONFIGURED):
                problems.append(f"{mode} run built sinks {out['sinks']}")
            if mode in ("object", "named"):
                series[f"configure_{mode}"].add(out["configure_ms"])
            series[f"log_{mode}"].add(out["ns_per_event"])

        # Interleave the kinds of run so that a noisy moment on a shared machine hits all of them alike.
        for _ in range(args.runs):
            steps += [
                ("scan", scan_step),
                ("scan-base", base_step),
                ("load", load_step),
                ("log-object", lambda: log_step("object")),
                ("log-objects", lambda: log_step("objects")),
                ("log-named", lambda: log_step("named")),
            ]
        for label, step in steps:
            try:
                step()
            except (RuntimeError, subprocess.TimeoutExpired, KeyError, json.JSONDecodeError) as exc:
                problems.append(f"{label}: {exc}")

    elapsed = time.monotonic() - started
    print(report(series, args, chunks, entry_points, elapsed))
    if args.json is not None:
        args.json.write_text(json.dumps({k: s.values for k, s in series.items()}, indent=2), encoding="utf-8")
    if problems:
        print("\nProblems:", file=sys.stderr)
        for problem in dict.fromkeys(problems):
            print(f"- {problem}", file=sys.stderr)
        return 1
    return 0


def report(series: dict[str, Series], args: argparse.Namespace, chunks: int, entry_points: int, elapsed: float) -> str:
    """The Markdown report: environment line, command, and the medians table."""
    try:
        version = importlib.metadata.version("fapilog")
    except importlib.metadata.PackageNotFoundError:
        version = "not installed"
    command = "python benchmarks/plugin_discovery.py" + (" --quick" if args.quick else "")
    lines = [
        f"Plugin discovery benchmark, {dt.date.today().isoformat()}: fapilog {version}, "
        f"Python {platform.python_version()}, {platform.system()} {platform.machine()}, nproc={os.cpu_count()}; "
        f"{args.runs} fresh subprocesses per row, {entry_points} entry points in group `{GROUP}` "
        f"({PLUGINS} benchmark plugins); took {elapsed:.1f} s.",
        "",
        f"Command: `{command}`",
        "",
        "| measurement | median | min | max | runs |",
        "| --- | ---: | ---: | ---: | ---: |",
        *(s.row() for s in series.values()),
        "",
        "Cold means a fresh interpreter (the OS file cache is warm after the first run). Caller CPU is",
        f"`time.thread_time_ns()` per call, median of {chunks} chunks of {args.events:,} calls with a flush between",
        "chunks (so the queue never grows past one chunk), loop overhead included; the worker's delivery runs",
        "on its own thread and is not in it.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
