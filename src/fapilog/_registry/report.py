"""The report behind ``fapilog.debug_plugins()``: what is installed, what it is, whether it may load, and why not.

The first thing to run when a plugin "does nothing"::

    python -c "import fapilog; fapilog.debug_plugins()"

It reads metadata only: a plugin that was not loaded yet shows kind ``?`` (its kind lives in its code), and
nothing is imported just to be listed, so a broken plugin cannot break the report.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from fapilog._registry import discovery
from fapilog._registry.registry import PluginInfo, PluginRegistry, default_registry
from fapilog._registry.verdict import CompatVerdict

__all__ = ["print_report"]

_COLUMNS = ("name", "kind", "version", "distribution", "compatible", "state", "health", "load_ms", "start_ms")


def _verdict_reason(verdict: CompatVerdict) -> str:
    """The gate's reason, with its code when the verdict refuses or could not check (``[FL-VER-004]``)."""
    return f"{verdict.reason} [{verdict.code}]" if verdict.code else verdict.reason


def _info_row(info: PluginInfo) -> dict[str, Any]:
    state: str = info.state
    if state == "discovered" and info.verdict is not None and not info.verdict.compatible:
        state = "incompatible"
    elif state == "discovered" and not info.available:
        state = "unavailable"
    reason = info.error or (_verdict_reason(info.verdict) if info.verdict else "registered in code")
    return {
        "name": info.name,
        "kind": info.kind or "?",
        "version": info.metadata.version if info.metadata else info.dist_version or "?",
        "distribution": info.distribution or "-",
        "compatible": info.verdict.compatible if info.verdict else True,
        "reason": reason,
        "state": state,
        "source": info.source,
        "legacy": info.legacy,
    }


def _entry_row(entry: discovery.DiscoveredPlugin, state: str, reason: str) -> dict[str, Any]:
    return {
        "name": entry.name,
        "kind": "?",
        "version": entry.dist_version,
        "distribution": entry.distribution,
        "compatible": entry.verdict.compatible,
        "reason": reason,
        "state": state,
        "source": "builtin" if entry.builtin else "entry-point",
        "legacy": False,
    }


def _unavailable_reason(entry: discovery.DiscoveredPlugin) -> str:
    return f"needs {', '.join(entry.missing)}; to use it: {entry.install_hint}"


def collect(registry: PluginRegistry | None = None) -> list[dict[str, Any]]:
    """The rows :func:`print_report` prints, without printing them."""
    reg = registry if registry is not None else default_registry()
    scan = discovery.scan()
    rows: list[dict[str, Any]] = []
    for info in reg.list():
        if info.name in scan.conflicts and info.source != "registered":
            continue  # shown below, one row per competing distribution
        row = _info_row(info)
        entry = scan.plugins.get(info.name)
        if row["state"] == "unavailable" and entry is not None:
            row["reason"] = _unavailable_reason(entry)
        rows.append(row)
    for conflict in scan.conflicts.values():
        rows.extend(_entry_row(c, "conflict", str(conflict.error())) for c in conflict.candidates)
    for entry in scan.shadowed:
        rows.append(_entry_row(entry, "shadowed", f"the built-in {entry.name!r} takes precedence"))
    return rows


def print_report(file: TextIO | None = None, *, registry: PluginRegistry | None = None) -> list[dict[str, Any]]:
    """Print a table of every discovered or registered plugin and return the same data as dicts.

    Each row has ``name``, ``kind`` (``"?"`` until loaded), ``version``, ``distribution``, ``compatible``
    and ``reason`` (the version gate's verdict), ``state`` (discovered, loaded, started, stopped, failed,
    incompatible, unavailable, conflict, shadowed), ``source`` and ``legacy``; ``fapilog.debug_plugins()``
    adds ``health``, ``load_ms`` and ``start_ms`` for running plugins. Reasons worth reading follow the table.
    """
    rows = collect(registry)
    print_rows(rows, file if file is not None else sys.stdout)
    return rows


def print_rows(rows: list[dict[str, Any]], out: TextIO) -> None:
    """The table, then one line per row whose reason needs reading."""
    cells = [[str(row.get(column, "-")) for column in _COLUMNS] for row in rows]
    widths = [max([len(column), *(len(line[i]) for line in cells)]) for i, column in enumerate(_COLUMNS)]
    header = "  ".join(column.upper().ljust(width) for column, width in zip(_COLUMNS, widths, strict=True))
    out.write(header.rstrip() + "\n")
    for line in cells:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() + "\n")
    quiet = ("loaded", "started")
    notes = [
        row
        for row in rows
        if (row["state"] not in quiet and not row["reason"].startswith("part of the fapilog"))
        or row.get("health", "-") not in ("-", "healthy")
    ]
    if notes:
        out.write("\n")
    for row in notes:
        out.write(f"{row['name']} ({row['distribution']}): {row['reason']}\n")
    if not rows:
        out.write(f"no plugins found in entry-point group {discovery.GROUP!r}\n")
