"""Deprecated: moved to the private module ``fapilog._registry.report``; use :func:`fapilog.debug_plugins`
(this path goes in fapilog 4.0)."""

from __future__ import annotations

from typing import Any

from fapilog._moved import package_getattr

_RENAMED = {"debug_plugins": "print_report"}
_resolve = package_getattr(__name__, "fapilog._registry.report")


def __getattr__(name: str) -> Any:
    return _resolve(_RENAMED.get(name, name))
