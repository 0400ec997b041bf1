"""The fault soak's faulty sink and the identities it checks (see ``fault_soak.py``).

Kept apart from the scenarios so each file reads on its own: this one says what can go wrong in a sink and
what must still hold afterwards; ``fault_soak.py`` says where and how the events are logged.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["FAULTS", "WRITE_TIMEOUT", "FaultySink", "key", "make_sinks", "problems", "table"]


FAULTS = ("ok", "raise", "cancel", "hang", "block", "slow")
WRITE_TIMEOUT = 0.1
"""Seconds one sink call may take; ``hang`` and ``block`` go past it, ``slow`` stays far below it."""

# -- the faulty sink ------------------------------------------------------------------------------------------
class FaultySink:
    """A sink that fails at random, and keeps its own record of what it really wrote.

    Each call draws one fault from ``weights`` (seeded): ``ok`` writes, ``raise`` raises ``ConnectionError``,
    ``cancel`` raises ``asyncio.CancelledError``, ``hang`` awaits forever (fapilog times it out), ``block``
    sleeps on the sink's thread past ``write_timeout`` and then raises, ``slow`` awaits a few milliseconds and
    writes. Only calls that return normally add their records' ids to :attr:`written`. The sink declares no
    ``runs_on_worker_loop``: like any third-party sink it runs on its own thread, so ``block`` is allowed.
    """

    def __init__(self, name: str, seed: int, weights: Sequence[float], *, batch: bool) -> None:
        self.name = name
        self._rng = random.Random(seed)
        self._weights = list(weights)
        self.written: list[tuple[int, int, int]] = []
        self.faults = dict.fromkeys(FAULTS, 0)
        if batch:
            self.write_batch = self._write_batch

    async def _call(self, records: Sequence[Mapping[str, Any]]) -> None:
        fault = self._rng.choices(FAULTS, self._weights)[0]
        self.faults[fault] += 1
        if fault == "raise":
            raise ConnectionError(f"{self.name}: backend down")
        if fault == "cancel":
            raise asyncio.CancelledError
        if fault == "hang":
            await asyncio.Event().wait()
        if fault == "block":
            time.sleep(WRITE_TIMEOUT * 1.5)  # noqa: ASYNC251 - the fault simulated: a sink blocking its thread
            raise TimeoutError(f"{self.name}: blocked, then gave up")
        if fault == "slow":
            await asyncio.sleep(0.002)
        self.written.extend(key(r) for r in records)

    async def write(self, record: Mapping[str, Any]) -> None:
        await self._call([record])

    async def _write_batch(self, records: list[Mapping[str, Any]]) -> None:
        await self._call(records)


def key(record: Mapping[str, Any]) -> tuple[int, int, int]:
    """Which log call a record came from: (producer tag, thread, index)."""
    return int(record.get("p", -1)), int(record["t"]), int(record["i"])


def make_sinks(rng: random.Random) -> list[Any]:
    """Three faulty sinks with different fault mixes (one writing record by record) and a clean memory sink."""
    from fapilog.builtins.sinks.memory import MemorySink

    mixes = {
        "flaky_raise": [80, 10, 6, 0, 0, 4],
        "flaky_hang": [85, 3, 2, 3, 3, 4],
        "flaky_each": [88, 4, 2, 1, 1, 4],
    }
    sinks: list[Any] = [
        FaultySink(name, rng.randrange(2**32), weights, batch=name != "flaky_each") for name, weights in mixes.items()
    ]
    sinks.append(MemorySink())
    return sinks


# -- checking -------------------------------------------------------------------------------------------------
def problems(row: dict[str, Any]) -> list[str]:
    """What is wrong with one row (empty when every identity holds)."""
    if "error" in row:
        return [row["error"]]
    found = []
    if row["submitted"] != row["logged"]:
        found.append(f"submitted {row['submitted']} != logged {row['logged']}")
    total = row["delivered"] + row["failed"] + row["sink_dropped"] + row["queue_dropped"]
    if total != row["logged"]:
        found.append(f"delivered+failed+dropped {total} != logged {row['logged']}")
    late = row["sink_saw"] - row["delivered"]
    if not 0 <= late <= row["timed_out"]:
        found.append(f"the sink saw {row['sink_saw']} written, stats say {row['delivered']} delivered "
                     f"(and {row['timed_out']} failed by timeout)")
    if row["sink_twice"]:
        found.append(f"{row['sink_twice']} record(s) written twice")
    if row["left"] or row["report_in_flight"]:
        found.append(f"{row['left'] + row['report_in_flight']} left buffered or in flight")
    return found


def table(results: list[dict[str, Any]]) -> str:
    head = ("scenario", "process", "sink", "logged", "delivered", "failed", "sink drops", "queue drops",
            "sink saw", "written after timeout", "faults (raise/cancel/hang/block/slow)", "ok")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for res in results:
        for row in res["rows"]:
            if "error" in row:
                lines.append(f"| {res['name']} | {row['process']} | - | " + " | " * 8 + f"FAIL: {row['error']} |")
                continue
            f = row["faults"]
            faults = "/".join(str(f.get(k, "-")) for k in FAULTS[1:]) if f else "-"
            bad = problems(row)
            cells = (res["name"], row["process"], row["sink"], row["logged"], row["delivered"], row["failed"],
                     row["sink_dropped"], row["queue_dropped"], row["sink_saw"], row["sink_saw"] - row["delivered"],
                     faults,
                     "yes" if not bad else "FAIL: " + "; ".join(bad))
            lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)
