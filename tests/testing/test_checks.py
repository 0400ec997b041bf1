"""check_plugin(): the contract checks pass real plugins and fail broken ones with a reason that names the fix."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import Any

import pydantic
import pytest

from fapilog._registry.registry import default_registry
from fapilog.plugins.metadata import PluginMetadata
from fapilog.testing import CHECKS, ContractReport, check_plugin

# Settings for built-ins that cannot be created without any; everything else runs with its defaults.
BUILTIN_SETTINGS: dict[str, dict[str, Any]] = {
    "file": {"path": "app.log"},
    "preset": {"names": ["credentials"]},
    "sampling": {"rate": 0.5},
}
STATEFUL = {"sampling", "rate_limit", "adaptive_sampling", "first_occurrence"}


def _builtin_names() -> list[str]:
    """The core's own plugins only: third-party plugins installed alongside are not held to this suite."""
    return sorted(info.name for info in default_registry().list() if info.source == "builtin")


def _reasons(report: ContractReport) -> dict[str, str]:
    return {result.name: result.reason for result in report.failures}


@pytest.mark.parametrize("name", _builtin_names())
def test_every_builtin_plugin_meets_the_contract(name: str, request: pytest.FixtureRequest) -> None:
    plugin = default_registry().load(name).plugin
    settings = BUILTIN_SETTINGS.get(name)
    if name == "http":  # the http sink needs an endpoint: a real server on 127.0.0.1
        settings = {"url": request.getfixturevalue("http_server").url}
    if name == "otlp":  # the otlp sink too: the stand-in OTLP receiver on 127.0.0.1
        from tests._otlp_receiver import StandInReceiver

        receiver = StandInReceiver()
        receiver.start()
        request.addfinalizer(receiver.stop)
        settings = {"endpoint": receiver.endpoint}
    if name == "loki":  # the loki sink needs its push API: the stand-in receiver on 127.0.0.1
        from tests._loki_receiver import LokiReceiver

        receiver = LokiReceiver()
        receiver.start()
        request.addfinalizer(receiver.stop)
        settings = {"url": receiver.url, "tenant": "contract"}
    if name == "cloudwatch":  # a real CloudWatch Logs endpoint: moto's server on 127.0.0.1
        pytest.importorskip("moto.server")
        settings = {"log_group": "/contract", "region": "us-east-1",
                    "endpoint_url": request.getfixturevalue("moto_url")}
    report = check_plugin(plugin, settings, deterministic=name not in STATEFUL)
    assert [r.name for r in report.results] == list(CHECKS)
    assert report.ok, str(report)


def _meta(name: str, kind: str, **extra: Any) -> PluginMetadata:
    return PluginMetadata(name=name, version="1.0.0", kind=kind, description=f"{name} for tests", **extra)  # type: ignore[arg-type]


