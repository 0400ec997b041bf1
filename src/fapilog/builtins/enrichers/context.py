"""``context`` enricher: chooses which bound context reaches the record, and where it goes.

The core already merges the bound context (:func:`fapilog.bind`, :func:`fapilog.scoped`) into every record at
the top level, beside the call's fields. This enricher reshapes that part of the record:

* ``include``: the context keys to keep; the other bound keys are removed from the record (``None``: all);
* ``prefix``: move the kept context keys under one object, e.g. ``"ctx"`` gives ``{"ctx": {"request_id": ...}}``.

To know which top-level keys came from the context, the enricher captures the context at the call site: its
:meth:`ContextEnricher.capture` runs on the caller's thread (one ``ContextVar.get()``, no copy) and the worker
hands the snapshot over as ``record.captured["context"]``. A key is moved or removed only when the record holds
the very object bound in the context, so a call field or a logger-bound field of the same name (which the core
lets win) stays where it is. A context key named like a core key (``message``) is in the record as
``message_``; under ``prefix`` it keeps its own name.

Enrichers may only add fields, so this is the one built-in that edits the record in place (it removes the keys
it moves or filters out). Place it before the enrichers that should see the reshaped record. When the record
already has a field named like ``prefix``, the kept keys stay at the top level rather than overwrite it.
Records without a captured snapshot (built by hand, or before the core ran the hook) are left as they are.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, MutableMapping, Sequence
from types import MappingProxyType
from typing import Annotated, Any

from fapilog._version import __version__
from fapilog.plugins import RESERVED_KEYS, EventRecord, current_context
from fapilog.plugins.constraints import NonEmpty, setting_error, settings_from
from fapilog.plugins.metadata import PluginMetadata

__all__ = ["ContextEnricher", "ContextSettings"]

_NAME = "context"
_NOTHING: Mapping[str, Any] = MappingProxyType({})


@dataclasses.dataclass(frozen=True)
class ContextSettings:
    """Settings of the ``context`` enricher (validated on creation)."""

    include: tuple[Annotated[str, NonEmpty], ...] | None = None
    """Bound-context keys to keep; the others are removed from records. ``None`` keeps all."""
    prefix: Annotated[str, NonEmpty] | None = None
    """Nest the kept context keys under this field; ``None`` leaves them at the top level."""

    def __post_init__(self) -> None:
        if self.prefix in RESERVED_KEYS:
            raise setting_error("prefix", f"expected a field name other than {', '.join(sorted(RESERVED_KEYS))}, "
                                          f"or null, got {self.prefix!r}", root=_NAME, code="FL-STG-002")


class ContextEnricher:
    """Filters bound context keys (``include``) and nests them (``prefix``); see the module docstring."""

    metadata = PluginMetadata(
        name=_NAME,
        version=__version__,
        kind="enricher",
        description="Filters the bound context keys of each event and optionally nests them under one field.",
        config_model=ContextSettings,
    )

    def __init__(self, settings: ContextSettings | None = None, /, **values: Any) -> None:
        """``settings`` (the registry passes the validated model) or the same fields as keywords."""
        self.settings = settings = settings_from(ContextSettings, settings, root=_NAME, **values)
        self.include: frozenset[str] | None = None if settings.include is None else frozenset(settings.include)
        self.prefix = settings.prefix
        self.capture_enabled = self.include is not None or self.prefix is not None
        """With neither option set there is nothing to do, so the log call need not capture anything."""

    def capture(self) -> Mapping[str, Any]:
        """The bound context of the calling thread or task (called by the core at the log call)."""
        return current_context()

    async def start(self) -> None:
        """Nothing to open."""

    async def stop(self) -> None:
        """Nothing to close."""

    async def enrich(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        """Removes filtered-out and moved context keys from ``record``; returns the nested object, if any."""
        return self._reshape(record)

    async def enrich_batch(self, records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """:meth:`enrich` for a whole batch."""
        reshape = self._reshape
        return [reshape(record) for record in records]

    def _reshape(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        captured = getattr(record, "captured", None)
        snapshot = captured.get(_NAME) if captured else None
        if not snapshot or not (type(record) is EventRecord or isinstance(record, MutableMapping)):
            return _NOTHING
        include, prefix = self.include, self.prefix
        nest = prefix is not None and prefix not in record
        moved: dict[str, Any] = {}
        remove: list[str] = []
        for key, value in snapshot.items():
            slot = f"{key}_" if key in RESERVED_KEYS else key
            if record.get(slot, _NOTHING) is not value:
                continue  # not in the record, or replaced by a call field of the same name
            if include is not None and key not in include:
                remove.append(slot)
            elif nest:
                moved[key] = value
                remove.append(slot)
        for slot in remove:
            del record[slot]
        return {prefix: moved} if moved and prefix is not None else _NOTHING
