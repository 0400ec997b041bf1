"""The middleware's options, validated once at construction so a typo fails at start-up, naming the option.

Everything the per-request path needs is precomputed here: the header name as bytes, the skip set and prefix
tuple, the level of each status class, the redaction set.
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Callable, Iterable, Mapping

from fapilog import CRITICAL, DEBUG, ERROR, INFO, WARNING, ConfigError

from fapilog_fastapi.errors import config_error

__all__ = ["DEFAULT_LEVELS", "DEFAULT_REDACTED_HEADERS", "AccessLogOptions"]

_LEVEL_NAMES = {"DEBUG": DEBUG, "INFO": INFO, "WARNING": WARNING, "WARN": WARNING, "ERROR": ERROR, "CRITICAL": CRITICAL}
_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")

DEFAULT_LEVELS: Mapping[str, str] = {"1xx": "INFO", "2xx": "INFO", "3xx": "INFO", "4xx": "WARNING", "5xx": "ERROR"}
"""The access event's level by status class: client errors are warnings, server errors are errors."""

DEFAULT_REDACTED_HEADERS = frozenset(
    {
        "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token", "x-csrf-token",
        # Identity-aware proxies put the signed-in user's token (a JWT) in a header of their own.
        "cf-access-jwt-assertion", "x-amzn-oidc-data", "x-amzn-oidc-accesstoken", "x-forwarded-access-token",
        "x-auth-request-access-token",
    }
)
"""Request headers whose value is replaced by ``"***"`` when headers are logged."""

REDACTED = "***"

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
"""An HTTP field name (RFC 9110 token). A server refuses to send any other, failing every response."""


def _is_header_name(value: object) -> bool:
    return isinstance(value, str) and _TOKEN.fullmatch(value) is not None


def _error(option: str, problem: str) -> ConfigError:
    return config_error(f"RequestLoggingMiddleware {option}: {problem}", field=option, code="FL-FAS-002")


def _level(option: str, value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.strip().upper() in _LEVEL_NAMES:
        return _LEVEL_NAMES[value.strip().upper()]
    raise _error(option, f"expected a level name ({', '.join(_LEVEL_NAMES)}) or number, got {value!r}")


@dataclasses.dataclass(frozen=True)
class AccessLogOptions:
    """What the middleware logs and how; see :class:`fapilog_fastapi.RequestLoggingMiddleware` for each option."""

    header_name: str = "X-Request-ID"
    logger_name: str = "fapilog_fastapi.access"
    access_log: bool = True
    skip_paths: Iterable[str] = ()
    sample_rate: float = 1.0
    levels: Mapping[str, str | int] | None = None
    log_headers: bool = False
    redact_headers: Iterable[str] = DEFAULT_REDACTED_HEADERS
    bind_context: bool = True
    rng: Callable[[], float] = random.random

    header_bytes: bytes = dataclasses.field(init=False)
    skip_exact: frozenset[str] = dataclasses.field(init=False)
    skip_prefixes: tuple[str, ...] = dataclasses.field(init=False)
    level_by_class: tuple[int, ...] = dataclasses.field(init=False)
    redacted: frozenset[str] = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        name = self.header_name
        if not _is_header_name(name):
            raise _error("header_name", f"expected an HTTP header name such as 'X-Request-ID', got {name!r}")
        if not isinstance(self.logger_name, str) or not self.logger_name:
            raise _error("logger_name", f"expected a logger name, got {self.logger_name!r}")
        rate = self.sample_rate
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= rate <= 1.0:
            raise _error("sample_rate", f"expected a number from 0.0 to 1.0 (share of successful requests logged), "
                                        f"got {rate!r}")
        paths = [self.skip_paths] if isinstance(self.skip_paths, str) else list(self.skip_paths)
        if not all(isinstance(p, str) and p.startswith("/") for p in paths):
            raise _error(
                "skip_paths", f"expected paths starting with '/' (a trailing '*' matches a prefix), got {paths!r}"
            )
        levels: dict[str, str | int] = dict(DEFAULT_LEVELS)
        for key, value in (self.levels or {}).items():
            if key not in _CLASSES:
                raise _error("levels", f"unknown status class {key!r}; use {', '.join(_CLASSES)}")
            levels[key] = value
        headers = [self.redact_headers] if isinstance(self.redact_headers, str) else list(self.redact_headers)
        bad = [h for h in headers if not _is_header_name(h)]
        if bad:
            # A name with a stray space or quote would match no header: the value it was meant to hide is logged.
            raise _error("redact_headers", f"expected header names such as 'authorization', got {bad!r}")
        set_ = object.__setattr__
        set_(self, "header_bytes", name.lower().encode("ascii"))
        set_(self, "skip_exact", frozenset(p for p in paths if not p.endswith("*")))
        set_(self, "skip_prefixes", tuple(p[:-1] for p in paths if p.endswith("*")))
        set_(self, "level_by_class", tuple(_level(f"levels.{c}", levels[c]) for c in _CLASSES))
        set_(self, "redacted", frozenset(h.lower() for h in headers))

    def skips(self, path: str) -> bool:
        """Whether requests to ``path`` get no access event (health checks, metrics scrapes)."""
        return path in self.skip_exact or (bool(self.skip_prefixes) and path.startswith(self.skip_prefixes))

    def level_for(self, status: int) -> int:
        """The access event's level for a response status."""
        index = min(max(status // 100, 1), 5) - 1
        return self.level_by_class[index]

    def sampled_out(self, status: int) -> bool:
        """Whether this successful request's access event is dropped by sampling (errors are always logged)."""
        return status < 400 and self.sample_rate < 1.0 and self.rng() >= self.sample_rate

    def headers(self, raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
        """The request headers as text, with the sensitive ones masked."""
        out: dict[str, str] = {}
        for key, value in raw:
            name = key.decode("latin-1").lower()
            out[name] = REDACTED if name in self.redacted else value.decode("latin-1")
        return out
