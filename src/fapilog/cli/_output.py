"""How the CLI writes results: aligned text tables for people, one JSON document for machines."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, TextIO

__all__ = ["parse_settings", "plugin_output_to_stderr", "seconds", "write_json", "write_table"]


@contextlib.contextmanager
def plugin_output_to_stderr() -> Iterator[None]:
    """Send whatever plugins print while they run to stderr, so stdout carries only the command's report.

    Checking the ``stdout`` sink writes records; without this they would land in the middle of a ``--json``
    document. Both ``sys.stdout`` and file descriptor 1 are redirected (a plugin may write to either).
    """
    sys.stdout.flush()
    saved_stream = sys.stdout
    try:
        saved_fd: int | None = os.dup(1)
    except OSError:  # no file descriptor 1 (a closed or embedded stdout): only the Python stream is swapped
        saved_fd = None
    try:
        if saved_fd is not None:
            os.dup2(2, 1)
        sys.stdout = sys.stderr
        yield
    finally:
        sys.stderr.flush()
        sys.stdout = saved_stream
        if saved_fd is not None:
            os.dup2(saved_fd, 1)
            os.close(saved_fd)


def write_json(data: object, out: TextIO) -> None:
    """Write ``data`` as one indented JSON document (values JSON cannot hold are written as text)."""
    out.write(json.dumps(data, indent=2, default=str) + "\n")


def write_table(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], out: TextIO) -> None:
    """Write ``rows`` as left-aligned columns under upper-case headers; a missing value shows as ``-``."""
    cells = [["-" if row.get(column) is None else str(row[column]) for column in columns] for row in rows]
    widths = [max([len(column), *(len(line[i]) for line in cells)]) for i, column in enumerate(columns)]
    for line in [[column.upper() for column in columns], *cells]:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() + "\n")


def parse_settings(items: Iterable[str]) -> dict[str, Any]:
    """Turn ``--setting KEY=VALUE`` options into settings; a value that parses as JSON is taken as JSON.

    ``max_bytes=1000`` gives an integer, ``fields=["a","b"]`` a list, ``compress=true`` a boolean and
    ``path=app.log`` a string. Raises :class:`~fapilog.cli._errors.CliError` (exit 2) for a malformed item.
    """
    from fapilog.cli._errors import CliError

    settings: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise CliError(
                f"malformed --setting {item!r}: expected KEY=VALUE",
                "write it as --setting path=app.log (values are JSON when they parse, else text)",
            )
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        settings[key] = value
    return settings


def seconds(text: str) -> float:
    """An argparse ``type`` for ``--timeout``: a positive, finite number of seconds.

    ``float`` alone takes ``-1``, ``0`` and ``nan``, with which every check "hangs" or none can; a usage error
    (exit 2) says what is expected instead.
    """
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value
