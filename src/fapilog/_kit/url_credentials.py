"""The URL-credentials text rule, shared by ``url_credentials``, ``secrets`` and the presets, and by every text
fapilog writes about itself (its stderr notices, span attributes, metric labels).

Its own module so that ``secrets`` (in every default pipeline) uses the rule without importing the
``url_credentials`` plugin, its settings model and its metadata; in the kit so the engine may use it too.
"""

from __future__ import annotations

import re

__all__ = ["CredentialStripper", "strip_credentials"]

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


strip_credentials = CredentialStripper(keep_user=True, mask="***", bare_user_is_secret=True)
"""How fapilog masks the texts it writes about itself (stderr notices, span attributes, metric labels), as the
default ``secrets`` redactor masks log events: ``scheme://user:password@`` → ``scheme://user:***@``, a bare
token user masked too."""
