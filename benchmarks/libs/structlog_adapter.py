"""structlog configured for speed: cached bound logger, orjson renderer, BytesLogger on the file.

structlog has no queue of its own: the processors and the write run in the caller's thread.
"""

from __future__ import annotations

from typing import IO, Any

import orjson
import structlog

from fixtures import IP, MESSAGE, METHOD, PATH, STATUS, DelaySink
from libs.base import Adapter

_INFO = 20


class DelayLogger:
    """The "logger" at the end of structlog's chain; its ``msg`` is the :class:`DelaySink`."""

    def __init__(self, sink: DelaySink) -> None:
        self.sink = sink

    def msg(self, message: Any) -> None:
        self.sink.hit()

    info = msg


class StructlogAdapter(Adapter):
    """structlog with ``make_filtering_bound_logger(INFO)`` and ``cache_logger_on_first_use``."""

    name = "structlog"

    def __init__(self) -> None:
        self.file: IO[bytes] | None = None
        self.log: Any = None

    def _configure(self, factory: Any) -> None:
        structlog.configure(
            processors=[
                structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                structlog.processors.JSONRenderer(serializer=orjson.dumps),
            ],
            wrapper_class=structlog.make_filtering_bound_logger(_INFO),
            logger_factory=factory,
            cache_logger_on_first_use=True,
        )
        self.log = structlog.get_logger("bench")

    def to_file(self, path: str) -> None:
        self.file = open(path, "wb")  # noqa: SIM115 - closed in drain()
        self._configure(structlog.BytesLoggerFactory(file=self.file))

    def to_delay(self, sink: DelaySink) -> None:
        delay_logger = DelayLogger(sink)
        self._configure(lambda *_args: delay_logger)

    def emit(self, start: int, stop: int) -> None:
        info = self.log.info
        for i in range(start, stop):
            info(MESSAGE, user_id=i, ip=IP, method=METHOD, path=PATH, status=STATUS)

    def flush(self) -> None:
        if self.file is not None:
            self.file.flush()

    def drain(self, timeout: float) -> bool:
        if self.file is not None:
            self.file.close()
            self.file = None
        return True
