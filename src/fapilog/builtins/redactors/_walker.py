"""The copy-on-write walk every built-in redactor shares, with its depth, size and failure guards.

A redactor is two rules: a *key rule* (mask the whole value of a field whose name matches) and a *text rule*
(rewrite the secret parts of a string). The walk visits every value once, applying both, and copies only the
containers on the way to a change: the caller's dicts and lists are never mutated, and an untouched value is
returned as the very same object.

The key rule also reads *pairs*: a two-item list or tuple whose first item is a matching name (a string or
bytes) is a header written as a pair, ``("Authorization", "Bearer x")`` in ``headers=[...]`` or ASGI's
``(b"cookie", b"...")``, and its second item is masked; so is the ``value`` of a small name/value mapping
whose ``name`` (or ``key``) is a matching name (``{"name": "DB_PASSWORD", "value": "..."}``). The text rule
also rewrites mapping keys, so a secret used as a key (``{"https://u:pw@host": ...}``) is caught.

Guards, so a hostile or broken value can neither leak nor stall the worker:

- a container deeper than ``max_depth`` becomes :data:`TOO_DEEP`, one with over ``max_items`` entries
  :data:`TOO_MANY`: it is replaced, never passed on unsearched;
- a value that makes a rule raise (a ``__str__`` that raises, a dict that contains itself) becomes
  :data:`REDACTION_ERROR`; everything around it is still redacted, ``failures`` goes up and one
  rate-limited line reaches stderr.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import enum
import sys
import uuid
from collections.abc import Callable, Mapping, Sequence, Sized
from typing import Any

from fapilog._engine.notices import warn
from fapilog.builtins.redactors._keys import KeyMatcher

__all__ = ["REDACTION_ERROR", "TOO_DEEP", "TOO_MANY", "TextRule", "Walker", "rebuild"]

TextRule = Callable[[str], str]
"""Rewrites a string; returns the very same object when nothing in it is secret.

