"""Decides whether a run lost events that the library's own accounting cannot explain.

``observed`` is what the benchmark saw arrive (lines on disk or the delay sink's count), never what the
library claims. A library without counters must deliver everything it was given; fapilog may drop, but
then ``submitted == delivered + dropped`` must hold exactly, ``submitted`` must equal what was logged, and
every event it calls delivered must really have arrived.
"""

from __future__ import annotations

from typing import Any


def loss_report(logged: int, observed: int, accounting: dict[str, Any] | None, *, pending: int = 0) -> dict[str, Any]:
    """Loss figures for one run; ``pending`` counts events still queued when a time cap ended the run."""
    lost = logged - observed
    report: dict[str, Any] = {"logged": logged, "observed": observed, "lost": lost, "pending": pending}
    if accounting is None:
        report["unexplained_loss"] = max(0, lost - pending)
        return report
    submitted = int(accounting["submitted"])
    delivered = int(accounting["delivered"])
    dropped = int(accounting["dropped"])
    failed = int(accounting.get("failed", 0))
    in_flight = int(accounting.get("in_flight", 0))
    # fapilog's documented identity for one sink: every submitted event was delivered, dropped (counted by
    # reason), failed at the sink (counted by error, including what a shutdown deadline abandoned) or is still in
    # a write that outlived the shutdown deadline (``in_flight``: delivered or failed when that write ends, so
    # between the counters and the benchmark's own count some of those may have arrived).
    gap = submitted - delivered - dropped - failed - in_flight
    problems: list[str] = []
    if gap:
        problems.append(
            f"submitted {submitted} != delivered {delivered} + dropped {dropped} + failed {failed} "
            f"+ in flight {in_flight} (gap {gap})"
        )
    if submitted != logged:
        problems.append(f"submitted {submitted} != calls made {logged}")
    if not delivered <= observed <= delivered + in_flight:
        problems.append(f"sink says delivered {delivered} (and {in_flight} in flight) but {observed} arrived")
    report.update(
        failed=int(accounting.get("failed", 0)),
        by_reason=accounting.get("by_reason", {}),
        queue_high_water=accounting.get("high_water"),
        submitted=submitted,
        delivered=delivered,
        dropped=dropped,
        in_flight=in_flight,
        identity_gap=gap,
        accounting_problems=problems,
        unexplained_loss=max(0, lost - dropped - failed - in_flight),
    )
    return report


def violations(result: dict[str, Any]) -> list[str]:
    """Why a run must fail the suite: unexplained loss or a broken accounting identity."""
    found = list(result.get("accounting_problems", []))
    if result.get("unexplained_loss", 0) > 0:
        found.append(f"{result['unexplained_loss']} event(s) lost without being counted as dropped")
    if result.get("duplicate_lines", 0) > 0:
        found.append(f"{result['duplicate_lines']} duplicated line(s) in the file")
    return found
