"""A bounded fault soak: every event is delivered or counted, for every sink, under random faults.

    .venv/bin/python benchmarks/fault_soak.py [--quick] [--seed N] [--out results.json]

For a fixed number of events per scenario, several sinks at once fail at random — raise, raise
``asyncio.CancelledError``, hang past ``write_timeout``, block their thread synchronously, or are slow —
under every queue policy (``wait``, ``drop_newest``, ``drop_oldest``), in a plain process, in
``multiprocessing`` children (fork ``Process`` and ``Pool`` workers that log and exit without a flush) and in a
process that calls ``sys.exit()`` in the middle of logging while its sinks are failing. Each scenario runs in a
fresh interpreter. At the end, for every process and every sink, it checks

    logged == submitted                                      (fapilog.stats())
    delivered + failed + sink drops + queue drops == logged  (stats / shutdown report)
    delivered == records the sink itself saw written, none twice
                 (except writes fapilog timed out that completed anyway: at most the sink's timeout failures)

and that nothing is left buffered or in flight. It prints one table row per (scenario, process, sink) and
exits 1 when any identity fails, 0 otherwise. Every random choice comes from ``--seed`` (printed first), so
a failure is reproduced by running again with that seed.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from soak_faults import WRITE_TIMEOUT, FaultySink, key, make_sinks, problems, table  # noqa: E402 - needs HERE on sys.path

POLICIES = ("wait", "drop_newest", "drop_oldest")
MODES = ("inline", "fork", "exit")

QUICK = {"events": 1500, "threads": 2, "children": 1, "exit_timeout": 30.0}
FULL = {"events": 100_000, "threads": 4, "children": 2, "exit_timeout": 60.0}



def _configure(policy: str, rng: random.Random, exit_timeout: float) -> list[Any]:
    import fapilog

    sinks = make_sinks(rng)
    fapilog.configure(
        sinks=sinks,
        queue={"policy": policy, "capacity": 512, "wait_timeout": 0.05, "batch_size": 64},
        sink_defaults={"write_timeout": WRITE_TIMEOUT, "buffer_capacity": 256, "batch_size": 32},
        exit_timeout=exit_timeout,
        start_timeout=60.0,  # the soak checks accounting, not start-up: a loaded CI machine must not fail it here
    )
    return sinks


def _produce(events: int, threads: int, seed: int, tag: int) -> int:
    """Log ``events`` events from ``threads`` threads (5% at ERROR); returns how many log calls returned."""
    import fapilog

    log = fapilog.get_logger("soak").bind(p=tag)
    logged = [0] * threads

    def run(t: int) -> None:
        rng = random.Random(seed + t)
        for i in range(t, events, threads):
            if rng.random() < 0.05:
                log.error("soak", t=t, i=i)
            else:
                log.info("soak", t=t, i=i)
            logged[t] += 1

    workers = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(logged)


def _rows(label: str, logged: int, sinks: list[Any], report: Any = None) -> list[dict[str, Any]]:
    """One row per sink: fapilog's counters next to the sink's own record (read after the pipeline ended)."""
    import fapilog

    stats = fapilog.stats()
    by_reason = stats["dropped"]["by_reason"]
    queue_drops = sum(n for reason, n in by_reason.items() if not reason.startswith(("sink_buffer_full:", "filtered:")))
    rows = []
    for sink in sinks:
        counters = stats["sinks"][sink.name]
        own = list(sink.written) if isinstance(sink, FaultySink) else [key(r) for r in sink.records]
        rows.append({
            "process": label,
            "sink": sink.name,
            "logged": logged,
            "submitted": stats["submitted"],
            "delivered": counters["delivered"],
            "failed": counters["failed"],
            "sink_dropped": counters["dropped"],  # dropped_protected is the ERROR+ part of it, not more
            "queue_dropped": queue_drops,
            "left": counters["buffered"] + counters["in_flight"] + stats["queue"]["depth"],
            "sink_saw": len(own),
            "timed_out": counters["errors"].get("timeout", 0),
            "sink_twice": len(own) - len(set(own)),
            "faults": dict(sink.faults) if isinstance(sink, FaultySink) else {},
            "report_in_flight": getattr(report, "in_flight", 0),
        })
    return rows


# -- scenarios (each in a fresh interpreter) ------------------------------------------------------------------
def _scenario_inline(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Threads log flat out against failing sinks, with flushes in between; then shutdown()."""
    import fapilog

    rng = random.Random(spec["seed"])
    sinks = _configure(spec["policy"], rng, spec["exit_timeout"])
    half = spec["events"] // 2
    logged = _produce(half, spec["threads"], spec["seed"], 0)
    fapilog.flush(spec["exit_timeout"])
    logged += _produce(spec["events"] - half, spec["threads"], spec["seed"] + 1000, 1)
    report = fapilog.shutdown(spec["exit_timeout"])
    return _rows("main", logged, sinks, report)


