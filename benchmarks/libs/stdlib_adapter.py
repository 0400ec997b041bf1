"""``logging`` from the standard library, with a small hand-written JSON formatter.

``stdlib`` writes in the calling thread (FileHandler). ``stdlib-queue`` is the standard non-blocking setup:
a QueueHandler on the logger and a QueueListener thread feeding the same FileHandler. Its queue is
unbounded, so it never drops and never blocks; a slow sink makes it grow instead.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import queue
import time
from typing import Any

from fixtures import IP, MESSAGE, METHOD, PATH, STATUS, DelaySink
from libs.base import Adapter

_ISO = "%Y-%m-%dT%H:%M:%S"
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: timestamp, level, logger, message and every ``extra`` field."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "timestamp": time.strftime(_ISO, time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRS:
                doc[key] = value
        return json.dumps(doc, default=str)


class DelayHandler(logging.Handler):
    """A handler whose emit is the :class:`DelaySink` (blocks per record)."""

    def __init__(self, sink: DelaySink) -> None:
        super().__init__()
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.hit()


class StdlibAdapter(Adapter):
    """Synchronous stdlib logging: the handler runs in the caller's thread."""

    name = "stdlib"

    def __init__(self) -> None:
        self.log = logging.getLogger("bench")
        self.log.propagate = False
        self.log.setLevel(logging.INFO)
        self.handler: logging.Handler | None = None

    def _install(self, handler: logging.Handler) -> None:
        self.handler = handler
        self.log.addHandler(handler)

    def to_file(self, path: str) -> None:
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(JsonFormatter())
        self._install(handler)

    def to_delay(self, sink: DelaySink) -> None:
        self._install(DelayHandler(sink))

    def emit(self, start: int, stop: int) -> None:
        info = self.log.info
        for i in range(start, stop):
            info(MESSAGE, extra={"user_id": i, "ip": IP, "method": METHOD, "path": PATH, "status": STATUS})

    def flush(self) -> None:
        if self.handler is not None:
            self.handler.flush()

    def drain(self, timeout: float) -> bool:
        if self.handler is not None:
            self.log.removeHandler(self.handler)
            self.handler.close()
            self.handler = None
        return True


class StdlibQueueAdapter(StdlibAdapter):
    """QueueHandler + QueueListener: the caller only enqueues, a listener thread writes."""

    name = "stdlib-queue"

    def __init__(self) -> None:
        super().__init__()
        self.queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.listener: logging.handlers.QueueListener | None = None
        self.target: logging.Handler | None = None

    def _install(self, handler: logging.Handler) -> None:
        self.target = handler
        self.listener = logging.handlers.QueueListener(self.queue, handler)
        self.listener.start()
        self.handler = logging.handlers.QueueHandler(self.queue)
        self.log.addHandler(self.handler)

    def pending(self) -> int:
        return self.queue.qsize()

    def flush(self) -> None:
        # The listener has no flush: wait until it has taken everything, then flush the file.
        while not self.queue.empty():
            time.sleep(0.001)
        if self.target is not None:
            self.target.flush()

    def drain(self, timeout: float) -> bool:
        if self.handler is not None:
            self.log.removeHandler(self.handler)
            self.handler = None
        if self.listener is not None:
            self.listener.stop()  # enqueues a sentinel and joins: everything before it is handled
            self.listener = None
        if self.target is not None:
            self.target.close()
            self.target = None
        return True
