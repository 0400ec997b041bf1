"""What the flood filters (``rate_limit``, ``first_occurrence``) share: a bounded table of keys and the ledger
of their "suppressed N similar events" summaries.

Each key's state is a list whose second item is its open :class:`~fapilog.builtins.filters._summary.Pending`
(or ``None``) and whose third is its stamp; the first belongs to the filter. Moving a key to the end of the
table on every event would cost about as much as the filter's own decision, so a key moves only once it has
gone ``_stale`` new keys without moving: ``_added`` counts new keys and a key's stamp is the count when it
last moved. The table stays sorted by stamp and a stamp lags its key's last use by at most ``_stale``, so
eviction is least-recently-seen first to within ``max_keys / 2`` new keys.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from fapilog.builtins.filters._summary import SummaryLedger

__all__ = ["FloodFilter"]


class FloodFilter:
    """The key table, its least-recently-seen eviction, and the summary ledger of one flood filter."""

    def __init__(self, name: str, *, max_keys: int, max_delay: float, clock: Callable[[], int] | None) -> None:
        self._keys: OrderedDict[Any, list[Any]] = OrderedDict()
        """key -> [the filter's own state, open Pending or None, stamp]; least recently seen first."""
        self._max_keys = max_keys
        self._stale = max(1, max_keys // 2)
        self._added = 0
        self.evicted = 0
        """Keys forgotten to keep the table within ``max_keys``."""
        self._ledger = SummaryLedger(name, max_delay=max_delay, clock=clock)

    @property
    def tracked_keys(self) -> int:
        """How many keys the filter currently remembers."""
        return len(self._keys)

    @property
    def summaries_sent(self) -> int:
        """How many "suppressed N similar events" summaries this instance has logged."""
        return self._ledger.emitted

    async def start(self) -> None:
        """Start from an empty table."""
        self._keys.clear()

    async def stop(self) -> None:
        """Send the summary of every open window, then forget every key."""
        self._ledger.emit_all()
        self._keys.clear()

    def _insert(self, key: Any, state: list[Any]) -> None:
        """Add a new key, first forgetting the least recently seen one if the table is full."""
        if len(self._keys) >= self._max_keys:
            self._evict_oldest()
        self._keys[key] = state

    def _evict_oldest(self) -> None:
        _, (_, pending, _) = self._keys.popitem(last=False)
        self.evicted += 1
        if pending is not None:
            self._ledger.emit(pending)
