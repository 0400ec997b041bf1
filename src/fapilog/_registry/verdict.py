"""The version gate's answer, kept apart from the gate itself so that resolving a built-in plugin (which needs
the answer, never the gate) imports neither ``packaging`` nor ``importlib.metadata``."""

from __future__ import annotations

from fapilog._value_methods import ValueMethods, value_class
from fapilog._version import __version__

__all__ = ["CORE_DISTRIBUTION", "CORE_VERDICT", "CompatVerdict"]

CORE_DISTRIBUTION = "fapilog"
"""The core's distribution name (canonical form)."""


@value_class  # see fapilog._value_methods
class CompatVerdict(ValueMethods):
    """The gate's answer for one distribution: ``compatible``, the ``constraint`` it declares on fapilog
    (``None`` when it declares none), a ``reason`` a person can act on, the core version checked, and the
    reason's stable ``code`` (:data:`fapilog.errors.ERROR_CODES`) when it refuses or cannot check."""

    compatible: bool
    constraint: str | None
    reason: str
    core_version: str = __version__
    code: str | None = None


CORE_VERDICT = CompatVerdict(True, None, "part of the fapilog core")
"""The core's own distribution is always compatible with itself."""
