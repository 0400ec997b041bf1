"""Deprecated: the engine moved to the private package ``fapilog._engine``; plugin authors import :mod:`fapilog.plugins`
(this path goes in fapilog 4.0). Only the old paths docs and templates named keep a shim module here."""

from __future__ import annotations

from fapilog._moved import package_getattr

__getattr__ = package_getattr(__name__, "fapilog._engine")
