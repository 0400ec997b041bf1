"""Validation of redactor settings, shared by every built-in redactor's settings model.

Each check returns the normalized value or raises :class:`~fapilog.errors.ConfigError` whose message starts
``<plugin>.<field>:`` and says what is accepted, so a typo in a TOML file or an environment variable points
straight at the setting to fix.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fapilog.errors import ConfigError

__all__ = [
    "MAX_DEPTH_LIMIT",
    "MAX_ITEMS_LIMIT",
    "bad",
    "check_bool",
    "check_common",
    "check_limit",
    "check_mask",
    "check_names",
]

_BOOL_TEXT = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False, "off": False}

MAX_DEPTH_LIMIT = 200
"""Nesting deeper than this cannot be serialized anyway (orjson stops at 254) and would risk the C stack."""

MAX_ITEMS_LIMIT = 10_000_000


def bad(plugin: str, field: str, problem: str) -> ConfigError:
    """A ConfigError for ``plugin.field``; ``problem`` says what is accepted and what was given."""
    return ConfigError(f"{plugin}.{field}: {problem}", field=field)


def check_mask(plugin: str, field: str, value: object) -> str:
    """A replacement text: any string, the empty string included."""
    if not isinstance(value, str):
        raise bad(plugin, field, f"must be a string such as '***'; got {value!r}")
    return value


def check_bool(plugin: str, field: str, value: object) -> bool:
    """A boolean, or its text as environment variables deliver it (``"true"``, ``"0"``, ``"no"``...)."""
    if isinstance(value, str):
        value = _BOOL_TEXT.get(value.strip().lower(), value)
    if not isinstance(value, bool):
        raise bad(plugin, field, f"must be true or false; got {value!r}")
    return value


def check_limit(plugin: str, field: str, value: object, *, high: int) -> int:
    """A whole number from 1 to ``high``, or its decimal text."""
    number: object = value
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value)
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= high:
        raise bad(plugin, field, f"must be a whole number from 1 to {high}; got {value!r}")
    return number


def check_names(plugin: str, field: str, value: object, *, example: str, allow_empty: bool) -> tuple[str, ...]:
    """A list of non-empty strings (a lone string is refused: it would be read one character at a time)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise bad(plugin, field, f"must be a list of strings such as {example}; got {value!r}")
    items = tuple(value)
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise bad(plugin, field, f"entries must be non-empty strings such as {example}; got {item!r}")
    if not items and not allow_empty:
        raise bad(plugin, field, f"must name at least one entry, such as {example}")
    return items


def check_common(plugin: str, settings: Any, *texts: str) -> None:
    """Check the guards (``max_depth``, ``max_items``) and the named text settings of a frozen settings
    dataclass, storing the normalized values on it (``"8"`` from an environment variable becomes ``8``)."""
    store = object.__setattr__
    for field in texts:
        store(settings, field, check_mask(plugin, field, getattr(settings, field)))
    depth, items = settings.max_depth, settings.max_items
    store(settings, "max_depth", check_limit(plugin, "max_depth", depth, high=MAX_DEPTH_LIMIT))
    store(settings, "max_items", check_limit(plugin, "max_items", items, high=MAX_ITEMS_LIMIT))
