"""fapilog in one screen: structured events, bound context, exceptions, delivery and stats.

Run: .venv/bin/python examples/quickstart.py
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import fapilog

log = fapilog.get_logger(__name__)  # safe at module level: it follows configure() below


async def handle_request(request_id: str) -> None:
    with fapilog.scoped(request_id=request_id):  # follows every await in this task
        await asyncio.sleep(0)
        log.info("request handled", status=200, duration_ms=3.2)


def main() -> None:
    log_file = Path(tempfile.mkdtemp()) / "app.log"
    fapilog.configure(
        level="INFO",
        sinks=["stdout", {"type": "file", "path": str(log_file), "max_bytes": 10_000_000, "backup_count": 3}],
    )
    log.info("user login", user_id=7, ip="10.0.0.1")
    log.bind(tenant="acme").warning("quota near limit", used=0.93)
    try:
        1 / 0  # noqa: B018 - the point is the exception
    except ZeroDivisionError:
        log.exception("division failed")
    asyncio.run(handle_request("r-1"))

    result = fapilog.flush(timeout=2.0)
    stats = fapilog.stats()
    lines = log_file.read_text().splitlines()
    print(f"flush ok={result.ok}; {stats['submitted']} submitted, {len(lines)} lines in {log_file}")
    assert result.ok and len(lines) == stats["submitted"] == 4


if __name__ == "__main__":
    main()
