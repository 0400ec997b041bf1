"""Deprecated: moved to ``fapilog._registry.discovery`` (private); use what :mod:`fapilog.plugins` exports
(this path goes in fapilog 4.0)."""

import sys

from fapilog._moved import alias_module

sys.modules[__name__] = alias_module(__name__, "fapilog._registry.discovery", use="fapilog.plugins")
