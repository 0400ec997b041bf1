"""Turns the raw runs into medians, Markdown tables, ratios and the fapilog target check."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from typing import Any

# Correctness figures: the worst run counts, not the median one.
WORST_OF = frozenset(
    {
        "lost",
        "lines_lost",
        "missing_ids",
        "duplicate_lines",
        "unexplained_loss",
        "pending",
        "dropped",
        "failed",
        "capped",
        "identity_gap",
    }
)

FIRST_LOG_ROW = "fapilog (import + first log + exit)"
"""The row of fapilog's start-up figure in the import column."""

Runs = Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]]
Summary = dict[str, dict[str, dict[str, float]]]


def summarize(runs: Runs) -> Summary:
    """``{workload: {library: {metric: median (or worst for correctness figures)}}}``."""
    out: Summary = {}
    for workload, per_lib in runs.items():
        for lib, results in per_lib.items():
            if not results:
                continue
            metrics: dict[str, float] = {}
            keys = {k for r in results for k, v in r.items() if isinstance(v, (int, float))}
            for key in sorted(keys):
                raw = [r[key] for r in results if isinstance(r.get(key), (int, float))]
                values = [float(v) for v in raw]
                if all(isinstance(v, bool) for v in raw):  # flags: any capped, all drained
                    metrics[key] = min(values) if key == "drained" else max(values)
                elif key in WORST_OF:
                    metrics[key] = max(values, key=abs)
                else:
                    metrics[key] = statistics.median(values)
            metrics["runs"] = float(len(results))
            out.setdefault(workload, {})[lib] = metrics
    return out


def _get(summary: Summary, workload: str, lib: str, key: str) -> float | None:
    return summary.get(workload, {}).get(lib, {}).get(key)


def _fmt(value: float | None, spec: str = ",.0f") -> str:
    return "—" if value is None else format(value, spec)


def _burst_cell(summary: Summary, lib: str) -> str:
    m = summary.get("burst", {}).get(lib)
    if m is None:
        return "—"
    delivered = m.get("delivered", m.get("observed", 0.0))
    text = f"{delivered:,.0f} / {m.get('dropped', 0.0):,.0f}"
    if m.get("failed"):
        text += f" / {m['failed']:,.0f} failed"
    if m.get("pending"):
        text += f" / {m['pending']:,.0f} pending"
    if m.get("capped"):
        text += " (capped)"
    return text


COLUMNS: list[tuple[str, Callable[[Summary, str], str]]] = [
    ("caller ns/event", lambda s, lib: _fmt(_get(s, "caller", lib, "ns_per_event"))),
    ("caller ns/event, first 5k", lambda s, lib: _fmt(_get(s, "caller", lib, "ns_per_event_head"))),
    ("e2e events/s", lambda s, lib: _fmt(_get(s, "e2e", lib, "events_per_s"))),
    ("e2e lost", lambda s, lib: _fmt(_get(s, "e2e", lib, "lines_lost"))),
    ("stall max ms", lambda s, lib: _fmt(_get(s, "stall", lib, "max_ms"), ".2f")),
    ("stall p99 ms", lambda s, lib: _fmt(_get(s, "stall", lib, "p99_ms"), ".2f")),
    ("stall lost", lambda s, lib: _fmt(_get(s, "stall", lib, "lost"))),
    ("burst RSS +MB", lambda s, lib: _fmt(_get(s, "burst", lib, "rss_growth_mb"), ".1f")),
    ("burst s", lambda s, lib: _fmt(_get(s, "burst", lib, "elapsed_s"), ".1f")),
    ("burst delivered / dropped", _burst_cell),
    ("import ms", lambda s, lib: _fmt(_get(s, "import", lib, "import_ms"), ".1f")),
    ("idle CPU ms", lambda s, lib: _fmt(_get(s, "idle", lib, "cpu_ms"), ".2f")),
]


def results_table(summary: Summary, libs: Sequence[str]) -> str:
    present = [lib for lib in libs if any(lib in per_lib for per_lib in summary.values())]
    header = "| library | " + " | ".join(name for name, _ in COLUMNS) + " |"
    rule = "|---|" + "---:|" * len(COLUMNS)
    rows = [f"| {lib} | " + " | ".join(cell(summary, lib) for _, cell in COLUMNS) + " |" for lib in present]
    return "\n".join([header, rule, *rows])


def _ratio(a: float | None, b: float | None) -> str:
    return "—" if a is None or b is None or b == 0 else f"{a / b:.2f}x"


