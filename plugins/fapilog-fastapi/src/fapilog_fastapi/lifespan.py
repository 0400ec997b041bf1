"""``logging_lifespan()``: fapilog configured when the application starts and drained when it stops.

    app = FastAPI(lifespan=logging_lifespan(sinks=["stdout"], enrichers=["fastapi"]))

At start-up it applies the settings (on a thread: ``configure()`` starts the worker and waits for the plugins),
and routes uvicorn's logs through fapilog (:func:`~fapilog_fastapi.route_uvicorn_logs`). At shutdown it
flushes and stops every plugin with :func:`fapilog.ashutdown`, within ``shutdown_timeout``, so a deploy or
scale-down loses nothing that was logged. An application's own lifespan runs inside it (``inner``), so its
start-up and shutdown are logged too.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import fapilog

from fapilog_fastapi.errors import config_error
from fapilog_fastapi.server_logs import route_uvicorn_logs

__all__ = ["logging_lifespan"]

Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]


def logging_lifespan(
    settings: fapilog.LoggingSettings | None = None,
    *,
    inner: Lifespan | None = None,
    uvicorn_logs: bool = True,
    uvicorn_level: int | str = "INFO",
    shutdown_timeout: float = 5.0,
    **options: Any,
) -> Lifespan:
    """A FastAPI ``lifespan`` that configures fapilog with ``settings``/``options`` and shuts it down at exit.

    ``inner`` is the application's own lifespan, entered after logging is configured and left before it is
    shut down. With ``uvicorn_logs`` uvicorn's records go through fapilog at ``uvicorn_level``. A bad setting
    raises :class:`fapilog.ConfigError` at start-up, so the server refuses to start rather than log nowhere.
    A ``shutdown_timeout`` that is not a positive number raises it here: with ``0``, ``-1`` or ``nan`` every
    shutdown would give up at once and drop whatever was still queued.
    """
    timeout = shutdown_timeout
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not math.isfinite(timeout) or timeout <= 0:
        raise config_error(f"logging_lifespan shutdown_timeout: expected a positive number of seconds (keep it under "
                           f"the server's graceful-shutdown timeout), got {timeout!r}",
                           field="shutdown_timeout", code="FL-FAS-004")

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[Any]:
        await asyncio.to_thread(fapilog.configure, settings, **options)
        if uvicorn_logs:
            route_uvicorn_logs(uvicorn_level)
        try:
            if inner is None:
                yield None
            else:
                async with inner(app) as state:
                    yield state
        finally:
            report = await fapilog.ashutdown(shutdown_timeout)
            if not report:
                # The application is going away: stderr is the one place left to say what was not delivered.
                sys.stderr.write(
                    f"fapilog_fastapi: shutdown left {report.undelivered} event(s) undelivered "
                    f"({dict(report.details)}); raise shutdown_timeout or check the sinks' health [FL-FAS-003]\n"
                )

    return lifespan
