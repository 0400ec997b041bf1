"""The benchmark's event, its slow sink stand-in, and the on-disk checks every file workload runs.

Every library logs the same 5-field event (see :data:`FIELDS`); only the call syntax differs per library.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

MESSAGE = "user login"
IP = "10.0.0.1"
METHOD = "GET"
PATH = "/api/v1/items"
STATUS = 200
FIELDS = ("user_id", "ip", "method", "path", "status")

# Matches `"user_id": 12`, `"user_id":12` (JSON) and `user_id=12` (picologging's text line).
_USER_ID = re.compile(rb"user_id\W{1,4}(\d+)")


class DelaySink:
    """A sink stand-in whose every write blocks the calling thread for ``delay`` seconds, and counts.

    Each library wraps it in its own sink shape (handler, callable, plugin object); ``hit`` is what the
    library's write path calls once per event. ``time.sleep`` is used on purpose: it models blocking I/O
    (it releases the GIL like a real ``write()`` would), not CPU work.
    """

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.delivered = 0
        self.busy_s = 0.0
        self._lock = threading.Lock()

    def hit(self, *_: object) -> None:
        start = time.perf_counter()
        time.sleep(self.delay)
        with self._lock:
            self.delivered += 1
            self.busy_s += time.perf_counter() - start

    def mean_write_ms(self) -> float:
        return self.busy_s / self.delivered * 1e3 if self.delivered else 0.0

    def wait_for(self, count: int, deadline: float) -> bool:
        """Poll until ``count`` events were delivered or ``deadline`` (perf_counter) passes."""
        while self.delivered < count:
            if time.perf_counter() >= deadline:
                return False
            time.sleep(0.005)
        return True


@dataclass(frozen=True)
class FileCheck:
    """What was really on disk: line count and which event ids arrived."""

    lines: int
    unique_ids: int
    missing_ids: int
    duplicate_lines: int

    def as_dict(self) -> dict[str, int]:
        return {
            "lines": self.lines,
            "unique_ids": self.unique_ids,
            "missing_ids": self.missing_ids,
            "duplicate_lines": self.duplicate_lines,
        }


def check_file(path: str | Path, expected_ids: range) -> FileCheck:
    """Count lines and verify that each expected ``user_id`` is in the file exactly once."""
    p = Path(path)
    data = p.read_bytes() if p.exists() else b""
    lines = data.count(b"\n")
    seen = {int(m) for m in _USER_ID.findall(data)}
    found = len(seen.intersection(expected_ids))
    return FileCheck(
        lines=lines,
        unique_ids=found,
        missing_ids=len(expected_ids) - found,
        duplicate_lines=max(0, lines - len(seen)),
    )
