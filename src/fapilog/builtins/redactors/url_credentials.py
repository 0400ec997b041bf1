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
from typing import Any

from fapilog._kit.url_credentials import CredentialStripper
from fapilog._version import __version__
from fapilog.builtins.redactors._base import Depth, Items, RedactorBase
from fapilog.plugins.constraints import settings_from
from fapilog.plugins.metadata import PluginMetadata

__all__ = ["CredentialStripper", "UrlCredentialsRedactor", "UrlCredentialsSettings"]

NAME = "url_credentials"

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
