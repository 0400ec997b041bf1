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

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import chain, repeat
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
_PADDED_COMMA = tuple(digits + b"," for digits in _DIGITS3_BYTES)
_BARE_COMMA = tuple(b"%d," % low for low in range(1000))
_HEAD = b'{"timestamp":"'
_MESSAGE = b',"message":'
_SEQ = b',"seq":'
_CACHE_LIMIT = 4096
"""Encoded messages and logger names kept per worker: most messages are a few constant texts; beyond this many
(messages with values formatted in) the cache starts over rather than grow."""
_CACHED_LENGTH = 256
"""Longer texts are encoded each time, never kept: the cache stays small whatever the messages."""
_NO_FIELDS: Mapping[str, Any] = {}
_CONSTANT_BYTES = frozenset(b'{"timestamp":"0123456789-T:.Z","level":,"logger":,"message":,"seq":}')
"""Bytes every line holds (its keys, the timestamp's characters, the punctuation): a gate among them fails every
line, and the batch test, which looks only at the variable parts, must not pass it."""
_LEVEL_OF = operator.itemgetter(1)
_FIELDS_OF = operator.itemgetter(4)
_CONTEXT_OF = operator.itemgetter(5)
_BOUND_OF = operator.itemgetter(6)
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

    __slots__ = ("_bad", "_levels", "_messages", "_middles", "_names")

    def __init__(self) -> None:
        self._levels: dict[int, tuple[bytes, frozenset[int]]] = {}
        self._names: dict[str, tuple[bytes, frozenset[int]] | None] = {}
        self._messages: dict[str, tuple[bytes, frozenset[int]] | None] = {}
        self._middles: dict[Any, tuple[int, str, bytes, bool]] = {}
        """By message: the line's middle (level, logger, message) for the level and logger it was last made for,
        and whether none of the batch test's bytes is in it."""
        self._bad: frozenset[int] = frozenset()

    def _level(self, level: int) -> tuple[bytes, frozenset[int]]:
        name = orjson.dumps(LEVEL_NAMES.get(level) or level_name(level))
        if len(self._levels) >= _CACHE_LIMIT:  # any integer is a level to log.log(): keep the cache bounded
            self._levels.clear()
        entry = self._levels[level] = (b'Z","level":' + name + b',"logger":', frozenset(name))
        return entry

    def _middle(self, level: int, name: Any, message: Any) -> tuple[int, str, bytes, bool]:
        """The part of a line from the timestamp's end to the ``seq`` key, for the batch test's bytes: empty (and
        not clean) when the logger's name or the message is not text orjson writes."""
        named = self._names.get(name) or _entry(name, self._names) if type(name) is str else None
        said = self._messages.get(message) or _entry(message, self._messages) if type(message) is str else None
        if named is None or said is None:
            return level, name, b"", False
        level_part, level_marks = self._levels.get(level) or self._level(level)
        bad = self._bad
        clean = bad.isdisjoint(level_marks) and bad.isdisjoint(named[1]) and bad.isdisjoint(said[1])
        entry = (level, name, level_part + named[0] + _MESSAGE + said[0] + _SEQ, clean)
        if len(message) <= _CACHED_LENGTH:
            if len(self._middles) >= _CACHE_LIMIT:
                self._middles.clear()
            self._middles[message] = entry
        return entry

    def encode(
        self, items: Sequence[Any], seq: int, clock: IsoClock, verdicts: Sequence[LineVerdict]
    ) -> tuple[list[bytes | None], list[int]]:
        """Each event's line (None where it must go the record way), numbered from ``seq``, and its level.

        The usual batch is encoded whole: every event's fields in one orjson call, tested at once (the
        verdicts' keys against the union of the batch's keys; the gate bytes, ``[`` and ``{`` in the one output)
        and split into the events' bodies. In a batch that fails the test each event is put to it on its own,
        which finds the events that must go the record way.

        ``clock`` must be the worker's: its cached millisecond is read here, and refreshed through
        :meth:`IsoClock.format` when an event falls outside it.
        """
        levels = list(map(_LEVEL_OF, items))
        if any(map(_CONTEXT_OF, items)) or any(map(_BOUND_OF, items)):
            # The record's merge order (context, then bound, then the call's fields; the last value wins).
            merged = [{**(context or _NO_FIELDS), **(bound or _NO_FIELDS), **(fields or _NO_FIELDS)}
                      for _, _, _, _, fields, context, bound, _, _ in items]
        else:
            merged = list(map(_FIELDS_OF, items))
        bodies: Sequence[bytes | None] | None = _bodies(merged, verdicts)
        if bodies is None:  # some event fails the batch test: each is put to the same test on its own
            bodies = [_body(fields, verdicts) for fields in merged]
        bad = frozenset({_OPEN_OBJECT, _OPEN_LIST, *(gate for _, gate in verdicts)}) if verdicts else frozenset()
        if bad != self._bad:
            self._bad = bad
            self._middles.clear()
        middles = self._middles
        digits = _DIGITS3_BYTES
        join = b"".join
        base, limit = clock._ms_base, clock._ms_limit
        prefix = _HEAD + clock._ms_prefix.encode("ascii")
        lines: list[bytes | None] = []
        add_line = lines.append
        highs, lows = _seq_columns(seq, len(items))
        for (ts_ns, level, name, message, _, _, _, exc, captured), body, high, low in zip(
                items, bodies, highs, lows, strict=True):
            if body is None or exc is not None or captured is not None:
                add_line(None)
                continue
            try:
                middle = middles[message]
            except (KeyError, TypeError):  # TypeError: a message that cannot be a key (the record way takes it)
                middle = self._middle(level, name, message)
            else:
                if middle[0] != level or middle[1] is not name:
                    middle = self._middle(level, name, message)
            if not middle[3]:
                add_line(None)
                continue
            if not base <= ts_ns < limit:
                clock.format(ts_ns)
                base, limit = clock._ms_base, clock._ms_limit
                prefix = _HEAD + clock._ms_prefix.encode("ascii")
            add_line(join((prefix, digits[(ts_ns - base) // 1000], middle[2],
                           high, low if len(body) > 1 else low[:-1], body)))
        return lines, levels


def _seq_columns(seq: int, count: int) -> tuple[Iterable[bytes], Iterable[bytes]]:
    """The ``seq`` values ``seq`` … ``seq + count - 1`` as text in two columns: the thousands (``b"123"``, or
    nothing below 1000) and the last three digits with the comma that follows them (``b"045,"``; unpadded below
    1000), from tables: formatting each number with ``%d`` costs about 100 ns here, the tables about a third."""
    highs: list[Iterable[bytes]] = []
    lows: list[Iterable[bytes]] = []
    number, end = seq, seq + count
    while number < end:
        high, low = divmod(number, 1000)
        run = min(end - number, 1000 - low)
        highs.append(repeat(b"%d" % high if high else b"", run))
        lows.append((_PADDED_COMMA if high else _BARE_COMMA)[low:low + run])
        number += run
    return chain.from_iterable(highs), chain.from_iterable(lows)


def _bodies(merged: Sequence[Any], verdicts: Sequence[LineVerdict]) -> list[bytes] | None:
    """Each event's fields as the end of its line (``"k":v,...}``, or ``}`` for none), from one orjson call for
    the batch; None when the batch must be encoded event by event.

    The batch passes when orjson encodes it natively, its keys (all of them, at once) are text, none is a core
    key's name and every verdict's keys test holds, and the output holds no gate byte, no ``[`` but the array's
    and no ``{`` but the objects': then no value is a container, every ``,{`` starts an event's object, and
    each part is exactly what orjson writes for that event's fields alone.
    """
    try:
        array = orjson.dumps(merged, option=_TEXT_KEYS)
    except TypeError:  # orjson.JSONEncodeError included
        return None
    # ``find`` and ``replace`` scan in C at memory speed, ``count`` of one byte does not (~3x slower here).
    if not (array.find(b"[", 1) == -1 and len(array) - len(array.replace(b"{", b"")) == len(merged)
            and RESERVED_KEYS.isdisjoint(keys := set().union(*merged))
            and all(plain(keys) and gate not in array and gate not in _CONSTANT_BYTES for plain, gate in verdicts)):
        return None
    parts = array.split(b",{")
    if len(parts) != len(merged):
        return None
    parts[0] = parts[0][2:]  # the array's "[{" (trimmed here, not by copying the whole output first)
    parts[-1] = parts[-1][:-1]  # and its "]"
    return parts


def _body(fields: Mapping[str, Any] | None, verdicts: Sequence[LineVerdict]) -> bytes | None:
    """One event's end of line, in the form :func:`_bodies` gives (None: it goes the record way): the same test
    for one event, where containers need no test but the verdicts' (nothing is split)."""
    fields = fields or _NO_FIELDS
    try:
        body = orjson.dumps(fields, option=_TEXT_KEYS)
    except TypeError:  # orjson.JSONEncodeError included: the serializer's fallbacks decide
        return None
    if not RESERVED_KEYS.isdisjoint(fields):  # a field named like a core key is renamed on the record way
        return None
    if verdicts and not (body.find(b"[") == -1 and body.rfind(b"{") == 0 and all(
            plain(fields) and gate not in body and gate not in _CONSTANT_BYTES for plain, gate in verdicts)):
        return None
    return body[1:]


def _entry(text: str, cache: dict[str, tuple[bytes, frozenset[int]] | None]) -> tuple[bytes, frozenset[int]] | None:
    """``text`` as JSON with the set of its bytes (None when orjson refuses it: a lone surrogate), kept in
    ``cache`` when short."""
    try:
        encoded = orjson.dumps(text)
    except TypeError:
        entry = None
    else:
        entry = (encoded, frozenset(encoded))
    if len(text) <= _CACHED_LENGTH:
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[text] = entry
    return entry


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
