"""``regex_mask``: masks the secret *parts* of strings anywhere in a record.

Every string is scanned, however deep: the message, nested field values, mapping keys, exception messages
(``exception.message`` and its causes), plus large integers (a card number logged as an int) and objects
that are rendered as text. Only the matching substring is replaced, by ``[REDACTED:<pattern name>]``::

    >>> redactor = RegexMaskRedactor(builtins=["email", "card_number"])
    >>> asyncio.run(redactor.redact({"message": "mail ada@example.com, card 4111 1111 1111 1111"}))
    {'message': 'mail [REDACTED:email], card [REDACTED:card_number]'}

The built-in patterns run in a fixed priority order (see ``docs/plugins/redactors.md``), then your own
``patterns``, one by one. A pattern of yours with a group named ``secret`` has only that group replaced
(``token=(?P<secret>\\w+)`` keeps ``token=``).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Sequence
from typing import Any

from fapilog._version import __version__
from fapilog.builtins.redactors._base import Depth, Items, Names, RedactorBase
from fapilog.builtins.redactors._patterns import DEFAULT_PATTERNS, LIBRARY, NAMES, Locate, NamedPattern, luhn_valid
from fapilog.plugins.constraints import setting_error, settings_from
from fapilog.plugins.metadata import PluginMetadata

__all__ = ["DEFAULT_PATTERNS", "PATTERN_NAMES", "PatternMasker", "RegexMaskRedactor", "RegexMaskSettings", "luhn_valid"]

NAME = "regex_mask"
PATTERN_NAMES = NAMES
"""Every built-in pattern's name, in priority order (the ``builtins`` setting accepts any of them)."""
_CUSTOM = "custom"
_SHORT = 40  # measured: below about this length one regex over all triggers beats the substring loop


def _label(plugin: str, replacement: str, name: str) -> str:
    try:
        return replacement.format(name=name)
    except (KeyError, IndexError, ValueError) as exc:
        raise setting_error("replacement", f"{replacement!r} is not a valid template ({exc}); use plain text "
                            "and, optionally, {name} for the pattern's name", root=plugin) from exc


def _compile_user(plugin: str, text: str) -> re.Pattern[str]:
    try:
        compiled = re.compile(text)
    except re.error as exc:
        raise setting_error("patterns", f"pattern {text!r} is not a valid regular expression ({exc}); write "
                            r"Python 're' syntax such as 'order-[0-9]{8}'", root=plugin) from exc
    if compiled.search("") is not None:
        raise setting_error("patterns", f"pattern {text!r} matches the empty string, so it would mask between "
                            "every character; make it require at least one character", root=plugin)
    return compiled


def _relabel(match: re.Match[str], *, label: str, group: str, locate: Locate | None) -> str:
    """The replacement for one match: ``label`` in place of its ``group`` (or of the whole match)."""
    whole = match.group()
    if not whole:
        return whole
    base = match.start()
    if group in match.re.groupindex and match.start(group) >= 0:
        start, end = match.start(group) - base, match.end(group) - base
    else:
        start, end = 0, len(whole)
    if locate is None:
        return whole[:start] + label + whole[end:]
    spans = locate(whole[start:end])
    if not spans:
        return whole
    parts: list[str] = []
    done = 0
    for first, last in spans:
        parts += (whole[done : start + first], label)
        done = start + last
    parts.append(whole[done:])
    return "".join(parts)


Relabel = Callable[[re.Match[str]], str]