class Upper:
    metadata = _meta("upper", "processor")

    async def process(self, record: Mapping[str, Any]) -> dict[str, Any]:
        return {**record, "message": str(record["message"]).upper()}

    async def process_batch(self, records: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
        return [await self.process(r) for r in records]


def test_a_correct_plugin_passes_and_the_report_serializes() -> None:
    report = check_plugin(Upper)
    assert report.ok and report.plugin == "upper" and report.kind == "processor"
    as_dict = report.to_dict()
    assert as_dict["ok"] is True and {r["name"] for r in as_dict["results"]} == set(CHECKS)
    assert str(report).splitlines()[0] == "PASS metadata"


class NoMetadata:
    async def enrich(self, record: Mapping[str, Any]) -> dict[str, Any]:
        return {"x": 1}


def test_missing_metadata_fails_with_the_declaration_to_add() -> None:
    report = check_plugin(NoMetadata, checks=["metadata", "protocol"])
    reasons = _reasons(report)
    assert "has no `metadata = PluginMetadata(" in reasons["metadata"] and "kind='enricher'" in reasons["metadata"]
    assert "legacy plugin" in reasons["protocol"]


class SyncFilter:
    metadata = _meta("sync-filter", "filter")

    def filter(self, record: Mapping[str, Any]) -> Mapping[str, Any] | None:
        return record


def test_a_sync_method_where_async_is_required_fails_protocol() -> None:
    reasons = _reasons(check_plugin(SyncFilter, checks=["protocol"]))
    assert "filter() must be `async def`" in reasons["protocol"]


class Unannotated:
    metadata = _meta("bare", "sink")

    async def write(self, record):  # type: ignore[no-untyped-def]
        pass


def test_missing_type_hints_are_listed_per_method() -> None:
    reasons = _reasons(check_plugin(Unannotated, checks=["type_hints"]))
    assert reasons["type_hints"] == (
        "Unannotated.write: parameter(s) record not annotated; Unannotated.write: no return annotation"
    )


class TakesSettingsWithoutModel:
    metadata = _meta("no-model", "sink")

    def __init__(self, *, url: str = "http://localhost") -> None:
        self.url = url

    async def write(self, record: Mapping[str, Any]) -> None:
        pass


def test_settings_without_a_config_model_fail_metadata() -> None:
    reasons = _reasons(check_plugin(TakesSettingsWithoutModel, checks=["metadata"]))
    assert "takes settings (url) but metadata declares no config_model" in reasons["metadata"]


class Loose(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="allow")
    url: str = "http://localhost"


class LooseSettings:
    metadata = _meta("loose", "sink", config_model=Loose)

    def __init__(self, **settings: Any) -> None:
        self.settings = settings

    async def write(self, record: Mapping[str, Any]) -> None:
        pass


def test_a_model_that_accepts_unknown_settings_fails() -> None:
    reasons = _reasons(check_plugin(LooseSettings, checks=["settings"]))
    assert "was accepted silently" in reasons["settings"]


@dataclasses.dataclass(frozen=True)
class TargetSettings:
    target: str


class NeedsTarget:
    metadata = _meta("needs-target", "sink", config_model=TargetSettings)

    def __init__(self, target: str) -> None:
        self.target = target

    async def write(self, record: Mapping[str, Any]) -> None:
        pass


def test_bad_settings_are_reported_with_the_field_named() -> None:
    reasons = _reasons(check_plugin(NeedsTarget, checks=["settings"]))
    assert reasons["settings"] == "plugin 'needs-target': field 'target': required setting is missing"
    assert check_plugin(NeedsTarget, {"target": "x"}, checks=["settings"]).ok


class StartsOnce:
    metadata = _meta("starts-once", "sink")

    def __init__(self) -> None:
        self.started = False

    async def start(self) -> None:
        if self.started:
            raise RuntimeError("already started")
        self.started = True

    async def write(self, record: Mapping[str, Any]) -> None:
        pass


def test_lifecycle_requires_idempotent_start() -> None:
    reasons = _reasons(check_plugin(StartsOnce, checks=["lifecycle"]))
    assert reasons["lifecycle"].startswith("start() raised RuntimeError: already started (start() must be idempotent")


class MutatingEnricher:
    metadata = _meta("mutating", "enricher")

    async def enrich(self, record: Any) -> dict[str, Any]:
        record["host"] = "h1"
        return {}


def test_an_enricher_that_edits_its_input_fails_behaviour() -> None:
    reasons = _reasons(check_plugin(MutatingEnricher, checks=["behaviour"]))
    assert "enrich() changed the record it was given" in reasons["behaviour"]


class DropsCoreKeys:
    metadata = _meta("drops-keys", "redactor")

    async def redact(self, record: Mapping[str, Any]) -> dict[str, Any]:
        return {"message": "***"}


def test_a_redactor_that_drops_core_keys_fails() -> None:
    reasons = _reasons(check_plugin(DropsCoreKeys, checks=["behaviour"]))
    assert "dropped core keys (timestamp, level, logger, seq)" in reasons["behaviour"]


class FragileProcessor:
    metadata = _meta("fragile", "processor")

    async def process(self, record: Mapping[str, Any]) -> dict[str, Any]:
        return {**record, "length": len(record["message"])}


def test_a_plugin_that_breaks_on_a_none_message_fails_error_behaviour() -> None:
    reasons = _reasons(check_plugin(FragileProcessor, checks=["error_behaviour"]))
    assert reasons["error_behaviour"].startswith("process() raised TypeError")
    assert "on a record with a None message" in reasons["error_behaviour"]


class BatchDisagrees:
    metadata = _meta("disagrees", "filter")

    async def filter(self, record: Mapping[str, Any]) -> Mapping[str, Any] | None:
        return record

    async def filter_batch(self, records: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        return records[:1]


def test_a_batch_form_that_disagrees_with_the_single_form_fails_unless_declared_nondeterministic() -> None:
    reasons = _reasons(check_plugin(BatchDisagrees, checks=["batch_form"]))
    assert "filter_batch() disagrees with filter() on the same records" in reasons["batch_form"]
    assert check_plugin(BatchDisagrees, checks=["batch_form"], deterministic=False).ok


class Counter:
    metadata = _meta("counter", "sink")

    def __init__(self) -> None:
        self.in_flight = 0

    async def write(self, record: Mapping[str, Any]) -> None:
        import asyncio

        self.in_flight += 1
        try:
            if self.in_flight > 1:
                raise RuntimeError("not re-entrant")
            await asyncio.sleep(0)
        finally:
            self.in_flight -= 1


def test_concurrent_calls_that_fail_are_counted() -> None:
    reasons = _reasons(check_plugin(Counter, checks=["concurrency"]))
    assert reasons["concurrency"].startswith("99 of 100 concurrent calls raised, first: RuntimeError: not re-entrant")


class BrokenSink:
    metadata = _meta("broken-sink", "sink")

    async def write(self, record: Mapping[str, Any]) -> None:
        if str(record.get("message", "")).startswith("contract event"):
            raise ConnectionError("backend down")


def test_the_pipeline_check_reports_errors_counted_by_the_real_pipeline() -> None:
    reasons = _reasons(check_plugin(BrokenSink, checks=["pipeline"]))
    assert "the pipeline counted errors against the plugin: {'broken-sink': 20}" in reasons["pipeline"]


class Hangs:
    metadata = _meta("hangs", "sink")

    async def write(self, record: Mapping[str, Any]) -> None:
        time.sleep(2)  # noqa: ASYNC251 - the bug under test: a blocking call inside an async method


def test_a_hanging_plugin_fails_with_a_deadline_instead_of_hanging_the_run() -> None:
    started = time.monotonic()
    report = check_plugin(Hangs, checks=["behaviour"], timeout=0.3)
    assert _reasons(report)["behaviour"].startswith("did not finish within 0.3 s: the plugin hangs")
    assert time.monotonic() - started < 2  # the check returned at its deadline, not after the plugin woke


def test_relative_paths_in_settings_land_in_a_temporary_directory(tmp_path: Any, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    from fapilog.builtins.sinks.file import FileSink

    assert check_plugin(FileSink, {"path": "app.log"}, checks=["lifecycle"]).ok
    assert list(tmp_path.iterdir()) == []


def test_wrong_calls_raise_value_error() -> None:
    with pytest.raises(ValueError, match="unknown check"):
        check_plugin(Upper, checks=["metadata", "speed"])
    with pytest.raises(ValueError, match="settings apply to a plugin class"):
        check_plugin(Upper(), {"x": 1})

    class Nothing:
        pass

    with pytest.raises(ValueError, match="cannot tell which contract"):
        check_plugin(Nothing)


class _BaseWithSettings:
    def __init__(self, *, endpoint: str = "http://localhost") -> None:
        self.endpoint = endpoint

    async def write(self, record: Mapping[str, Any]) -> None:
        pass


class InheritsSettings(_BaseWithSettings):
    metadata = _meta("inherits", "sink")


def test_an_inherited_constructor_with_settings_also_needs_a_config_model() -> None:
    reasons = _reasons(check_plugin(InheritsSettings, checks=["metadata"]))
    assert "takes settings (endpoint) but metadata declares no config_model" in reasons["metadata"]


class _HealthSink:
    metadata = _meta("health-sink", "sink")
    answer: Any = True

    async def write(self, record: Mapping[str, Any]) -> None:
        pass

    async def health_check(self) -> Any:
        answer = type(self).answer
        if isinstance(answer, BaseException):
            raise answer
        if answer == "hang":
            import asyncio

            await asyncio.sleep(30)
        return answer


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (OSError("no route"), "health_check() is broken: health check raised OSError: no route"),
        ("hang", "health_check() is broken: health check timed out after"),
        ("yes", "health_check() is broken: health check returned 'yes'; expected PluginHealth or bool"),
    ],
)
def test_a_broken_health_check_fails_lifecycle(answer: Any, reason: str) -> None:
    sink = type("BrokenHealth", (_HealthSink,), {"answer": answer})
    reasons = _reasons(check_plugin(sink, checks=["lifecycle"], timeout=1.0))
    assert reasons["lifecycle"].startswith(reason)


def test_an_unhealthy_answer_is_a_legitimate_health_check() -> None:
    sink = type("Unhealthy", (_HealthSink,), {"answer": False})
    assert check_plugin(sink, checks=["lifecycle"]).ok


def test_the_pipeline_check_leaves_the_hosts_configuration_and_capture_alone() -> None:
    import fapilog
    from fapilog.builtins.sinks.memory import MemorySink
    from fapilog.testing import capture_events

    host = MemorySink(name="host")
    fapilog.configure(level="WARNING", sinks=[host])
    assert check_plugin(Upper, checks=["pipeline"]).ok
    log = fapilog.get_logger("app")
    log.info("below the host's level")
    log.warning("kept")
    fapilog.flush()
    assert [r["message"] for r in host.records] == ["kept"]
    with capture_events() as events:
        assert check_plugin(Upper, checks=["pipeline"]).ok  # its events do not land in the capture
        log.warning("captured")
    assert events.messages == ["captured"]
