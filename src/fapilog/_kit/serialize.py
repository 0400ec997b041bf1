"""JSON serialization done once per event, with fallbacks so one bad value never costs the event.

orjson handles str/int/float/bool/None, dict/list/tuple, datetime, date, time, UUID, Enum, dataclasses and
numpy arrays natively. The fallback chain below adds Decimal, bytes, Path, set/frozenset, pydantic models and
anything with ``__json__``; whatever is left becomes its ``repr``. When orjson rejects the record as a whole
(a 65-bit integer, a lone surrogate in a value or a key, a reference cycle, nesting deeper than 254), each
top-level field is encoded on its own and only the field that fails is replaced by its ``repr`` (a key that is
not valid UTF-8 is written with backslash escapes). Every degraded value and key is counted.
"""

from __future__ import annotations

import dataclasses
import enum
import operator
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from fapilog._kit.record import EventRecord

__all__ = ["Serializer", "dumps", "json_lines", "safe_repr"]

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_UTC_Z
_TEXT_KEYS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_UTC_Z
"""The options without ``OPT_NON_STR_KEYS``, which costs orjson about as much again as the whole encoding of a
typical record: tried first; a record with a key that is not text raises and is encoded again with it."""


def safe_repr(value: object) -> str:
    """``repr(value)``, or a placeholder naming the type when its ``__repr__`` raises."""
    try:
        return repr(value)
    except Exception as exc:  # noqa: BLE001 - a broken __repr__ must not cost the event
        return f"<unrepresentable {type(value).__qualname__}: {type(exc).__name__}>"


def _is_instance(value: object, module: str, name: str) -> bool:
    """``isinstance(value, module.name)`` without importing ``module``: no instance exists until it is imported.

    Keeps ``decimal`` and ``pathlib`` (with ``urllib.parse``) out of a process that never uses them; this runs
    only for values orjson cannot encode itself.
    """
    loaded = sys.modules.get(module)
    cls = getattr(loaded, name, None) if loaded is not None else None
    return isinstance(cls, type) and isinstance(value, cls)


