"""The one validation engine: what a dataclass's annotations accept, and how a refusal is worded and located."""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from tests.registry._dists import DistFactory, make

import fapilog
from fapilog._coercion import build, parse_bool
from fapilog._constraints import prefixed
from fapilog._registry.registry import PluginRegistry
from fapilog.errors import ConfigError
from fapilog.plugins.constraints import Level, NonEmpty, Positive, Range, SplitText, setting_error, settings_from


@dataclasses.dataclass(frozen=True)
class Inner:
    depth: Annotated[int, Range(ge=1, le=10)] = 3


@dataclasses.dataclass(frozen=True)
class Model:
    rate: Annotated[float, Positive] = 1.0
    share: Annotated[float, Range(ge=0, le=1)] = 0.5
    floor: Annotated[int | str | None, Level] = "INFO"
    key: Annotated[str, NonEmpty] = "id"
    fields: Annotated[tuple[Annotated[str, NonEmpty], ...], SplitText] = ()
    mode: Literal["fast", "safe"] = "safe"
    flag: bool = False
    limit: Annotated[int, Range(gt=0)] | None = None
    table: Mapping[str, Annotated[int | str, Level]] | None = None
    inner: Inner = dataclasses.field(default_factory=Inner)

    def __post_init__(self) -> None:
        if self.mode == "fast" and self.flag:
            raise setting_error("flag", "must be false when mode is 'fast'")


def test_text_is_converted_where_the_type_asks_for_more() -> None:
    """Numbers, booleans and comma lists given as text (as environment variables deliver them) are converted."""
    built = build(Model, {"rate": "2.5", "flag": "yes", "fields": "a, b", "limit": "7", "inner": {"depth": "4"}})
    assert (built.rate, built.flag, built.fields, built.limit, built.inner.depth) == (2.5, True, ("a", "b"), 7, 4)


def test_boolean_text_is_parsed_in_one_place() -> None:
    """parse_bool knows the accepted spellings; anything else is None, never a guess."""
    assert [parse_bool(v) for v in ("ON", " no ", "1", True, "maybe", 2)] == [True, False, True, True, None, None]


@pytest.mark.parametrize(
    ("data", "message", "field"),
    [
        ({"rate": 0}, "demo.rate: must be a number > 0, got 0", "rate"),
        ({"share": 1.5}, "demo.share: must be a number >= 0 and <= 1, got 1.5", "share"),
        ({"share": "nan"}, "demo.share: must be a finite number >= 0 and <= 1, got 'nan'", "share"),
        ({"limit": 2.5}, "demo.limit: must be a whole number > 0, got 2.5", "limit"),
        ({"key": "  "}, "demo.key: must not be empty, got '  '", "key"),
        ({"fields": ["a", ""]}, "demo.fields: entry 1 must not be empty, got ''", "fields"),
        ({"mode": "slow"}, "demo.mode: got 'slow'; accepted: 'fast', 'safe'", "mode"),
        ({"flag": "perhaps"}, "demo.flag: must be true or false, got 'perhaps'", "flag"),
        ({"floor": "LOUD"}, "demo.floor: unknown level 'LOUD'", "floor"),
        ({"table": {"db": "nope"}}, "demo.table.db: unknown level 'nope'", "table.db"),
        ({"inner": {"depth": 11}}, "demo.inner.depth: must be a whole number >= 1 and <= 10, got 11", "inner.depth"),
        ({"mode": "fast", "flag": True}, "demo.flag: must be false when mode is 'fast'", "flag"),
    ],
)
def test_a_refusal_names_the_setting_once_and_says_what_is_accepted(
    data: dict[str, Any], message: str, field: str
) -> None:
    """The message starts with the plugin-rooted path, once; .field is the path within the user's table."""
    with pytest.raises(ConfigError) as caught:
        build(Model, data, root="demo")
    assert str(caught.value).startswith(message)
    assert caught.value.field == field


def test_none_and_the_text_none_clear_an_optional_level() -> None:
    """An optional level accepts None, and the text 'none' (what an environment variable can say)."""
    assert build(Model, {"floor": "none"}).floor is None
    assert build(Model, {"floor": 25}).floor == 25


def test_unknown_and_missing_fields_list_the_models_fields() -> None:
    """A typo is refused with the accepted fields, in declaration order; a missing required field is named."""
    with pytest.raises(ConfigError, match=r"^plugin 'demo': field 'rte': unknown setting; accepted fields: rate, "):
        build(Model, {"rte": 1}, root="demo")

    @dataclasses.dataclass(frozen=True)
    class Needs:
        target: str

    with pytest.raises(ConfigError, match=r"^plugin 'demo': field 'target': required setting is missing"):
        build(Needs, {}, root="demo")


