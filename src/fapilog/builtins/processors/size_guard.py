"""``size_guard`` processor: keeps every serialized event under a byte limit, so no backend rejects it whole.

CloudWatch Logs refuses an event over 256 KiB (26 bytes of overhead included) and Loki a line over
``max_line_size`` (``256KB``, read by Loki as 256,000 bytes). Each record is measured with the core's own
:class:`~fapilog._kit.serialize.Serializer`, so the size is that of the bytes the sinks get. When too big:

* ``truncate`` (default): the longest strings, nested ones and the exception's included, are cut to a common
  length (each ending in ``...``); a field whose structure alone cannot fit is dropped whole, largest first.
  A marker is added: ``_truncated: {"fields": [cut paths], "dropped": [fields], "original_bytes": N}``.
  ``timestamp``, ``level``, ``logger`` and ``seq`` are never cut.
* ``drop``: the event is replaced by ``{timestamp, level, logger, seq, message: "[event dropped: N bytes >
  max_bytes]", _dropped_oversize: N}``. A processor returns one record per record, so the marker is what
  remains of the event; :attr:`SizeGuardProcessor.dropped` counts them.

* ``split``: the longest top-level string field is cut into chunks, one record each, all keeping the event's
  ``seq`` and a ``split`` marker (see :mod:`._split`); the batch form returns them in place, so they stay in
  order, behind no flush and past the filters. Events with no such field fall back to ``truncate``; so does
  the one-record ``process()``. Chunks are never re-logged through the queue.

With ``max_bytes >= 512`` no record leaves the guard bigger than ``max_bytes``; only
when the core keys alone would not fit are they cut, in the drop marker. A record that fits costs one
serialization and is returned as the same object.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

import orjson

from fapilog._version import __version__
from fapilog.builtins.processors._split import split_record
from fapilog.plugins import Serializer
from fapilog.plugins.constraints import Range, settings_from
from fapilog.plugins.metadata import PluginHealth, PluginMetadata

__all__ = ["CLOUDWATCH_MAX_EVENT_BYTES", "DROPPED_MARKER", "LOKI_MAX_LINE_BYTES", "MIN_MAX_BYTES",
           "TRUNCATED_MARKER", "SizeGuardProcessor", "SizeGuardSettings"]

CLOUDWATCH_MAX_EVENT_BYTES = 256 * 1024 - 26
"""262,118: CloudWatch's per-event limit (256 KiB) minus the 26 bytes it adds to each event; the default."""
LOKI_MAX_LINE_BYTES = 256_000
"""Loki's default ``max_line_size`` (``256KB``; Loki counts a KB as 1,000 bytes)."""
MIN_MAX_BYTES = 512
"""The smallest accepted ``max_bytes``: room for the core keys and a marker, so the guarantee can hold."""
TRUNCATED_MARKER = "_truncated"
DROPPED_MARKER = "_dropped_oversize"

Mode = Literal["truncate", "drop", "split"]
_NAME = "size_guard"
_CORE = ("timestamp", "level", "logger", "seq")
_CUT = "..."
_SMALLEST = 5  # a fully cut string, '"..."', in bytes
_PATH_CHARS = 120
_MARKER_OVERHEAD = len(f',"{TRUNCATED_MARKER}":')
_ATTEMPTS = 3

_dumps = orjson.dumps
Leaf = tuple[int, Any, Any, tuple[Any, ...], str]
"""(encoded size with quotes, container, key or index, path from the record, original string)"""


@dataclasses.dataclass(frozen=True)
class SizeGuardSettings:
    """Settings of the ``size_guard`` processor (validated on creation)."""

    max_bytes: Annotated[int, Range(ge=MIN_MAX_BYTES)] = CLOUDWATCH_MAX_EVENT_BYTES
    """Largest serialized record allowed through, in bytes (>= 512)."""
    mode: Mode = "truncate"
    """``truncate`` (cut strings, then drop fields) or ``drop`` (replace the event by a marker)."""


