"""loguru: ``serialize=True`` file sink for the file workloads; ``enqueue=True`` for the queued ones.

With ``enqueue=True`` loguru pickles each message onto a multiprocessing SimpleQueue (a pipe) read by a
worker thread; the pipe's buffer is its only bound, so a slow sink ends up blocking the caller.
"""

from __future__ import annotations

from loguru import logger

from fixtures import IP, MESSAGE, METHOD, PATH, STATUS, DelaySink
from libs.base import Adapter


class LoguruAdapter(Adapter):
    """loguru's global logger with one handler (the default stderr handler removed)."""

    name = "loguru"

    def __init__(self) -> None:
        logger.remove()
        self.handler_id: int | None = None

    def to_file(self, path: str) -> None:
        self.handler_id = logger.add(path, level="INFO", serialize=True, enqueue=False)

    def to_delay(self, sink: DelaySink) -> None:
        self.handler_id = logger.add(sink.hit, level="INFO", serialize=True, enqueue=True)

    def emit(self, start: int, stop: int) -> None:
        info = logger.info
        for i in range(start, stop):
            info(MESSAGE, user_id=i, ip=IP, method=METHOD, path=PATH, status=STATUS)

    def flush(self) -> None:
        logger.complete()

    def drain(self, timeout: float) -> bool:
        logger.complete()  # waits for enqueued messages
        if self.handler_id is not None:
            logger.remove(self.handler_id)
            self.handler_id = None
        return True
