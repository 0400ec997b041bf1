"""Name resolution for the ``http`` sink on a thread of its own, so the exit drain can still connect.

asyncio resolves host names in the default executor, which refuses new work once the interpreter starts
shutting down — exactly when the exit drain sends the last batches (``RuntimeError: can't register atexit
after shutdown``). The sink therefore resolves on a :class:`~fapilog._kit.offload.BlockingWorker` thread it
starts with itself, caches the address for a short while, and sends each request to that address with the
original ``Host`` header and TLS server name (``sni_hostname``), so certificates are still checked against
the host name.
"""

from __future__ import annotations

import ipaddress
import socket
import time
import urllib.parse
from typing import Any

from fapilog.plugins import BlockingWorker

__all__ = ["Resolver"]

_TTL = 30.0
"""Seconds a resolved address is reused: endpoints behind DNS fail over within this."""


class Resolver:
    """The request target for one URL: the URL with the host's address, and the extensions that keep TLS
    checking the name. An IP-literal URL is used as it is."""

    def __init__(self, url: str, name: str) -> None:
        parts = urllib.parse.urlsplit(url)
        self._url = url
        self._parts = parts
        self.host = parts.hostname or ""
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._literal = _is_ip(self.host)
        self._worker = BlockingWorker(f"http-dns:{name}")
        self._addresses: list[str] = []
        self._index = 0
        self._resolved_at = 0.0

    def start(self) -> None:
        if not self._literal:
            self._worker.start()

    def stop(self) -> None:
        self._worker.stop()

    def forget(self) -> None:
        """After a connection error: try the host's next address (``localhost`` may be ``::1`` first while
        the server listens on ``127.0.0.1``), and resolve again once every address has failed."""
        self._index += 1
        if self._index >= len(self._addresses):
            self._addresses, self._index = [], 0

    async def target(self) -> tuple[str, dict[str, str], dict[str, Any]]:
        """The URL to request, extra headers and request extensions."""
        if self._literal:
            return self._url, {}, {}
        now = time.monotonic()
        if not self._addresses or now - self._resolved_at > _TTL:
            infos = await self._worker.run(socket.getaddrinfo, self.host, self._port, 0, socket.SOCK_STREAM)
            self._addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
            self._index, self._resolved_at = 0, now
        chosen = self._addresses[self._index]
        address = f"[{chosen}]" if ":" in chosen else chosen
        netloc = f"{address}:{self._parts.port}" if self._parts.port else address
        if self._parts.username or self._parts.password:
            netloc = self._parts.netloc.rsplit("@", 1)[0] + "@" + netloc
        url = urllib.parse.urlunsplit(self._parts._replace(netloc=netloc))
        host_header = self.host if not self._parts.port else f"{self.host}:{self._parts.port}"
        extensions = {"sni_hostname": self.host} if self._parts.scheme == "https" else {}
        return url, {"Host": host_header}, extensions


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