class SizeGuardProcessor:
    """Cuts or replaces records whose JSON line would exceed ``max_bytes``; run it as the last processor."""

    metadata = PluginMetadata(
        name=_NAME,
        version=__version__,
        kind="processor",
        description="Keeps each serialized event under a byte limit (truncates or replaces oversize events).",
        config_model=SizeGuardSettings,
    )

    def __init__(self, settings: SizeGuardSettings | None = None, /, **values: Any) -> None:
        """``settings`` (the registry passes the validated model) or the same fields as keywords."""
        self.settings = settings = settings_from(SizeGuardSettings, settings, root=_NAME, **values)
        self.max_bytes = settings.max_bytes
        self.mode: Mode = settings.mode
        self.truncated = 0
        """Records shrunk to fit (``truncate`` mode)."""
        self.split = 0
        """Events cut into several records (``split`` mode)."""
        self.dropped = 0
        """Records replaced by the oversize marker (``drop`` mode, or a record nothing else could save)."""
        self._encode = Serializer().encode

    async def start(self) -> None:
        """Nothing to open."""

    async def stop(self) -> None:
        """Nothing to close."""

    async def health_check(self) -> PluginHealth:
        """Always healthy; the detail reports how many records were truncated or dropped so far."""
        return PluginHealth("healthy", f"{self.truncated} truncated, {self.dropped} dropped (max {self.max_bytes})")

    async def process(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        """``record`` itself when it fits, else its truncated form or the oversize marker."""
        data = self._encode(record)
        return record if len(data) <= self.max_bytes else self._oversize(record, data)

    async def process_batch(self, records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """:meth:`process` for a batch: one serialization per record that fits."""
        encode, limit = self._encode, self.max_bytes
        out: list[Mapping[str, Any]] = []
        for record in records:
            data = encode(record)
            if len(data) <= limit:
                out.append(record)
                continue
            chunks = split_record(orjson.loads(data), limit) if self.mode == "split" else None
            if chunks is not None:
                self.split += 1
                out.extend(chunks)
            else:
                out.append(self._oversize(record, data))
        return out

    def _oversize(self, record: Mapping[str, Any], data: bytes) -> dict[str, Any]:
        if self.mode in ("truncate", "split"):
            # Work on the parsed JSON: exactly the values the serializer produced (bytes, Decimal, sets and
            # objects already in their final form), so every size below is the size the sinks will see.
            tree = orjson.loads(data)
            fitted = self._truncate(tree, len(data))
            if fitted is not None:
                self.truncated += 1
                return fitted
            return self._minimal(tree, len(data))
        return self._minimal(record, len(data))

    def _truncate(self, tree: dict[str, Any], original: int) -> dict[str, Any] | None:
        tree.pop(TRUNCATED_MARKER, None)
        groups: dict[str, list[Leaf]] = {}
        for key, value in tree.items():
            if key not in _CORE:
                groups[key] = _leaves(value, (key,), tree, key)
        budget = max(128, self.max_bytes // 8)
        reserve = _MARKER_OVERHEAD + len(_dumps(_marker([], [], original, budget)))
        for attempt in range(_ATTEMPTS + 1):
            if attempt == _ATTEMPTS:
                reserve = _MARKER_OVERHEAD + budget  # the marker can never be bigger than this
            plan = self._plan(tree, groups, self.max_bytes - reserve)
            if plan is None:
                return None
            kept, dropped, cut = plan
            marker = _marker([leaf[3] for leaf in cut], dropped, original, budget)
            result = {**kept, TRUNCATED_MARKER: marker}
            if len(self._encode(result)) <= self.max_bytes:
                return result
            reserve = _MARKER_OVERHEAD + len(_dumps(marker))
        return None

    def _plan(
        self, tree: dict[str, Any], groups: dict[str, list[Leaf]], target: int
    ) -> tuple[dict[str, Any], list[str], list[Leaf]] | None:
        """Fields to drop and strings to cut so that ``tree`` encodes to ``target`` bytes or fewer."""
        for leaves in groups.values():
            for _, container, key, _, text in leaves:
                container[key] = text  # undo the previous attempt's cuts
        kept = dict(tree)
        dropped: list[str] = []
        saving = {key: sum(max(leaf[0] - _SMALLEST, 0) for leaf in leaves) for key, leaves in groups.items()}
        can_save = sum(saving.values())
        size = len(self._encode(kept))
        if size - can_save > target:
            # Cutting strings cannot save enough: drop the fields with the most uncuttable bytes, message last.
            fixed = {key: len(_dumps({key: kept[key]})) - 1 - saving[key] for key in groups}
            floor = size - can_save
            for key in sorted(groups, key=lambda k: (k == "message", -fixed[k])):
                if floor <= target:  # the estimate says enough: check exactly before dropping more
                    size = len(self._encode(kept))
                    floor = size - can_save
                    if floor <= target:
                        break
                del kept[key]
                dropped.append(key)
                can_save -= saving[key]
                floor -= fixed[key]
            size = len(self._encode(kept))
            if size - can_save > target:
                return None
        cut: list[Leaf] = []
        if size > target:
            live = [leaf for key, leaves in groups.items() if key in kept for leaf in leaves]
            cap = _cap(sorted((leaf[0] for leaf in live), reverse=True), size - target)
            if cap is None:
                return None
            for leaf in live:
                if leaf[0] > cap:
                    leaf[1][leaf[2]] = _prefix(leaf[4], cap - _SMALLEST) + _CUT
                    cut.append(leaf)
        # Top-level strings were cut in ``tree`` itself: take the kept fields from it again.
        gone = set(dropped)
        return {key: value for key, value in tree.items() if key not in gone}, dropped, cut

    def _minimal(self, source: Mapping[str, Any], original: int) -> dict[str, Any]:
        """The drop-mode marker record; cuts the core strings too if even they would not fit."""
        self.dropped += 1
        out: dict[str, Any] = {}
        for key in _CORE:
            if key in source:
                value = orjson.loads(self._encode({key: source[key]}))[key]
                if not isinstance(value, (dict, list)):
                    out[key] = value
        out["message"] = f"[event dropped: {original} bytes > {self.max_bytes}]"
        out[DROPPED_MARKER] = original
        size = len(_dumps(out))
        if size > self.max_bytes:
            leaves = [(len(_dumps(v)), out, k, (k,), v) for k, v in out.items() if isinstance(v, str)]
            cap = _cap(sorted((leaf[0] for leaf in leaves), reverse=True), size - self.max_bytes)
            for leaf in leaves:
                if cap is not None and leaf[0] > cap:
                    out[leaf[2]] = _prefix(leaf[4], cap - _SMALLEST) + _CUT
        return out


def _leaves(value: Any, path: tuple[Any, ...], container: Any, key: Any) -> list[Leaf]:
    """Every string under ``value`` (itself included) with its encoded size and where it lives."""
    found: list[Leaf] = []
    stack: list[tuple[Any, tuple[Any, ...], Any, Any]] = [(value, path, container, key)]
    while stack:
        node, where, parent, slot = stack.pop()
        if isinstance(node, str):
            found.append((len(_dumps(node)), parent, slot, where, node))
        elif isinstance(node, dict):
            stack.extend((v, (*where, k), node, k) for k, v in node.items() if isinstance(v, (str, dict, list)))
        elif isinstance(node, list):
            stack.extend((v, (*where, i), node, i) for i, v in enumerate(node) if isinstance(v, (str, dict, list)))
    found.reverse()  # document order, for a readable marker
    return found


def _cap(sizes: list[int], need: int) -> int | None:
    """The largest cap C such that cutting every string longer than C bytes down to C saves ``need`` bytes.

    ``sizes`` are encoded string sizes, largest first. With the k largest strings above the cap the saving is
    ``sum(top k) - k*C``; walk k upward and solve for C. ``None`` when even cutting every string to ``"..."``
    saves too little.
    """
    total = 0
    for k, size in enumerate(sizes, 1):
        total += size
        below = max(sizes[k] if k < len(sizes) else 0, _SMALLEST)
        if total - k * below >= need:
            return min(size, (total - need) // k)
        if below == _SMALLEST:
            break
    return None


def _prefix(text: str, budget: int) -> str:
    """The longest prefix of ``text`` whose JSON-escaped form takes at most ``budget`` bytes."""
    k = min(len(text), max(budget, 0))
    while k > 0:
        size = len(_dumps(text[:k])) - 2
        if size <= budget:
            return text[:k]
        k = min(k - 1, k * budget // size)  # escapes and multi-byte characters: shrink proportionally
    return ""


def _marker(paths: list[tuple[Any, ...]], dropped: list[str], original: int, budget: int) -> dict[str, Any]:
    """The ``_truncated`` field: as many cut paths and dropped fields as fit in ``budget`` bytes, then a count."""
    marker: dict[str, Any] = {"fields": [], "original_bytes": original}
    room = budget - len(_dumps(marker)) - len(',"dropped":[],"omitted":') - 20  # 20: digits of any count
    omitted = 0
    for name, items in (("fields", [_path_text(p) for p in paths]), ("dropped", dropped)):
        listed: list[str] = []
        for item in items:
            text = item if len(item) <= _PATH_CHARS else item[: _PATH_CHARS - len(_CUT)] + _CUT
            cost = len(_dumps(text)) + 1
            if cost > room:
                omitted += 1
                continue
            room -= cost
            listed.append(text)
        if items or name == "fields":
            marker[name] = listed
    if omitted:
        marker["omitted"] = omitted
    return marker


def _path_text(path: tuple[Any, ...]) -> str:
    text = str(path[0])
    for part in path[1:]:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text
