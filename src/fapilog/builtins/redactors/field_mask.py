"""``field_mask``: replaces the whole value of every field whose *name* matches, at any depth.

Names are compared case-insensitively against glob patterns; nested dicts, lists of dicts, dataclasses,
pydantic models and the structured ``exception`` field are all searched::

    >>> masker = FieldMaskRedactor(fields=["password", "*token*", "headers.authorization"])
    >>> asyncio.run(masker.redact({"message": "login", "user": {"Password": "hunter2", "name": "ada"}}))
    {'message': 'login', 'user': {'Password': '***', 'name': 'ada'}}

Pattern forms (see :mod:`fapilog.builtins.redactors._keys` for the exact rules):

- ``password``: that name at any depth; ``*token*``, ``api?key``, ``card_[0-9]``: shell-style globs;
- ``headers.authorization``: ``authorization`` directly under ``headers`` (wherever ``headers`` is);
  ``*.secret``: any ``secret`` that is not at the top level. Dotted flat keys such as
  ``http.request.header.authorization`` are matched segment by segment.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fapilog._version import __version__
from fapilog.builtins.redactors._base import Depth, Items, Names, RedactorBase
from fapilog.builtins.redactors._keys import KeyMatcher
from fapilog.plugins.constraints import NonEmpty, settings_from
from fapilog.plugins.metadata import PluginMetadata

__all__ = ["DEFAULT_FIELDS", "FieldMaskRedactor", "FieldMaskSettings"]

NAME = "field_mask"

DEFAULT_FIELDS: tuple[str, ...] = (
    "*password*",
    "*passwd*",
    "pwd",
    "*secret*",
    "*token",
    "*api?key*",
    "*apikey*",
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "*private?key*",
)
"""What ``field_mask`` masks when no ``fields`` are given: the names secrets are most often logged under."""


@dataclasses.dataclass(frozen=True)
class FieldMaskSettings:
    """Settings of ``field_mask``; see :class:`FieldMaskRedactor`."""

    fields: Annotated[Names, NonEmpty] = DEFAULT_FIELDS
    mask: str = "***"
    max_depth: Depth = 16
    max_items: Items = 1000

    def __post_init__(self) -> None:
        KeyMatcher(self.fields, plugin=NAME, field="fields")  # refuses malformed dotted paths now, not per event


class FieldMaskRedactor(RedactorBase):
    """Masks the value of every field whose name matches one of ``fields``, at any depth.

    ``mask`` replaces the value (a nested dict or list under a matching name is replaced whole). Containers
    nested deeper than ``max_depth`` become ``"[REDACTED:max_depth]"`` and containers with more than
    ``max_items`` entries ``"[REDACTED:max_items]"``: they are never passed on unsearched.
    """

    _copy_on_write = True  # see RedactorBase
    metadata = PluginMetadata(
        name=NAME,
        version=__version__,
        kind="redactor",
        description="Masks values by field name: nested dicts and lists, case-insensitive globs, dotted paths.",
        config_model=FieldMaskSettings,
    )

    def __init__(self, settings: FieldMaskSettings | None = None, /, **values: Any) -> None:
        """``settings`` (the registry passes the validated model) or the same fields as keywords."""
        settings = self.settings = settings_from(FieldMaskSettings, settings, root=NAME, **values)
        super().__init__(
            keys=KeyMatcher(settings.fields, plugin=NAME, field="fields"), text=None, mask=settings.mask,
            max_depth=settings.max_depth, max_items=settings.max_items,
        )
