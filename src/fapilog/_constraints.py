"""Constraints a settings model declares on its fields, read by fapilog's one validation engine.

Plugin authors import these names from :mod:`fapilog.plugins.constraints`; they live here, beside the engine
(:mod:`fapilog._coercion`), so that the core's own settings use them without importing the plugin kit.

A plugin's ``config_model`` (and the core's own settings) is a dataclass whose annotations say what each
field accepts; a constraint rides along in ``typing.Annotated``, so one line declares the field, its type,
its default and its limits, and nothing else in the plugin repeats them::

    from typing import Annotated
    from fapilog.plugins.constraints import Level, NonEmpty, Positive, Range

    @dataclasses.dataclass(frozen=True)
    class ThrottleSettings:
        rate: Annotated[float, Positive] = 10.0           # a number > 0
        share: Annotated[float, Range(ge=0, le=1)] = 1.0  # a number from 0 to 1
        floor: Annotated[int | str, Level] = "INFO"       # a level name or number
        key: Annotated[str, NonEmpty] = "message"         # a non-empty text

The registry checks and converts a configured table against the model before the plugin is built (``"5"``
from an environment variable becomes ``5``; ``"lots"`` is a ConfigError naming ``throttle.rate``), and a
plugin built directly gets the same checks through :func:`settings_from`. Checks that involve several fields
belong in the model's ``__post_init__``, raising :class:`~fapilog.errors.ConfigError` through
:func:`setting_error` so the message has the engine's form.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

from fapilog._value_methods import ValueMethods, value_class
from fapilog.errors import ConfigError

__all__ = [
    "Duration",
    "Level",
    "NonEmpty",
    "NonNegative",
    "Positive",
    "Range",
    "SplitText",
    "location",
    "prefixed",
    "setting_error",
    "settings_from",
]

_M = TypeVar("_M")


@value_class  # see fapilog._value_methods
class Range(ValueMethods):
    """Bounds of a number: ``gt``/``ge`` below, ``lt``/``le`` above (each optional)."""

    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None

    def admits(self, value: float) -> bool:
        """Whether ``value`` is within every bound."""
        return not (
            (self.gt is not None and value <= self.gt)
            or (self.ge is not None and value < self.ge)
            or (self.lt is not None and value >= self.lt)
            or (self.le is not None and value > self.le)
        )

    def describe(self) -> str:
        """The bounds as a reader sees them: ``" > 0 and <= 1"``."""
        parts = [f"{sign} {_number(bound)}" for sign, bound in
                 ((">", self.gt), (">=", self.ge), ("<", self.lt), ("<=", self.le)) if bound is not None]
        return (" " + " and ".join(parts)) if parts else ""


Positive = Range(gt=0)
"""A number greater than 0."""
NonNegative = Range(ge=0)
"""A number of 0 or more."""
Duration = Range(gt=0, le=86_400)
"""Seconds greater than 0, at most a day: beyond that a timeout is a unit mistake, not a setting."""


class _Marker:
    """A constraint with no parameters; its name is its meaning."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


Level = _Marker("Level")
"""A level name (``"INFO"``, any case) or number (``20``); the value keeps the spelling given. With ``None``
allowed by the type, the text ``"none"`` means ``None`` too (an environment variable cannot say null)."""
NonEmpty = _Marker("NonEmpty")
"""Text that is not blank, or a list with at least one entry."""
SplitText = _Marker("SplitText")
"""A list that may also be given as one comma-separated text (``"user_id,tenant"``)."""


def _number(bound: float) -> str:
    if float(bound).is_integer() and abs(bound) < 1e15:
        return f"{int(bound):,}"
    return repr(bound)


def setting_error(path: str, problem: str, *, root: str = "", shown: str | None = None,
                  code: str = "FL-CFG-001") -> ConfigError:
    """The one way a settings check reports a bad value: ``"<root>.<path>: <problem>"``, with ``.field`` the
    path as the user wrote it within their table (``rate``, ``queue.capacity``). ``root`` names the plugin;
    ``shown`` replaces the location in the message (``plugin 'file': field 'max_byte'``); ``code`` is the
    stable error code (``fapilog.errors.ERROR_CODES``), "invalid setting" unless a check has a more specific one."""
    where = location(path, root) if shown is None else shown
    return ConfigError(f"{where}: {problem}", field=path or None, code=code)


def prefixed(exc: ConfigError, where: str) -> ConfigError:
    """``exc`` placed under ``where`` (a spec in a list, ``filters[0]``): its message and its ``.field`` get the
    prefix together, so neither repeats it and ``.field`` is the full path the user wrote (``filters[0].rate``)."""
    text = str(exc)
    message = text if text.startswith((f"{where}: ", f"{where}.")) else f"{where}: {text}"
    return ConfigError(message, field=f"{where}.{exc.field}" if exc.field else where, code=exc.code)


def location(path: str, root: str = "") -> str:
    """How a message names a setting: ``rate_limit.rate`` for a plugin's, ``queue.capacity`` for the core's."""
    return f"{root}.{path}" if root and path else (root or path)


def settings_from(model: type[_M], values: _M | Mapping[str, Any] | None = None, *, root: str = "",
                  **overrides: Any) -> _M:
    """A validated instance of the dataclass ``model`` from a mapping (or an instance) plus ``overrides``.

    This is what the registry runs on a configured table; a plugin constructed directly calls it too, so
    ``RateLimitFilter(rate=-1)`` fails exactly as ``configure(filters=[{"type": "rate_limit", "rate": -1}])``
    does. ``root`` (the plugin's name) starts each message.
    """
    from fapilog._coercion import build, is_validated  # the engine imports this module's markers

    if isinstance(values, model) and not overrides and is_validated(values):
        return values  # the registry's validated model: checked once, not again by the plugin
    if values is None:
        data: Mapping[str, Any] = overrides
    elif isinstance(values, Mapping):
        data = {**values, **overrides}
    else:
        data = {**{f.name: getattr(values, f.name) for f in dataclasses.fields(values)  # type: ignore[arg-type]
                   if f.init}, **overrides}
    return build(model, data, root=root)
