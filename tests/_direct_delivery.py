"""What the tests of a pipeline delivered by its shutdown (``tests/engine/test_direct_delivery*.py``) share:
a child interpreter without the parent's ``FAPILOG_*`` settings, a short script's output against the worker's
with timestamps masked, a lazily started pipeline (the ``long_delay`` fixture is in ``tests/conftest.py``)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from typing import Any

import fapilog

ENV = {k: v for k, v in os.environ.items() if not k.startswith("FAPILOG_")}
"""The parent's environment without its FAPILOG_* variables (they must not configure the child)."""


def child(code: str, env: dict[str, str] | None = None, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """``python -c code`` (dedented) in a fresh interpreter, its output captured as text."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=120, check=False, env=env if env is not None else ENV, **kwargs)


def without_timestamps(out: str) -> str:
    """``out`` with every ISO timestamp (JSON or console) replaced by ``<time>``."""
    return re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+Z", "<time>", out)


def direct_and_built(
    code: str, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
    """``code`` run as a short script (delivered by its exit drain), and the same script ending in a flush (which
    builds the worker, so the worker delivers); both must exit 0."""
    direct = child(code, env=env)
    built = child(code + "\nfapilog.flush(30.0)\n", env=env)
    assert direct.returncode == built.returncode == 0, direct.stderr + built.stderr
    return direct, built


def lazy_pipeline(**options: Any) -> None:
    """The next log call starts a lazy pipeline with ``options`` (configure's own pipeline is not lazy)."""
    fapilog.configure(**options)
    fapilog.shutdown(timeout=5.0)
