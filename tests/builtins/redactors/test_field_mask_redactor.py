"""The ``field_mask`` redactor: values masked by field name, at any depth."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
from typing import Any

import pydantic
import pytest
from tests.builtins.redactors._records import event, one, redact

from fapilog._kit.record import EventRecord
from fapilog.builtins.redactors.field_mask import FieldMaskRedactor
from fapilog.builtins.sinks.memory import MemorySink
from fapilog.errors import ConfigError
from fapilog.plugins.protocols import Redactor


def test_is_a_redactor_plugin() -> None:
    """The class satisfies the redactor protocol and names itself field_mask."""
    redactor = FieldMaskRedactor()
    assert isinstance(redactor, Redactor)
    assert redactor.metadata.name == "field_mask"
    assert redactor.metadata.kind == "redactor"


def test_masks_a_top_level_field() -> None:
    """A matching top-level field's value is replaced by the mask."""
    out = one(FieldMaskRedactor(fields=["password"]), user="ada", password="hunter2")
    assert out["password"] == "***"
    assert out["user"] == "ada"


def test_keys_match_case_insensitively() -> None:
    """PASSWORD, Password and password are the same field name."""
    out = one(FieldMaskRedactor(fields=["password"]), PASSWORD="a", Password="b", nested={"pAsSwOrD": "c"})
    assert (out["PASSWORD"], out["Password"], out["nested"]["pAsSwOrD"]) == ("***", "***", "***")


def test_patterns_are_compared_case_insensitively_too() -> None:
    """A pattern written in capitals still matches lower-case keys."""
    assert one(FieldMaskRedactor(fields=["X-API-KEY"]), **{"x-api-key": "k"})["x-api-key"] == "***"


def test_masks_nested_dicts_and_lists_of_dicts() -> None:
    """Matching keys inside nested dicts and inside dicts held in lists are masked."""
    out = one(
        FieldMaskRedactor(fields=["token"]),
        request={"headers": {"token": "t1"}, "items": [{"token": "t2", "id": 1}, [{"token": "t3"}]]},
    )
    assert out["request"]["headers"]["token"] == "***"
    assert out["request"]["items"][0] == {"token": "***", "id": 1}
    assert out["request"]["items"][1] == [{"token": "***"}]


@pytest.mark.parametrize(
    ("pattern", "key", "masked"),
    [
        ("*token*", "access_token", True),
        ("*token*", "TokenValue", True),
        ("*token*", "tokens_used", True),
        ("*token", "tokens_used", False),
        ("api?key", "api-key", True),
        ("api?key", "api_key", True),
        ("api?key", "apikey", False),
        ("card_[0-9]", "card_7", True),
        ("card_[0-9]", "card_x", False),
    ],
)
def test_glob_patterns(pattern: str, key: str, masked: bool) -> None:
    """Shell-style globs (*, ?, [...]) decide which keys are masked."""
    out = one(FieldMaskRedactor(fields=[pattern]), **{key: "value"})
    assert (out[key] == "***") is masked


def test_dotted_pattern_matches_under_its_parent_anywhere() -> None:
    """headers.authorization matches at the top level and under any deeper headers mapping."""
    redactor = FieldMaskRedactor(fields=["headers.authorization"])
    out = one(redactor, headers={"Authorization": "a"}, request={"headers": {"authorization": "b"}})
    assert out["headers"]["Authorization"] == "***"
    assert out["request"]["headers"]["authorization"] == "***"


def test_dotted_pattern_leaves_the_same_name_elsewhere() -> None:
    """authorization outside a headers mapping is not matched by headers.authorization."""
    out = one(FieldMaskRedactor(fields=["headers.authorization"]), authorization="x", meta={"authorization": "y"})
    assert out["authorization"] == "x"
    assert out["meta"]["authorization"] == "y"


def test_star_dot_pattern_skips_the_top_level() -> None:
    """*.secret matches a nested secret but not a top-level one."""
    out = one(FieldMaskRedactor(fields=["*.secret"]), secret="top", nested={"deeper": {"secret": "low"}})
    assert out["secret"] == "top"
    assert out["nested"]["deeper"]["secret"] == "***"


def test_lists_are_transparent_in_paths() -> None:
    """The dicts inside items: [...] have the path items, so items.password matches them."""
    out = one(FieldMaskRedactor(fields=["items.password"]), items=[{"password": "p"}, {"name": "n"}])
    assert out["items"] == [{"password": "***"}, {"name": "n"}]


def test_dotted_flat_keys_are_read_as_paths() -> None:
    """An OpenTelemetry-style flat key matches both a dotted pattern and a bare last-segment name."""
    key = "http.request.header.authorization"
    assert one(FieldMaskRedactor(fields=["header.authorization"]), **{key: "a"})[key] == "***"
    assert one(FieldMaskRedactor(fields=["authorization"]), **{key: "a"})[key] == "***"


def test_whole_container_under_a_matching_key_is_masked() -> None:
    """A dict or list under a matching name is replaced whole, not searched."""
    out = one(FieldMaskRedactor(fields=["credentials"]), credentials={"user": "u", "keys": ["k1", "k2"]})
    assert out["credentials"] == "***"


def test_custom_mask_text() -> None:
    """The mask setting is the replacement text, the empty string included."""
    assert one(FieldMaskRedactor(fields=["pin"], mask="<hidden>"), pin=1234)["pin"] == "<hidden>"
    assert one(FieldMaskRedactor(fields=["pin"], mask=""), pin=1234)["pin"] == ""


