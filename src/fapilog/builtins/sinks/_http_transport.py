"""One persistent HTTP client for an HTTP-based sink (``http``, ``loki``): the request and its translation.

A sink builds the body; :class:`HttpTransport` owns everything around it that every HTTP sink needs the same:
the checked URL (kept secret: user info and query may hold keys), extra headers, the ``Authorization`` header
from ``auth``, the request timeout, name resolution on the sink's own thread (see ``_http_resolve``), the one
``httpx.AsyncClient`` opened by ``start()`` and closed by ``stop()``, and the translation of what happened into
the delivery outcomes of :mod:`fapilog.plugins.outcomes`:

* a timeout, a connection error, a host name that does not resolve: retryable (``timeout``, ``ConnectError``,
  ``dns``);
* 2xx: accepted;
* 413: :class:`BatchTooLargeError` (the core sends the batch again in halves);
* 408, 425, 429, 5xx: retryable, honouring ``Retry-After``;
* any other status: permanent, ``http_<status>``.

A sink that knows its backend better (Loki's 400 names the refused entries) looks at the answer before
calling :meth:`HttpTransport.raise_for_status`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fapilog._version import __version__
from fapilog.builtins.sinks._http_config import Secret, auth_header, public_url
from fapilog.builtins.sinks._http_resolve import Resolver
from fapilog.errors import ConfigError
from fapilog.plugins.outcomes import BatchTooLargeError, PermanentSinkError, RetryableSinkError, parse_retry_after

__all__ = ["HttpTransport"]

_RETRYABLE = frozenset({408, 425, 429})


class HttpTransport:
    """The client side of one sink's requests to one URL (see the module docstring).

    ``sink`` names the plugin in messages (``"loki sink 'loki': ..."``), ``extra`` is the pip extra that brings
    httpx, ``name`` the sink's name in ``stats()``.
    """

    def __init__(self, url: str, *, sink: str, name: str, extra: str, headers: Mapping[str, str],
                 auth: Any, timeout: float, code: str) -> None:
        """The sink's validated settings (its model's ``__post_init__`` checked the URL, headers and ``auth``)."""
        self._sink = sink
        self._name = name
        self._extra = extra
        self._url = Secret(url)  # user info and query may hold credentials
        self.url = public_url(url)
        """The URL without user info or query (safe to show)."""
        self.timeout = timeout
        self.headers = dict(headers)
        self._auth: Secret | None = auth_header(auth, code)
        self._client: Any = None
        self._resolver = Resolver(self._url.reveal(), name)

    @property
    def started(self) -> bool:
        return self._client is not None

    def start(self, headers: Mapping[str, str]) -> None:
        """Open the persistent client with ``headers`` (plus the user's) on every request.

        Imports httpx here: the extra is needed only by configurations that use the sink.
        """
        try:
            import httpx
        except ImportError as exc:
            raise ConfigError(f"{self._sink} sink: httpx is not installed; run: pip install 'fapilog[{self._extra}]'",
                              field="type", code="FL-SNK-007") from exc
        self._resolver.start()
        self._client = httpx.AsyncClient(headers={"User-Agent": f"fapilog/{__version__}", **headers, **self.headers},
                                         timeout=self.timeout, follow_redirects=False)

    async def stop(self) -> None:
        client, self._client = self._client, None
        self._resolver.stop()
        if client is not None:
            await client.aclose()

    async def send(self, content: bytes, headers: Mapping[str, str] | None = None, method: str = "POST") -> Any:
        """Send one request and return the ``httpx.Response``; transport failures raise retryable outcomes."""
        import httpx

        if self._client is None:
            raise RetryableSinkError(f"{self._sink} sink: not started", reason="not_started")
        extra = dict(headers or {})
        if self._auth is not None:
            extra["Authorization"] = self._auth.reveal()
        label = f"{self._sink} sink {self._name!r}"
        try:
            url, host, extensions = await self._resolver.target()
            return await self._client.request(method, url, content=content, headers={**extra, **host},
                                              extensions=extensions)
        except httpx.TimeoutException as exc:
            raise RetryableSinkError(f"{label}: no answer from {self.url} within {self.timeout}s",
                                     reason="timeout") from exc
        except httpx.TransportError as exc:
            self._resolver.forget()
            raise RetryableSinkError(f"{label}: {type(exc).__name__} talking to {self.url}",
                                     reason=type(exc).__name__) from exc
        except OSError as exc:  # the name did not resolve
            self._resolver.forget()
            raise RetryableSinkError(f"{label}: cannot resolve the host of {self.url} ({type(exc).__name__})",
                                     reason="dns") from exc

    def raise_for_status(self, response: Any, size: int) -> None:
        """Return on 2xx; else raise the outcome for the status (``size``: the body's bytes, for 413)."""
        status = response.status_code
        if 200 <= status < 300:
            return
        reason = f"http_{status}"
        message = f"{self._sink} sink {self._name!r}: {self.url} answered {status}"
        if status == 413:
            raise BatchTooLargeError(f"{message} (body of {size} bytes too large)", reason=reason)
        if status in _RETRYABLE or status >= 500:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise RetryableSinkError(message, retry_after=retry_after, reason=reason)
        raise PermanentSinkError(message, reason=reason)
