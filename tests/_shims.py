"""Checks shared by the tests of deprecated import paths (`src/fapilog/_moved.py`)."""

from __future__ import annotations

import subprocess
import sys


def assert_old_path_aliases(old: str, new: str) -> None:
    """In a fresh interpreter, importing ``old`` warns (DeprecationWarning naming ``new``) and yields the very
    module object at ``new``."""
    code = (
        "import importlib, warnings\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        f"    old = importlib.import_module({old!r})\n"
        f"new = importlib.import_module({new!r})\n"
        "print(old is new)\n"
        "print([str(w.message) for w in caught if w.category is DeprecationWarning])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    same, messages = out.splitlines()
    assert same == "True"
    assert f"{old} moved to {new}" in messages
