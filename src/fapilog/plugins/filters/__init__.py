"""Deprecated: the built-in filters moved to :mod:`fapilog.builtins.filters` (this path goes in fapilog 4.0)."""

from __future__ import annotations

from fapilog._moved import package_getattr

__getattr__ = package_getattr(__name__, "fapilog.builtins.filters")
