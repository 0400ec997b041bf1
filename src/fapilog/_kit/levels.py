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


def parse_level(value: int | str, *, field: str = "level") -> int:
    """Turn ``"info"``, ``"INFO"``, ``20`` or ``"20"`` into 20; anything else is a :class:`ConfigError`."""
    if isinstance(value, bool):
        raise ConfigError(f"{field}: expected a level name or number, got {value!r}", field=field, code="FL-CFG-007")
    if isinstance(value, int):
        if not 0 <= value <= MAX_LEVEL:
            raise ConfigError(f"{field}: a level number must be between 0 and {MAX_LEVEL}, got {value}", field=field,
                              code="FL-CFG-007")
        return value
    if isinstance(value, str):
        text = value.strip().upper()
        if text in _BY_NAME:
            return _BY_NAME[text]
        if text.isdigit():
            return parse_level(int(text), field=field)
    accepted = ", ".join(sorted(_BY_NAME, key=lambda n: _BY_NAME[n]))
    raise ConfigError(f"{field}: unknown level {value!r}; accepted: {accepted} or a number", field=field,
                      code="FL-CFG-007")
