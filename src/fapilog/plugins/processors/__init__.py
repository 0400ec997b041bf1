"""Deprecated: the built-in processors moved to :mod:`fapilog.builtins.processors` (this path goes in fapilog 4.0)."""

from __future__ import annotations

from fapilog._moved import package_getattr

__getattr__ = package_getattr(__name__, "fapilog.builtins.processors")
