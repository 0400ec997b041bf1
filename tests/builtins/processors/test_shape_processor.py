"""The built-in ``shape`` processor: renames, nesting, collisions and the ECS, Datadog and GCP presets."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

import fapilog
from fapilog._kit.exception_fields import structure_exception
from fapilog._kit.record import EventRecord
from fapilog._registry.registry import PluginRegistry
from fapilog.builtins.processors.shape import ECS_VERSION, ShapeProcessor, gcp_severity, parse_target
from fapilog.builtins.sinks.memory import MemorySink
from fapilog.errors import ConfigError

TRACE = "0af7651916cd43dd8448eb211c80319c"
SPAN = "b7ad6b7169203331"


def record(**fields: Any) -> EventRecord:
    base = {"timestamp": "2025-01-02T03:04:05.000001Z", "level": "WARNING", "logger": "app", "message": "hi",
            "seq": 7}
    return EventRecord({**base, **fields})


def shape(rec: Mapping[str, Any], **options: Any) -> Mapping[str, Any]:
    (out,) = asyncio.run(ShapeProcessor(**options).process_batch([rec]))
    return out


def an_exception() -> dict[str, Any]:
    try:
        try:
            raise KeyError("inner")
        except KeyError as inner:
            raise ValueError("outer") from inner
    except ValueError as exc:
        return structure_exception(exc)


def test_renames_move_fields_and_dots_nest() -> None:
    """{"message": "msg", "level": "log.level"} renames and nests, keeping the record's field order."""
    out = shape(record(user="ada"), renames={"message": "msg", "level": "log.level"})
    assert out == {"timestamp": "2025-01-02T03:04:05.000001Z", "log": {"level": "WARNING"}, "logger": "app",
                   "msg": "hi", "seq": 7, "user": "ada"}
    assert list(out) == ["timestamp", "log", "logger", "msg", "seq", "user"]


def test_escaped_dots_stay_in_the_name() -> None:
    """A backslash keeps a dot literal: one flat key, as GCP's special fields need."""
    assert parse_target("logging\\.googleapis\\.com/insertId") == ("logging.googleapis.com/insertId",)
    out = shape(record(request_id="r1"), renames={"request_id": "logging\\.googleapis\\.com/insertId"})
    assert out["logging.googleapis.com/insertId"] == "r1"


def test_a_renamed_field_displaces_an_existing_one_without_losing_it() -> None:
    """When the target name is taken by a record field, that field moves to '<name>_'."""
    out = shape(record(msg="old"), renames={"message": "msg"})
    assert out["msg"] == "hi" and out["msg_"] == "old"


def test_nesting_merges_into_an_existing_object_of_the_record() -> None:
    """A record's own 'log' object gains the renamed keys instead of being replaced."""
    before = shape(record(log={"origin": "x"}), renames={"level": "log.level"})
    assert before["log"] == {"level": "WARNING", "origin": "x"}
    early = {"log": {"origin": "x"}, "level": "INFO"}
    assert shape(early, renames={"level": "log.level"})["log"] == {"origin": "x", "level": "INFO"}


def test_a_value_in_the_way_of_nesting_becomes_a_flat_dotted_key() -> None:
    """Renaming into 'x.y' when 'x' is a renamed scalar writes 'x.y' flat rather than lose either."""
    out = shape({"a": 1, "b": 2}, renames={"a": "x", "b": "x.y"})
    assert out == {"x": 1, "x.y": 2}


def test_the_record_is_returned_as_is_when_no_rename_applies() -> None:
    """Without a preset and without any renamed field present, the same object comes back."""
    rec = record()
    assert shape(rec, renames={"absent": "other"}) is rec


def test_ecs_preset() -> None:
    """ECS: @timestamp, log.level (lower case), log.logger, event.sequence, error.*, trace/span, ecs.version."""
    rec = record(exception=an_exception(), trace_id=TRACE, span_id=SPAN, service="api", environment="prod",
                 version="1.2", host="web-1", pid=42)
    out = shape(rec, preset="ecs")
    assert out["@timestamp"] == rec["timestamp"] and out["message"] == "hi"
    assert out["log"] == {"level": "warning", "logger": "app"}
    assert out["event"] == {"sequence": 7}
    assert out["error"]["type"] == "ValueError" and out["error"]["message"] == "outer"
    assert "KeyError: 'inner'" in out["error"]["stack_trace"]
    assert out["trace"] == {"id": TRACE} and out["span"] == {"id": SPAN}
    assert out["service"] == {"name": "api", "environment": "prod", "version": "1.2"}
    assert out["host"] == {"hostname": "web-1"} and out["process"] == {"pid": 42}
    assert out["ecs"] == {"version": ECS_VERSION}
    assert "exception" not in out and "timestamp" not in out


