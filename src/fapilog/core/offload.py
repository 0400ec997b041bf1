"""Deprecated: moved to ``fapilog._kit.offload``; import its public names from :mod:`fapilog.plugins`
(this path goes in fapilog 4.0)."""

import sys

from fapilog._moved import alias_module

sys.modules[__name__] = alias_module(__name__, "fapilog._kit.offload", use="fapilog.plugins")
