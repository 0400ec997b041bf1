"""Level numbers and names (the stdlib's numbers, so thresholds mean the same in both worlds)."""

from __future__ import annotations

from fapilog.errors import ConfigError

__all__ = ["CRITICAL", "DEBUG", "ERROR", "INFO", "LEVEL_NAMES", "NOTSET", "WARNING", "parse_level"]

NOTSET = 0
DEBUG = 10
INFO = 20
WARNING = 30
ERROR = 40
CRITICAL = 50

LEVEL_NAMES: dict[int, str] = {
    DEBUG: "DEBUG",
    INFO: "INFO",
    WARNING: "WARNING",
    ERROR: "ERROR",
    CRITICAL: "CRITICAL",
}
_BY_NAME = {name: number for number, name in LEVEL_NAMES.items()}
_BY_NAME.update({"WARN": WARNING, "FATAL": CRITICAL, "NOTSET": NOTSET})


MAX_LEVEL = 100
"""The highest level number accepted: CRITICAL is 50, and custom levels stay well below 100 (stdlib's too)."""


def level_name(level: int) -> str:
    """The canonical name of ``level`` (``"LEVEL25"`` for a number between the named ones)."""
    return LEVEL_NAMES.get(level) or f"LEVEL{level}"


def parse_level(value: object, *, field: str = "level") -> int:
    """Turn ``"info"``, ``"INFO"``, ``20`` or ``"20"`` into 20; anything else is a :class:`ConfigError` that says
    what was given and what is accepted (a float such as ``20.0`` too: levels are whole numbers)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value <= MAX_LEVEL:
            raise _invalid(field, f"a level number must be between 0 and {MAX_LEVEL}, got {value}")
        return value
    if isinstance(value, str):
        text = value.strip().upper()
        if text in _BY_NAME:
            return _BY_NAME[text]
        if text.isdigit():
            return parse_level(int(text), field=field)
        raise _invalid(field, f"unknown level {value!r}")
    if value is None:
        raise _invalid(field, "got None, not a level", "; leave the setting out to keep its default")
    hint = f"; write {int(value)} for that level" if isinstance(value, float) and value.is_integer() else ""
    raise _invalid(field, f"got {value!r}, a {type(value).__name__}, not a level", hint)


def _invalid(field: str, problem: str, hint: str = "") -> ConfigError:
    accepted = ", ".join(sorted(_BY_NAME, key=lambda n: _BY_NAME[n]))
    return ConfigError(f"{field}: {problem}; accepted: {accepted} (any case) or a whole number from 0 to {MAX_LEVEL}"
                       f"{hint}", field=field, code="FL-CFG-007")
