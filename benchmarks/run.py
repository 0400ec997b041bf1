"""Run every benchmark and print a Markdown report.

    .venv/bin/python benchmarks/run.py [--quick] [--only WORKLOAD[,...]] [--libs LIB[,...]]
                                       [--runs N] [--out results.json]

Each (library, workload) measurement runs in a fresh interpreter (``child.py``), repeated ``--runs`` times
with the library order rotated per run; the report shows medians (worst run for loss figures). Exit status:
0 when every workload ran and every library delivered or accounted for each event; 1 when a workload
failed to run or events were lost unexplained (timings are never asserted); 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from accounting import violations  # noqa: E402 - needs HERE on sys.path when run as a script
from libs import IMPORT_STMTS, QUEUED  # noqa: E402
from report import FIRST_LOG_ROW, ratio_table, results_table, summarize, targets_table  # noqa: E402
from workloads import importtime  # noqa: E402

LIBRARIES = ("fapilog", "picologging", "stdlib", "stdlib-queue", "structlog", "loguru")
CHILD_WORKLOADS = ("caller", "e2e", "stall", "burst", "idle")
ALL_WORKLOADS = (*CHILD_WORKLOADS, "import", "soak")

FULL: dict[str, dict[str, Any]] = {
    "caller": {"n": 200_000},
    "e2e": {"n": 200_000},
    "stall": {"n": 3000, "interval_s": 0.001, "write_s": 0.001, "deadline_s": 60.0},
    "burst": {"n": 1_000_000, "write_s": 0.0001, "cap_s": 120.0},
    "idle": {"window_s": 5.0},
    "import": {"reps": 20},
    "soak": {"quick": False},
}
QUICK: dict[str, dict[str, Any]] = {
    "caller": {"n": 20_000},
    "e2e": {"n": 20_000},
    "stall": {"n": 1000, "interval_s": 0.001, "write_s": 0.001, "deadline_s": 30.0},
    "burst": {"n": 100_000, "write_s": 0.0001, "cap_s": 30.0},
    "idle": {"window_s": 2.0},
    "import": {"reps": 10},
    "soak": {"quick": True},
}
PACKAGES = {
    "fapilog": "fapilog",
    "picologging": "picologging",
    "structlog": "structlog",
    "loguru": "loguru",
    "orjson": "orjson",
    "psutil": "psutil",
}


def libs_for(workload: str, libs: Sequence[str]) -> list[str]:
    if workload == "burst":
        return [lib for lib in libs if lib in QUEUED]
    if workload == "stall":
        return [*libs, "none"]  # "none": the ticker's lateness with no logging at all
    return list(libs)


def child_env() -> dict[str, str]:
    """The children's environment: the repo's ``src`` is added only when fapilog is not installed."""
    env = dict(os.environ)
    if importlib.util.find_spec("fapilog") is None:
        src = str(HERE.parent / "src")
        env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    return env


def spawn(workload: str, lib: str, params: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """One measurement in a fresh interpreter; returns the child's JSON document (plus stderr tail)."""
    timeout = float(params.get("cap_s", 0)) + float(params.get("deadline_s", 0)) + 300.0
    cmd = [sys.executable, str(HERE / "child.py"), workload, lib, json.dumps(params)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"timed out after {timeout:.0f}s"}
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    no_result = {"ok": False, "error": f"exit {proc.returncode} without a result"}
    doc: dict[str, Any] = json.loads(lines[-1]) if lines else no_result
    tail = [line for line in proc.stderr.splitlines() if line.strip()][-5:]
    if tail:
        doc["stderr_tail"] = tail
    return doc


