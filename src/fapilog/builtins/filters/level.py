"""``level``: drop events below a threshold, with per-logger thresholds by dotted name prefix.

The logger's own level gate already skips disabled calls at almost no cost, so why a filter? Because it
applies to every event that reaches the pipeline whatever produced it (captured stdlib records, plugins,
handles created with an explicit threshold), it can be reloaded at runtime like any plugin, and it can keep
a noisy library quiet in one sink-facing place::

    fapilog.configure(filters=[{"type": "level", "level": "INFO", "loggers": {"sqlalchemy": "WARNING"}}])

A ``loggers`` entry covers the logger of that name and its children (``"sqlalchemy"`` covers
``"sqlalchemy.engine"`` but not ``"sqlalchemyx"``), the same rule as ``configure(loggers=...)``; the longest
matching prefix wins, and loggers no entry covers use ``level``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Annotated, Any

from fapilog._version import __version__
from fapilog.builtins.filters._records import as_event
from fapilog.plugins import EventRecord, parse_level
from fapilog.plugins.constraints import Level, settings_from
from fapilog.plugins.metadata import PluginMetadata
from fapilog.plugins.protocols import Record

__all__ = ["LevelFilter", "LevelFilterSettings"]

_NAME = "level"
_CACHE_LIMIT = 4096
"""Logger names whose threshold is remembered; past this the cache starts over (names are few in practice)."""


@dataclasses.dataclass(frozen=True)
class LevelFilterSettings:
    """Settings of the ``level`` filter.

    ``level``: the threshold for loggers no ``loggers`` entry covers (a name or number; default DEBUG).
    ``loggers``: logger-name prefix to threshold, e.g. ``{"sqlalchemy": "WARNING", "app.audit": "DEBUG"}``.
    """

    level: Annotated[int | str, Level] = "DEBUG"
    loggers: Mapping[str, Annotated[int | str, Level]] | None = None


class LevelFilter:
    """Keeps an event when its level is at least the threshold of its logger (longest dotted prefix wins)."""

    metadata = PluginMetadata(
        name=_NAME,
        version=__version__,
        kind="filter",
        description="Drops events below a global or per-logger level threshold.",
        config_model=LevelFilterSettings,
    )

    def __init__(self, settings: LevelFilterSettings | None = None, /, **values: Any) -> None:
        """``settings`` (the registry passes the validated model) or the same fields as keywords."""
        self.settings = settings = settings_from(LevelFilterSettings, settings, root=_NAME, **values)
        self._level = parse_level(settings.level)
        table = {name: parse_level(wanted) for name, wanted in (settings.loggers or {}).items()}
        # Longest prefix first, so the first match is the most specific one.
        self._prefixes = sorted(table.items(), key=lambda item: len(item[0]), reverse=True)
        self._cache: dict[object, int] = {}

    async def start(self) -> None:
        """Nothing to open."""

    async def stop(self) -> None:
        """Nothing to close."""

    def threshold_for(self, logger: object) -> int:
        """The numeric threshold that applies to events of ``logger``."""
        name = logger if isinstance(logger, str) else str(logger)
        for prefix, threshold in self._prefixes:
            if name == prefix or (name.startswith(prefix) and name[len(prefix)] == "."):
                return threshold
        return self._level

    async def filter(self, record: Record) -> Record | None:
        """``record`` if it passes its logger's threshold, else ``None``."""
        return record if await self.filter_batch([as_event(record)]) else None

    async def filter_batch(self, records: list[EventRecord]) -> list[EventRecord]:
        """The records of the batch that pass, in order."""
        if not self._prefixes:
            floor = self._level
            return [record for record in records if record.levelno >= floor]
        cache = self._cache
        kept: list[EventRecord] = []
        append = kept.append
        for record in records:
            logger = record.get("logger")
            threshold = cache.get(logger)
            if threshold is None:
                threshold = self._remember(logger)
            if record.levelno >= threshold:
                append(record)
        return kept

    def _remember(self, logger: object) -> int:
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        threshold = self._cache[logger] = self.threshold_for(logger)
        return threshold
