"""The plugin shell every built-in redactor shares: lifecycle, health, the record loop and its batch form.

The record loop is the hot path (it runs for every event), so it handles the common flat values itself and
hands only containers and unusual objects to the :class:`~fapilog.builtins.redactors._walker.Walker`. An
untouched record is returned as the very same object; a changed one is a copy (an ``EventRecord`` keeps the
worker's capture data, never serialized bytes made before redaction).

``timestamp``, ``level`` and ``seq`` are written by the core from the capture itself, never from caller
data, so they are skipped; every other field, ``message``, ``logger`` and ``exception`` included, is redacted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Annotated, Any, ClassVar

from fapilog.builtins.redactors._keys import KeyMatcher
from fapilog.builtins.redactors._walker import BIG_INT, HUGE_INT, REDACTION_ERROR, TextRule, Walker, rebuild
from fapilog.plugins import EventRecord
from fapilog.plugins.constraints import NonEmpty, Range
from fapilog.plugins.metadata import PluginHealth, PluginMetadata
from fapilog.plugins.protocols import Record  # at run time: plugin checks resolve the methods' annotations

__all__ = ["CORE_KEYS", "MAX_DEPTH_LIMIT", "MAX_ITEMS_LIMIT", "Depth", "Items", "Names", "RedactorBase"]

MAX_DEPTH_LIMIT = 200
"""Nesting deeper than this cannot be serialized anyway (orjson stops at 254) and would risk the C stack."""
MAX_ITEMS_LIMIT = 10_000_000

Depth = Annotated[int, Range(ge=1, le=MAX_DEPTH_LIMIT)]
"""The ``max_depth`` setting every redactor has: how deep the walk goes before it masks what is below."""
Items = Annotated[int, Range(ge=1, le=MAX_ITEMS_LIMIT)]
"""The ``max_items`` setting every redactor has: how many values one record may hold before the rest is masked."""
Names = tuple[Annotated[str, NonEmpty], ...]
"""A list of non-empty names (a lone string is refused: it would be read one character at a time)."""

CORE_KEYS = frozenset({"timestamp", "level", "seq"})
_JUDGING_METHODS = ("redact", "redact_batch", "_redact_one", "_is_plain")
"""The methods the line verdict stands in for: a class that overrides any of them gets no verdict."""
_RECORD_CORE_KEYS = frozenset({"timestamp", "level", "logger", "message", "seq"})
"""The keys every record the worker builds starts with (``logger`` and ``message`` are redacted like any field)."""

_NO_VERDICTS: dict[Any, Any] = {}
_PLAIN_LIMIT = 4096
_FLAT_TYPES = frozenset({int, float, bool, type(None)})
"""Values no rule of a gated redactor can change (integers only matter to ungated value patterns)."""
_FLAT_OR_TEXT = _FLAT_TYPES | {str}
_OPEN_OBJECT, _OPEN_LIST = ord("{"), ord("[")


def _copy_record(record: Record, fields: Record | None = None) -> dict[str, Any]:
    """A copy of ``record`` (with ``fields`` instead of its own when given) keeping the capture attributes of an
    ``EventRecord``, never its ``json``: bytes serialized before redaction would take the secrets to every sink."""
    if type(record) is EventRecord:
        return record.derive(fields)
    return dict(record if fields is None else fields)


class RedactorBase(Walker):
    """Lifecycle, health, ``redact`` and ``redact_batch`` on top of the shared walk."""

    metadata: ClassVar[PluginMetadata]
    # Every class here is copy-on-write: a record left alone comes back as the very same object, one changed as
    # a copy without ``json``. Each built-in redactor says so itself (``_copy_on_write = True`` in its own class
    # body): the worker trusts only a class that declares it, never a subclass that inherits it and may
    # change records in place (``Pipeline.copy_on_write``).

    def __init__(
        self, *, keys: KeyMatcher | None, text: TextRule | None, mask: str, max_depth: int, max_items: int
    ) -> None:
        super().__init__(
            name=self.metadata.name, keys=keys, text=text, mask=mask, max_depth=max_depth, max_items=max_items
        )
        self._fast = text is None or self._gate is not None
        """Whether whole records may be skipped by :meth:`_is_plain` (only when every text rule is gated)."""
        self._plain_keys: set[str] = set(CORE_KEYS)
        """Top-level keys seen before that match no name and that the text rule leaves alone."""
        self._line_gate = _line_byte(self._gate)
        """A one-character substring of the gate as the byte JSON writes it as (None: records are judged by value)."""

    async def start(self) -> None:
        """Nothing to open: every rule is compiled in the constructor."""

    async def stop(self) -> None:
        """Nothing to close."""

    async def health_check(self) -> PluginHealth:
        """``degraded`` once any value had to be replaced by ``[REDACTION_ERROR]``, else ``healthy``."""
        if self.failures:
            return PluginHealth(
                "degraded",
                f"{self.failures} value(s) could not be redacted and were replaced by {REDACTION_ERROR}",
                code="FL-HLT-005",
            )
        return PluginHealth("healthy", "no redaction failures")

    async def redact(self, record: Record) -> Record:
        """The record with every secret masked (the same object when nothing needed masking)."""
        return self._redact_one(record)

    async def redact_batch(self, records: Sequence[Record]) -> list[Record]:
        """:meth:`redact` for a whole batch, in order, in one loop."""
        one = self._redact_one
        gate = self._gate
        if not self._fast or gate is None:
            return [one(record) for record in records]
        # The test of _is_plain, inlined: most records of a batch pass it, and two calls per record would
        # cost more than the test itself.
        plain_keys, flat = self._plain_keys, _FLAT_TYPES
        first, second = gate
        # The worker serialized the records before a chain of copy-on-write stages: a record is then judged by
        # its JSON line, in C, instead of value by value. The line was made from the record as it is (nothing
        # changed it since). One ``{`` and no ``[`` means no value is a container (a dict, list, tuple,
        # dataclass or model adds one; so may a string, which then only costs the test by value). JSON writes
        # every character of a string as itself but quotes, backslashes and control characters, so a line
        # without the gate's one-character substring (``@``) holds no string the text rule could change.
        # Numbers never matter to a gated rule.
        line_gate = self._line_gate if records and type(getattr(records[0], "json", None)) is bytes else None
        out: list[Record] = []
        append = out.append
        for record in records:
            if plain_keys.issuperset(record):
                if line_gate is not None:
                    try:
                        line = record.json  # type: ignore[attr-defined]
                    except AttributeError:  # a value only the serializer's fallbacks encode: judged below
                        line = b"["
                    # Bytes tested as integers: ``b"@" in line`` costs over ten times ``64 in line``.
                    if line_gate not in line and _OPEN_LIST not in line and line.rfind(_OPEN_OBJECT) == 0:
                        append(record)
                        continue
                for value in record.values():
                    kind = type(value)
                    if kind is str:
                        if second in value and first in value:
                            break
                    elif kind is not int and kind not in flat:  # int first: the common case, no set lookup
                        break
                else:
                    append(record)
                    continue
            append(one(record))
        return out

    def _line_verdict(self) -> tuple[Callable[[Iterable[str]], bool], int] | None:
        """For the worker's line-first path (:mod:`fapilog._engine.line_first`): the test :meth:`redact_batch`
        applies to a serialized record, as ``(keys_plain, gate_byte)``, for an event whose record was never
        built. Its record would be passed on untouched when ``keys_plain(fields)`` holds for its non-core keys and
        its JSON line holds neither ``gate_byte`` nor ``[`` and no ``{`` but the first (the worker tests the line;
        anything else is judged on the record, as before).

        None when records must be judged by value (an ungated text rule, a gate JSON does not write as itself),
        for a subclass that overrides how records are judged, or while a core key is not known to be plain yet
        (``logger`` and ``message`` are learned like any key, from the first record that shows them). Asked once
        per batch: the keys learned meanwhile count next time.
        """
        gate = self._line_gate
        if not self._fast or self._gate is None or gate is None:
            return None
        cls = type(self)
        if any(getattr(cls, method) is not getattr(RedactorBase, method) for method in _JUDGING_METHODS):
            return None  # a subclass that redacts its own way: only its own code can say what it would pass
        plain = self._plain_keys
        if not plain.issuperset(_RECORD_CORE_KEYS):
            return None
        return plain.issuperset, gate

    def _is_plain(self, record: Record) -> bool:
        """True when nothing in ``record`` can need masking: every key is known to be plain, every value is a
        number, ``None`` or a string that fails the text rule's gate. The keys are checked in one C call; the
        common request log then costs one type test and one or two substring tests per value, with no call."""
        if not self._plain_keys.issuperset(record):
            return False
        gate = self._gate
        if gate is None:  # no text rule: strings never matter, and the whole test stays in C
            return _FLAT_OR_TEXT.issuperset(map(type, record.values()))
        flat = _FLAT_TYPES
        first, second = gate
        for value in record.values():
            if type(value) is str:
                if first in value and second in value:
                    return False
            elif type(value) not in flat:
                return False
        return True

    def _learn_plain(self, key: str) -> None:
        """Remember a top-level key that matched no name and that the text rule leaves alone."""
        plain = self._plain_keys
        if len(plain) >= _PLAIN_LIMIT:
            plain.clear()
            plain.update(CORE_KEYS)
        plain.add(key)

    def _redact_one(self, record: Record) -> Record:  # noqa: PLR0912, PLR0915 - the hot loop inlines the flat cases
        fast = self._fast
        if fast and self._is_plain(record):
            return record
        out: dict[str, Any] | None = None
        keys, rule, clean, gate = self._keys, self._rule, self._clean, self._gate
        verdicts = keys.verdicts if keys is not None else _NO_VERDICTS
        plain = self._plain_keys if fast else CORE_KEYS
        first, second = gate if gate is not None else ("", "")
        active: set[int] | None = None
        renamed: dict[str, str] | None = None
        for key, value in record.items():
            if key in CORE_KEYS:
                continue
            try:
                if key not in plain:  # a key seen plain before needs neither the key rule nor the text rule
                    plain_key = fast and type(key) is str
                    if rule is not None and key not in clean and type(key) is str:
                        # A secret used as a field name (``**{token: user}``) is rewritten like any string.
                        new_key = self._scan(key)
                        if new_key is not key:
                            plain_key = False
                            renamed = renamed or {}
                            renamed[key] = new_key
                    if keys is not None:
                        verdict = verdicts.get(key)
                        if verdict is not True and verdict is not False:
                            verdict = keys.matches(key, ())
                        if verdict:
                            if value is self._mask:
                                continue
                            new: Any = self._mask
                            if out is None:
                                out = _copy_record(record)
                            out[key] = new
                            continue
                    if plain_key:
                        self._learn_plain(key)
                kind = type(value)
                if kind is str:
                    if rule is None:
                        continue
                    if gate is not None:
                        if first not in value or second not in value:
                            continue
                        new = rule(value)
                    elif value in clean:
                        continue
                    else:
                        new = self._scan(value)
                elif kind is int or kind is float or kind is bool or value is None:
                    if rule is None or gate is not None or kind is not int or not BIG_INT <= abs(value) < HUGE_INT:
                        continue
                    new = self._walk(value, (), 1, set())
                else:
                    if active is None:
                        active = set()
                    path = keys.segments(key) if self._paths and keys is not None else ()
                    new = self._walk(value, path, 1, active)
            except Exception as exc:  # noqa: BLE001 - contained per field: counted, reported, masked
                new = self._failed(exc)
            if new is not value:
                if out is None:
                    out = _copy_record(record)
                out[key] = new
        if renamed is not None:
            return _renamed(record, out if out is not None else record, renamed)
        return record if out is None else out


def _line_byte(gate: tuple[str, str] | None) -> int | None:
    """A one-character gate substring as the byte a JSON line holds it as, when JSON writes it as itself (ASCII,
    not a quote, backslash or control character); None when the gate has none."""
    for part in gate or ():
        if len(part) == 1 and " " <= part < "\x7f" and part not in '"\\':
            return ord(part)
    return None


def _renamed(record: Record, fields: Record, renamed: dict[str, str]) -> Record:
    """``fields`` in a copy of ``record`` (capture data kept) with the ``renamed`` keys rewritten, in order."""
    return _copy_record(record, rebuild(fields, {old: (new, fields[old]) for old, new in renamed.items()}))
