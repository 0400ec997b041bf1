"""Every Python example in the docs runs as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _examples() -> list[tuple[str, str]]:
    found = []
    for page in [DOCS.parent / "README.md", *sorted(DOCS.rglob("*.md"))]:
        for index, block in enumerate(_BLOCK.findall(page.read_text(encoding="utf-8"))):
            if "# docs-test: skip" not in block:
                found.append((f"{page.relative_to(DOCS.parent)}#{index}", block))
    return found


@pytest.mark.parametrize(("where", "code"), _examples(), ids=[w for w, _ in _examples()])
def test_docs_example_runs(where: str, code: str, tmp_path: Path) -> None:
    """The example exits 0 in a fresh interpreter (working directory: a temp dir)."""
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, f"{where} failed:\n{proc.stderr[-3000:]}"
