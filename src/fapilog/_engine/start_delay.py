"""When a pipeline started by a log call builds itself, and who builds it.

Its worker thread waits :data:`START_DELAY` first (a flush, a full queue, plugin control or ``configure()`` end
the wait at once), so a short script usually ends before anything was built: its shutdown then takes the build
over and delivers the queued events itself, with no event loop (:mod:`fapilog._engine.direct`). Exactly one of
the two builds: the first to claim it. A worker whose delay ends while a shutdown holds the claim waits for the
shutdown's outcome, and builds only if the shutdown could not deliver.
"""

from __future__ import annotations

import threading

__all__ = ["START_DELAY", "BuildClaim"]

START_DELAY = 0.025
"""Seconds the worker of a pipeline a log call started waits before building it. A service's first events wait
that long; a process that ends sooner never imports the pipeline's machinery (asyncio, the sink runners)."""


class BuildClaim:
    """Who builds one lazily started pipeline: ``open`` until its worker or a shutdown claims it."""

    __slots__ = ("_go", "_lock", "_owner", "_settled")

    def __init__(self) -> None:
        self._go = threading.Event()
        self._lock = threading.Lock()
        self._owner = "open"
        """``open``, ``worker`` (the worker thread builds) or ``shutdown`` (a shutdown delivers without one)."""
        self._settled = threading.Event()
        """Set once a shutdown that claimed the build decided whether it delivered."""

    def now(self) -> None:
        """End the delay: the worker builds at once (unless a shutdown holds the claim)."""
        self._go.set()

    def worker_takes(self) -> bool:
        """On the worker thread: wait out the delay, then whether this worker builds the pipeline (False when a
        shutdown delivered everything without it)."""
        self._go.wait(START_DELAY)
        with self._lock:
            if self._owner == "open":
                self._owner = "worker"
                return True
        self._settled.wait()
        return self._owner == "worker"

    def shutdown_takes(self) -> bool:
        """A shutdown claims the build, if the worker has not; it must then :meth:`settle` the claim."""
        with self._lock:
            if self._owner != "open":
                return False
            self._owner = "shutdown"
            return True

    def settle(self, *, delivered: bool) -> None:
        """The shutdown that claimed the build delivered everything, or (``delivered=False``) leaves it to the
        worker, which builds now."""
        with self._lock:
            self._owner = "shutdown" if delivered else "worker"
        self._settled.set()
        self._go.set()
