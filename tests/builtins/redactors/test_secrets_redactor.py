"""The default ``secrets`` redactor, and what it added to the shared walk: header pairs, keys, the fast path."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from tests.builtins.redactors._records import event, one, redact

from fapilog.builtins.redactors.field_mask import FieldMaskRedactor
from fapilog.builtins.redactors.presets import PresetRedactor
from fapilog.builtins.redactors.regex_mask import RegexMaskRedactor
from fapilog.builtins.redactors.secrets import SecretsRedactor
from fapilog.builtins.redactors.url_credentials import UrlCredentialsRedactor
from fapilog.errors import ConfigError


@pytest.mark.parametrize("key", ["session_id", "sessionId", "SESSION-ID", "Session Id", "X-Api-Key", "apiKey",
                                 "HTTP_AUTHORIZATION", "Set-Cookie", "AWS_SECRET_ACCESS_KEY", "user_password",
                                 "http.request.header.authorization", "csrf_token", "tokens"])
def test_names_match_whatever_their_case_and_separators(key: str) -> None:
    """Case and the separators _, - and space do not matter; dotted keys are judged by their last segment."""
    assert one(SecretsRedactor(), **{key: "v"})[key] == "***"


@pytest.mark.parametrize("key", ["max_tokens", "prompt_tokens", "token_count", "aws_access_key_id", "user",
                                 "path", "author", "session", "keyboard"])
def test_names_that_are_not_secrets_stay(key: str) -> None:
    """Counts, ids and ordinary names are left alone."""
    assert one(SecretsRedactor(), **{key: "v"})[key] == "v"


def test_header_pairs_in_every_shape() -> None:
    """Tuples, lists, nested lists of pairs and ASGI bytes pairs have their value masked, the name kept."""
    out = one(SecretsRedactor(), headers=[("Authorization", "Bearer a"), ("Accept", "*/*")],
              raw=[["cookie", "c=1"]], asgi={"headers": [(b"x-api-key", b"k")]}, single=("Proxy-Authorization", "p"))
    assert out["headers"] == [("Authorization", "***"), ("Accept", "*/*")]
    assert out["raw"] == [["cookie", "***"]]
    assert out["asgi"] == {"headers": [(b"x-api-key", "***")]}
    assert out["single"] == ("Proxy-Authorization", "***")


def test_a_list_starting_with_a_secret_name_has_its_second_item_masked() -> None:
    """The documented price of catching pairs: ["password", "email"] loses "email", never the other way."""
    assert one(SecretsRedactor(), missing=["password", "email"])["missing"] == ["password", "***"]
    assert one(SecretsRedactor(), missing=["email", "password", "name"])["missing"] == ["email", "password", "name"]


def test_url_credentials_keep_the_user_and_mask_a_bare_token() -> None:
    """user:password@ keeps the user; a lone user name may be a token and is masked; plain URLs stay."""
    out = one(SecretsRedactor(), "db postgres://app:pw1@db/x", a="https://ghp_abc@github.com/o/r",
              b="https://example.com/a@b", c="ada@example.com", d="redis://:pw2@cache:6379/0")
    assert out["message"] == "db postgres://app:***@db/x"
    assert (out["a"], out["b"], out["c"], out["d"]) == (
        "https://***@github.com/o/r", "https://example.com/a@b", "ada@example.com", "redis://:***@cache:6379/0")


def test_a_secret_used_as_a_top_level_key_is_rewritten_every_time() -> None:
    """A field name holding URL credentials is rewritten, in order, on its first and every later sighting."""
    redactor = SecretsRedactor()
    for _ in range(3):
        out = one(redactor, before=1, **{"amqp://u:pw3@mq//": "up"}, after=2)
        assert list(out) == ["timestamp", "level", "logger", "message", "seq", "before", "amqp://u:***@mq//",
                             "after"]


def test_top_level_keys_are_rewritten_by_value_rules_of_every_redactor() -> None:
    """regex_mask, url_credentials and preset also rewrite a secret used as a top-level field name."""
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXh4eHgtMDAx"
    assert jwt not in str(list(one(RegexMaskRedactor(builtins=["jwt"]), **{jwt: 1})))
    assert "pw4" not in str(list(one(UrlCredentialsRedactor(), **{"https://u:pw4@h": 1})))
    assert jwt not in str(list(one(PresetRedactor(), **{jwt: 1})))


def test_a_plain_record_is_passed_on_as_the_same_object() -> None:
    """No secret name, no URL with credentials, no container: the very record comes back, warm or cold."""
    redactor = SecretsRedactor()
    for _ in range(3):
        record = event("GET /orders 200", user_id=7, path="/orders", email="ada@example.com", took=1.5, ok=True)
        assert redact(redactor, record)[0] is record


def test_a_known_plain_key_is_still_searched_when_its_value_changes() -> None:
    """A field seen plain before is searched again when it holds a container or a URL with credentials."""
    redactor = SecretsRedactor()
    one(redactor, detail="nothing")
    assert one(redactor, detail={"password": "pw5"})["detail"] == {"password": "***"}
    assert one(redactor, detail="see https://u:pw6@h/x")["detail"] == "see https://u:***@h/x"


def test_the_callers_objects_are_never_changed() -> None:
    """Masking copies what it changes: the dicts, lists and tuples the caller logged stay as they were."""
    headers = [("Authorization", "Bearer a")]
    user = {"password": "pw", "names": ["ada"]}
    record = event(headers=headers, user=user)
    before = copy.deepcopy((headers, user))
    redact(SecretsRedactor(), record)
    assert (headers, user) == before


def test_extra_fields_add_to_the_list() -> None:
    """extra_fields masks more names, the defaults included, with the same normalisation."""
    out = one(SecretsRedactor(extra_fields=["pin", "headers.x-internal"]), PIN="1", password="p",
              headers={"X-Internal": "i", "x-other": "o"}, x_internal="top")
    assert (out["PIN"], out["password"], out["headers"], out["x_internal"]) == (
        "***", "***", {"X-Internal": "***", "x-other": "o"}, "top")


@pytest.mark.parametrize("bad", ["pin", [""], [3]])
def test_bad_extra_fields_are_refused(bad: Any) -> None:
    """A string or a list with a non-name is a ConfigError naming secrets.extra_fields."""
    with pytest.raises(ConfigError, match=r"^secrets\.extra_fields: "):
        SecretsRedactor(extra_fields=bad)


def test_field_mask_and_presets_read_header_pairs_too() -> None:
    """The pair rule lives in the shared walk: field_mask and preset mask header pairs as well."""
    pairs = [("Authorization", "Bearer a"), ("Accept", "*/*")]
    assert one(FieldMaskRedactor(), headers=pairs)["headers"] == [("Authorization", "***"), ("Accept", "*/*")]
    assert one(PresetRedactor(), headers=pairs)["headers"] == [("Authorization", "***"), ("Accept", "*/*")]


def test_byte_keys_are_read_as_text() -> None:
    """A mapping keyed by bytes (ASGI, raw headers) is matched by name like a text key."""
    assert one(FieldMaskRedactor(fields=["cookie"]), raw={b"cookie": b"c=1"})["raw"] == {b"cookie": "***"}


def test_name_value_records_have_their_value_masked() -> None:
    """HAR headers, Kubernetes env entries and cloud tags ({"name"/"Key": ..., "value"/"Value": ...}) are read."""
    env = [{"name": "DB_PASSWORD", "value": "pw7"}, {"name": "LOG_LEVEL", "value": "info"}]
    out = one(SecretsRedactor(), env=env,
              har={"headers": [{"name": "Authorization", "value": "Bearer pw8", "comment": ""}]},
              tags=[{"Key": "api-key", "Value": "pw9"}, {"Key": "team", "Value": "pay"}])
    assert out["env"] == [{"name": "DB_PASSWORD", "value": "***"}, {"name": "LOG_LEVEL", "value": "info"}]
    assert out["har"] == {"headers": [{"name": "Authorization", "value": "***", "comment": ""}]}
    assert out["tags"] == [{"Key": "api-key", "Value": "***"}, {"Key": "team", "Value": "pay"}]


def test_larger_mappings_are_not_read_as_name_value_records() -> None:
    """A mapping with more than four entries is an ordinary object: its `value` is kept when `name` is secret."""
    row = {"name": "password", "value": 3, "min": 1, "max": 5, "unit": "attempts"}
    assert one(SecretsRedactor(), limit=row)["limit"] == row
