"""Constraints a plugin's config model declares on its fields (the public names of :mod:`fapilog._constraints`).

A ``config_model`` is a dataclass; each field's annotation says what it accepts, with a constraint riding in
``typing.Annotated``. The registry checks a configured table against it before the plugin is built, and a
plugin constructed directly runs the same checks with :func:`settings_from`::

    from typing import Annotated
    from fapilog.plugins.constraints import Level, Positive, settings_from

    @dataclasses.dataclass(frozen=True)
    class ThrottleSettings:
        rate: Annotated[float, Positive] = 10.0
        floor: Annotated[int | str, Level] = "INFO"

    class ThrottleFilter:
        metadata = PluginMetadata(name="throttle", version="1.0", kind="filter", config_model=ThrottleSettings)

        def __init__(self, settings: ThrottleSettings | None = None, /, **values: Any) -> None:
            self.settings = settings_from(ThrottleSettings, settings, root="throttle", **values)

See ``docs/plugins.md`` ("Declaring settings").
"""

from __future__ import annotations

from fapilog._constraints import (
    Duration,
    Level,
    NonEmpty,
    NonNegative,
    Positive,
    Range,
    SplitText,
    setting_error,
    settings_from,
)

__all__ = [
    "Duration",
    "Level",
    "NonEmpty",
    "NonNegative",
    "Positive",
    "Range",
    "SplitText",
    "setting_error",
    "settings_from",
]
