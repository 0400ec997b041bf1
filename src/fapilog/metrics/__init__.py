"""Prometheus metrics for fapilog itself: the figures of ``fapilog.stats()``, read at scrape time.

Needs the extra: ``pip install "fapilog[metrics]"``. Three ways to expose them:

>>> import fapilog.metrics
>>> fapilog.metrics.register()                      # into prometheus_client's default registry
>>> server = fapilog.metrics.start_http_server(9464)  # its own endpoint on 127.0.0.1:9464/metrics
>>> app.mount("/metrics", fapilog.metrics.asgi_app())  # mounted in an ASGI application

or from the settings: ``fapilog.configure(metrics={"enabled": True, "port": 9464})``. Every metric is
described in ``docs/metrics.md``. Scraping costs one ``stats()`` call; logging costs nothing extra.
"""

from __future__ import annotations

import typing as _typing

from fapilog._lazy import lazy_attributes as _lazy_attributes
from fapilog.metrics._exposure import (
    MetricsServer,
    asgi_app,
    current_server,
    register,
    start_http_server,
    unregister,
)

if _typing.TYPE_CHECKING:
    from fapilog.metrics._collector import FapilogCollector, StatsProvider

__all__ = [
    "FapilogCollector",
    "MetricsServer",
    "StatsProvider",
    "asgi_app",
    "current_server",
    "register",
    "start_http_server",
    "unregister",
]

# The collector imports prometheus_client: without the extra, `import fapilog.metrics` still works and the
# functions above raise a ConfigError that says what to install.
__getattr__, __dir__ = _lazy_attributes(
    __name__, {"FapilogCollector": "fapilog.metrics._collector", "StatsProvider": "fapilog.metrics._collector"}
)
