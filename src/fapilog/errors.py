"""The one exception tree of fapilog, and the table of its stable error codes.

Every error the library raises on purpose is a :class:`FapilogError`, so callers can catch the whole family
in one place. Messages say what went wrong *and* what to do next.

Every error, warning, stderr line, refusing version-gate verdict and non-healthy health detail fapilog
produces carries a stable code from :data:`ERROR_CODES` (``FL-<area>-<number>``, e.g. ``FL-CFG-004``). A code
never changes meaning once released: a new situation gets a new code, a retired one is never reused. The
troubleshooting page has one section per code, so a user who sees ``FL-CFG-004`` searches for it there.

``str(error)`` is the message alone (callers and tests compare it, and wrappers put a location in front of it);
the code is ``error.code`` and is shown as a note (PEP 678) under the message wherever Python prints the
error, in a traceback or in ``traceback.format_exception()``::

    fapilog.errors.ConfigError: sinks[0]: plugin 'memory' is listed in plugins.deny; remove it from one of the two
    FL-CFG-004: see https://github.com/fapilog/fapilog/blob/main/docs/troubleshooting.md#fl-cfg-004

The command line prints it after the message (``fapilog: error: ... [FL-CFG-004]``), as do the ``fapilog:``
lines on stderr and the warnings.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "ERROR_CODES",
    "TROUBLESHOOTING_URL",
    "ConfigError",
    "ConfigWarning",
    "FapilogError",
    "FapilogWarning",
    "PluginError",
    "PluginIncompatibleError",
    "PluginLoadError",
    "PluginNotFoundError",
    "PluginTimeoutError",
    "PluginValidationError",
    "UsageError",
    "code_note",
]

TROUBLESHOOTING_URL = "https://github.com/fapilog/fapilog/blob/main/docs/troubleshooting.md"
"""The page that documents every code; a code's section is at ``#<code in lower case>``."""

