"""``size_guard``'s ``split`` mode: one oversize event becomes several records that each fit.

The longest top-level string field (never a core key) is cut into consecutive chunks; every chunk record is
the rest of the event plus ``split: {"id", "index", "count", "field"}`` and keeps the event's ``seq``, so a
reader can put the field back together (``"".join`` of the chunks in ``index`` order). The core lets a
processor's batch form return such extra records and counts them as ``split_extra`` in ``fapilog.stats()``.
"""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["split_record"]

_CORE = frozenset({"timestamp", "level", "logger", "seq", "message"})
_DIGITS = 20  # room reserved for any index/count/id number in the split marker


def _prefix(text: str, budget: int) -> str:
    """The longest prefix of ``text`` whose JSON-escaped form takes at most ``budget`` bytes."""
    k = min(len(text), max(budget, 0))
    while k > 0:
        size = len(orjson.dumps(text[:k])) - 2
        if size <= budget:
            return text[:k]
        k = min(k - 1, k * budget // size)
    return ""


def split_record(tree: dict[str, Any], max_bytes: int) -> list[dict[str, Any]] | None:
    """Chunk records for ``tree`` (the parsed JSON of the event), or None when no string field can carry it."""
    candidates = [(k, v) for k, v in tree.items() if isinstance(v, str) and k not in _CORE]
    if not candidates:
        return None
    field, text = max(candidates, key=lambda item: len(item[1]))
    base = {k: v for k, v in tree.items() if k != field}
    marker = {"id": tree.get("seq"), "index": 0, "count": 0, "field": field}
    shell = len(orjson.dumps({**base, field: "", "split": marker})) + 3 * _DIGITS
    budget = max_bytes - shell
    if budget < 64:  # the rest of the event alone nearly fills the limit: splitting one field cannot help
        return None
    chunks: list[str] = []
    rest = text
    while rest:
        piece = _prefix(rest, budget)
        if not piece:
            return None
        chunks.append(piece)
        rest = rest[len(piece) :]
    count = len(chunks)
    return [
        {**base, field: chunk, "split": {**marker, "index": index, "count": count}}
        for index, chunk in enumerate(chunks)
    ]
