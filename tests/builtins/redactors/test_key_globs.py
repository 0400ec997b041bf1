"""Field-name globs: the substring/prefix/suffix shortcut decides exactly what the glob itself matches."""

from __future__ import annotations

import fnmatch

from hypothesis import given, settings
from hypothesis import strategies as st

from fapilog.builtins.redactors._keys import KeyMatcher
from fapilog.builtins.redactors.secrets import SECRET_NAMES

_ALPHABET = "ab*?[]-_."
_KEY_ALPHABET = "abAB_-. "


def _by_fnmatch(patterns: list[str], key: str) -> bool:
    """The reference: the key (and its last segment) against every undotted glob, as ``fnmatch`` reads it."""
    text = key.lower()
    last = text.split(".")[-1]
    return any(fnmatch.fnmatchcase(text, p.lower()) or fnmatch.fnmatchcase(last, p.lower()) for p in patterns)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(_ALPHABET.replace(".", ""), min_size=1, max_size=6), min_size=1, max_size=4),
       st.text(_KEY_ALPHABET.replace(" ", ""), min_size=1, max_size=8))
def test_undotted_globs_match_what_fnmatch_matches(patterns: list[str], key: str) -> None:
    """Every undotted glob, with or without the affix shortcut, gives fnmatch's verdict for the key."""
    patterns = [p.strip() for p in patterns if p.strip()]
    if not patterns:
        return
    matcher = KeyMatcher(patterns, plugin="test", field="fields")
    assert matcher.matches(key, ()) is _by_fnmatch(patterns, key)


def test_default_secret_names_match_by_substring_prefix_and_suffix() -> None:
    """``*password*`` matches inside a name, ``*token`` only at its end, exact names only whole."""
    matcher = KeyMatcher(SECRET_NAMES, plugin="secrets", field="extra_fields", normalize=True)
    assert matcher.matches("db_password_hash", ()) and matcher.matches("X-Auth-Token", ())
    assert not matcher.matches("max_tokens", ()) and not matcher.matches("author", ())