ERROR_CODES: dict[str, str] = {
    # -- generic: the defaults of the classes, for errors raised without a more specific code ----------------
    "FL-GEN-001": "a fapilog error without a more specific code (often a plugin's own)",
    # -- settings: configure(), FAPILOG_* variables, settings files ------------------------------------------
    "FL-CFG-001": "invalid setting: wrong name, type or range",
    "FL-CFG-002": "a FAPILOG_* environment variable cannot be read",
    "FL-CFG-003": "the settings file cannot be read or parsed",
    "FL-CFG-004": "a configured plugin is listed in plugins.deny",
    "FL-CFG-005": "a configured plugin is not in plugins.allow",
    "FL-CFG-006": "load_plugin() of a plugin switched off in plugins.disabled",
    "FL-CFG-007": "invalid level",
    "FL-CFG-008": "invalid sink table: delivery, fallback or per-sink processors",
    "FL-CFG-009": "unknown plugin kind",
    "FL-CFG-010": "a plugin spec without \"type\"",
    "FL-CFG-011": "settings given for a plugin registered as a ready-made instance",
    "FL-CFG-012": "a flush() or shutdown() timeout that is not a number of seconds >= 0",
    # -- finding a plugin ---------------------------------------------------------------------------------------
    "FL-PLG-001": "no plugin with that name",
    "FL-PLG-002": "two distributions offer the same plugin name",
    "FL-PLG-003": "plugin name already registered in code",
    "FL-PLG-004": "unregister() of a name that was not registered in code",
    "FL-PLG-005": "plugin asked for before it was loaded",
    "FL-PLG-006": "plugin configured in another kind's stage list",
    "FL-PLG-007": "a plugin error without a more specific code",
    # -- the version gate --------------------------------------------------------------------------------------
    "FL-VER-001": "plugin built for another fapilog core",
    "FL-VER-002": "plugin targets another plugin API",
    "FL-VER-003": "the running core's version is not a PEP 440 version",
    "FL-VER-004": "plugin declares no fapilog requirement (loaded, unchecked)",
    "FL-VER-005": "plugin's distribution unknown (loaded, unchecked)",
    # -- importing a plugin ------------------------------------------------------------------------------------
    "FL-IMP-001": "plugin module does not exist",
    "FL-IMP-002": "a dependency of the plugin is not installed",
    "FL-IMP-003": "an optional extra the plugin needs is not installed",
    "FL-IMP-004": "plugin module raised while being imported",
    "FL-IMP-005": "plugin entry point is wrong",
    "FL-IMP-006": "plugin could not be created",
    # -- validating a plugin -----------------------------------------------------------------------------------
    "FL-VAL-001": "invalid PluginMetadata",
    "FL-VAL-002": "plugin does not implement its kind's contract",
    "FL-VAL-003": "plugin without PluginMetadata (a warning)",
    # -- dependencies between plugins --------------------------------------------------------------------------
    "FL-DEP-001": "a required plugin is not configured",
    "FL-DEP-002": "a required plugin's version is outside the range",
    "FL-DEP-003": "plugin dependency cycle",
    # -- a running pipeline ------------------------------------------------------------------------------------
    "FL-RUN-001": "plugin failed to start",
    "FL-RUN-002": "plugin failed to stop",
    "FL-RUN-003": "no running plugin with that name",
    "FL-RUN-004": "reload of a plugin configured as an object",
    "FL-RUN-005": "no running pipeline",
    "FL-RUN-006": "FAPILOG_* settings failed at the first log call; events go to stderr",
    "FL-RUN-007": "the worker stopped unexpectedly",
    "FL-RUN-008": "restarting the worker failed",
    "FL-RUN-009": "the worker died too often; not restarted",
    "FL-RUN-010": "configure() or shutdown() called from plugin code running on the worker",
    "FL-RUN-011": "load_plugin(), unload_plugin() or reload_plugin() did not finish within its timeout",
    # -- metrics and spans -------------------------------------------------------------------------------------
    "FL-OBS-001": "Prometheus metrics without prometheus-client",
    "FL-OBS-002": "cannot serve metrics on that address or port",
    "FL-OBS-003": "spans without opentelemetry-api",
    "FL-OBS-004": "a span could not be recorded",
    # -- built-in sinks ----------------------------------------------------------------------------------------
    "FL-SNK-001": "file sink cannot open its file",
    "FL-SNK-002": "file sink used before start() or after stop()",
    "FL-SNK-003": "invalid http sink setting (also the otlp and loki sinks' url, auth, headers)",
    "FL-SNK-004": "invalid otlp sink setting",
    "FL-SNK-005": "invalid loki sink setting",
    "FL-SNK-006": "invalid cloudwatch sink setting",
    "FL-SNK-007": "a package a sink needs is not installed",
    "FL-SNK-008": "cloudwatch sink without an AWS region",
    "FL-SNK-010": "loki labels likely to make too many streams (a warning)",
    # -- built-in filters, enrichers and processors ----------------------------------------------------------------
    "FL-STG-001": "invalid filter setting",
    "FL-STG-002": "invalid enricher setting",
    "FL-STG-003": "invalid processor setting",
    # -- health details (status degraded or unhealthy) ---------------------------------------------------------
    "FL-HLT-001": "health check timed out, raised or gave no answer",
    "FL-HLT-002": "the worker did not answer the health check",
    "FL-HLT-003": "kubernetes enricher finds no pod fields",
    "FL-HLT-004": "otel enricher without opentelemetry-api",
    "FL-HLT-005": "values a redactor could not redact",
    "FL-HLT-006": "loki lines cut to max_line_size",
    "FL-HLT-007": "the last CloudWatch request failed",
    # -- lines on stderr while running ---------------------------------------------------------------------------
    "FL-LOG-001": "a filter, enricher, redactor or processor raised; the event continued",
    "FL-LOG-002": "a sink raised or timed out; events counted as failed",
    "FL-LOG-003": "a sink's batch failed and will be retried",
    "FL-LOG-004": "a sink's circuit opened",
    "FL-LOG-005": "events a sink could not deliver (the default fallback)",
    "FL-LOG-006": "a value a redactor could not redact",
    "FL-LOG-007": "events dropped",
    "FL-LOG-008": "an event logged by plugin code, not fed back",
    "FL-LOG-009": "the exit drain gave up; events not delivered",
    "FL-LOG-010": "events dropped in total, at exit",
    "FL-LOG-011": "a stdlib record from fapilog's own threads",
    "FL-LOG-012": "cloudwatch events larger than max_event_bytes",
    "FL-LOG-013": "cloudwatch log stream deleted; created again",
    "FL-LOG-014": "CloudWatch refused a request for good",
    "FL-LOG-015": "a sink delivered events after their write was given up",
}
"""Every code, with a one-line title: ``fapilog.errors.ERROR_CODES`` is what tooling lists, and
``docs/troubleshooting.md`` has one section per code (a test keeps the two equal)."""


