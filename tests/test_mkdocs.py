"""The documentation site builds with ``mkdocs build --strict``, and every page under docs/ is in its nav.

Strict mode turns MkDocs' warnings into failures: a link to a page or file that does not exist, a page left
out of the nav, a nav entry whose file is missing. The nav check below says the same about orphaned pages in
one readable list, so adding a page without a nav entry fails with the page named.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CONFIG = ROOT / "mkdocs.yml"


def nav_pages(node: Any) -> Iterator[str]:
    """Every page path the ``nav`` names, at any depth (``- Title: page.md``, ``- page.md``, sections)."""
    if isinstance(node, str):
        if not node.startswith(("http://", "https://")):
            yield node
    elif isinstance(node, list):
        for item in node:
            yield from nav_pages(item)
    elif isinstance(node, dict):
        for value in node.values():
            yield from nav_pages(value)


def load_config() -> dict[str, Any]:
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    assert isinstance(config, dict), "mkdocs.yml must be a mapping"
    return config


def docs_pages() -> set[str]:
    return {path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md")}


def test_every_page_is_in_the_nav() -> None:
    """Each docs/**/*.md file has a nav entry in mkdocs.yml, so no page is orphaned."""
    listed = set(nav_pages(load_config()["nav"]))
    missing = sorted(docs_pages() - listed)
    assert not missing, "add these pages to `nav` in mkdocs.yml:\n" + "\n".join(f"  - {page}" for page in missing)


def test_every_nav_entry_is_a_page() -> None:
    """Each nav entry names an existing Markdown page under docs/, once."""
    listed = list(nav_pages(load_config()["nav"]))
    dangling = sorted(set(listed) - docs_pages())
    assert not dangling, f"these nav entries have no page under docs/: {dangling}"
    twice = sorted({page for page in listed if listed.count(page) > 1})
    assert not twice, f"these pages are in the nav more than once: {twice}"


def test_the_site_is_configured_for_strict_builds() -> None:
    """mkdocs.yml builds from docs/ in strict mode and treats omitted pages and broken links as errors."""
    config = load_config()
    assert config["docs_dir"] == "docs"
    assert config["strict"] is True
    validation = config["validation"]
    assert validation["omitted_files"] == "warn"
    assert validation["unrecognized_links"] == "warn"


def test_the_site_builds_in_strict_mode(tmp_path: Path) -> None:
    """`mkdocs build --strict` succeeds: no broken link, no page outside the nav, no missing file."""
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    assert (tmp_path / "site" / "index.html").is_file()
    assert (tmp_path / "site" / "troubleshooting" / "index.html").is_file()
