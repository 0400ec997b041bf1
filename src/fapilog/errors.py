"""The one exception tree of fapilog.

Every error the library raises on purpose is a :class:`FapilogError`, so callers can catch the whole family
in one place. Messages say what went wrong *and* what to do next.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ConfigWarning",
    "FapilogError",
    "PluginError",
    "PluginIncompatibleError",
    "PluginLoadError",
    "PluginNotFoundError",
    "PluginValidationError",
]


class FapilogError(Exception):
    """Base class of every error fapilog raises deliberately."""


class ConfigError(FapilogError, ValueError):
    """Invalid settings: the message names the field, the value given and what is accepted."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ConfigWarning(UserWarning):
    """Settings that work but are likely a mistake (a Loki label that looks per-event): shown once at
    configuration time, and as a note by ``fapilog plugin check``."""


class PluginError(FapilogError):
    """Base class for plugin problems (discovery, compatibility, loading, validation)."""

    def __init__(self, message: str, *, plugin: str | None = None) -> None:
        super().__init__(message)
        self.plugin = plugin


class PluginNotFoundError(PluginError, LookupError):
    """A configured plugin name is not provided by any installed distribution or registration."""


class PluginIncompatibleError(PluginError):
    """A plugin's declared ``fapilog`` requirement excludes the running core version."""


class PluginLoadError(PluginError):
    """A plugin's code could not be imported or instantiated."""


class PluginValidationError(PluginError, TypeError):
    """A plugin object does not implement its kind's protocol, or its metadata or settings are invalid."""