class PatternMasker:
    """The text rule: the chosen built-in patterns in library order, then the user's own.

    A built-in pattern runs only when the lower-cased text contains one of its trigger literals (most strings
    contain none, and a few substring tests cost far less than a regex scan).
    """

    __slots__ = ("_gate", "_steps", "_triggers", "_untriggered")

    def __init__(self, *, plugin: str, builtins: Sequence[str], patterns: Sequence[str], replacement: str) -> None:
        unknown = [name for name in builtins if name not in NAMES]
        if unknown:
            raise setting_error("builtins", f"unknown pattern {unknown[0]!r}; accepted: {', '.join(NAMES)}",
                                root=plugin)
        chosen: list[NamedPattern] = [p for p in LIBRARY if p.name in builtins]
        steps: list[tuple[tuple[str, ...], Callable[[Relabel, str], str], Relabel]] = []
        for p in chosen:
            relabel = functools.partial(_relabel, label=_label(plugin, replacement, p.name), group="s", locate=p.locate)
            steps.append((p.triggers, re.compile(p.regex).sub, relabel))
        custom = _label(plugin, replacement, _CUSTOM)
        for text in patterns:
            relabel = functools.partial(_relabel, label=custom, group="secret", locate=None)
            steps.append(((), _compile_user(plugin, text).sub, relabel))
        self._steps = tuple(steps)
        self._untriggered = tuple(step for step in steps if not step[0])
        self._triggers = tuple(dict.fromkeys(trigger for triggers, _, _ in steps for trigger in triggers))
        by_length = sorted(self._triggers, key=len, reverse=True)
        self._gate = re.compile("|".join(map(re.escape, by_length))).search if by_length else None

    def __call__(self, text: str) -> str:
        lowered = text.lower()
        # Most strings contain no trigger at all, and then only the patterns without triggers run. Short
        # strings (ids, addresses) are checked fastest by one regex over every trigger, longer ones by plain
        # substring tests, which stop at the first hit.
        steps = self._untriggered
        if len(text) <= _SHORT:
            if self._gate is not None and self._gate(lowered) is not None:
                steps = self._steps
        else:
            for trigger in self._triggers:
                if trigger in lowered:
                    steps = self._steps
                    break
        out = text
        for triggers, substitute, relabel in steps:
            if triggers:
                for trigger in triggers:
                    if trigger in lowered:
                        break
                else:
                    continue
            out = substitute(relabel, out)
        return text if out == text else out


@dataclasses.dataclass(frozen=True)
class RegexMaskSettings:
    """Settings of ``regex_mask``; see :class:`RegexMaskRedactor`."""

    builtins: Names = DEFAULT_PATTERNS
    patterns: Names = ()
    replacement: str = "[REDACTED:{name}]"
    max_depth: Depth = 16
    max_items: Items = 1000

    def __post_init__(self) -> None:
        if not self.builtins and not self.patterns:
            raise setting_error("builtins", "no pattern is enabled: name at least one built-in pattern "
                                f"({', '.join(NAMES)}) or give your own in 'patterns'", root=NAME)
        PatternMasker(plugin=NAME, builtins=self.builtins, patterns=self.patterns, replacement=self.replacement)


class RegexMaskRedactor(RedactorBase):
    """Masks secrets found *inside* string values: tokens, keys, emails, card numbers, your own patterns.

    ``builtins`` picks named patterns (default: ``jwt``, ``api_key``, ``aws_access_key``, ``aws_secret``,
    ``email``, ``card_number``, ``bearer``; see ``docs/plugins/redactors.md`` for all of them), ``patterns``
    adds regular expressions of your own, ``replacement`` is the text put in place of a match (``{name}`` is
    the pattern's name, ``custom`` for yours). Containers nested deeper than ``max_depth`` or with more than
    ``max_items`` entries are replaced by a marker rather than scanned.
    """

    _copy_on_write = True  # see RedactorBase
    metadata = PluginMetadata(
        name=NAME,
        version=__version__,
        kind="redactor",
        description="Masks secrets inside string values: JWTs, API keys, AWS keys, emails, card numbers "
        "(Luhn-checked), bearer tokens and your own regular expressions.",
        config_model=RegexMaskSettings,
    )

    def __init__(self, settings: RegexMaskSettings | None = None, /, **values: Any) -> None:
        """``settings`` (the registry passes the validated model) or the same fields as keywords."""
        settings = self.settings = settings_from(RegexMaskSettings, settings, root=NAME, **values)
        masker = PatternMasker(
            plugin=NAME, builtins=settings.builtins, patterns=settings.patterns, replacement=settings.replacement
        )
        # No key rule, so the key mask is never used: every match gets its pattern's label instead.
        super().__init__(
            keys=None, text=masker, mask="", max_depth=settings.max_depth, max_items=settings.max_items
        )
