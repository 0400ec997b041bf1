"""What the contract checks share: the plugin under test (:class:`Subject`) and the outcomes a check raises.

Kept apart from the checks themselves (:mod:`fapilog.testing._contract`), which re-exports these names.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Mapping
from typing import Any

from fapilog._registry.config import instantiate
from fapilog.plugins.metadata import REQUIRED_METHODS, PluginKind, PluginMetadata

__all__ = ["ContractFailure", "Note", "Skip", "Subject"]


class ContractFailure(AssertionError):
    """A plugin broke its contract; the message says how and what to change."""


class Skip(Exception):
    """The check does not apply to this plugin (the reason is reported)."""


class Note(Exception):
    """The check passed, with something the author should read (a ``ConfigWarning`` the settings raised)."""


@dataclasses.dataclass
class Subject:
    """The plugin under test and how to make fresh instances of it."""

    target: object
    cls: type[Any]
    kind: PluginKind
    name: str
    metadata: PluginMetadata | None
    settings: Mapping[str, Any]
    deterministic: bool
    timeout: float
    declared: bool = True
    """False when ``metadata`` was derived from the plugin's distribution rather than declared by the class."""

    def create(self) -> Any:
        if not isinstance(self.target, type):
            return self.target  # a ready-made instance: the only one there is
        model = self.metadata.config_model if self.metadata is not None else None
        return instantiate(self.name, self.cls, model, self.settings)

    @property
    def method(self) -> str:
        return REQUIRED_METHODS[self.kind]


def _fail(reason: str) -> typing.NoReturn:
    raise ContractFailure(reason)


async def _maybe(obj: object, method: str, *args: Any) -> Any:
    fn = getattr(obj, method, None)
    if fn is None:
        return None
    result = fn(*args)
    if inspect.isawaitable(result):
        result = await result
    return result
