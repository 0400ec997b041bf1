"""Matching field names against glob patterns, case-insensitively, with dotted paths.

A pattern without a dot (``password``, ``*token``, ``api?key``) matches a key at any depth. A dotted pattern
(``headers.authorization``, ``*.secret``) matches the *last* segments of the key's path, so
``headers.authorization`` also matches ``request.headers.authorization``; each segment is its own glob, and
``*`` never crosses a dot. Lists are transparent: the dicts inside ``items: [...]`` have the path ``items``.
A key that itself contains dots (OpenTelemetry style ``http.request.header.authorization``) is read as that
many path segments.

With ``normalize=True`` (the ``secrets`` redactor) the separators ``_``, ``-`` and spaces are dropped from
patterns and keys alike before comparing, so one entry ``session_id`` covers ``sessionId``, ``SESSION-ID`` and
``session id``. Byte-string keys (ASGI headers) are read as Latin-1 text.

Verdicts are cached per key: records repeat the same few field names, so after warm-up a key costs one dict
lookup. A glob whose only wildcards are leading or trailing ``*`` (``*password*``, ``*token``, ``x_*``: every
default secret name) is compared as a substring, suffix or prefix; only the other globs are compiled to a
regular expression, so the default pipeline's first build neither imports :mod:`fnmatch` nor compiles one.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Hashable, Sequence
from typing import TypeAlias

from fapilog.plugins.constraints import setting_error

__all__ = ["KeyMatcher", "key_text", "normalize_name"]

Segment: TypeAlias = "str | re.Pattern[str]"
"""One path segment of a pattern: exact lower-case text, or a compiled glob."""

Verdict: TypeAlias = "bool | tuple[tuple[Segment, ...], ...]"
"""What a key alone decides: match, no match, or pattern prefixes the key's parents must still match."""

_GLOB_CHARS = frozenset("*?[")
_CACHE_LIMIT = 4096
_SEPARATORS = str.maketrans("", "", "_- ")


def normalize_name(text: str) -> str:
    """``text`` lower-cased without ``_``, ``-`` and spaces: ``X-Api-Key`` and ``x_api_key`` both give ``xapikey``."""
    return text.lower().translate(_SEPARATORS)


def key_text(key: Hashable) -> str:
    """A mapping key as text: byte strings (ASGI header names) decoded as Latin-1, an Enum as its value (the
    serializer writes it so), anything else by ``str``."""
    if isinstance(key, str):
        return key
    if isinstance(key, bytes):
        return key.decode("latin-1")
    if isinstance(key, enum.Enum):
        return key_text(key.value)
    return str(key)


def _translate(glob: str) -> str:
    import fnmatch  # here: the default names never need it (see the module's docstring)

    return fnmatch.translate(glob)


def _segment(text: str) -> Segment:
    if _GLOB_CHARS.isdisjoint(text):
        return text
    return re.compile(_translate(text))


def _affixes(glob: str) -> tuple[str, bool, bool] | None:
    """``(text, leading *, trailing *)`` when the glob's only wildcards are ``*`` at its ends, else None."""
    core = glob.strip("*")
    if not _GLOB_CHARS.isdisjoint(core):
        return None
    return core, glob.startswith("*"), glob.endswith("*")


def _seg_match(segment: Segment, text: str) -> bool:
    if isinstance(segment, str):
        return segment == text
    return segment.match(text) is not None


def _tail_matches(pattern: Sequence[Segment], path: Sequence[str]) -> bool:
    """True when ``pattern`` matches the last ``len(pattern)`` entries of ``path``."""
    offset = len(path) - len(pattern)
    if offset < 0:
        return False
    return all(_seg_match(segment, path[offset + i]) for i, segment in enumerate(pattern))


class KeyMatcher:
    """Decides whether a field name, at a given path, is one whose value must be masked."""

    __slots__ = ("_contains", "_dotted", "_exact", "_glob", "_normalize", "_prefixes", "_segments", "_suffixes",
                 "needs_path", "patterns", "verdicts")

    def __init__(self, patterns: Sequence[str], *, plugin: str, field: str, normalize: bool = False) -> None:
        self.patterns = tuple(patterns)
        self._normalize = normalize
        exact: set[str] = set()
        contains: list[str] = []
        prefixes: list[str] = []
        suffixes: list[str] = []
        globs: list[str] = []
        dotted: list[tuple[Segment, ...]] = []
        for raw in self.patterns:
            text = raw.strip().lower()
            parts = text.split(".")
            if normalize:
                parts = [normalize_name(part) for part in parts]
                text = ".".join(parts)
            if any(not part for part in parts):
                raise setting_error(field, f"pattern {raw!r} has an empty path segment; write 'a.b', not 'a..b', "
                                           "'.a' or 'a.'", root=plugin)
            if len(parts) > 1:
                dotted.append(tuple(_segment(part) for part in parts))
            elif _GLOB_CHARS.isdisjoint(text):
                exact.add(text)
            elif (affixes := _affixes(text)) is None:
                globs.append(_translate(text))
            else:
                core, leading, trailing = affixes
                (contains if leading and trailing else suffixes if leading else prefixes).append(core)
        self._exact = frozenset(exact)
        self._contains = tuple(contains)
        self._prefixes = tuple(prefixes)
        self._suffixes = tuple(suffixes)
        self._glob = re.compile("|".join(f"(?:{g})" for g in globs)) if globs else None
        self._dotted = tuple(dotted)
        self.needs_path = bool(dotted)
        """Only dotted patterns look at parents; without them the walker does not build paths at all."""
        self.verdicts: dict[Hashable, Verdict] = {}
        self._segments: dict[Hashable, tuple[str, ...]] = {}

    def segments(self, key: Hashable) -> tuple[str, ...]:
        """The lower-case path segments a key adds below its parent (``"a.B"`` adds ``("a", "b")``)."""
        found = self._segments.get(key)
        if found is None:
            parts = key_text(key).lower().split(".")
            found = tuple(normalize_name(part) for part in parts) if self._normalize else tuple(parts)
            if len(self._segments) >= _CACHE_LIMIT:
                self._segments.clear()
            self._segments[key] = found
        return found

    def matches(self, key: Hashable, parents: tuple[str, ...]) -> bool:
        """Whether ``key``, under the (lower-case, segment) path ``parents``, names a value to mask."""
        verdict = self.verdicts.get(key)
        if verdict is None:
            verdict = self._decide(key)
            if len(self.verdicts) >= _CACHE_LIMIT:
                self.verdicts.clear()
            self.verdicts[key] = verdict
        if isinstance(verdict, bool):
            return verdict
        return any(_tail_matches(prefix, parents) for prefix in verdict)

    def _affix_match(self, text: str) -> bool:
        return (text.startswith(self._prefixes) or text.endswith(self._suffixes)
                or any(core in text for core in self._contains))

    def _decide(self, key: Hashable) -> Verdict:
        segments = self.segments(key)
        whole = ".".join(segments)
        last = segments[-1]
        if whole in self._exact or last in self._exact or self._affix_match(whole) or self._affix_match(last):
            return True
        glob = self._glob
        if glob is not None and (glob.match(whole) is not None or glob.match(last) is not None):
            return True
        pending: list[tuple[Segment, ...]] = []
        for pattern in self._dotted:
            shared = min(len(pattern), len(segments))
            if _tail_matches(pattern[len(pattern) - shared :], segments):
                if shared == len(pattern):
                    return True
                pending.append(pattern[: len(pattern) - shared])
        return tuple(pending) if pending else False
