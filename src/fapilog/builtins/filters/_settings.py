"""Checking the built-in filters' settings, with errors that start ``<plugin>.<field>:`` and say what is accepted.

Each filter's config model calls these from ``__post_init__``, and each filter's constructor builds its config
model, so a bad value fails the same way whether it came from ``configure(filters=[{"type": ...}])``, from
the environment (where numbers arrive as strings, hence the string coercion) or from ``RateLimitFilter(...)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from fapilog.errors import ConfigError
from fapilog.plugins import parse_level

__all__ = [
    "count",
    "exempt_threshold",
    "field_list",
    "field_name",
    "flag",
    "level",
    "logger_levels",
    "number",
    "optional_level",
    "seed",
]

NO_EXEMPTION = 1 << 62
"""A threshold no level reaches: what ``exempt_level=None`` turns into."""


def _fail(plugin: str, field: str, problem: str) -> ConfigError:
    return ConfigError(f"{plugin}.{field}: {problem}", field=field)


def number(
    plugin: str, field: str, value: object, *, low: float, high: float | None = None, low_inclusive: bool = False
) -> float:
    """A finite float within bounds (``low < value`` unless ``low_inclusive``; ``value <= high``)."""
    wanted = f"a number {'>=' if low_inclusive else '>'} {low:g}" + (f" and <= {high:g}" if high is not None else "")
    parsed: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        parsed = float(value)
    elif isinstance(value, str):
        try:
            parsed = float(value.strip())
        except ValueError:
            parsed = None
    if parsed is None or not math.isfinite(parsed):
        raise _fail(plugin, field, f"must be {wanted}, got {value!r}")
    too_low = parsed < low if low_inclusive else parsed <= low
    if too_low or (high is not None and parsed > high):
        raise _fail(plugin, field, f"must be {wanted}, got {value!r}")
    return parsed


def count(plugin: str, field: str, value: object, *, low: int | None = 1) -> int:
    """A whole number ``>= low`` (any whole number with ``low=None``); integral floats and numeric strings too."""
    parsed: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        parsed = value
    elif isinstance(value, float) and value.is_integer():
        parsed = int(value)
    elif isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        parsed = int(value.strip())
    if parsed is None or (low is not None and parsed < low):
        wanted = "a whole number" + (f" >= {low}" if low is not None else "")
        raise _fail(plugin, field, f"must be {wanted}, got {value!r}")
    return parsed


def seed(plugin: str, field: str, value: object) -> int | None:
    """A random seed: any whole number, or ``None`` for an unseeded generator."""
    return None if value is None else count(plugin, field, value, low=None)


def field_name(plugin: str, field: str, value: object) -> str:
    """The name of a record field (a non-empty string)."""
    if not isinstance(value, str) or not value:
        raise _fail(plugin, field, f"must be a non-empty field name, got {value!r}")
    return value


def flag(plugin: str, field: str, value: object) -> bool:
    """``True``/``False`` (also ``"true"``/``"false"``, ``"1"``/``"0"``, ``"yes"``/``"no"`` from the environment)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "1", "yes", "on", "false", "0", "no", "off"}:
        return value.strip().lower() in {"true", "1", "yes", "on"}
    raise _fail(plugin, field, f"must be true or false, got {value!r}")


def level(plugin: str, field: str, value: object) -> int:
    """A level name (``"INFO"``, any case) or number (``20``), as the stdlib's number."""
    try:
        return parse_level(value, field=f"{plugin}.{field}")  # type: ignore[arg-type]  # parse_level checks types
    except ConfigError as exc:
        raise ConfigError(str(exc), field=field) from None


def optional_level(plugin: str, field: str, value: object) -> int | None:
    """Like :func:`level`, but ``None`` (or ``"none"``) is accepted and means "no such threshold"."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "none"):
        return None
    return level(plugin, field, value)


def exempt_threshold(value: int | None) -> int:
    """The numeric level at or above which events bypass a filter (``None``: none do)."""
    return NO_EXEMPTION if value is None else value


def logger_levels(plugin: str, field: str, value: object) -> dict[str, int]:
    """A table of logger-name prefix to level, e.g. ``{"sqlalchemy": "WARNING"}``."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _fail(plugin, field, f"must be a table of logger name to level, got {value!r}")
    table: dict[str, int] = {}
    for name, wanted in value.items():
        if not isinstance(name, str) or not name:
            raise _fail(plugin, field, f"logger names must be non-empty strings, got {name!r}")
        try:
            table[name] = parse_level(wanted, field=f"{plugin}.{field}[{name!r}]")
        except ConfigError as exc:
            raise ConfigError(str(exc), field=field) from None
    return table


def field_list(plugin: str, field: str, value: object) -> tuple[str, ...]:
    """A list of record field names (a single comma-separated string is accepted too)."""
    if value is None:
        return ()
    items: Sequence[Any]
    if isinstance(value, str):
        items = [part.strip() for part in value.split(",") if part.strip()]
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        raise _fail(plugin, field, f"must be a list of field names, got {value!r}")
    for item in items:
        if not isinstance(item, str) or not item:
            raise _fail(plugin, field, f"must be a list of non-empty field names, got {value!r}")
    return tuple(items)