def test_datadog_preset() -> None:
    """Datadog: status, logger.name, error.kind/message/stack, dd.trace_id/dd.span_id in decimal, env."""
    out = shape(record(exception=an_exception(), trace_id=TRACE, span_id=SPAN, environment="prod"),
                preset="datadog")
    assert out["status"] == "warning" and out["logger"] == {"name": "app"}
    assert out["error"]["kind"] == "ValueError" and out["error"]["stack"].startswith("Traceback")
    assert out["dd"] == {"trace_id": str(int(TRACE[16:], 16)), "span_id": str(int(SPAN, 16))}
    assert out["trace_id"] == TRACE and out["env"] == "prod"


def test_gcp_preset() -> None:
    """GCP: severity, time, stack_trace, sourceLocation from the innermost frame, trace resource name."""
    exc = an_exception()
    out = shape(record(exception=exc, trace_id=TRACE, span_id=SPAN, trace_flags="01"), preset="gcp", project="p1")
    assert out["severity"] == "WARNING" and out["time"] == "2025-01-02T03:04:05.000001Z"
    assert out["stack_trace"].endswith("ValueError: outer")
    innermost = exc["frames"][-1]
    assert out["logging.googleapis.com/sourceLocation"] == {
        "file": innermost["file"], "line": str(innermost["line"]), "function": innermost["function"]}
    assert out["logging.googleapis.com/trace"] == f"projects/p1/traces/{TRACE}"
    assert out["logging.googleapis.com/spanId"] == SPAN
    assert out["logging.googleapis.com/trace_sampled"] is True


@pytest.mark.parametrize(
    ("level", "severity"),
    [("DEBUG", "DEBUG"), ("INFO", "INFO"), ("LEVEL25", "NOTICE"), ("WARN", "WARNING"), ("ERROR", "ERROR"),
     ("CRITICAL", "CRITICAL"), ("NOTSET", "DEFAULT"), ("LEVEL5", "DEFAULT"), ("LEVEL15", "DEBUG"), (45, "ERROR"),
     ("custom", "DEFAULT")],
)
def test_gcp_severity_mapping(level: object, severity: str) -> None:
    """Level names and numbers map to Cloud Logging severities; between INFO and WARNING is NOTICE."""
    assert gcp_severity(level) == severity


def test_user_renames_win_over_the_preset() -> None:
    """A rename of a field the preset also maps replaces the preset's rule for that field."""
    out = shape(record(), preset="ecs", renames={"logger": "logger_name"})
    assert out["logger_name"] == "app" and out["log"] == {"level": "warning"}


@pytest.mark.parametrize(
    ("options", "start"),
    [
        ({"preset": "splunk"}, "shape.preset: got 'splunk'; accepted: 'ecs', 'datadog', 'gcp'"),
        ({"renames": {"a": ""}}, "shape.renames:"),
        ({"renames": {"a": "x..y"}}, "shape.renames:"),
        ({"renames": ["a"]}, "shape.renames: expected a table"),
        ({"project": "p1"}, "shape.project: expected a GCP project id, used with preset 'gcp' only"),
        ({"preset": "gcp", "project": ""}, "shape.project:"),
    ],
)
def test_bad_settings_name_the_field(options: dict[str, Any], start: str) -> None:
    """Invalid settings raise ConfigError starting with '<plugin>.<field>:'."""
    with pytest.raises(ConfigError) as caught:
        ShapeProcessor(**options)
    assert str(caught.value).startswith(start)


def test_settings_by_table_reach_the_constructor() -> None:
    """Configured as a table, renames and preset are validated and applied."""
    registry = PluginRegistry([ShapeProcessor], entry_points=False)
    _, instance = registry.create("processor", {"type": "shape", "preset": "gcp", "renames": {"seq": "n"}})
    assert isinstance(instance, ShapeProcessor)
    assert asyncio.run(instance.process(record()))["n"] == 7


def test_end_to_end_through_the_pipeline() -> None:
    """A configured ECS shape reaches the sink's JSON lines."""
    sink = MemorySink()
    fapilog.configure(sinks=[sink], processors=[ShapeProcessor(preset="ecs")])
    fapilog.get_logger("e2e").warning("careful", user="ada")
    assert fapilog.flush(5.0)
    (event,) = sink.records
    assert event["log"] == {"level": "warning", "logger": "e2e"} and event["user"] == "ada"
    assert set(event) == {"@timestamp", "log", "message", "event", "user", "ecs"}
