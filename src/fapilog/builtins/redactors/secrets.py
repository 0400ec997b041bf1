"""``secrets``: the redactor every pipeline runs unless told not to — well-known secret names and URL passwords.

It masks, at any depth (nested dicts, lists, tuples, dataclasses, pydantic models, bound context, stdlib
``extra=``, the structured exception):

- the value of every field whose **name** is a well-known secret name (:data:`SECRET_NAMES`), compared
  case-insensitively with ``_``, ``-`` and spaces ignored, so ``session_id``, ``sessionId`` and
  ``Session-Id`` are one name; a dotted key (``http.request.header.authorization``) is judged by each of its
  segments;
- the second item of a **header pair**, a two-item list or tuple whose first item is such a name
  (``headers=[("Authorization", "Bearer x")]``, ASGI's ``[(b"cookie", b"...")]``);
- the password of ``user:password@`` in **URLs** inside any string, field names and the message included
  (``postgres://app:pw@db/x`` becomes ``postgres://app:***@db/x``; a user name with no password may be a
  token, so ``https://ghp_x@github.com`` becomes ``https://***@github.com``).

It is built to cost little on the worker, where it runs for every event: a field name's verdict is computed
once and then cached (one dict lookup per field), a flat record of numbers and ordinary strings is passed on
untouched without any copy, and no regular expression runs on a string unless it contains both ``://`` and
``@``. Value patterns (JWTs, provider API keys, card numbers, ...) are not part of it: add the ``preset`` or
``regex_mask`` redactor for those (``docs/redaction.md``).

How it is switched on and off is decided by the pipeline builder (``fapilog._engine.builder``): it runs first
whenever ``redactors`` is not ``[]``, and ``plugins.disabled=["secrets"]`` removes it while keeping yours.
"""

from __future__ import annotations

from typing import Any

from fapilog._kit.url_credentials import CredentialStripper
from fapilog._value_methods import ValueMethods, value_class
from fapilog._version import __version__
from fapilog.builtins.redactors._base import Depth, Items, Names, RedactorBase
from fapilog.builtins.redactors._keys import KeyMatcher
from fapilog.plugins.constraints import settings_from
from fapilog.plugins.metadata import PluginMetadata

__all__ = ["SECRET_NAMES", "SecretsRedactor", "SecretsSettings"]

NAME = "secrets"

SECRET_NAMES: tuple[str, ...] = (
    # passwords and passphrases, wherever the word appears in the name (db_password, PASSWORD_HASH, ...)
    "*password*", "*passwd*", "pwd", "*passphrase*",
    # secrets of every kind (client_secret, secret_key, AWS_SECRET_ACCESS_KEY, webhook_secret, ...)
    "*secret*",
    # tokens: any name ending in "token" (access_token, refresh_token, id_token, csrf_token, X-Auth-Token,
    # github_token); plural only as these names, so LLM counts such as max_tokens stay readable
    "*token", "tokens", "access_tokens", "refresh_tokens", "api_tokens", "auth_tokens",
    # API, private and signing keys
    "*api_key*", "*private_key*", "*signing_key*", "*encryption_key*", "access_key", "secret_key",
    # HTTP authentication headers and cookies (also WSGI's HTTP_AUTHORIZATION, HTTP_COOKIE)
    "*authorization", "auth", "*cookie", "cookies",
    # sessions
    "*session_id", "session_key", "jsessionid", "phpsessid",
    # credentials, one-time codes and connection strings that embed a password
    "*credential", "*credentials", "otp", "totp", "mfa_code", "connection_string",
)
"""The field names :class:`SecretsRedactor` masks, as case-insensitive globs compared with ``_``, ``-`` and
spaces removed from both sides (``*api_key*`` thus covers ``apiKey``, ``X-Api-Key`` and ``stripe_api_key``).
``docs/redaction.md`` lists them; a test checks the two agree."""


@value_class  # see fapilog._value_methods
class SecretsSettings(ValueMethods):
    """Settings of ``secrets``; see :class:`SecretsRedactor`."""

    extra_fields: Names = ()
    """More field names to mask, in the same form as :data:`SECRET_NAMES` (they add to it, never replace it)."""
    mask: str = "***"
    """What replaces a masked value and the credentials of a URL."""
    max_depth: Depth = 16
    max_items: Items = 1000

    def __post_init__(self) -> None:
        KeyMatcher(self.extra_fields, plugin=NAME, field="extra_fields", normalize=True)  # malformed paths: now


class SecretsRedactor(RedactorBase):
    """Masks well-known secret field names (at any depth, in header pairs) and URL credentials in strings.

    On by default in every pipeline (see ``docs/redaction.md``). ``extra_fields`` adds names of your own;
    ``mask`` replaces what is hidden. Containers nested deeper than ``max_depth`` or with more than
    ``max_items`` entries are replaced by a marker rather than passed on unsearched.
    """

    _copy_on_write = True  # see RedactorBase
    metadata = PluginMetadata(
        name=NAME,
        version=__version__,
        kind="redactor",
        description="The default redactor: well-known secret field names at any depth and in header pairs, "
        "and user:password@ in URLs.",
        config_model=SecretsSettings,
    )

    def __init__(self, settings: SecretsSettings | None = None, /, **values: Any) -> None:
        """``settings`` (the registry passes the validated model) or the same fields as keywords."""
        settings = self.settings = settings_from(SecretsSettings, settings, root=NAME, **values)
        super().__init__(
            keys=KeyMatcher((*SECRET_NAMES, *settings.extra_fields), plugin=NAME, field="extra_fields",
                            normalize=True),
            text=CredentialStripper(keep_user=True, mask=settings.mask, bare_user_is_secret=True),
            mask=settings.mask,
            max_depth=settings.max_depth,
            max_items=settings.max_items,
        )
