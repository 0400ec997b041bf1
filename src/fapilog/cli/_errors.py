"""The command line's exit codes and its one error type, :class:`CliError`.

Every expected failure leaves the CLI as two lines on stderr and an exit code, never a traceback::

    fapilog: error: no plugin named 'jsonline' is installed or registered. Did you mean 'jsonlines'?
    hint: run 'fapilog plugin list' to see the plugins this environment offers

Commands raise :class:`CliError` (or let a :class:`~fapilog.errors.FapilogError` escape, which
:func:`from_fapilog_error` translates at the boundary); ``main()`` prints it and returns its code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from fapilog.errors import FapilogError

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERNAL",
    "EXIT_OK",
    "EXIT_PLUGIN",
    "EXIT_USAGE",
    "CliError",
    "from_fapilog_error",
    "plugin_exit_reason",
]

EXIT_OK = 0
"""The command did what was asked and every check passed."""
EXIT_FAILED = 1
"""A check or quality gate failed, or a plugin is not healthy; the output says which and why."""
EXIT_USAGE = 2
"""Usage error or bad input: unknown option, malformed ``--setting``, invalid settings, unreadable file."""
EXIT_PLUGIN = 3
"""Plugin error: not found, incompatible with the running core, or it cannot be loaded."""
EXIT_INTERNAL = 4
"""A bug in fapilog itself: the error is reported in two lines, with where to report it."""

_LIST_HINT = "run 'fapilog plugin list' to see the plugins this environment offers"
_DEBUG_HINT = "run 'fapilog debug' to see every plugin's state and the reason it is in it"


class CliError(Exception):
    """An expected failure: a one-line ``message``, a one-line ``hint`` saying what to do, and an exit ``code``."""

    def __init__(self, message: str, hint: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.message = _one_line(message)
        self.hint = _one_line(hint)
        self.code = code

    def report(self, err: TextIO) -> None:
        """Write the two lines the CLI promises: ``fapilog: error: ...`` and ``hint: ...``."""
        err.write(f"fapilog: error: {self.message}\nhint: {self.hint}\n")


def plugin_exit_reason(where: str, exc: SystemExit) -> str:
    """Why a project's module counts as broken when importing it raised ``SystemExit`` (``sys.exit()`` at module
    level), for ``plugin check PATH``, which imports it itself (an installed plugin goes through the registry,
    which says the same in its load error). Without this the CLI would end with the module's exit status.
    """
    return (
        f"{where} called sys.exit({exc.code!r}) while being imported: a plugin must never end the process; "
        "report it to its authors, and meanwhile uninstall it or leave it out of your configuration"
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())


def from_fapilog_error(exc: FapilogError) -> CliError:
    """Translate a fapilog error into a :class:`CliError` with the matching exit code.

    A multi-line message (the version gate's, which spells out two pip commands) keeps its first line as the
    error and the rest, joined, as the hint; otherwise the hint points at the command that shows more.
    """
    from fapilog.errors import (
        ConfigError,
        PluginIncompatibleError,
        PluginLoadError,
        PluginNotFoundError,
        PluginValidationError,
    )

    first, _, rest = str(exc).strip().partition("\n")
    code = EXIT_PLUGIN
    hint = _DEBUG_HINT
    if isinstance(exc, PluginNotFoundError):
        hint = _LIST_HINT
    elif isinstance(exc, ConfigError):
        code = EXIT_USAGE
        hint = (
            "fix the settings file named above (path, syntax)"
            if first.startswith("settings file")
            else "fix the setting named above; 'fapilog plugin docs NAME' lists a plugin's settings"
        )
    elif isinstance(exc, PluginValidationError):
        hint = "the plugin does not meet the plugin API; 'fapilog plugin check NAME' lists every problem"
    elif isinstance(exc, (PluginIncompatibleError, PluginLoadError)):
        hint = _DEBUG_HINT
    if rest.strip():
        hint = rest
    return CliError(f"{first} [{exc.code}]", hint, code)
