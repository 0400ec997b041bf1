"""Where the collector is exposed: a prometheus_client registry, an HTTP endpoint, an ASGI application, and
the endpoint the settings ask for (``metrics={"enabled": True, "port": 9464}``).

prometheus_client is imported only here and only when one of these is called, so ``import fapilog`` (and even
``import fapilog.metrics``) never pays for it; without it installed each call raises a ConfigError saying
what to install.
"""

from __future__ import annotations

import errno
import os
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fapilog.errors import ConfigError

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from prometheus_client.registry import CollectorRegistry

    from fapilog.metrics._collector import FapilogCollector
    from fapilog.settings import MetricsSettings

__all__ = [
    "MetricsServer",
    "apply_settings",
    "asgi_app",
    "current_server",
    "register",
    "require_prometheus",
    "start_http_server",
    "unregister",
]

INSTALL = 'pip install "fapilog[metrics]"'

_lock = threading.RLock()
_collectors: dict[int, tuple[CollectorRegistry, FapilogCollector]] = {}
"""One collector per registry it was registered into (by identity), so ``register()`` is idempotent."""
_from_settings: tuple[tuple[str, int], MetricsServer] | None = None
"""The endpoint started from the settings, with the (addr, port) it was asked for."""


def require_prometheus(field: str = "metrics") -> None:
    """Raise ConfigError naming ``field`` and the install command when prometheus_client is missing."""
    try:
        import prometheus_client  # noqa: F401 - only checking that it imports
    except ImportError as exc:
        raise ConfigError(
            f"{field}: Prometheus metrics need the prometheus-client package, which is not installed; "
            f"install it with: {INSTALL}",
            field=field, code="FL-OBS-001",
        ) from exc


def _target(registry: CollectorRegistry | None) -> CollectorRegistry:
    from prometheus_client import REGISTRY

    return REGISTRY if registry is None else registry


def register(registry: CollectorRegistry | None = None) -> FapilogCollector:
    """Add fapilog's collector to ``registry`` (prometheus_client's default one when omitted).

    Registering into the same registry again returns the collector already there.
    """
    require_prometheus()
    from fapilog.metrics._collector import FapilogCollector

    target = _target(registry)
    with _lock:
        known = _collectors.get(id(target))
        if known is not None and known[0] is target:
            return known[1]
        collector = FapilogCollector()
        target.register(collector)
        _collectors[id(target)] = (target, collector)
        return collector


def unregister(registry: CollectorRegistry | None = None) -> None:
    """Remove fapilog's collector from ``registry`` (no-op when it is not there)."""
    require_prometheus()
    target = _target(registry)
    with _lock:
        known = _collectors.pop(id(target), None)
    if known is not None and known[0] is target:
        target.unregister(known[1])


class MetricsServer:
    """A running metrics endpoint: where it listens, and :meth:`close` to stop it."""

    def __init__(self, server: WSGIServer, thread: threading.Thread, addr: str) -> None:
        self._server = server
        self._thread = thread
        self.addr = addr

    @property
    def port(self) -> int:
        """The port it listens on (the one the system chose when asked for port 0)."""
        return int(self._server.server_port)

    @property
    def url(self) -> str:
        """``http://addr:port/metrics`` (brackets around an IPv6 address)."""
        host = f"[{self.addr}]" if ":" in self.addr else self.addr
        return f"http://{host}:{self.port}/metrics"

    def _drop_inherited_socket(self) -> None:
        """In a forked child: close this process's copy of the parent's listening socket (the parent's stays)."""
        self._server.server_close()

    def close(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5.0)

    def __repr__(self) -> str:
        return f"MetricsServer({self.url!r})"


def start_http_server(
    port: int, addr: str = "127.0.0.1", *, registry: CollectorRegistry | None = None
) -> MetricsServer:
    """Serve ``registry`` (the default one, with fapilog's collector registered) at ``http://addr:port/metrics``
    from a daemon thread. Loopback by default: pass ``addr="0.0.0.0"`` to let other hosts scrape.

    >>> server = fapilog.metrics.start_http_server(9464)
    >>> server.url
    'http://127.0.0.1:9464/metrics'
    """
    require_prometheus()
    from prometheus_client import exposition

    target = _target(registry)
    register(target)
    server, thread = exposition.start_http_server(port, addr, registry=target)
    return MetricsServer(server, thread, addr)


