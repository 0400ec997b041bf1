"""The registry: validation at registration, spec → instance with validated settings, lifecycle records."""

from __future__ import annotations

import asyncio
import dataclasses
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pydantic
import pytest
from tests.registry._dists import DistFactory, make

import fapilog
from fapilog._registry.registry import LegacyPluginWarning, PluginRegistry, default_registry
from fapilog.errors import ConfigError, PluginError, PluginLoadError, PluginValidationError
from fapilog.plugins.metadata import PluginMetadata


@pytest.fixture
def dists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DistFactory]:
    yield from make(tmp_path, monkeypatch)


class SizedConfig(pydantic.BaseModel):
    path: str
    max_bytes: int = pydantic.Field(default=1024, gt=0)


class SizedSink:
    metadata = PluginMetadata(name="sized", version="1.0.0", kind="sink", config_model=SizedConfig)

    def __init__(self, path: str, max_bytes: int) -> None:
        self.path, self.max_bytes = path, max_bytes
        self.events: list[str] = []

    async def start(self) -> None:
        self.events.append("start")

    async def stop(self) -> None:
        self.events.append("stop")

    async def write(self, record: Mapping[str, Any]) -> None:
        self.events.append("write")


@dataclasses.dataclass
class TagConfig:
    tag: str
    upper: bool = False