def _progress(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _headline(workload: str, result: dict[str, Any]) -> str:
    key = {
        "caller": "ns_per_event",
        "e2e": "events_per_s",
        "stall": "max_ms",
        "burst": "rss_growth_mb",
        "idle": "cpu_ms",
    }[workload]
    extra = f" lost={result.get('lost', 0)}"
    if result.get("capped"):
        extra += " capped"
    return f"{key}={result[key]:,.2f}{extra}"


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name, dist in PACKAGES.items():
        try:
            out[name] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _source_digest() -> str:
    """A digest of fapilog's source tree, to tell which version of the core a result file measured."""
    digest = hashlib.sha256()
    for path in sorted((HERE.parent / "src" / "fapilog").rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small counts: the whole suite in < 2 minutes")
    parser.add_argument("--only", help=f"comma-separated workloads out of {','.join(ALL_WORKLOADS)}")
    parser.add_argument("--libs", help=f"comma-separated libraries out of {','.join(LIBRARIES)}")
    parser.add_argument("--runs", type=int, help="repetitions per measurement (default: 5, quick: 1)")
    parser.add_argument(
        "--out",
        type=Path,
        default=HERE / ".results" / "latest.json",
        help="where to write the JSON results (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    args.workloads = _pick(parser, args.only, ALL_WORKLOADS, "workload")
    args.libraries = _pick(parser, args.libs, LIBRARIES, "library")
    if args.runs is None:
        args.runs = 1 if args.quick else 5
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def _pick(parser: argparse.ArgumentParser, raw: str | None, allowed: Sequence[str], what: str) -> list[str]:
    if not raw:
        return list(allowed)
    chosen = [x.strip() for x in raw.split(",") if x.strip()]
    unknown = [x for x in chosen if x not in allowed]
    if unknown:
        parser.error(f"unknown {what}(s) {unknown}; choose from {', '.join(allowed)}")
    return [x for x in allowed if x in chosen]


class Suite:
    """Collects the runs of one invocation, with what failed and what broke an accounting identity."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.params = QUICK if args.quick else FULL
        self.env = child_env()
        self.runs: dict[str, dict[str, list[dict[str, Any]]]] = {}
        self.errors: list[str] = []
        self.problems: list[str] = []
        self.other_problems: list[str] = []
        self.skipped: set[str] = set()
        self.soak_output = ""

    def run_children(self) -> None:
        workloads = [w for w in CHILD_WORKLOADS if w in self.args.workloads]
        for r in range(self.args.runs):
            for workload in workloads:
                libs = libs_for(workload, self.args.libraries)
                shift = r % len(libs)  # rotate the order so no library always runs first
                for lib in libs[shift:] + libs[:shift]:
                    if lib not in self.skipped:
                        self._one(r, workload, lib)

    def _one(self, r: int, workload: str, lib: str) -> None:
        doc = spawn(workload, lib, self.params[workload], self.env)
        label = f"[run {r + 1}/{self.args.runs}] {workload:<6} {lib:<12}"
        if doc.get("missing") and lib != "fapilog":
            self.skipped.add(lib)
            _progress(f"{label} skipped: {doc['missing']}")
            return
        if not doc.get("ok"):
            reason = doc.get("missing") or doc.get("error")
            self.errors.append(f"{workload}/{lib} run {r + 1}: {reason}")
            _progress(f"{label} FAILED: {reason}\n{doc.get('trace', '')}")
            return
        result = doc["result"]
        if doc.get("stderr_tail"):
            result["stderr_tail"] = doc["stderr_tail"]
        self.runs.setdefault(workload, {}).setdefault(lib, []).append(result)
        found = [f"{workload}/{lib} run {r + 1}: {v}" for v in violations(result)]
        # fapilog's promise fails the run; another library breaking its own accounting (picologging once wrote
        # 20,000 lines twice on a loaded machine) is reported beside its figures, which it makes suspect.
        (self.problems if lib == "fapilog" else self.other_problems).extend(found)
        _progress(f"{label} {_headline(workload, result)}")

    def run_imports(self) -> None:
        if "import" not in self.args.workloads:
            return
        stmts = {lib: IMPORT_STMTS[lib] for lib in self.args.libraries if lib not in self.skipped}
        if "fapilog" in stmts:
            stmts[FIRST_LOG_ROW] = importtime.FIRST_LOG
        reps = int(self.params["import"]["reps"])
        _progress(f"[import] {reps} interleaved launches each of: bare python, {', '.join(stmts)}")
        try:
            measured = importtime.measure(stmts, reps, self.env)
        except subprocess.CalledProcessError as exc:
            self.errors.append(f"import: {exc.cmd[-1]!r} failed: {exc.stderr.strip()[-300:]}")
        else:
            self.runs["import"] = {lib: [m] for lib, m in measured.items()}

    def run_soak(self) -> None:
        """The fault soak (fapilog only): every identity must hold for every sink (see fault_soak.py)."""
        if "soak" not in self.args.workloads or "fapilog" not in self.args.libraries:
            return
        out = self.args.out.with_name(self.args.out.stem + "-soak.json")
        cmd = [sys.executable, str(HERE / "fault_soak.py"), "--out", str(out)]
        if self.params["soak"]["quick"]:
            cmd.append("--quick")
        _progress("[soak] random sink faults under every policy, in children and at exit")
        proc = subprocess.run(cmd, capture_output=True, text=True, env=self.env, timeout=1800, check=False)
        _progress(proc.stdout.splitlines()[0] if proc.stdout else proc.stderr[-300:])
        self.soak_output = proc.stdout
        if proc.returncode != 0:
            seed = proc.stdout.splitlines()[0] if proc.stdout else ""
            self.problems.append(f"soak: an identity failed (exit {proc.returncode}; {seed}); "
                                 f"{proc.stderr.strip()[-300:]}")

    def render(self, wall: float) -> str:
        summary = summarize(self.runs)
        mode = "quick" if self.args.quick else "full"
        parts = [
            f"## fapilog benchmarks ({mode}, {self.args.runs} run(s); medians, loss columns: worst run)",
            f"{dt.date.today().isoformat()}, nproc={os.cpu_count()}, Python {platform.python_version()}, "
            f"{platform.machine()}, suite took {wall:.0f} s",
            results_table(summary, [*self.args.libraries, FIRST_LOG_ROW, "none"]),
        ]
        if {"caller", "e2e"} & set(self.args.workloads):
            parts.append(ratio_table(summary, self.args.libraries))
        if "fapilog" in self.args.libraries:
            parts.append(targets_table(summary))
        if self.soak_output:
            parts.append("### Fault soak\n\n" + self.soak_output.strip())
        if self.skipped:
            parts.append(f"Skipped (not installed): {', '.join(sorted(self.skipped))}")
        for title, items in (("Workloads that failed to run", self.errors), ("Accounting violations", self.problems),
                             ("Other libraries' accounting violations (their figures are suspect)",
                              self.other_problems)):
            if items:
                parts.append(f"### {title}\n\n" + "\n".join(f"- {item}" for item in items))
        return "\n\n".join(parts) + "\n"

    def write_json(self, path: Path, wall: float) -> None:
        doc = {
            "meta": {
                "date": dt.datetime.now().isoformat(timespec="seconds"),
                "nproc": os.cpu_count(),
                "platform": platform.platform(),
                "versions": _versions(),
                "fapilog_src_sha256": _source_digest(),
                "mode": "quick" if self.args.quick else "full",
                "runs": self.args.runs,
                "wall_s": wall,
                "loadavg": os.getloadavg(),
            },
            "params": {w: self.params[w] for w in self.args.workloads},
            "summary": summarize(self.runs),
            "runs": self.runs,
            "errors": self.errors,
            "violations": self.problems,
            "other_library_violations": self.other_problems,
            "skipped": sorted(self.skipped),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=2, default=str) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    suite = Suite(args)
    started = time.perf_counter()
    suite.run_children()
    suite.run_imports()
    suite.run_soak()
    wall = time.perf_counter() - started
    print(suite.render(wall), end="")
    suite.write_json(args.out, wall)
    _progress(f"results written to {args.out}")
    return 1 if suite.errors or suite.problems else 0


if __name__ == "__main__":
    sys.exit(main())
