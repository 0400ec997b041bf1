"""Deprecated: moved to :mod:`fapilog.builtins.enrichers.otel` (this path goes in fapilog 4.0)."""

import sys

from fapilog._moved import alias_module

sys.modules[__name__] = alias_module(__name__, "fapilog.builtins.enrichers.otel")
