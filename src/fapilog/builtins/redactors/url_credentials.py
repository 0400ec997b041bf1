"""``url_credentials``: removes ``user:password@`` from URLs inside any string of a record.

Any scheme is recognised (``https``, ``postgresql+psycopg``, ``mongodb+srv``, ``rediss``, ``amqps``, ``ftp``,
``jdbc:mysql``, ...), wherever the URL sits in the string::

    >>> strip = UrlCredentialsRedactor()
    >>> asyncio.run(strip.redact({"message": "connecting to postgres://app:s3cret@db:5432/orders"}))
    {'message': 'connecting to postgres://***@db:5432/orders'}

With ``keep_user=True`` the user name stays (``postgres://app:***@db:5432/orders``); with ``mask=""`` the
credentials are removed without a trace (``postgres://db:5432/orders``). A password may contain ``@`` (the
last ``@`` before the host ends the credentials); one containing an unencoded ``/``, ``?`` or ``#`` is not a
valid URL and is cut there, so percent-encode those.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from fapilog._version import __version__
from fapilog.builtins.redactors._base import Depth, Items, RedactorBase
from fapilog.plugins.constraints import settings_from
from fapilog.plugins.metadata import PluginMetadata

__all__ = ["CredentialStripper", "UrlCredentialsRedactor", "UrlCredentialsSettings"]

NAME = "url_credentials"

# The scheme starts only where a run of scheme characters starts (linear scan); the user information runs to
# the last "@" before the path, query, fragment, whitespace or a double quote ends the authority. An apostrophe
# does not end it: it is legal in a password (an RFC 3986 sub-delimiter), and a URL quoted with apostrophes
# still ends at its path or at whitespace; at worst a little text after such a URL is masked with it.
_URL_SOURCE = r"""(?<![A-Za-z0-9+.-])(?P<scheme>[A-Za-z][A-Za-z0-9+.-]{0,40}://)(?P<userinfo>[^\s/?#"<>`]*)@"""
_url: re.Pattern[str] | None = None
"""Compiled on the first string that may hold a URL: most processes never log one, and compiling costs
start-up about 0.4 ms (two threads racing here compile the same pattern twice, harmlessly)."""


def _url_pattern() -> re.Pattern[str]:
    global _url
    if _url is None:
        _url = re.compile(_URL_SOURCE)
    return _url


class CredentialStripper:
    """The text rule: rewrites ``scheme://user:password@`` to ``scheme://<mask>@`` (or keeps the user).

    With ``keep_user`` a user name without a password is left alone, unless ``bare_user_is_secret``: then
    ``https://<token>@host`` (a token passed as the user name, as GitHub and others accept) is masked whole
    while ``postgres://app:<password>@db`` keeps ``app``.
    """

    __slots__ = ("_bare_user_is_secret", "_keep_user", "_mask")

    gate = ("://", "@")
    """A string without both cannot hold URL credentials: the walk skips it without calling the rule."""

    def __init__(self, *, keep_user: bool, mask: str, bare_user_is_secret: bool = False) -> None:
        self._keep_user = keep_user
        self._mask = mask
        self._bare_user_is_secret = bare_user_is_secret

    def _strip(self, match: re.Match[str]) -> str:
        scheme, userinfo = match.group("scheme", "userinfo")
        if not userinfo:
            return match.group()
        mask = self._mask
        if self._keep_user:
            user, has_password, _ = userinfo.partition(":")
            if not has_password:
                if not self._bare_user_is_secret:
                    return match.group()
                return f"{scheme}{mask}@" if mask else scheme
            return f"{scheme}{user}:{mask}@" if mask else f"{scheme}{user}@"
        return f"{scheme}{mask}@" if mask else scheme

    def __call__(self, text: str) -> str:
        if "://" not in text or "@" not in text:
            return text
        return (_url or _url_pattern()).sub(self._strip, text)


@dataclasses.dataclass(frozen=True)
class UrlCredentialsSettings:
    """Settings of ``url_credentials``; see :class:`UrlCredentialsRedactor`."""

    keep_user: bool = False
    mask: str = "***"
    max_depth: Depth = 16
    max_items: Items = 1000


class UrlCredentialsRedactor(RedactorBase):
    """Strips ``user:password@`` from every URL in every string value, nested ones and the message included.

    ``keep_user`` keeps the user name and masks only the password; ``mask`` is what replaces the removed
    part (``""`` removes it without a marker). Containers nested deeper than ``max_depth`` or with more than
    ``max_items`` entries are replaced by a marker rather than scanned.
    """

    _copy_on_write = True  # see RedactorBase
    metadata = PluginMetadata(
        name=NAME,
        version=__version__,
        kind="redactor",
        description="Strips user:password@ from URLs (any scheme: https, postgres, redis, amqp, mongodb+srv, ...) "
        "in every string value.",
        config_model=UrlCredentialsSettings,
    )

    def __init__(self, settings: UrlCredentialsSettings | None = None, /, **values: Any) -> None:
        """``settings`` (the registry passes the validated model) or the same fields as keywords."""
        settings = self.settings = settings_from(UrlCredentialsSettings, settings, root=NAME, **values)
        super().__init__(
            keys=None, text=CredentialStripper(keep_user=settings.keep_user, mask=settings.mask), mask=settings.mask,
            max_depth=settings.max_depth, max_items=settings.max_items,
        )
