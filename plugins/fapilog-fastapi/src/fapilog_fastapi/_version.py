"""The distribution's version (kept in step with pyproject.toml by a test)."""

__version__ = "1.0.0"
