"""Module attributes imported on first use, so importing a package stays cheap (PEP 562 ``__getattr__``).

>>> __getattr__, __dir__ = lazy_attributes(__name__, {"PluginRegistry": "fapilog._registry.registry"})
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_attributes"]


def lazy_attributes(
    module: str, homes: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``module``: each name in ``homes`` is imported from the module
    it maps to when first read, then cached in ``module``'s globals so later reads cost nothing."""
    namespace = sys.modules[module].__dict__

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *homes})

    return __getattr__, __dir__
