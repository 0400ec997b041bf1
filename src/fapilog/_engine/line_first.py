"""Lines made straight from captured events, for a pipeline that would only serialize their records.

When every sink takes JSON lines (``write_lines``, no per-sink processor) and every stage of the chain can judge an
event by its fields and its JSON line without a record (:func:`line_verdicts`: the built-in redactors), an event
all verdicts pass needs no :class:`~fapilog._kit.record.EventRecord` at all. Its line is the core keys written as
bytes, followed by its context, bound and call fields encoded by orjson in one call: byte for byte the line its
record would have been serialized to, in the same key order (a test checks it against the record path). The line
is built by one ``join``, so it is an exact-size allocation and needs no compacting copy either.

Anything else goes the record way (records, the chain, the serializer's fallbacks), in its place in the batch:
an exception, values taken by capture hooks, a field named like a core key, a message or logger name that is not
text, a value orjson cannot encode natively, and any event a verdict does not pass. A verdict that says "pass" is
the very test the redactor's batch form applies to a serialized record; one that is unsure says no, and the
record path decides as it always did.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import orjson

from fapilog._engine.line_items import compacted_lines, levels_of
from fapilog._engine.pipeline import Pipeline
from fapilog._engine.sink_intake import SinkIntake
from fapilog._kit.levels import LEVEL_NAMES, level_name
from fapilog._kit.record import _DIGITS3, RESERVED_KEYS, EventRecord, IsoClock
from fapilog._kit.serialize import _TEXT_KEYS

__all__ = ["LineEncoder", "LineVerdict", "line_verdicts", "with_records"]

LineVerdict = tuple[Callable[[Iterable[str]], bool], int]
"""``(keys_plain, gate_byte)``: a stage passes an event's record on untouched when ``keys_plain`` holds for the
event's non-core keys and its JSON line holds neither ``gate_byte`` nor ``[`` and no ``{`` but the first (no
container, no text the stage's rules could change). The tests the built-in redactors' batch form applies to a
serialized record (``RedactorBase._line_verdict``)."""

_DIGITS3_BYTES = tuple(text.encode("ascii") for text in _DIGITS3)
_HEAD = b'{"timestamp":"'
_MESSAGE = b',"message":'
_SEQ = b',"seq":'
_COMMA = b","
_CLOSE = b"}"
_CACHE_LIMIT = 4096
"""Encoded messages and logger names kept per worker: most messages are a few constant texts; beyond this many
(messages with values formatted in) the cache starts over rather than grow."""
_CACHED_LENGTH = 256
"""Longer texts are encoded each time, never kept: the cache stays small whatever the messages."""
_NO_FIELDS: Mapping[str, Any] = {}
_OPEN_OBJECT, _OPEN_LIST = ord("{"), ord("[")


def line_verdicts(pipeline: Pipeline, sinks: Sequence[SinkIntake]) -> list[LineVerdict] | None:
    """The chain's verdicts when this batch may skip records, or None when something needs every record.

    Every sink must take the lines as made (``SinkIntake.takes_lines_as_made``), and every stage must be able to
    judge an event by its line: only a stage whose class declares ``_copy_on_write = True`` in its own body (see
    ``Pipeline.copy_on_write``) and offers ``_line_verdict()`` is asked, and it may answer None for this batch
    (e.g. before it has seen its first record). Read per batch: stages and sinks change between batches.
    """
    if not sinks or not all(sink.takes_lines_as_made for sink in sinks):
        return None
    verdicts: list[LineVerdict] = []
    for stage in pipeline.stages:
        obj = stage.obj
        if vars(type(obj)).get("_copy_on_write") is not True:
            return None
        offer = getattr(obj, "_line_verdict", None)
        verdict = offer() if callable(offer) else None
        if verdict is None:
            return None
        verdicts.append(verdict)
    return verdicts


class LineEncoder:
    """Builds the lines of one worker's events (its caches are the worker's: used on its thread only)."""

    __slots__ = ("_levels", "_messages", "_names")

    def __init__(self) -> None:
        self._levels: dict[int, bytes] = {}
        self._names: dict[str, bytes] = {}
        self._messages: dict[str, bytes] = {}

    def _level_part(self, level: int) -> bytes:
        part = b'Z","level":' + orjson.dumps(LEVEL_NAMES.get(level) or level_name(level)) + b',"logger":'
        self._levels[level] = part
        return part

    def encode(  # noqa: PLR0912, PLR0915 - one loop with every step inlined: it runs for every event
        self, items: Sequence[Any], seq: int, clock: IsoClock, verdicts: Sequence[LineVerdict]
    ) -> tuple[list[bytes | None], list[int]]:
        """Each event's line (None where it must go the record way), numbered from ``seq``, and its level.

        ``clock`` must be the worker's: its cached millisecond is read here, and refreshed through
        :meth:`IsoClock.format` when an event falls outside it.
        """
        dumps = orjson.dumps
        option = _TEXT_KEYS
        digits = _DIGITS3_BYTES
        reserved = RESERVED_KEYS.isdisjoint
        levels_cache, names_cache, messages_cache = self._levels, self._names, self._messages
        join = b"".join
        base, limit = clock._ms_base, clock._ms_limit
        prefix = _HEAD + clock._ms_prefix.encode("ascii")
        supersets = [plain for plain, _ in verdicts]
        gates = sorted({gate for _, gate in verdicts})
        single, gate = (verdicts[0][0], verdicts[0][1]) if len(verdicts) == 1 else (None, 0)
        lines: list[bytes | None] = []
        levels: list[int] = []
        add_line, add_level = lines.append, levels.append
        for number, (ts_ns, level, name, message, fields, context, bound, exc, captured) in enumerate(items, seq):
            add_level(level)
            if exc is not None or captured is not None or type(message) is not str or type(name) is not str:
                add_line(None)
                continue
            # The record's merge order (context, then bound, then the call's fields; the last value wins).
            merged = {**(context or _NO_FIELDS), **(bound or _NO_FIELDS), **fields} if context or bound else fields
            if merged:
                if not reserved(merged):  # a field named like a core key is renamed on the record way
                    add_line(None)
                    continue
                try:
                    body = dumps(merged, option=option)
                except TypeError:  # orjson.JSONEncodeError included: the serializer's fallbacks decide
                    add_line(None)
                    continue
                tail = _COMMA + body[1:]
            else:
                merged = _NO_FIELDS
                tail = _CLOSE
            if not base <= ts_ns < limit:
                clock.format(ts_ns)
                base, limit = clock._ms_base, clock._ms_limit
                prefix = _HEAD + clock._ms_prefix.encode("ascii")
            level_part = levels_cache.get(level)
            if level_part is None:
                level_part = self._level_part(level)
            name_part = names_cache.get(name)
            if name_part is None:
                name_part = _encoded(name, names_cache)
            message_part = messages_cache.get(message)
            if message_part is None:
                message_part = _encoded(message, messages_cache)
            if name_part is None or message_part is None:  # a lone surrogate: the record way decides
                add_line(None)
                continue
            line = join((prefix, digits[(ts_ns - base) // 1000], level_part, name_part, _MESSAGE, message_part, _SEQ,
                         b"%d" % number, tail))
            # The verdicts, inlined (a call per event would cost as much as the tests): one stage is the usual.
            if single is not None:
                if not (single(merged) and gate not in line and _OPEN_LIST not in line
                        and line.rfind(_OPEN_OBJECT) == 0):
                    add_line(None)
                    continue
            elif verdicts and not (all(plain(merged) for plain in supersets) and not any(g in line for g in gates)
                                   and _OPEN_LIST not in line and line.rfind(_OPEN_OBJECT) == 0):
                add_line(None)
                continue
            add_line(line)
        return lines, levels


def _encoded(text: str, cache: dict[str, bytes]) -> bytes | None:
    """``text`` as JSON (None when orjson refuses it: a lone surrogate), kept in ``cache`` when short."""
    try:
        encoded = orjson.dumps(text)
    except TypeError:
        return None
    if len(text) <= _CACHED_LENGTH:
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[text] = encoded
    return encoded


def with_records(
    lines: list[bytes | None], levels: list[int], slow: Sequence[int], seq: int, out: Sequence[EventRecord]
) -> tuple[list[bytes], list[int]]:
    """The batch's lines with the record path's in the places left empty: ``out`` are the chain's records for the
    events at the positions ``slow`` (numbered from ``seq`` like the batch), serialized."""
    made, made_levels = compacted_lines(out), levels_of(out)
    if len(out) == len(slow):  # always, for the chains that have verdicts (redactors never add or drop)
        for index, line, level in zip(slow, made, made_levels, strict=True):
            lines[index], levels[index] = line, level
        return lines, levels  # type: ignore[return-value]  # every None was replaced
    # A stage changed the number of records: each record's line goes where the event with its ``seq`` was; one
    # whose ``seq`` is no event's of this batch goes last, so nothing is lost.
    by_seq: dict[Any, list[tuple[bytes, int]]] = {}
    for record, made_line, level in zip(out, made, made_levels, strict=True):
        by_seq.setdefault(record.get("seq"), []).append((made_line, level))
    pairs: list[tuple[bytes, int]] = []
    for index, (maybe, level) in enumerate(zip(lines, levels, strict=True)):
        if maybe is not None:
            pairs.append((maybe, level))
        else:
            pairs += by_seq.pop(seq + index, ())
    for left in by_seq.values():
        pairs += left
    return [line for line, _ in pairs], [level for _, level in pairs]
