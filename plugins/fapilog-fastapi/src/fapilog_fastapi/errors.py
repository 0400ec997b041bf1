"""The stable error codes of fapilog-fastapi: its own family, ``FL-FAS-NNN``, explained in its README.

fapilog's table (``fapilog.errors.ERROR_CODES``) lists the core's codes, and its troubleshooting page has a
section for each; a separate distribution cannot add to either. So this package keeps its own table, its
README has one section per code (a test keeps the two equal), and every error it raises carries a note that
points at that section instead of the core's page. The errors are fapilog's own classes
(:class:`fapilog.ConfigError`), so ``except fapilog.FapilogError`` still catches them.
"""

from __future__ import annotations

from fapilog import ConfigError

__all__ = ["ERROR_CODES", "TROUBLESHOOTING_URL", "config_error"]

TROUBLESHOOTING_URL = "https://github.com/fapilog/fapilog/blob/main/plugins/fapilog-fastapi/README.md"
"""Where the codes are explained; a code's section is at ``#<code in lower case>``."""

ERROR_CODES: dict[str, str] = {
    "FL-FAS-001": "invalid setting of the fastapi enricher",
    "FL-FAS-002": "invalid RequestLoggingMiddleware option",
    "FL-FAS-003": "logging_lifespan's shutdown left events undelivered",
    "FL-FAS-004": "invalid logging_lifespan option",
}
"""Every code of this package, with a one-line title (the README's section headings)."""


def config_error(message: str, *, field: str, code: str) -> ConfigError:
    """A :class:`fapilog.ConfigError` with this package's ``code``, its note pointing at the README's section."""
    error = ConfigError(message, field=field, code=code)
    error.__notes__ = [f"{code}: see {TROUBLESHOOTING_URL}#{code.lower()}"]  # not the core's page: no such section
    return error