class TagEnricher:
    metadata = PluginMetadata(name="tag", version="2.0.0", kind="enricher", config_model=TagConfig)

    def __init__(self, tag: str, upper: bool) -> None:
        self.tag = tag.upper() if upper else tag

    async def enrich(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        return {"tag": self.tag}


class PlainProcessor:
    metadata = PluginMetadata(name="plain", version="1.0.0", kind="processor")

    def __init__(self, prefix: str = "", *, limit: int = 10) -> None:
        self.prefix, self.limit = prefix, limit

    async def process(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        return record


def test_register_validates_and_exposes_the_plugin() -> None:
    """A registered class is loaded, with its metadata's kind and the class itself."""
    info = PluginRegistry(entry_points=False).register(SizedSink)
    assert (info.name, info.kind, info.state, info.plugin) == ("sized", "sink", "loaded", SizedSink)


def test_sync_method_where_async_is_required_is_refused() -> None:
    """A processor whose process() is a plain def is refused, naming the plugin and the method."""

    class SyncProcessor:
        metadata = PluginMetadata(name="syncy", version="1.0", kind="processor")

        def process(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
            return record

    with pytest.raises(PluginValidationError, match=r"'syncy'.*process\(\) must be `async def`"):
        PluginRegistry(entry_points=False).register(SyncProcessor)


def test_sync_optional_method_is_refused() -> None:
    """A declared plugin's optional start() must be async too."""

    class SyncStart(SizedSink):
        def start(self) -> None:  # type: ignore[override]
            pass

    with pytest.raises(PluginValidationError, match=r"start\(\) must be `async def`"):
        PluginRegistry(entry_points=False).register(SyncStart)


def test_missing_required_method_is_refused() -> None:
    """A filter without filter() is refused with the method it must define."""

    class Empty:
        metadata = PluginMetadata(name="empty", version="1.0", kind="filter")

    with pytest.raises(PluginValidationError, match=r"has no filter\(\) method"):
        PluginRegistry(entry_points=False).register(Empty)


def test_registered_name_must_match_metadata_name() -> None:
    """register(name=...) different from metadata.name is a PluginValidationError naming both."""
    with pytest.raises(PluginValidationError, match=r"'other'.*name='sized'"):
        PluginRegistry(entry_points=False).register(SizedSink, name="other")


def test_class_name_attribute_must_match_metadata_name() -> None:
    """A class attribute `name` that disagrees with metadata.name is refused."""

    class Mislabelled(SizedSink):
        name = "mislabelled"

    with pytest.raises(PluginValidationError, match="'mislabelled'"):
        PluginRegistry(entry_points=False).register(Mislabelled)


def test_entry_point_name_must_match_metadata_name(dists: DistFactory) -> None:
    """An entry point whose class declares a different metadata name fails when configured."""
    source = (
        "from fapilog.plugins.metadata import PluginMetadata\n"
        "class Plugin:\n"
        "    metadata = PluginMetadata(name='elsewhere', version='1.0', kind='sink')\n"
        "    async def write(self, record): pass\n"
    )
    dists.plugin("here", source=source)
    registry = PluginRegistry()
    with pytest.raises(PluginValidationError, match=r"registered under 'here'.*name='elsewhere'"):
        registry.create("sink", "here")
    assert registry.get("here").state == "failed"


def test_duplicate_registration_is_refused() -> None:
    """Registering a second plugin under a taken name asks to unregister first."""
    registry = PluginRegistry([SizedSink], entry_points=False)
    with pytest.raises(PluginError, match="unregister"):
        registry.register(SizedSink)


def test_registration_overrides_and_unregister_restores_discovery(dists: DistFactory) -> None:
    """An explicit registration shadows a discovered plugin; unregister makes the discovered one visible."""
    dists.plugin("sized")
    registry = PluginRegistry([SizedSink])
    assert registry.get("sized").source == "registered"
    registry.unregister("sized")
    assert registry.get("sized").source == "entry-point"


def test_kind_mismatch_is_refused_at_create() -> None:
    """Configuring a sink as a processor names its real kind."""
    with pytest.raises(PluginValidationError, match="is a sink, but it is configured as a processor"):
        PluginRegistry([SizedSink], entry_points=False).create("processor", "sized")


def test_create_from_a_table_validates_and_passes_settings() -> None:
    """{"type": ..., **settings} is validated by the config model and passed as keyword arguments."""
    name, sink = PluginRegistry([SizedSink], entry_points=False).create("sink", {"type": "sized", "path": "a.log"})
    assert name == "sized" and isinstance(sink, SizedSink)
    assert (sink.path, sink.max_bytes) == ("a.log", 1024)


def test_create_accepts_name_key_instead_of_type() -> None:
    """{"name": ...} names the plugin when "type" is absent."""
    _, sink = PluginRegistry([SizedSink], entry_points=False).create("sink", {"name": "sized", "path": "b"})
    assert isinstance(sink, SizedSink) and sink.path == "b"


def test_create_returns_a_ready_instance_as_is() -> None:
    """An instance spec comes back unchanged, named by its name attribute."""
    sink = SizedSink("c.log", 1)
    sink.name = "audit"  # type: ignore[attr-defined]
    assert PluginRegistry(entry_points=False).create("sink", sink) == ("audit", sink)


def test_create_names_an_instance_by_metadata_without_name_attribute() -> None:
    """An instance without a name attribute is named by its metadata."""
    sink = SizedSink("c.log", 1)
    assert PluginRegistry(entry_points=False).create("sink", sink)[0] == "sized"


def test_pydantic_error_names_plugin_and_field() -> None:
    """A pydantic validation error becomes ConfigError 'plugin ...: field ...: message'."""
    registry = PluginRegistry([SizedSink], entry_points=False)
    with pytest.raises(ConfigError) as caught:
        registry.create("sink", {"type": "sized", "path": "x", "max_bytes": 0})
    assert "plugin 'sized': field 'max_bytes': Input should be greater than 0" in str(caught.value)
    assert caught.value.field == "max_bytes"
    assert isinstance(caught.value.__cause__, pydantic.ValidationError)


def test_unknown_setting_is_refused_with_accepted_fields() -> None:
    """A misspelt setting is not silently ignored: the error lists the accepted fields."""
    registry = PluginRegistry([SizedSink], entry_points=False)
    with pytest.raises(ConfigError, match=r"field 'max_byte': unknown setting; accepted fields: path, max_bytes"):
        registry.create("sink", {"type": "sized", "path": "x", "max_byte": 5})


def test_dataclass_config_model_reports_missing_field() -> None:
    """A dataclass config model's required field, when missing, is named."""
    registry = PluginRegistry([TagEnricher], entry_points=False)
    with pytest.raises(ConfigError, match="plugin 'tag': field 'tag': required setting is missing"):
        registry.create("enricher", "tag")


def test_dataclass_config_model_values_reach_the_constructor() -> None:
    """Dataclass-validated settings are passed as keyword arguments."""
    _, enricher = PluginRegistry([TagEnricher], entry_points=False).create(
        "enricher", {"type": "tag", "tag": "web", "upper": True}
    )
    assert isinstance(enricher, TagEnricher) and enricher.tag == "WEB"


def test_settings_without_model_are_checked_against_the_constructor() -> None:
    """Without a config model a wrong keyword names the plugin and lists the constructor's parameters."""
    registry = PluginRegistry([PlainProcessor], entry_points=False)
    with pytest.raises(ConfigError, match=r"plugin 'plain': field 'limt'.*accepted parameters: prefix='', limit=10"):
        registry.create("processor", {"type": "plain", "limt": 3})


def test_constructor_type_error_becomes_config_error() -> None:
    """A TypeError raised inside the constructor is reported as a settings problem, cause chained."""

    class Picky:
        metadata = PluginMetadata(name="picky", version="1.0", kind="filter")

        def __init__(self, level: object = 1) -> None:
            if not isinstance(level, int):
                raise TypeError("level must be an int")

        async def filter(self, record: Mapping[str, Any]) -> Mapping[str, Any] | None:
            return record

    with pytest.raises(ConfigError, match="plugin 'picky': invalid settings: TypeError: level must be an int"):
        PluginRegistry([Picky], entry_points=False).create("filter", {"type": "picky", "level": "x"})


def test_spec_without_plugin_name_is_a_config_error() -> None:
    """A table with neither type nor name is refused, asking for "type"."""
    with pytest.raises(ConfigError, match='add "type"'):
        PluginRegistry(entry_points=False).create("sink", {"path": "x"})


def test_legacy_sync_sink_is_accepted_once_noticed_and_made_async() -> None:
    """A plain object without metadata may keep a sync write: one warning, and create() returns an async face."""

    class OldSink:
        name = "old"

        def __init__(self) -> None:
            self.got: list[Mapping[str, Any]] = []

        def write(self, record: Mapping[str, Any]) -> None:
            self.got.append(record)

    with pytest.warns(LegacyPluginWarning, match="'old'.*declares no PluginMetadata"):
        registry = PluginRegistry([OldSink()], entry_points=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PluginRegistry([OldSink()], entry_points=False)  # the notice is one-time per class
    assert registry.get("old").legacy and registry.notices
    _, sink = registry.create("sink", "old")

    async def use() -> None:
        await sink.write({"message": "hi"})  # type: ignore[attr-defined]
        await sink.stop()  # type: ignore[attr-defined]

    asyncio.run(use())
    assert sink.got == [{"message": "hi"}]  # type: ignore[attr-defined]


def test_legacy_sync_processor_is_refused() -> None:
    """Only legacy sinks may be synchronous: a plain object with a sync process() is refused."""

    class OldProcessor:
        def process(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
            return record

    with pytest.raises(PluginValidationError, match=r"process\(\) must be `async def`"):
        PluginRegistry(entry_points=False).register(OldProcessor, name="oldproc")


def test_failed_import_is_recorded_on_the_plugin(dists: DistFactory) -> None:
    """A plugin that fails to import is in state failed with the reason, and the error is raised."""
    dists.plugin("crashy", source="raise ValueError('nope')\n")
    registry = PluginRegistry()
    with pytest.raises(PluginLoadError):
        registry.create("sink", "crashy")
    info = registry.get("crashy")
    assert info.state == "failed" and info.error is not None and "ValueError: nope" in info.error


def test_discovered_plugin_loads_with_timing(dists: DistFactory) -> None:
    """Creating a discovered plugin records its distribution and load time."""
    dists.plugin("timed", version="3.2.1")
    registry = PluginRegistry()
    registry.create("sink", {"type": "timed", "colour": "blue"})
    info = registry.get("timed")
    assert (info.state, info.distribution, info.metadata and info.metadata.version) == (
        "loaded",
        "fapilog-timed",
        "3.2.1",
    )
    assert info.load_ms is not None and info.load_ms >= 0


def test_instance_lifecycle_is_recorded() -> None:
    """create → loaded, start → started with start_ms, stop → stopped with stop_ms."""
    registry = PluginRegistry([SizedSink], entry_points=False)
    _, sink = registry.create("sink", {"type": "sized", "path": "x"})
    assert [i.state for i in registry.instances()] == ["loaded"]
    started = asyncio.run(registry.start(sink))
    assert started.state == "started" and started.start_ms is not None
    stopped = asyncio.run(registry.stop(sink))
    assert stopped.state == "stopped" and stopped.stop_ms is not None
    assert isinstance(sink, SizedSink) and sink.events == ["start", "stop"]


def test_start_failure_is_recorded_and_raised_chained() -> None:
    """A plugin whose start() raises is in state failed and the PluginError chains the cause."""

    class Flaky(SizedSink):
        async def start(self) -> None:
            raise OSError("disk gone")

    registry = PluginRegistry([Flaky], entry_points=False)
    _, sink = registry.create("sink", {"type": "sized", "path": "x"})
    with pytest.raises(PluginError, match="failed to start: OSError: disk gone") as caught:
        asyncio.run(registry.start(sink))
    assert isinstance(caught.value.__cause__, OSError)
    (record,) = registry.instances()
    assert record.state == "failed" and record.error == "start failed: OSError: disk gone"


def test_stop_of_never_started_instance_does_not_call_it() -> None:
    """stop() on an instance that was created but never started just retires it."""
    registry = PluginRegistry([SizedSink], entry_points=False)
    _, sink = registry.create("sink", {"type": "sized", "path": "x"})
    assert asyncio.run(registry.stop(sink)).state == "stopped"
    assert isinstance(sink, SizedSink) and sink.events == []


def test_invalid_metadata_is_refused_when_declared() -> None:
    """Bad names, versions, requires and config models fail at declaration with the field named."""
    with pytest.raises(PluginValidationError, match="invalid plugin name"):
        PluginMetadata(name="Bad Name", version="1.0", kind="sink")
    with pytest.raises(PluginValidationError, match="not a PEP 440 version"):
        PluginMetadata(name="ok", version="one", kind="sink")
    with pytest.raises(PluginValidationError, match="requires must be a tuple"):
        PluginMetadata(name="ok", version="1.0", kind="sink", requires="file")  # type: ignore[arg-type]
    with pytest.raises(PluginValidationError, match="config_model must be"):
        PluginMetadata(name="ok", version="1.0", kind="sink", config_model=dict)


def test_wrong_metadata_attribute_type_is_refused() -> None:
    """A `metadata` class attribute that is not PluginMetadata is an error, not a silent legacy plugin."""

    class DictMeta:
        metadata: ClassVar[dict[str, str]] = {"name": "d"}

        async def write(self, record: Mapping[str, Any]) -> None:
            pass

    with pytest.raises(PluginValidationError, match=r"must be a fapilog\.plugins\.PluginMetadata"):
        PluginRegistry(entry_points=False).register(DictMeta)


def test_default_registry_is_shared() -> None:
    """default_registry() returns the same registry every time."""
    assert default_registry() is default_registry()


@pytest.mark.parametrize("base", ["PluginError", "FapilogError"])
def test_a_plugins_own_error_from_its_settings_reaches_configure_with_location_and_code(
    dists: DistFactory, base: str
) -> None:
    """A fapilog error of the plugin's own (any constructor signature) raised by its settings model comes out
    of configure() as a PluginError with the location, its message and its code, never a TypeError."""
    source = (
        "import dataclasses\n"
        f"from fapilog.errors import {base}\n"
        "from fapilog.plugins.metadata import PluginMetadata\n"
        f"class PickyError({base}):\n"
        "    def __init__(self, detail):\n"
        "        super().__init__(f'picky: url: {detail}', code='FL-PLG-007')\n"
        "@dataclasses.dataclass\n"
        "class Settings:\n"
        "    url: str = ''\n"
        "    def __post_init__(self):\n"
        "        raise PickyError(f'{self.url!r} is not reachable')\n"
        "class Plugin:\n"
        "    metadata = PluginMetadata(name='picky', version='1.0', kind='sink', config_model=Settings)\n"
        "    def __init__(self, url=''): pass\n"
        "    async def write(self, record): pass\n"
    )
    dists.plugin("picky", source=source)
    with pytest.raises(PluginError) as raised:
        fapilog.configure(sinks=[{"type": "picky", "url": "x"}])
    assert str(raised.value) == "sinks[0]: picky: url: 'x' is not reachable"
    assert raised.value.code == "FL-PLG-007" and raised.value.plugin == "picky"
    assert type(raised.value.__cause__).__name__ == "PickyError"