A rule may declare a ``gate``: a tuple of one or two substrings that a string must *all* contain for the rule
to change it (``url_credentials``: ``("://", "@")``). The walk then tests the gate, in C, instead of calling
the rule or remembering clean strings, and a record of flat values that pass no gate is skipped whole."""

REDACTION_ERROR = "[REDACTION_ERROR]"
TOO_DEEP = "[REDACTED:max_depth]"
TOO_MANY = "[REDACTED:max_items]"

_leaves: tuple[type, ...] = (datetime.date, datetime.time, datetime.timedelta, uuid.UUID, int, float)
"""Values the walk passes on untouched: their JSON form is a number, a date or a plain text no rule applies to.
(Not an Enum: it is written as its value, which may be any text or container.)"""
_lazy_leaves: tuple[tuple[str, str], ...] = (("decimal", "Decimal"), ("pathlib", "PurePath"))
"""Leaves whose modules are looked up, never imported (a process that has not imported them has no such value);
each moves into :data:`_leaves` once its module is loaded."""


def _is_leaf(value: object) -> bool:
    """Whether ``value`` is one of the leaves; only a value that is not a known leaf looks for the lazy ones."""
    global _leaves, _lazy_leaves
    if isinstance(value, _leaves):
        return True
    modules = sys.modules
    for module, _ in _lazy_leaves:
        if module in modules:
            break
    else:
        return False  # none of their modules is loaded: no such value exists (the usual case, kept cheap)
    found = [(entry, getattr(modules.get(entry[0]), entry[1], None)) for entry in _lazy_leaves]
    loaded = tuple(cls for _, cls in found if isinstance(cls, type))
    if not loaded:
        return False
    # Both are replaced, never mutated: a thread reading them in between sees a class twice, which only
    # repeats this lookup.
    _leaves = (*_leaves, *loaded)
    _lazy_leaves = tuple(entry for entry, cls in found if not isinstance(cls, type))
    return isinstance(value, loaded)


_SEQUENCES = (list, tuple, set, frozenset, collections.deque)
_VALUE_KEYS = ("value", "Value")
_NAME_KEYS = ("name", "key", "Name", "Key")
_NAMED_MAX = 4
"""Only small mappings are read as name/value records (the record itself plus a field or two of metadata)."""
BIG_INT, HUGE_INT = 10**8, 10**20
"""Integers of 9 to 20 digits may be card or account numbers: text rules scan their digits."""
_CLEAN_LIMIT, _CLEAN_MAX_LEN = 8192, 256


class _Cycle(Exception):
    """A container met again inside itself: it has no finite redacted form."""


class Walker:
    """Applies a key rule and a text rule to any JSON-like value, copy-on-write, within the guards."""

    def __init__(
        self, *, name: str, keys: KeyMatcher | None, text: TextRule | None, mask: str, max_depth: int,
        max_items: int,
    ) -> None:
        self._name = name
        self._keys = keys
        self._paths = keys is not None and keys.needs_path
        self._rule = text
        gate: tuple[str, ...] = getattr(text, "gate", ()) if text is not None else ()
        if not 0 < len(gate) <= 2:  # the fast test takes one or two substrings
            gate = ()
        self._gate: tuple[str, str] | None = (gate[0], gate[-1]) if gate else None
        """The substrings a string must contain for the text rule to touch it (None: no gate, always scan)."""
        self._clean: set[str] = set()
        """Short strings the text rule left unchanged and that were seen at least twice. Messages and enum-like
        values repeat from event to event, so after warm-up they cost one hash lookup. Strings that held a
        secret are never kept here."""
        self._seen_once: set[str] = set()
        """Clean strings seen once, waiting for a second sighting: unique ids (one per event) pass through here
        and never crowd the repeated strings out of ``_clean``."""
        self._mask = mask
        self._max_depth = max_depth
        self._max_items = max_items
        self.failures = 0
        """Values replaced by ``[REDACTION_ERROR]`` because a rule raised on them, since creation."""

    def _failed(self, exc: Exception) -> str:
        self.failures += 1
        # Only the exception's type is reported: its message may quote the very value being hidden.
        warn(
            f"redaction-error:{self._name}:{id(self)}",
            f"redactor {self._name!r} could not redact a value ({type(exc).__name__}); it was replaced by "
            f"{REDACTION_ERROR} and the event continued ({self.failures} so far)", code="FL-LOG-006",
        )
        return REDACTION_ERROR

    def _scan(self, text: str) -> str:
        """The text rule with the memory of clean strings (only called when there is a text rule)."""
        gate = self._gate
        if gate is not None:
            if gate[0] not in text or gate[1] not in text:
                return text
            assert self._rule is not None
            return self._rule(text)  # cheaper than remembering: the gate already rules out most strings
        clean = self._clean
        if text in clean:
            return text
        assert self._rule is not None
        out = self._rule(text)
        if out is text and len(text) <= _CLEAN_MAX_LEN:
            seen = self._seen_once
            if text in seen:
                if len(clean) >= _CLEAN_LIMIT:
                    clean.clear()
                clean.add(text)
            else:
                if len(seen) >= _CLEAN_LIMIT:
                    seen.clear()
                seen.add(text)
        return out

    def _enter(self, value: Sized, depth: int, active: set[int]) -> str | None:
        """The marker replacing a container beyond the guards, else ``None`` (and the container is entered)."""
        if depth > self._max_depth:
            return TOO_DEEP
        if len(value) > self._max_items:
            return TOO_MANY
        if id(value) in active:
            raise _Cycle(f"a {type(value).__name__} contains itself")
        active.add(id(value))
        return None

    def _walk(  # noqa: PLR0911 - one early return per common type keeps the hot path flat
        self, value: Any, path: tuple[str, ...], depth: int, active: set[int]
    ) -> Any:
        kind = type(value)
        if kind is str:
            return value if self._rule is None else self._scan(value)
        if kind is dict:
            return self._mapping(value, path, depth, active)
        if kind is list or kind is tuple:
            return self._sequence(value, path, depth, active)
        if kind is int:
            if self._rule is not None and BIG_INT <= abs(value) < HUGE_INT:
                digits = str(value)
                out = self._scan(digits)
                return value if out is digits else out
            return value
        if kind is float or kind is bool or value is None:
            return value
        return self._other(value, path, depth, active)

    def _mapping(self, value: Mapping[Any, Any], path: tuple[str, ...], depth: int, active: set[int]) -> Any:
        stop = self._enter(value, depth, active)
        if stop is not None:
            return stop
        keys, has_rule, paths = self._keys, self._rule is not None, self._paths
        changes: dict[Any, tuple[Any, Any]] = {}
        renamed = False
        try:
            named = self._named_value(value, path) if keys is not None and len(value) <= _NAMED_MAX else None
            for key, item in value.items():
                new_key = key
                try:
                    if keys is not None and (keys.matches(key, path) or (named is not None and key == named)):
                        new = self._mask
                    else:
                        child = path + keys.segments(key) if paths and keys is not None else path
                        new = self._walk(item, child, depth + 1, active)
                    if has_rule and type(key) is str:
                        new_key = self._scan(key)
                except Exception as exc:  # noqa: BLE001 - contained per value: counted, reported, masked
                    new = self._failed(exc)
                if new is not item or new_key is not key:
                    changes[key] = (new_key, new)
                    renamed = renamed or new_key is not key
        finally:
            active.discard(id(value))
        if not changes:
            return value
        if not renamed:
            out = dict(value)
            for key, (_, new) in changes.items():
                out[key] = new
            return out
        return rebuild(value, changes)

    def _named_value(self, value: Mapping[Any, Any], path: tuple[str, ...]) -> str | None:
        """``"value"`` (as spelled) when ``value`` is a name/value record whose name is a secret name, else None.

        Headers in HAR files and OpenAPI examples, Kubernetes ``env`` entries and cloud tags are written as
        ``{"name": "Authorization", "value": "..."}`` or ``{"Key": "DB_PASSWORD", "Value": "..."}``.
        """
        assert self._keys is not None
        for value_key in _VALUE_KEYS:
            if value_key in value:
                for name_key in _NAME_KEYS:
                    name = value.get(name_key)
                    if (type(name) is str or type(name) is bytes) and self._keys.matches(name, path):
                        return value_key
        return None

    def _pair(self, value: Sequence[Any], path: tuple[str, ...]) -> Any:
        """``value`` with its second item masked when it is a ``(secret name, value)`` pair, else ``None``."""
        name = value[0]
        kind = type(name)
        if (kind is not str and kind is not bytes) or self._keys is None or not self._keys.matches(name, path):
            return None
        if value[1] is self._mask:
            return value
        return (name, self._mask) if isinstance(value, tuple) else [name, self._mask]

    def _sequence(self, value: Sequence[Any], path: tuple[str, ...], depth: int, active: set[int]) -> Any:
        if len(value) == 2 and self._keys is not None:
            masked = self._pair(value, path)
            if masked is not None:
                # The name stays readable, but it is still a value: one that is itself a secret
                # (``["sk-live-credential…", ""]``) goes through the value rules like any other item.
                name = masked[0]
                try:
                    new_name = self._walk(name, path, depth + 1, active)
                except Exception as exc:  # noqa: BLE001 - contained per value: counted, reported, masked
                    new_name = self._failed(exc)
                if new_name is not name:
                    return (new_name, masked[1]) if isinstance(masked, tuple) else [new_name, masked[1]]
                return masked
        stop = self._enter(value, depth, active)
        if stop is not None:
            return stop
        out: list[Any] | None = None
        try:
            for index, item in enumerate(value):
                try:
                    new = self._walk(item, path, depth + 1, active)
                except Exception as exc:  # noqa: BLE001 - contained per value: counted, reported, masked
                    new = self._failed(exc)
                if new is not item:
                    if out is None:
                        out = list(value)
                    out[index] = new
        finally:
            active.discard(id(value))
        if out is None:
            return value
        return tuple(out) if type(value) is tuple else out

    def _other(  # noqa: PLR0911, PLR0912 - one branch per form the serializer writes
        self, value: Any, path: tuple[str, ...], depth: int, active: set[int]
    ) -> Any:
        """Everything that is not a plain str/dict/list/tuple/number, read the way the serializer renders it."""
        has_rule = self._rule is not None
        if isinstance(value, str):  # a subclass: scanned as plain text, so its own __eq__/__hash__ play no part
            if not has_rule:
                return value
            plain = str.__str__(value)
            out = self._scan(plain)
            return value if out is plain else out
        if isinstance(value, enum.Enum):  # written as its value, which may hold a URL or a mapping
            inner = value.value
            out = self._walk(inner, path, depth, active)
            return value if out is inner else out
        if _is_leaf(value):
            return value
        if isinstance(value, Mapping):
            return self._mapping(value, path, depth, active)
        as_dict = getattr(value, "_asdict", None)
        if isinstance(value, tuple) and callable(as_dict):  # a named tuple: written as its repr, names included
            fields = dict(as_dict())
            out = self._mapping(fields, path, depth, active)
            return value if out is fields else out
        if isinstance(value, _SEQUENCES):
            items = value if isinstance(value, (list, tuple)) else list(value)
            out = self._sequence(items, path, depth, active)
            return value if out is items else out
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
            out = self._mapping(fields, path, depth, active)
            return value if out is fields else out
        dump = getattr(value, "model_dump", None)
        if callable(dump) and not isinstance(value, type):  # pydantic v2 models, dumped as the serializer will
            data = dump(mode="json")
            out = self._mapping(data, path, depth, active) if isinstance(data, dict) else data
            return value if out is data else out
        as_json = getattr(value, "__json__", None)
        if callable(as_json) and not isinstance(value, type):  # the serializer writes what it returns
            data = as_json()
            out = self._walk(data, path, depth, active)
            return value if out is data else out
        if not has_rule:
            return value
        if isinstance(value, (bytes, bytearray, memoryview)):
            try:
                rendered = bytes(value).decode("utf-8")
            except UnicodeDecodeError:
                return value  # serialized as base64: no text rule could match inside it
        else:
            rendered = str(value)  # may raise: the caller turns that into REDACTION_ERROR
            out = self._scan(rendered)
            if out is not rendered:
                return out
            rendered = repr(value)  # what the serializer writes for an object it has no encoding for
        out = self._scan(rendered)
        return value if out is rendered else out


def rebuild(value: Mapping[Any, Any], changes: dict[Any, tuple[Any, Any]]) -> dict[Any, Any]:
    """A copy of ``value`` in the same order with some keys renamed (masked); colliding names get ``#2``, ..."""
    out: dict[Any, Any] = {}
    for key, item in value.items():
        new_key, new = changes.get(key, (key, item))
        if new_key in out:
            suffix = 2
            while f"{new_key}#{suffix}" in out:
                suffix += 1
            new_key = f"{new_key}#{suffix}"
        out[new_key] = new
    return out
