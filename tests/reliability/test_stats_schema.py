"""``fapilog.stats()`` has the same keys before the first log call as while running and after shutdown, and
they are the keys of its typed schema (``fapilog._engine.stats_schema``) and of docs/observability.md.

Checked in a fresh interpreter (the only place nothing has started yet); a forked child, which has not
logged yet either, reports its own not-started pipeline rather than its parent's last one. Before the first
log call ``sinks`` and ``plugins`` are empty (nothing is built yet): each configured sink's keys are checked
against the schema in the running form.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import typing
from pathlib import Path
from typing import Any

NAME_KEYED = frozenset({"sinks", "plugins", "by_reason", "errors", "processor_errors", "processor_degraded"})
"""Maps keyed by plugin, sink or reason name: their keys are data, not schema."""

SCRIPT = """
import json, os, sys
import fapilog

out = open(sys.argv[2], "w")
def dump(label):
    out.write(json.dumps({"label": label, "stats": fapilog.stats()}) + "\\n")
    out.flush()

dump("not started")
log = fapilog.get_logger("stats")
for i in range(10):
    log.info("event", i=i)
assert fapilog.flush(timeout=30.0)
dump("running")
assert fapilog.shutdown(timeout=30.0)
dump("stopped")
if hasattr(os, "fork"):
    pid = os.fork()
    if pid == 0:
        dump("child not started")
        out.close()
        os._exit(0)
    os.waitpid(pid, 0)
"""


def _schema(value: Any, key: str = "") -> Any:
    """Nested key sets; name-keyed maps count only as "a map"."""
    if isinstance(value, dict):
        if key in NAME_KEYED:
            return "map"
        return {k: _schema(v, k) for k, v in value.items()}
    return type(value).__name__ if isinstance(value, bool) else "value"


def test_stats_keys_are_the_same_before_the_first_log_call(tmp_path: Path) -> None:
    """Every key of a running pipeline's stats() exists before the first log call, with the settings' values."""
    log_path = tmp_path / "app.log"
    stats_path = tmp_path / "stats.jsonl"
    env = {
        **os.environ,
        "FAPILOG_SINKS": json.dumps([{"type": "file", "path": str(log_path)}]),
        "FAPILOG_QUEUE__CAPACITY": "777",
    }
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT), str(log_path), str(stats_path)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert len(log_path.read_text().splitlines()) == 10
    snapshots = {row["label"]: row["stats"] for row in map(json.loads, stats_path.read_text().splitlines())}

    before, running = snapshots["not started"], snapshots["running"]
    assert before["state"] == "not started" and running["state"] == "running"
    assert before["queue"]["capacity"] == running["queue"]["capacity"] == 777
    assert before["submitted"] == before["processed"] == before["queue"]["depth"] == 0
    assert before["sinks"] == {} and before["plugins"] == {}
    for label, snapshot in snapshots.items():
        assert _schema(snapshot) == _schema(running), label
    assert running["sinks"]["file"]["delivered"] == 10

    if "child not started" in snapshots:
        child = snapshots["child not started"]
        assert child["state"] == "not started" and child["submitted"] == 0 and child["sinks"] == {}


# -- the typed schema -----------------------------------------------------------------------------------------

DOC = Path(__file__).resolve().parents[2] / "docs" / "observability.md"


def _paths(tp: Any, prefix: str = "") -> dict[str, bool]:
    """Every dotted key path of a TypedDict (``<name>`` for a name-keyed map of TypedDicts) -> is it a leaf."""
    found: dict[str, bool] = {}
    for key, hint in typing.get_type_hints(tp).items():
        path = f"{prefix}{key}"
        if typing.is_typeddict(hint):
            found[path] = False
            found.update(_paths(hint, f"{path}."))
            continue
        args = typing.get_args(hint)
        if typing.get_origin(hint) is dict and len(args) == 2 and typing.is_typeddict(args[1]):
            found[path] = False
            found.update(_paths(args[1], f"{path}.<name>."))
            continue
        found[path] = True
    return found


def _mismatches(value: Any, tp: Any, where: str = "stats()") -> list[str]:
    """Where a snapshot's keys differ from the TypedDict's, recursively (name-keyed maps: each value)."""
    hints = typing.get_type_hints(tp)
    if set(value) != set(hints):
        return [f"{where}: {sorted(set(value) ^ set(hints))}"]
    problems: list[str] = []
    for key, hint in hints.items():
        args = typing.get_args(hint)
        if typing.is_typeddict(hint):
            problems += _mismatches(value[key], hint, f"{where}[{key!r}]")
        elif typing.get_origin(hint) is dict and len(args) == 2 and typing.is_typeddict(args[1]):
            for name, item in value[key].items():
                problems += _mismatches(item, args[1], f"{where}[{key!r}][{name!r}]")
    return problems


def test_running_and_not_started_stats_have_exactly_the_typed_schemas_keys(tmp_path: Path) -> None:
    """Both forms of stats(), and each configured sink and plugin in the running one, have the TypedDicts' keys."""
    import fapilog
    from fapilog._engine.stats_schema import Stats

    fapilog.configure(sinks=["memory", {"type": "file", "path": str(tmp_path / "a.log")}], filters=["level"])
    fapilog.get_logger("schema").info("one")
    assert fapilog.flush(timeout=10.0)
    running = fapilog.stats()
    assert set(running["sinks"]) == {"memory", "file"} and {"memory", "file", "level"} <= set(running["plugins"])
    assert _mismatches(running, Stats) == []
    fapilog.shutdown(timeout=10.0)
    from fapilog._engine.runtime import Runtime
    from fapilog.settings import LoggingSettings

    not_started = Runtime(LoggingSettings()).stats()  # what stats() shows before the first log call
    assert _mismatches(not_started, Stats) == []


def _documented() -> dict[str, str]:
    """The observability page's table: each documented key path (``.x`` continues the row's first path) ->
    the row's text."""
    rows: dict[str, str] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if not line.startswith("| `"):
            continue
        first, text = line.split(" | ", 1)
        base = ""
        for span in re.findall(r"`([^`]+)`", first):
            base = base.rsplit(".", 1)[0] + span if span.startswith(".") else span
            rows[base] = text
    return rows


def test_the_observability_page_documents_exactly_the_schema() -> None:
    """Every key the page's table names is in the schema, and every schema key is in the table: itself, or
    named in its section's row (``latency_ms``: ``last``, ``max``, ``avg``)."""
    from fapilog._engine.stats_schema import Stats

    schema, documented = _paths(Stats), _documented()
    assert sorted(set(documented) - set(schema)) == [], "documented keys the schema does not have"
    missing = []
    for path, leaf in schema.items():
        if not leaf or path in documented:
            continue
        parent, _, key = path.rpartition(".")
        if f"`{key}`" not in documented.get(parent, ""):
            missing.append(path)
    assert missing == [], "schema keys the page does not document"