def asgi_app(registry: CollectorRegistry | None = None) -> Callable[..., Any]:
    """An ASGI application serving ``registry`` (the default one, with fapilog's collector registered).

    >>> app.mount("/metrics", fapilog.metrics.asgi_app())   # FastAPI / Starlette
    """
    require_prometheus()
    from prometheus_client import make_asgi_app

    target = _target(registry)
    register(target)
    app: Callable[..., Any] = make_asgi_app(target)
    return app


def current_server() -> MetricsServer | None:
    """The endpoint started from the settings (``metrics.enabled``), if one is running."""
    with _lock:
        return _from_settings[1] if _from_settings is not None else None


def apply_settings(settings: MetricsSettings) -> None:
    """Start, keep, move or stop the settings' endpoint; raises ConfigError naming the field at fault.

    The endpoint serves ``fapilog.stats()`` of whichever pipeline is current, so it outlives reconfiguration
    and is only restarted when its address or port changes.
    """
    global _from_settings
    with _lock:
        current = _from_settings
        wanted = (settings.addr, settings.port) if settings.enabled else None
        if current is not None and wanted is not None and _same_endpoint(current, wanted):
            return
        if wanted is None:
            _from_settings = None
            if current is not None:
                current[1].close()
            return
        require_prometheus("metrics.enabled")
        try:
            server = _move(current, settings)
        except OSError as exc:
            raise _listen_error(settings, exc) from exc
        _from_settings = (wanted, server)


def _move(current: tuple[tuple[str, int], MetricsServer] | None, settings: MetricsSettings) -> MetricsServer:
    """Open the endpoint ``settings`` ask for, then close ``current``; on failure ``current`` keeps serving.

    A ``configure()`` refused for a taken port keeps the previous settings, so it must keep their endpoint too.
    Only when the old endpoint holds the very port asked for (another address, same number) is it closed
    first, and it is reopened where it was if the new one still cannot start.
    """
    global _from_settings
    try:
        server = start_http_server(settings.port, settings.addr)
    except OSError:
        if current is None or settings.port == 0 or current[1].port != settings.port:
            raise
        old = current[1]
        _from_settings = None
        old.close()
        try:
            server = start_http_server(settings.port, settings.addr)
        except OSError:
            _reopen(current[0], old)
            raise
        return server
    if current is not None:
        _from_settings = None
        current[1].close()
    return server


def _reopen(asked: tuple[str, int], old: MetricsServer) -> None:
    """Serve again where ``old`` served (the port it just released), or say on stderr that metrics are off."""
    global _from_settings
    try:
        _from_settings = (asked, start_http_server(old.port, old.addr))
    except OSError as exc:
        from fapilog._engine.notices import warn

        warn("metrics-endpoint-lost", f"the metrics endpoint {old.url} could not be reopened after a failed move "
             f"({exc.strerror or exc}); configure metrics again to serve them", code="FL-OBS-002", force=True)


def _listen_error(settings: MetricsSettings, exc: OSError) -> ConfigError:
    if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
        return ConfigError(f"metrics.addr: cannot listen on {settings.addr!r} ({exc.strerror}); use an IP "
                           "address of this host, e.g. 127.0.0.1", field="metrics.addr", code="FL-OBS-002")
    return ConfigError(f"metrics.port: cannot serve metrics on {settings.addr}:{settings.port} "
                       f"({exc.strerror or exc}); choose a free port (0 picks one)",
                       field="metrics.port", code="FL-OBS-002")


def _after_fork_in_child() -> None:
    """Forget the parent's endpoint in a forked child, so the child serves its own figures or says why not.

    The thread serving the parent's endpoint does not exist in the child, yet the socket is shared: the child
    would report it as its endpoint (``current_server()``, and a reconfigure keeping it) while a scrape of it
    answers with the parent's numbers. The child's next ``configure()`` or lazy start then opens an endpoint
    of its own: port 0 picks a new one, and a fixed port the parent holds is a ConfigError on ``metrics.port``.
    """
    global _lock, _from_settings
    _lock = threading.RLock()  # another thread may have held it at the fork
    inherited, _from_settings = _from_settings, None
    if inherited is not None:
        inherited[1]._drop_inherited_socket()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _same_endpoint(current: tuple[tuple[str, int], MetricsServer], wanted: tuple[str, int]) -> bool:
    (addr, port), server = current
    return addr == wanted[0] and (port == wanted[1] or server.port == wanted[1])
