"""fapilog's own voice: rate-limited lines on stderr about drops, plugin errors and undelivered events.

The logger cannot log its own trouble through itself (that could loop or be lost the same way), so it writes
one short line to ``sys.stderr`` per kind of trouble at most every ``interval`` seconds, saying how many
similar lines were held back. Only the worker and the exit path call this; the log call never does I/O.

A line often quotes a plugin's exception or a backend's answer, which may hold a URL with its password
(``https://admin:hunter2@host``): the password is masked as log events' is (``admin:***@``), before the line
is written.
"""

from __future__ import annotations

import sys
import threading
import time

from fapilog._kit.url_credentials import strip_credentials

__all__ = ["Diagnostics", "warn"]


class Diagnostics:
    """Per-key rate limiter for stderr warnings."""

    def __init__(self, interval: float = 10.0) -> None:
        self.interval = interval
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    def warn(self, key: str, message: str, *, code: str, force: bool = False) -> bool:
        """Write ``message`` unless a line with the same ``key`` went out less than ``interval`` ago.

        ``code`` is the line's stable code (:data:`fapilog.errors.ERROR_CODES`), printed after the message so a
        reader can look it up in the troubleshooting page.
        """
        now = time.monotonic()
        with self._lock:
            last = self._last.get(key)
            if not force and last is not None and now - last < self.interval:
                self._held[key] = self._held.get(key, 0) + 1
                return False
            held = self._held.pop(key, 0)
            self._last[key] = now
        suffix = f" ({held} similar held back)" if held else ""
        message = strip_credentials(message)  # a no-op, in C, for a line without "://" and "@"
        try:
            sys.stderr.write(f"fapilog: {message} [{code}]{suffix}\n")
            sys.stderr.flush()
        except (OSError, ValueError, AttributeError):
            return False  # stderr closed or replaced by None during shutdown: nowhere left to report
        return True


_default = Diagnostics()
warn = _default.warn