class Serializer:
    """Encodes records to one JSON line (no trailing newline) and counts values that had to degrade."""

    __slots__ = ("degraded",)

    def __init__(self) -> None:
        self.degraded = 0
        """How many values were replaced by their ``repr`` because nothing better could encode them."""

    def _default(self, value: Any) -> Any:  # noqa: PLR0911, PLR0912 - one branch per fallback type
        if _is_instance(value, "decimal", "Decimal"):
            return str(value)
        if isinstance(value, (bytes, bytearray, memoryview)):
            raw = bytes(value)
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                import base64  # here: only bytes that are not text need it, and start-up skips the module

                return "base64:" + base64.b64encode(raw).decode("ascii")
        if _is_instance(value, "pathlib", "PurePath"):
            return str(value)
        if isinstance(value, (set, frozenset)):
            items = list(value)
            try:
                items.sort()
            except TypeError:
                pass  # unorderable members keep iteration order: still every member, still valid JSON
            return items
        if isinstance(value, enum.Enum):
            return value.value
        if isinstance(value, Mapping):
            return dict(value)
        dump = getattr(value, "model_dump", None)  # pydantic v2 models
        if callable(dump):
            try:
                return dump(mode="json")
            except Exception:  # noqa: BLE001 - fall through to the next representation
                pass
        as_json = getattr(value, "__json__", None)
        if callable(as_json):
            try:
                return as_json()
            except Exception:  # noqa: BLE001 - fall through to repr
                pass
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return dataclasses.asdict(value)
        self.degraded += 1
        return safe_repr(value)

    def encode(self, record: Mapping[str, Any]) -> bytes:
        """The record as one line of JSON bytes; never raises for a bad value."""
        degraded = self.degraded
        try:
            return orjson.dumps(record, default=self._default, option=_TEXT_KEYS)
        except TypeError:  # orjson.JSONEncodeError included
            self.degraded = degraded  # the attempt below counts again whatever this one degraded
            return self._encode_slow(record)

    def encode_into(self, records: Sequence[EventRecord]) -> None:
        """Serialize every record of a batch into its ``json`` attribute (one loop, no per-record call)."""
        dumps = orjson.dumps
        default = self._default
        for record in records:
            degraded = self.degraded
            try:
                record.json = dumps(record, default=default, option=_TEXT_KEYS)
            except TypeError:  # orjson.JSONEncodeError included
                self.degraded = degraded
                record.json = self._encode_slow(record)

    def encode_early(self, records: Sequence[EventRecord]) -> None:
        """Serialize, before the stage chain, every record orjson encodes natively, with no fallback at all.

        Only for a chain whose every stage is copy-on-write (see ``Pipeline.copy_on_write``): a record such a
        stage passes on is the very same object, unchanged, so its bytes stay true; a record it changes is a
        new object without ``json``, which :meth:`encode_rest` serializes after the chain. A record this pass
        cannot encode (a value orjson needs the fallbacks for) is left without ``json`` too, so nothing
        degrades and nothing is counted here: whatever a redactor masks is never counted as degraded.
        """
        dumps = orjson.dumps
        for record in records:
            try:
                record.json = dumps(record, option=_TEXT_KEYS)
            except TypeError:  # orjson.JSONEncodeError included: left for encode_rest, with every fallback
                continue

    def encode_rest(self, records: Sequence[EventRecord]) -> None:
        """:meth:`encode_into` for the records of a batch that have no ``json`` yet (after :meth:`encode_early`)."""
        missing = []
        for record in records:
            try:
                record.json  # noqa: B018 - an unset slot raises: the cheapest test for "not serialized yet"
            except AttributeError:
                missing.append(record)
        if missing:
            self.encode_into(missing)

    def _encode_slow(self, record: Mapping[str, Any]) -> bytes:
        """Keys that are not text allowed; then field by field. Never raises."""
        degraded = self.degraded
        try:
            return orjson.dumps(record, default=self._default, option=_OPTIONS)
        except TypeError:
            self.degraded = degraded  # counted once, by the field-by-field pass
            return self._encode_field_by_field(record)

    def _encode_field_by_field(self, record: Mapping[str, Any]) -> bytes:
        """Encode each top-level field on its own; only what cannot be encoded degrades. Never raises."""
        safe: dict[str, Any] = {}
        for key, value in record.items():
            name = _safe_key(key)
            if name is not key:
                self.degraded += 1  # a key that is not valid UTF-8 text is written escaped
            before = self.degraded
            try:
                safe[name] = orjson.Fragment(orjson.dumps(value, default=self._default, option=_OPTIONS))
            except (TypeError, orjson.JSONEncodeError):
                self.degraded = before + 1  # the field is written whole as one repr: what degraded inside it is in it
                safe[name] = _safe_text(value) if isinstance(value, str) else _safe_text(safe_repr(value))
        try:
            return orjson.dumps(safe, option=_OPTIONS)
        except (TypeError, orjson.JSONEncodeError):  # not expected: every part is valid by now; keep the event
            self.degraded += 1
            return orjson.dumps({"message": _safe_text(safe_repr(record.get("message"))), "unencodable": True})


def _safe_text(text: str) -> str:
    """``text`` with anything that is not valid UTF-8 (lone surrogates) written as a backslash escape."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _safe_key(key: object) -> str:
    """A JSON object key for ``key``: itself when it is valid text, else an escaped text form of it."""
    if isinstance(key, str):
        try:
            key.encode("utf-8")
        except UnicodeEncodeError:
            return _safe_text(key)
        return key
    return _safe_text(safe_repr(key))


_shared = Serializer()


def dumps(record: Mapping[str, Any]) -> bytes:
    """The JSON line of ``record``: the bytes the worker already made when there are any, else fresh ones."""
    cached = getattr(record, "json", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    return _shared.encode(record)


_JSON_OF = operator.attrgetter("json")


def json_lines(records: Sequence[Mapping[str, Any]]) -> list[bytes]:
    """The JSON line of every record, as :func:`dumps` gives it; in one pass in C when the worker serialized
    them all (the batch a sink gets from the pipeline), record by record otherwise."""
    try:
        lines: list[bytes] = list(map(_JSON_OF, records))
    except AttributeError:  # a record from elsewhere (a plain dict in a test): serialize what has no bytes
        return [dumps(record) for record in records]
    return lines
