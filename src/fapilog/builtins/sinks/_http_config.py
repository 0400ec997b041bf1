"""Settings every HTTP-based sink (``http``, ``loki``) needs care with: secrets (never shown), auth, the URL.

A secret (bearer token, basic password, HMAC key) is written either as the value itself or as
``{"env": "NAME"}``, read from the environment variable ``NAME`` when the sink is created. Either way it is
held in a :class:`Secret`, whose ``repr`` and ``str`` are ``'***'``; error messages name the field, never the
value. ``code`` is the calling sink's stable error code; the errors come from
:func:`~fapilog.plugins.constraints.setting_error`, so the validation engine puts the sink's name in front.
"""

from __future__ import annotations

import base64
import os
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

from fapilog.plugins.constraints import setting_error

__all__ = [
    "Secret", "auth_header", "check_headers", "check_url", "hmac_settings", "public_url", "read_secret", "shown_url",
]


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


def read_secret(value: Any, field: str, code: str = "FL-SNK-003") -> Secret:
    """A secret from ``"text"`` or ``{"env": "NAME"}`` (ConfigError naming ``field``, never the value)."""
    if isinstance(value, Secret):
        return value
    if isinstance(value, str) and value:
        return Secret(value)
    if isinstance(value, Mapping) and set(value) == {"env"} and isinstance(value["env"], str) and value["env"]:
        name = value["env"]
        found = os.environ.get(name)
        if not found:
            raise setting_error(f"{field}.env", f"the environment variable {name!r} is not set or empty; set it, "
                                "or give the value directly", code=code)
        return Secret(found)
    raise setting_error(field, f"expected a non-empty text or {{'env': 'VARIABLE'}} (got a {type(value).__name__})",
                        code=code)


def auth_header(auth: Any, code: str = "FL-SNK-003") -> Secret | None:
    """The ``Authorization`` header value from ``{"bearer": token}`` or ``{"basic": [user, password]}``."""
    if auth is None:
        return None
    if isinstance(auth, Mapping) and set(auth) == {"bearer"}:
        return Secret("Bearer " + read_secret(auth["bearer"], "auth.bearer", code).reveal())
    if isinstance(auth, Mapping) and set(auth) == {"basic"}:
        pair = auth["basic"]
        if isinstance(pair, Mapping) and set(pair) == {"user", "password"}:
            user, password = pair["user"], pair["password"]
        elif isinstance(pair, Sequence) and not isinstance(pair, str) and len(pair) == 2:
            user, password = pair[0], pair[1]
        else:
            raise setting_error("auth.basic", "expected [user, password] or {'user': ..., 'password': ...}", code=code)
        if not isinstance(user, str) or not user or ":" in user:
            raise setting_error("auth.basic", "the user must be a non-empty text without ':'", code=code)
        secret = read_secret(password, "auth.basic.password", code).reveal()
        token = base64.b64encode(f"{user}:{secret}".encode()).decode("ascii")
        return Secret("Basic " + token)
    raise setting_error("auth", "expected {'bearer': token} or {'basic': [user, password]}", code=code)


def hmac_settings(value: Any, code: str = "FL-SNK-003") -> tuple[Secret, str] | None:
    """``{"secret": ..., "header": "X-Signature"}`` checked: the key and the header name."""
    if value is None:
        return None
    if not isinstance(value, Mapping) or "secret" not in value or not set(value) <= {"secret", "header"}:
        raise setting_error("hmac", "expected {'secret': key or {'env': NAME}, 'header': 'X-Signature'}", code=code)
    header = value.get("header", "X-Signature")
    if not isinstance(header, str) or not header.strip():
        raise setting_error("hmac.header", "expected a header name such as 'X-Signature'", code=code)
    return read_secret(value["secret"], "hmac.secret", code), header


def check_headers(headers: Mapping[str, str], code: str = "FL-SNK-003") -> None:
    """Refuse a header name or value that would break the request: a line break (which would smuggle another
    header into it) or an empty or spaced name."""
    for key, value in headers.items():
        if not key.strip() or any(ch in key for ch in " \t\r\n:"):
            raise setting_error(f"headers.{key}", "expected a header name without spaces, ':' or line breaks",
                                code=code)
        if "\r" in value or "\n" in value:
            raise setting_error(f"headers.{key}", "a header value may not contain a line break", code=code)


def public_url(url: str) -> str:
    """``url`` without user info, query or fragment: safe to show in errors and stats (they may hold keys)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def shown_url(url: str) -> str:
    """``url`` as the user wrote it, safe to show: without user info, query or fragment. Text that is not a URL
    with a host is shown as written up to any ``?``, with anything before an ``@`` masked."""
    if urllib.parse.urlsplit(url).netloc:
        return public_url(url)
    text = url.split("?", 1)[0].split("#", 1)[0]
    return "***@" + text.rsplit("@", 1)[1] if "@" in text else text


def check_url(url: str, field: str = "url", code: str = "FL-SNK-003") -> None:
    """Refuse ``url`` unless it is an http:// or https:// URL with a host (a ConfigError naming ``field``)."""
    parts = urllib.parse.urlsplit(url)
    try:
        host = parts.hostname
    except ValueError:  # a malformed bracketed host
        host = None
    if parts.scheme not in ("http", "https") or not host:
        raise setting_error(field, f"expected an http:// or https:// URL with a host, got {shown_url(url)!r}",
                            code=code)