def test_settings_from_revalidates_a_model_built_by_hand() -> None:
    """An instance made without the engine is checked when a plugin receives it; overrides apply on top."""
    assert settings_from(Model, Model(rate=2.0), root="demo", share=0.25) == Model(rate=2.0, share=0.25)
    with pytest.raises(ConfigError, match=r"^demo\.rate: must be a number > 0"):
        settings_from(Model, Model(rate=-1.0), root="demo")


def test_prefixed_puts_the_location_in_front_of_message_and_field_together() -> None:
    """One helper adds a location to both; a message that already starts with it is not prefixed twice."""
    inner = ConfigError("demo.rate: must be a number > 0, got -1", field="rate")
    outer = prefixed(inner, "filters[0]")
    assert (str(outer), outer.field) == ("filters[0]: demo.rate: must be a number > 0, got -1", "filters[0].rate")
    again = prefixed(outer, "filters[0]")
    assert str(again).count("filters[0]") == 1


@pytest.fixture
def dists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DistFactory]:
    yield from make(tmp_path, monkeypatch)


THIRD_PARTY = '''
import dataclasses
import importlib
from typing import Annotated, Any
from fapilog.plugins.constraints import Positive, settings_from
from fapilog.plugins.metadata import PluginMetadata


@dataclasses.dataclass(frozen=True)
class ThrottleSettings:
    rate: Annotated[float, Positive] = 10.0


class Plugin:
    metadata = PluginMetadata(name="{name}", version="1.0", kind="filter", config_model=ThrottleSettings)

    def __init__(self, settings: ThrottleSettings | None = None, /, **values: Any) -> None:
        self.received = settings
        self.settings = settings_from(ThrottleSettings, settings, root="{name}", **values)

    async def filter(self, record):
        return record
'''

KEYWORDS = '''
import dataclasses
import importlib
from fapilog.plugins.metadata import PluginMetadata


@dataclasses.dataclass(frozen=True)
class Settings:
    every: int = 1


class Plugin:
    metadata = PluginMetadata(name="{name}", version="1.0", kind="filter", config_model=Settings)

    def __init__(self, every: int = 1) -> None:
        self.every = every

    async def filter(self, record):
        return record
'''


def test_a_third_party_plugin_receives_its_validated_model(dists: DistFactory) -> None:
    """A constructor taking its config model gets the instance the engine built, with text converted."""
    dists.plugin("throttle", source=THIRD_PARTY)
    _, instance = PluginRegistry().create("filter", {"type": "throttle", "rate": "2.5"})
    received: Any = getattr(instance, "received")  # noqa: B009 - an attribute of the plugin's own class
    assert type(received).__name__ == "ThrottleSettings" and received.rate == 2.5


def test_a_keyword_constructor_gets_the_validated_fields(dists: DistFactory) -> None:
    """A constructor with one keyword per field (the older style) gets the converted values."""
    dists.plugin("everyn", source=KEYWORDS)
    _, instance = PluginRegistry().create("filter", {"type": "everyn", "every": "3"})
    assert getattr(instance, "every") == 3  # noqa: B009 - an attribute of the plugin's own class


def test_a_third_party_refusal_at_configure_names_its_location_once(dists: DistFactory) -> None:
    """filters=[{"type": "throttle", "rate": -1}]: the location, the plugin and the field, each said once."""
    dists.plugin("throttle", source=THIRD_PARTY)
    with pytest.raises(ConfigError) as caught:
        fapilog.configure(sinks=["memory"], filters=[{"type": "throttle", "rate": -1}])
    assert str(caught.value) == "filters[0]: throttle.rate: must be a number > 0, got -1"
    assert caught.value.field == "filters[0].rate"


COUNTED = '''
import dataclasses
import importlib
from typing import Any, ClassVar
from fapilog.plugins.constraints import settings_from
from fapilog.plugins.metadata import PluginMetadata


@dataclasses.dataclass(frozen=True)
class CountedSettings:
    built: ClassVar[list[int]] = []
    every: int = 1

    def __post_init__(self) -> None:
        CountedSettings.built.append(self.every)


class Plugin:
    metadata = PluginMetadata(name="{name}", version="1.0", kind="filter", config_model=CountedSettings)

    def __init__(self, settings: CountedSettings | None = None, /, **values: Any) -> None:
        self.settings = settings_from(CountedSettings, settings, root="{name}", **values)

    async def filter(self, record):
        return record
'''


def test_the_registrys_model_is_validated_once(dists: DistFactory) -> None:
    """The model the registry built reaches the plugin as it is: settings_from does not check it again."""
    module = dists.plugin("counted", source=COUNTED)
    _, instance = PluginRegistry().create("filter", {"type": "counted", "every": "2"})
    model = importlib.import_module(module).CountedSettings
    assert model.built == [2] and getattr(instance, "settings").every == 2  # noqa: B009 - the plugin's own attribute
