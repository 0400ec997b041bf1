"""Settings every HTTP-based sink (``http``, ``loki``) needs care with: secrets (never shown), auth, the URL.

A secret (bearer token, basic password, HMAC key) is written either as the value itself or as
``{"env": "NAME"}``, read from the environment variable ``NAME`` when the sink is created. Either way it is
held in a :class:`Secret`, whose ``repr`` and ``str`` are ``'***'``; error messages name the field, never the
value. ``sink`` is the plugin name the messages start with (``"http sink: auth: ..."``).
"""

from __future__ import annotations

import base64
import os
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

from fapilog.errors import ConfigError

__all__ = ["Secret", "auth_header", "hmac_settings", "public_url", "read_secret"]


class Secret:
    """A secret value that never shows in ``repr``, ``str``, logs, stats or errors."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The value itself, for building the request only."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


def read_secret(value: Any, field: str, sink: str = "http") -> Secret:
    """A secret from ``"text"`` or ``{"env": "NAME"}`` (ConfigError naming ``field``, never the value)."""
    if isinstance(value, Secret):
        return value
    if isinstance(value, str) and value:
        return Secret(value)
    if isinstance(value, Mapping) and set(value) == {"env"} and isinstance(value["env"], str) and value["env"]:
        name = value["env"]
        found = os.environ.get(name)
        if not found:
            raise ConfigError(f"{sink} sink: {field}: the environment variable {name!r} is not set or empty; set it, "
                              "or give the value directly", field=f"{field}.env", code="FL-SNK-003")
        return Secret(found)
    raise ConfigError(f"{sink} sink: {field}: expected a non-empty text or {{'env': 'VARIABLE'}} "
                      f"(got a {type(value).__name__})", field=field, code="FL-SNK-003")


def auth_header(auth: Any, sink: str = "http") -> Secret | None:
    """The ``Authorization`` header value from ``{"bearer": token}`` or ``{"basic": [user, password]}``."""
    if auth is None:
        return None
    if isinstance(auth, Mapping) and set(auth) == {"bearer"}:
        return Secret("Bearer " + read_secret(auth["bearer"], "auth.bearer", sink).reveal())
    if isinstance(auth, Mapping) and set(auth) == {"basic"}:
        pair = auth["basic"]
        if isinstance(pair, Mapping) and set(pair) == {"user", "password"}:
            user, password = pair["user"], pair["password"]
        elif isinstance(pair, Sequence) and not isinstance(pair, str) and len(pair) == 2:
            user, password = pair[0], pair[1]
        else:
            raise ConfigError(f"{sink} sink: auth.basic: expected [user, password] or {{'user': ..., 'password': ...}}",
                              field="auth.basic", code="FL-SNK-003")
        if not isinstance(user, str) or not user or ":" in user:
            raise ConfigError(f"{sink} sink: auth.basic: the user must be a non-empty text without ':'",
                              field="auth.basic", code="FL-SNK-003")
        secret = read_secret(password, "auth.basic.password", sink).reveal()
        token = base64.b64encode(f"{user}:{secret}".encode()).decode("ascii")
        return Secret("Basic " + token)
    raise ConfigError(f"{sink} sink: auth: expected {{'bearer': token}} or {{'basic': [user, password]}}", field="auth",
                      code="FL-SNK-003")


def hmac_settings(value: Any, sink: str = "http") -> tuple[Secret, str] | None:
    """``{"secret": ..., "header": "X-Signature"}`` checked: the key and the header name."""
    if value is None:
        return None
    if not isinstance(value, Mapping) or "secret" not in value or not set(value) <= {"secret", "header"}:
        raise ConfigError(f"{sink} sink: hmac: expected {{'secret': key or {{'env': NAME}}, 'header': 'X-Signature'}}",
                          field="hmac", code="FL-SNK-003")
    header = value.get("header", "X-Signature")
    if not isinstance(header, str) or not header.strip():
        raise ConfigError(f"{sink} sink: hmac.header: expected a header name such as 'X-Signature'",
                          field="hmac.header", code="FL-SNK-003")
    return read_secret(value["secret"], "hmac.secret", sink), header


def public_url(url: str) -> str:
    """``url`` without user info, query or fragment: safe to show in errors and stats (they may hold keys)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def check_url(url: Any, sink: str = "http") -> str:
    """``url`` when it is an http:// or https:// URL with a host (else a ConfigError naming ``url``)."""
    if not isinstance(url, str):
        raise ConfigError(f"{sink} sink: url: expected text such as 'https://logs.example.com/ingest'", field="url",
                          code="FL-SNK-003")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{sink} sink: url: expected an http:// or https:// URL with a host, got "
                          f"{public_url(url)!r}", field="url", code="FL-SNK-003")
    return url
