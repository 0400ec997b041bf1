"""What a contract run reports: one :class:`CheckResult` per check, gathered in a :class:`ContractReport`."""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["CheckResult", "ContractReport"]


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: passed, failed with a reason, or skipped with a reason."""

    name: str
    ok: bool
    reason: str = ""
    skipped: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "skipped": self.skipped, "reason": self.reason}


@dataclasses.dataclass(frozen=True)
class ContractReport:
    """Every check's result for one plugin. ``ok`` is true when none failed (skips are fine)."""

    plugin: str
    kind: str
    results: list[CheckResult]

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)

    @property
    def failures(self) -> list[CheckResult]:
        return [result for result in self.results if not result.ok]

    def result(self, name: str) -> CheckResult:
        """The result of the check called ``name``."""
        for result in self.results:
            if result.name == name:
                return result
        raise KeyError(f"no result for check {name!r}; ran: {', '.join(r.name for r in self.results)}")

    def to_dict(self) -> dict[str, Any]:
        return {"plugin": self.plugin, "kind": self.kind, "ok": self.ok,
                "results": [result.to_dict() for result in self.results]}

    def __str__(self) -> str:
        lines = [f"{'PASS' if r.ok and not r.skipped else 'SKIP' if r.skipped else 'FAIL'} {r.name}"
                 + (f": {r.reason}" if r.reason else "") for r in self.results]
        return "\n".join(lines)
