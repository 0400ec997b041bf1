"""picologging (C implementation of the logging API): FileHandler with a text formatter.

picologging records carry no ``extra`` fields, so the five fields travel as lazy ``%`` arguments of the
message; its output is a text line, not JSON. It is the "fast C logger" reference for the ratios.
"""

from __future__ import annotations

from typing import Any

import picologging

from fixtures import IP, METHOD, PATH, STATUS, DelaySink
from libs.base import Adapter

_TEMPLATE = "user login user_id=%d ip=%s method=%s path=%s status=%d"


def _delay_handler(sink: DelaySink) -> Any:
    class DelayHandler(picologging.Handler):  # type: ignore[misc]
        def emit(self, record: Any) -> None:
            sink.hit()

    return DelayHandler()


class PicologgingAdapter(Adapter):
    """Synchronous picologging: the handler formats and writes in the caller's thread."""

    name = "picologging"

    def __init__(self) -> None:
        self.log = picologging.getLogger("bench")
        self.log.setLevel(picologging.INFO)
        self.log.propagate = False
        self.handler: Any = None

    def _install(self, handler: Any) -> None:
        self.handler = handler
        self.log.addHandler(handler)

    def to_file(self, path: str) -> None:
        handler = picologging.FileHandler(path)
        handler.setFormatter(picologging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        self._install(handler)

    def to_delay(self, sink: DelaySink) -> None:
        self._install(_delay_handler(sink))

    def emit(self, start: int, stop: int) -> None:
        info = self.log.info
        for i in range(start, stop):
            info(_TEMPLATE, i, IP, METHOD, PATH, STATUS)

    def flush(self) -> None:
        if self.handler is not None:
            self.handler.flush()

    def drain(self, timeout: float) -> bool:
        if self.handler is not None:
            self.log.removeHandler(self.handler)
            self.handler.close()
            self.handler = None
        return True
