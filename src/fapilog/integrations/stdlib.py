"""Route stdlib ``logging`` records (third-party libraries, uvicorn) through the fapilog pipeline.

:func:`capture_stdlib` installs exactly one :class:`FapilogHandler` per target logger, however often it is
called, and by default takes the other handlers off those loggers so every record is written once, by
fapilog. :func:`release_stdlib` puts things back as they were.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

from fapilog._engine import logger as _logger
from fapilog._engine.notices import warn
from fapilog._kit.levels import parse_level

__all__ = ["FapilogHandler", "capture_stdlib", "release_stdlib"]

_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime", "taskName"}
)
_lock = threading.Lock()
_installed: dict[str, tuple[FapilogHandler, list[logging.Handler], int]] = {}


class FapilogHandler(logging.Handler):
    """A stdlib handler that hands each record to fapilog with its ``extra`` fields as event fields."""

    def emit(self, record: logging.LogRecord) -> None:
        if threading.current_thread().name.startswith("fapilog-"):
            # A library used by a sink logged from fapilog's own threads: routing it back in could loop.
            warn(f"stdlib-own-thread:{record.name}", f"[{record.levelname}] {record.name}: {record.getMessage()}",
                 code="FL-LOG-011")
            return
        try:
            message = record.getMessage()
        except Exception as err:  # noqa: BLE001 - a bad %-format must not lose the record
            message = f"{record.msg!r} % {record.args!r} (formatting failed: {type(err).__name__})"
        fields: dict[str, Any] = {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS}
        exc = record.exc_info[1] if record.exc_info else None
        handle = _logger.get_logger(record.name)
        if record.levelno < handle.level:
            return
        _logger._emit(record.levelno, record.name, message, fields, None, exc)


def capture_stdlib(level: int | str = "INFO", loggers: Iterable[str] | None = None, *, exclusive: bool = True) -> None:
    """Send stdlib records at ``level`` and above from ``loggers`` (default: the root logger) to fapilog.

    Idempotent: calling it again updates the level and never adds a second handler. With ``exclusive`` the
    loggers' other handlers are removed (and restored by :func:`release_stdlib`), so nothing prints twice;
    calling it again also removes handlers that were added to those loggers in between, and puts fapilog's
    handler back if ``logging.config.dictConfig()`` took it off (uvicorn does, for every server it creates).
    """
    number = parse_level(level)
    names = list(loggers) if loggers is not None else [""]
    with _lock:
        for name in names:
            target = logging.getLogger(name or None)
            entry = _installed.get(name)
            if entry is not None and entry[0] not in target.handlers:
                # logging.config.dictConfig() took (and closed) our handler: uvicorn applies its log_config for
                # every server it creates. Install afresh, against the configuration that is there now; the
                # handlers taken off under the old one were closed by it and must not come back on release.
                entry = None
            if entry is None:
                handler = FapilogHandler(number)
                removed = [h for h in target.handlers if not isinstance(h, FapilogHandler)] if exclusive else []
                for other in removed:
                    target.removeHandler(other)
                target.addHandler(handler)
                _installed[name] = (handler, removed, target.level)
            else:
                entry[0].setLevel(number)
                if exclusive:
                    # Something re-added handlers since (uvicorn's dictConfig runs on every server start): take
                    # them off too, and remember them so release_stdlib() puts them back.
                    for other in [h for h in target.handlers if not isinstance(h, FapilogHandler)]:
                        target.removeHandler(other)
                        entry[1].append(other)
            target.setLevel(number)


def release_stdlib() -> None:
    """Undo :func:`capture_stdlib`: remove fapilog's handlers and restore the ones it took off."""
    with _lock:
        for name, (handler, removed, old_level) in _installed.items():
            target = logging.getLogger(name or None)
            target.removeHandler(handler)
            for other in removed:
                target.addHandler(other)
            target.setLevel(old_level)
        _installed.clear()
