"""Deprecated: the built-in enrichers moved to :mod:`fapilog.builtins.enrichers` (this path goes in fapilog 4.0)."""

from __future__ import annotations

from fapilog._moved import package_getattr

__getattr__ = package_getattr(__name__, "fapilog.builtins.enrichers")
