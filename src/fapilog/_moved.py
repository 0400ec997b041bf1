"""Deprecation shims for modules that moved: the old import path keeps working until the next major release.

A shim module replaces itself in ``sys.modules`` with the module at the new path, so both names are the same
object (``isinstance`` checks and monkeypatching agree), and warns once per import with the new path to use.
Nothing in ``src/`` imports a shim; ``tests/test_layers.py`` keeps it that way.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from types import ModuleType
from typing import Any

__all__ = ["alias_module", "package_getattr"]

REMOVED_IN = "4.0"
"""The release that drops the old paths: removals wait for a major (docs/compatibility.md, Deprecations)."""


def _warn(old: str, new: str, use: str | None = None) -> None:
    where = f"import its public names from {use}" if use else "import it from there"
    warnings.warn(
        f"{old} moved to {new}; {where} (the old path is removed in fapilog {REMOVED_IN})",
        DeprecationWarning,
        stacklevel=4,
    )


def alias_module(old: str, new: str, use: str | None = None) -> ModuleType:
    """Warn, import ``new`` and register it under ``old`` too; the shim's last line is
    ``sys.modules[__name__] = alias_module(__name__, "...")``. ``use`` names the public module to import from
    instead, when ``new`` is private."""
    _warn(old, new, use)
    module = importlib.import_module(new)
    sys.modules[old] = module
    return module


def package_getattr(old: str, new: str) -> Any:
    """A shim package's module ``__getattr__``: attributes come from the package at ``new``.

    The old package stays a real package (its own folder holds one shim per public module), so
    ``import old.module`` finds the shim rather than loading the new module a second time under the old name.
    """
    _warn(old, new)

    def __getattr__(name: str) -> Any:
        return getattr(importlib.import_module(new), name)

    return __getattr__
