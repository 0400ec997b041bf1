"""``route_uvicorn_logs()``: uvicorn's own logging through fapilog, with no duplicate lines.

Uvicorn writes two streams through the standard library: ``uvicorn.access`` (one text line per request, which
:class:`~fapilog_fastapi.RequestLoggingMiddleware` replaces with a structured event) and ``uvicorn.error``
(start-up, shutdown, and "Exception in ASGI application" with its traceback). The one-liner

* empties ``uvicorn.access`` and stops it propagating: uvicorn checks ``hasHandlers()`` per connection and then
  does not even format its access lines;
* captures ``uvicorn`` with :func:`fapilog.capture_stdlib` (exclusively, so uvicorn's own stderr handler comes
  off) and stops it propagating, so a record from ``uvicorn.error`` reaches fapilog once, through one handler,
  even when the root logger is captured too;
* drops the ``color_message`` uvicorn attaches to some records (the message again, with terminal colour codes,
  for its own formatter), which would otherwise become a field of every such event.

Call it after uvicorn has configured logging: uvicorn applies its ``log_config`` when the server is created,
which re-adds its handlers. The lifespan helper (:func:`fapilog_fastapi.logging_lifespan`) calls it at start-up,
which is after; calling it again is harmless and takes off anything re-added in between.
"""

from __future__ import annotations

import logging

import fapilog

__all__ = ["UVICORN_LOGGERS", "route_uvicorn_logs"]

UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


class _WithoutColorMessage(logging.Filter):
    """Removes uvicorn's ``color_message`` (the message with ANSI colour codes) from its records."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.__dict__.pop("color_message", None)
        return True


_WITHOUT_COLOR = _WithoutColorMessage()


def route_uvicorn_logs(level: int | str = "INFO") -> None:
    """Silence ``uvicorn.access`` and send uvicorn's other records at ``level`` and above to fapilog, once."""
    access = logging.getLogger("uvicorn.access")
    for handler in list(access.handlers):
        access.removeHandler(handler)
    access.propagate = False
    # Children of "uvicorn" keep no handlers of their own, so each record is handled once, by the parent.
    for child in ("uvicorn.error", "uvicorn.asgi"):
        child_logger = logging.getLogger(child)
        for handler in list(child_logger.handlers):
            child_logger.removeHandler(handler)
        child_logger.propagate = True
        child_logger.setLevel(logging.NOTSET)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.asgi"):
        # A logger's filters see the records logged on it (not those propagated from children): all three.
        logging.getLogger(name).addFilter(_WITHOUT_COLOR)  # once: addFilter skips a filter already there
    fapilog.capture_stdlib(level, loggers=["uvicorn"], exclusive=True)
    logging.getLogger("uvicorn").propagate = False