def code_note(code: str) -> str:
    """The line shown under a coded error: the code and where it is explained."""
    return f"{code}: see {TROUBLESHOOTING_URL}#{code.lower()}"


class FapilogError(Exception):
    """Base class of every error fapilog raises deliberately.

    ``code`` is the error's stable code from :data:`ERROR_CODES`; without one the class's ``default_code``
    applies (plugins raising fapilog's errors need not pass one).
    """

    default_code: ClassVar[str] = "FL-GEN-001"

    def __init__(self, *args: object, code: str | None = None) -> None:
        super().__init__(*args)
        self.code = code or self.default_code
        self.add_note(code_note(self.code))


class ConfigError(FapilogError, ValueError):
    """Invalid settings: the message names the field, the value given and what is accepted."""

    default_code: ClassVar[str] = "FL-CFG-001"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.field = field


class FapilogWarning(UserWarning):
    """Base class of fapilog's warnings: ``str()`` ends with the warning's code, as ``[FL-SNK-010]``."""

    default_code: ClassVar[str] = "FL-GEN-001"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code or self.default_code

    def __str__(self) -> str:
        return f"{super().__str__()} [{self.code}]"


class ConfigWarning(FapilogWarning):
    """Settings that work but are likely a mistake (a Loki label that looks per-event): shown once at
    configuration time, and as a note by ``fapilog plugin check``."""


class PluginError(FapilogError):
    """Base class for plugin problems (discovery, compatibility, loading, validation)."""

    default_code: ClassVar[str] = "FL-PLG-007"

    def __init__(self, message: str, *, plugin: str | None = None, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.plugin = plugin


class PluginNotFoundError(PluginError, LookupError):
    """A configured plugin name is not provided by any installed distribution or registration."""

    default_code: ClassVar[str] = "FL-PLG-001"


class PluginIncompatibleError(PluginError):
    """A plugin's declared ``fapilog`` requirement excludes the running core version."""

    default_code: ClassVar[str] = "FL-VER-001"


class PluginLoadError(PluginError):
    """A plugin's code could not be imported or instantiated."""

    default_code: ClassVar[str] = "FL-IMP-006"


class PluginTimeoutError(PluginError, TimeoutError):
    """A change to a running plugin (``load_plugin``, ``unload_plugin``, ``reload_plugin``) did not finish within
    its ``timeout``. A ``TimeoutError`` too, as these calls raised a bare one before they had a code."""

    default_code: ClassVar[str] = "FL-RUN-011"


class PluginValidationError(PluginError, TypeError):
    """A plugin object does not implement its kind's protocol, or its metadata or settings are invalid."""

    default_code: ClassVar[str] = "FL-VAL-002"


class UsageError(FapilogError, RuntimeError):
    """fapilog was called where it cannot act: ``configure()`` or ``shutdown()`` from plugin code running on the
    worker (it would wait on itself). A ``RuntimeError`` too, as these calls raised before they had a code."""

    default_code: ClassVar[str] = "FL-RUN-010"