def ratio_table(summary: Summary, libs: Sequence[str]) -> str:
    """Caller: ns/event ÷ reference (lower is better). e2e: events/s ÷ reference (higher is better)."""
    lines = [
        "| library | caller ÷ picologging | caller ÷ stdlib | e2e ÷ picologging | e2e ÷ stdlib |",
        "|---|---:|---:|---:|---:|",
    ]
    for lib in libs:
        caller = _get(summary, "caller", lib, "ns_per_event")
        e2e = _get(summary, "e2e", lib, "events_per_s")
        if caller is None and e2e is None:
            continue
        cells = [
            _ratio(caller, _get(summary, "caller", "picologging", "ns_per_event")),
            _ratio(caller, _get(summary, "caller", "stdlib", "ns_per_event")),
            _ratio(e2e, _get(summary, "e2e", "picologging", "events_per_s")),
            _ratio(e2e, _get(summary, "e2e", "stdlib", "events_per_s")),
        ]
        lines.append(f"| {lib} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "**missed**")


def target_rows(summary: Summary) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) for each of fapilog's published targets."""
    rows: list[tuple[str, str, bool | None]] = []
    for key, label, limit in (
        ("ns_per_event_head", "caller ≤ 0.25x picologging's ns/event, first 5k (queue has room)", 0.25),
        ("ns_per_event", "caller ≤ 0.5x picologging's ns/event, all calls (queue fills)", 0.5),
    ):
        f_caller = _get(summary, "caller", "fapilog", key)
        p_caller = _get(summary, "caller", "picologging", key)
        if f_caller is not None and p_caller:
            measured = f"{f_caller:,.0f} vs {p_caller:,.0f} ns = {f_caller / p_caller:.2f}x"
            rows.append((label, measured, f_caller <= p_caller * limit))
    f_e2e = _get(summary, "e2e", "fapilog", "events_per_s")
    p_e2e = _get(summary, "e2e", "picologging", "events_per_s")
    if f_e2e is not None and p_e2e:
        rows.append(
            (
                "e2e ≥ 1.5x picologging's events/s",
                f"{f_e2e:,.0f} vs {p_e2e:,.0f} ev/s = {f_e2e / p_e2e:.2f}x",
                f_e2e >= 1.5 * p_e2e,
            )
        )
    stall = summary.get("stall", {}).get("fapilog")
    if stall is not None:
        base = _get(summary, "stall", "none", "max_ms")
        base_text = f" (no-logging baseline {base:.2f} ms)" if base is not None else ""
        rows.append(
            (
                "stall: max ≤ 2 ms and 0 lost",
                f"max {stall['max_ms']:.2f} ms, p99 {stall['p99_ms']:.2f} ms, lost {stall['lost']:,.0f}{base_text}",
                stall["max_ms"] <= 2.0 and stall["lost"] == 0,
            )
        )
    burst = summary.get("burst", {}).get("fapilog")
    if burst is not None:
        exact = burst.get("identity_gap", 0) == 0 and burst.get("unexplained_loss", 0) == 0
        rows.append(
            (
                "burst: RSS growth ≤ 64 MB and submitted == delivered + dropped",
                f"+{burst['rss_growth_mb']:.1f} MB, worst identity gap {burst.get('identity_gap', 0):,.0f}",
                burst["rss_growth_mb"] <= 64 and exact,
            )
        )
    imp = _get(summary, "import", "fapilog", "import_ms")
    if imp is not None:
        rows.append(("import ≤ 50 ms over bare Python", f"{imp:.1f} ms", imp <= 50))
    first = _get(summary, "import", FIRST_LOG_ROW, "import_ms")
    if first is not None:
        rows.append(("import + first log + delivery at exit ≤ 50 ms over bare Python", f"{first:.1f} ms", first <= 50))
    idle = summary.get("idle", {}).get("fapilog")
    if idle is not None:
        rows.append(
            (
                "idle CPU ≈ 0 (≤ 0.1 % of a core)",
                f"{idle['cpu_ms']:.2f} ms over {idle['window_s']:.1f} s",
                idle["cpu_pct"] <= 0.1,
            )
        )
    return rows


def targets_table(summary: Summary) -> str:
    lines = ["| fapilog target | measured | verdict |", "|---|---|---|"]
    lines += [f"| {t} | {m} | {_verdict(ok)} |" for t, m, ok in target_rows(summary)]
    return "\n".join(lines)
