"""The core's version; plugins' ``Requires-Dist: fapilog`` constraints are checked against it."""

__version__ = "3.0.0"
