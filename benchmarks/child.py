"""One measurement in a fresh interpreter: ``python benchmarks/child.py WORKLOAD LIBRARY PARAMS_JSON``.

Prints exactly one JSON object on stdout: ``{"ok": true, "result": {...}}``, or ``{"ok": false, ...}``
with ``"missing"`` (library not installed, exit 3) or ``"error"`` (exit 1).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import traceback
from pathlib import Path


def _emit(doc: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(doc) + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    workload_name, lib_name, raw = argv
    params = json.loads(raw)
    try:
        from libs import load

        adapter = load(lib_name)
    except ImportError as exc:
        _emit({"ok": False, "missing": f"{type(exc).__name__}: {exc}"})
        return 3
    from workloads import WORKLOADS

    with tempfile.TemporaryDirectory(prefix=f"bench-{workload_name}-") as tmp:
        try:
            result = WORKLOADS[workload_name](adapter, params, Path(tmp))
        except Exception as exc:
            _emit({"ok": False, "error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()})
            return 1
    _emit({"ok": True, "result": result})
    if result.get("hard_exit"):
        sys.stderr.flush()
        os._exit(0)  # a capped queue would otherwise be drained by the library's atexit hook
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
