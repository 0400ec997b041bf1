"""The stable import path the product stories use for the plugin kit: ``from fapilog.plugin_api import Sink``.

An alias, not a copy: every name here is the object :mod:`fapilog.plugins` exports (one definition, two import
paths), so ``isinstance`` checks and type hints agree whichever path a plugin imports from. The set of names
follows :data:`fapilog.plugins.__all__` and the compatibility policy in ``docs/compatibility.md``.
"""

from __future__ import annotations

from fapilog import plugins as _plugins
from fapilog.plugins import *  # noqa: F403 - the alias: every public name of fapilog.plugins, and only those

__all__ = list(_plugins.__all__)  # the same names, by construction