def test_exception_field_is_searched() -> None:
    """The structured exception (and its cause) is redacted like any nested field."""
    exception = {
        "type": "ValueError",
        "message": "bad",
        "frames": [{"file": "app.py", "line": 3, "function": "f"}],
        "truncated_frames": 0,
        "cause": {"type": "KeyError", "message": "worse", "frames": [], "truncated_frames": 0},
    }
    out = one(FieldMaskRedactor(fields=["exception.message", "cause.message"]), exception=exception)
    assert out["message"] == "something happened"
    assert out["exception"]["message"] == "***"
    assert out["exception"]["cause"]["message"] == "***"
    assert out["exception"]["frames"] == exception["frames"]


def test_core_keys_are_never_masked() -> None:
    """timestamp, level and seq come from the core, so even '*' leaves them; everything else is masked."""
    out = one(FieldMaskRedactor(fields=["*"]), user="ada")
    assert out["timestamp"] == "2026-01-02T03:04:05.000006Z"
    assert out["level"] == "INFO"
    assert out["seq"] == 7
    assert out["message"] == out["logger"] == out["user"] == "***"


def test_untouched_record_is_returned_as_is() -> None:
    """A record with nothing to mask is the very same object (no copy)."""
    record = event(user={"name": "ada"}, items=[1, 2])
    assert redact(FieldMaskRedactor(fields=["password"]), record)[0] is record


def test_changed_record_keeps_the_capture_data() -> None:
    """A masked record is still an EventRecord with the worker's timestamp and level number."""
    record = event(password="hunter2")
    out = redact(FieldMaskRedactor(fields=["password"]), record)[0]
    assert type(out) is EventRecord
    assert (out.ts_ns, out.levelno) == (record.ts_ns, record.levelno)
    assert not hasattr(out, "json")


def test_the_callers_objects_are_never_mutated() -> None:
    """Nested dicts and lists the caller passed are copied on write, never changed in place."""
    user = {"name": "ada", "password": "hunter2", "tags": [{"token": "t"}], "keep": {"x": 1}}
    before = copy.deepcopy(user)
    record = event(user=user)
    out = redact(FieldMaskRedactor(fields=["password", "token"]), record)[0]
    assert user == before
    assert record["user"] is user
    assert out["user"] is not user
    assert out["user"]["keep"] is user["keep"]  # untouched subtrees are shared, not copied


def test_dataclass_and_pydantic_fields_are_masked() -> None:
    """Objects the serializer expands (dataclasses, pydantic models) are searched by field name too."""

    @dataclasses.dataclass
    class Login:
        user: str
        password: str

    class Account(pydantic.BaseModel):
        name: str
        api_key: str

    redactor = FieldMaskRedactor(fields=["password", "api_key"])
    out = one(redactor, login=Login("ada", "pw"), account=Account(name="a", api_key="k"))
    assert out["login"] == {"user": "ada", "password": "***"}
    assert out["account"] == {"name": "a", "api_key": "***"}


def test_non_string_keys_are_compared_by_their_text() -> None:
    """An integer key is matched by its decimal text."""
    out = one(FieldMaskRedactor(fields=["42"]), table={42: "secret", 7: "open"})
    assert out["table"] == {42: "***", 7: "open"}


def test_redact_and_redact_batch_agree() -> None:
    """The single-record form gives the same result as the batch form."""
    redactor = FieldMaskRedactor(fields=["password"])
    record = event(password="x", other={"password": "y"})
    assert asyncio.run(redactor.redact(record)) == redact(redactor, record)[0]


def test_defaults_cover_the_usual_secret_names() -> None:
    """With no fields given, common secret names are masked and ordinary ones kept."""
    out = one(
        FieldMaskRedactor(),
        password="a", db_password="b", client_secret="c", access_token="d", api_key="e", Authorization="f",
        cookie="g", private_key="h", user="ada", tokens_used=12,
    )
    masked = {"password", "db_password", "client_secret", "access_token", "api_key", "Authorization", "cookie",
              "private_key"}
    assert all(out[key] == "***" for key in masked)
    assert (out["user"], out["tokens_used"]) == ("ada", 12)


@pytest.mark.parametrize(
    ("settings", "field", "fragment"),
    [
        ({"fields": []}, "fields", "must not be empty"),
        ({"fields": "password"}, "fields", "expected a list"),
        ({"fields": ["ok", ""]}, "fields", "entry 1 must not be empty"),
        ({"fields": ["a..b"]}, "fields", "empty path segment"),
        ({"mask": 0}, "mask", "must be text"),
        ({"max_depth": 0}, "max_depth", ">= 1 and <= 200"),
        ({"max_items": True}, "max_items", ">= 1 and <= 10,000,000"),
    ],
)
def test_invalid_settings_name_plugin_and_field(settings: dict[str, Any], field: str, fragment: str) -> None:
    """A bad setting raises ConfigError starting 'field_mask.<field>:' and saying what is accepted."""
    with pytest.raises(ConfigError) as caught:
        FieldMaskRedactor(**settings)
    assert str(caught.value).startswith(f"field_mask.{field}:")
    assert fragment in str(caught.value)
    assert caught.value.field == field


def test_masks_through_the_real_pipeline() -> None:
    """Configured in fapilog, the secret never reaches the sink's bytes."""
    import fapilog

    sink = MemorySink()
    fapilog.configure(sinks=[sink], redactors=[FieldMaskRedactor(fields=["password", "headers.authorization"])])
    fapilog.get_logger("auth").info(
        "login", password="hunter2", request={"headers": {"Authorization": "Bearer s3cr3t-t0ken"}}
    )
    fapilog.flush(5.0)
    [line] = sink.lines
    assert b"hunter2" not in line
    assert b"s3cr3t-t0ken" not in line
    assert sink.records[0]["request"]["headers"]["Authorization"] == "***"
