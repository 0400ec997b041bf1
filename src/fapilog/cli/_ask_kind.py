"""``fapilog plugin new NAME`` without ``--kind``: ask on a terminal, refuse clearly without one.

The stories write the command as ``fapilog plugin new audit``. On a terminal the kind is asked for (Enter picks
``sink``, the kind most plugins are); in a script or CI (no terminal on standard input) nobody can answer, so
the command stops with an error that lists the kinds and shows the flag, rather than guessing.
"""

from __future__ import annotations

import sys
from typing import TextIO

from fapilog.cli._errors import EXIT_USAGE, CliError

__all__ = ["DEFAULT_KIND", "ask_kind"]

DEFAULT_KIND = "sink"
"""What Enter picks at the prompt."""

_WHAT = {
    "sink": "delivers records somewhere (async def write)",
    "processor": "reshapes records before the sinks (async def process)",
    "enricher": "adds fields to every record (async def enrich)",
    "redactor": "masks sensitive values (async def redact)",
    "filter": "drops records early (async def filter)",
}
_ATTEMPTS = 3


def ask_kind(name: str, kinds: tuple[str, ...], stdin: TextIO | None = None, stdout: TextIO | None = None) -> str:
    """The kind for plugin ``name``: asked on a terminal, else a usage error naming the kinds and the flag."""
    stdin = stdin if stdin is not None else sys.stdin
    stdout = stdout if stdout is not None else sys.stdout
    listed = ", ".join(kinds)
    if stdin is None or not stdin.isatty():
        raise CliError(
            f"which kind of plugin is {name!r}? No terminal to ask on; the kinds are: {listed}",
            f"pass one with --kind, e.g. fapilog plugin new {name} --kind {DEFAULT_KIND}",
        )
    stdout.write(f"Which kind of plugin is {name!r}?\n")
    for number, kind in enumerate(kinds, 1):
        stdout.write(f"  {number}. {kind:<10} {_WHAT.get(kind, '')}\n")
    for _ in range(_ATTEMPTS):
        stdout.write(f"Kind [1-{len(kinds)} or name, Enter for {DEFAULT_KIND}]: ")
        stdout.flush()
        line = stdin.readline()
        if not line:  # end of input (Ctrl-D)
            break
        answer = line.strip().lower()
        if not answer:
            return DEFAULT_KIND
        if answer.isdigit() and 1 <= int(answer) <= len(kinds):
            return kinds[int(answer) - 1]
        if answer in kinds:
            return answer
        stdout.write(f"{answer!r} is not a kind; choose one of: {listed}\n")
    raise CliError(f"no kind chosen for plugin {name!r}; the kinds are: {listed}",
                   f"pass one with --kind, e.g. fapilog plugin new {name} --kind {DEFAULT_KIND}", EXIT_USAGE)
