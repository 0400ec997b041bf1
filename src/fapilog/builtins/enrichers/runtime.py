"""``runtime`` enricher: who logged the event — service, environment, version, host and process id.

Values come from the settings, else from the environment when the enricher starts:

* ``service``: ``service``, else ``SERVICE_NAME``, else ``OTEL_SERVICE_NAME``;
* ``environment``: ``environment``, else ``ENVIRONMENT``, else ``ENV``;
* ``version``: ``version``, else ``SERVICE_VERSION``;
* ``host``: ``socket.gethostname()`` at start (``include_host=False`` leaves it out);
* ``pid``: ``os.getpid()``, checked once per batch so a forked child reports its own (``include_pid``).

A field with no value is left out. ``FAPILOG_*`` variables are fapilog's own settings, so configure the
enricher through them with ``FAPILOG_PLUGINS__SETTINGS__RUNTIME__SERVICE=checkout`` rather than
``FAPILOG_SERVICE`` (which the settings loader rejects as an unknown setting).

There is deliberately no ``thread`` field: enrichers run on fapilog's worker thread, and the thread that made
the log call is gone by then. A caller's thread needs a call-site ``capture()`` hook, like the ``otel`` enricher's.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from fapilog._version import __version__
from fapilog.plugins.constraints import NonEmpty, settings_from
from fapilog.plugins.metadata import PluginMetadata

__all__ = ["ENV_FALLBACKS", "RuntimeEnricher", "RuntimeSettings"]

_NAME = "runtime"
ENV_FALLBACKS: Mapping[str, tuple[str, ...]] = {
    "service": ("SERVICE_NAME", "OTEL_SERVICE_NAME"),
    "environment": ("ENVIRONMENT", "ENV"),
    "version": ("SERVICE_VERSION",),
}
"""The environment variables read, in order, for a field the settings leave unset."""


@dataclasses.dataclass(frozen=True)
class RuntimeSettings:
    """Settings of the ``runtime`` enricher (validated on creation)."""

    service: Annotated[str, NonEmpty] | None = None
    """Added as ``service``; ``None`` leaves the field out."""
    environment: Annotated[str, NonEmpty] | None = None
    """Added as ``environment`` (e.g. ``"production"``); ``None`` leaves the field out."""
    version: Annotated[str, NonEmpty] | None = None
    """Added as ``version``: the application's release; ``None`` leaves the field out."""
    include_host: bool = True
    """Add ``host``, the machine's host name."""
    include_pid: bool = True
    """Add ``pid``, the process id (re-read after a fork)."""


class RuntimeEnricher:
    """Adds ``service``, ``environment``, ``version``, ``host`` and ``pid`` (those that have a value).

    Every record of a batch receives the same (read-only) mapping, so the per-event cost is one list slot; the
    process id is compared once per batch so that a forked child reports its own.
    """

    metadata = PluginMetadata(
        name=_NAME,
        version=__version__,
        kind="enricher",
        description="Adds service, environment, version, host name and process id.",
        config_model=RuntimeSettings,
    )

    def __init__(self, settings: RuntimeSettings | None = None, /, **values: Any) -> None:
        """``settings`` (the registry passes the validated model) or the same fields as keywords."""
        self.settings = settings_from(RuntimeSettings, settings, root=_NAME, **values)
        self._pid = -1
        self._fields: dict[str, Any] = {}
        self._static: dict[str, Any] = {}

    @property
    def fields(self) -> Mapping[str, Any]:
        """The fields added to each event (empty before :meth:`start`)."""
        return self._fields

    async def start(self) -> None:
        """Resolve settings and environment variables, and read the host name, once."""
        static: dict[str, Any] = {}
        environ = os.environ
        for field, names in ENV_FALLBACKS.items():
            value = getattr(self.settings, field)
            if value is None:
                value = next((environ[name] for name in names if environ.get(name)), None)
            if value is not None:
                static[field] = value
        if self.settings.include_host:
            static["host"] = socket.gethostname()
        self._static = static
        self._refresh(os.getpid())

    async def stop(self) -> None:
        """Nothing to close."""

    def _refresh(self, pid: int) -> None:
        self._pid = pid
        fields = dict(self._static)
        if self.settings.include_pid:
            fields["pid"] = pid
        self._fields = fields

    async def enrich(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        """The runtime fields (the core keeps any the record already has)."""
        if self.settings.include_pid and os.getpid() != self._pid:
            self._refresh(os.getpid())
        return self._fields

    async def enrich_batch(self, records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """The same mapping for every record of the batch."""
        if self.settings.include_pid and os.getpid() != self._pid:
            self._refresh(os.getpid())
        return [self._fields] * len(records)