def _child_target(spec: dict[str, Any], index: int, out: str) -> None:
    """A multiprocessing child: configure, log, and return without flushing; its exit drain delivers."""
    rng = random.Random(spec["seed"] * 31 + index)
    sinks = _configure(spec["policy"], rng, spec["exit_timeout"])
    _dump_at_child_exit(out, f"child{index}", sinks)
    _LOGGED[0] = _produce(spec["events"] // 2, spec["threads"], spec["seed"] + index, index + 1)


def _pool_init(spec: dict[str, Any], out: str) -> None:
    rng = random.Random(spec["seed"] * 37 + os.getpid())
    sinks = _configure(spec["policy"], rng, spec["exit_timeout"])
    _dump_at_child_exit(out, f"pool{os.getpid()}", sinks)


def _pool_task(args: tuple[int, int]) -> int:
    start, count = args
    import fapilog

    log = fapilog.get_logger("soak")
    for i in range(start, start + count):
        log.info("soak", t=0, i=i)
        _LOGGED[0] += 1
    return count


_LOGGED = [0]
"""Log calls made by this process (children: read by their exit hook)."""


_CHILD_REPORT: list[tuple[str, str, list[Any]]] = []
"""(file, label, sinks) of a multiprocessing child: its rows are written when it ends."""


def _dump_at_child_exit(out: str, label: str, sinks: list[Any]) -> None:
    """Have this child's rows written when it ends, after fapilog's own exit drain."""
    _CHILD_REPORT[:] = [(out, label, sinks)]


def _report_child_at_exit() -> None:
    """Registered with ``threading._register_atexit`` before fapilog is imported: CPython runs those hooks
    last-registered first, so in a multiprocessing child this runs after fapilog's exit drain."""
    for out, label, sinks in _CHILD_REPORT:
        rows = _rows(label, _LOGGED[0], sinks)
        with open(out, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(rows) + "\n")


def _scenario_fork(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The parent logs while fork children (Process and Pool workers) log and exit without a flush."""
    import multiprocessing

    import fapilog

    rng = random.Random(spec["seed"])
    sinks = _configure(spec["policy"], rng, spec["exit_timeout"])
    out = spec["out"] + ".children"
    ctx = multiprocessing.get_context("fork")
    children = [ctx.Process(target=_child_target, args=(spec, i, out)) for i in range(spec["children"])]
    logged = 0
    for k, child in enumerate(children):
        child.start()
        logged += _produce(spec["events"] // 4, spec["threads"], spec["seed"] + k, 100 + k)
    pool = ctx.Pool(2, initializer=_pool_init, initargs=(spec, out))
    chunk = max(1, spec["events"] // 8)
    pool.map(_pool_task, [(k * chunk, chunk) for k in range(4)])
    pool.close()
    pool.join()
    for child in children:
        child.join(spec["exit_timeout"] * 2)
    report = fapilog.shutdown(spec["exit_timeout"])
    rows = _rows("parent", logged, sinks, report)
    with open(out, encoding="utf-8") as fh:
        for line in fh:
            rows += json.loads(line)
    expected = spec["children"] + 2
    got = len({row["process"] for row in rows}) - 1
    if got != expected:
        rows.append({"process": "children", "sink": "-", "error": f"{got} of {expected} children reported"})
    for child in children:
        if child.exitcode != 0:
            rows.append({"process": "children", "sink": "-", "error": f"a child exited with {child.exitcode}"})
    return rows


def _scenario_exit(spec: dict[str, Any]) -> None:
    """Log from a thread and the main thread, and sys.exit() in the middle while the sinks are failing.

    The rows are written by an ``atexit`` function registered before fapilog is imported, so it runs after
    fapilog's exit drain (``atexit`` runs last-registered first).
    """
    out = spec["out"]
    holder: dict[str, Any] = {}

    def dump() -> None:
        rows = _rows("exiting", holder["logged"][0] + holder["helper"][0], holder["sinks"])
        Path(out).write_text(json.dumps(rows))

    atexit.register(dump)
    rng = random.Random(spec["seed"])
    holder["sinks"] = _configure(spec["policy"], rng, spec["exit_timeout"])
    holder["logged"] = logged = [0]
    holder["helper"] = helped = [0]
    import fapilog

    log = fapilog.get_logger("soak")
    helper = threading.Thread(target=lambda: helped.__setitem__(0, _produce(spec["events"] // 2, 1, spec["seed"], 5)))
    helper.start()  # not a daemon: the interpreter joins it before the exit drain
    stop_at = rng.randrange(spec["events"] // 4, spec["events"] // 2)
    for i in range(spec["events"] // 2):
        if i == stop_at:
            sys.exit(0)
        log.info("soak", t=1, i=i)
        logged[0] += 1


# -- driver ---------------------------------------------------------------------------------------------------
def _run_scenario(spec: dict[str, Any], env: dict[str, str], timeout: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="fault-soak-") as tmp:
        spec = {**spec, "out": str(Path(tmp) / "rows.json")}
        cmd = [sys.executable, str(Path(__file__).resolve()), "--scenario", json.dumps(spec)]
        started = time.perf_counter()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return {"name": spec["name"], "rows": [{"process": "-", "sink": "-", "error": f"timed out ({timeout}s)"}]}
        wall = time.perf_counter() - started
        out = Path(spec["out"])
        if out.exists():
            rows = json.loads(out.read_text())
        else:
            tail = " / ".join(proc.stderr.strip().splitlines()[-3:])
            rows = [{"process": "-", "sink": "-", "error": f"exit {proc.returncode} without rows: {tail}"}]
        if spec["mode"] == "exit" and "not delivered" in proc.stderr:
            rows.append({"process": "exiting", "sink": "-", "error": "the exit drain gave up: " + proc.stderr[-300:]})
        return {"name": spec["name"], "spec": spec, "rows": rows, "wall_s": round(wall, 2)}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    src = str(HERE.parent / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    return env


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small counts: every scenario in about 20 s")
    parser.add_argument("--seed", type=int, help="reproduce a run (default: a fresh seed, printed)")
    parser.add_argument("--out", type=Path, help="also write the results as JSON")
    parser.add_argument("--scenario", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.scenario:
        spec = json.loads(args.scenario)
        assert "fapilog" not in sys.modules, "the child report hook must be registered before fapilog's"
        threading._register_atexit(_report_child_at_exit)  # type: ignore[attr-defined]  # see its docstring
        if spec["mode"] == "exit":
            _scenario_exit(spec)
            return 0
        rows = _scenario_inline(spec) if spec["mode"] == "inline" else _scenario_fork(spec)
        Path(spec["out"]).write_text(json.dumps(rows))
        return 0
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    size = QUICK if args.quick else FULL
    print(f"fault soak ({'quick' if args.quick else 'full'}), seed {seed} "
          f"(reproduce: benchmarks/fault_soak.py{' --quick' if args.quick else ''} --seed {seed})", flush=True)
    rng = random.Random(seed)
    env = _env()
    started = time.perf_counter()
    results = []
    for mode in MODES:
        for policy in POLICIES:
            spec = {"name": f"{mode}/{policy}", "mode": mode, "policy": policy, "seed": rng.randrange(2**31), **size}
            result = _run_scenario(spec, env, timeout=size["exit_timeout"] * 4 + 60)
            bad = sum(bool(problems(row)) for row in result["rows"])
            sys.stderr.write(f"[{spec['name']}] {len(result['rows'])} rows, {bad} failing, "
                             f"{result.get('wall_s', '-')} s\n")
            results.append(result)
    wall = time.perf_counter() - started
    print(table(results))
    failing = [row for res in results for row in res["rows"] if problems(row)]
    print(f"\n{sum(len(r['rows']) for r in results)} rows, {len(failing)} failing, {wall:.1f} s, seed {seed}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"seed": seed, "wall_s": wall, "results": results}, indent=1, default=str))
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
