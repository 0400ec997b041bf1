"""Regenerate the generated documentation pages from the code they describe.

Writes ``docs/reference/configuration.md`` (from ``fapilog.settings.LoggingSettings`` and every built-in
plugin's config model) and ``docs/reference/plugins/<name>.md`` (one page per built-in plugin, the same
page ``fapilog plugin docs NAME`` prints). ``tests/cli/test_docgen.py`` fails when the committed pages differ
from what this script would write, so run it after changing a setting, a config model or plugin metadata::

    .venv/bin/python scripts/gen_docs.py          # rewrite the pages
    .venv/bin/python scripts/gen_docs.py --check  # exit 1 and list stale pages, writing nothing
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fapilog.cli.docgen import generated_files

DOCS = Path(__file__).resolve().parent.parent / "docs"


def main() -> int:
    """Write (or with ``--check``, compare) every generated page; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report pages that are out of date")
    args = parser.parse_args()
    files = generated_files(DOCS)
    stale = [path for path, text in files.items() if not path.exists() or path.read_text(encoding="utf-8") != text]
    known = set(files)
    orphans = sorted(path for path in (DOCS / "reference" / "plugins").glob("*.md") if path not in known)
    if args.check:
        for path in [*stale, *orphans]:
            print(f"out of date: {path.relative_to(DOCS.parent)}")
        return 1 if stale or orphans else 0
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files[path], encoding="utf-8")
        print(f"wrote {path.relative_to(DOCS.parent)}")
    for path in orphans:
        path.unlink()  # a page of a built-in that no longer exists
        print(f"removed {path.relative_to(DOCS.parent)}")
    print(f"{len(files)} generated pages, {len(stale)} rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
