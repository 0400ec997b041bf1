"""The network sinks' settings go through the one validation engine: the same checks at configure() and in code."""

from __future__ import annotations

from typing import Any

import pytest

import fapilog
from fapilog.builtins.sinks.http import HttpSink, HttpSinkSettings
from fapilog.builtins.sinks.otlp import OtlpSink

_REQUIRED: dict[str, dict[str, Any]] = {
    "http": {"url": "http://127.0.0.1:9/ingest"},
    "otlp": {"endpoint": "http://127.0.0.1:9/v1/logs"},
    "loki": {"url": "http://127.0.0.1:9"},
    "cloudwatch": {"log_group": "/fapilog/test"},
}


def _refused(spec: dict[str, Any]) -> fapilog.ConfigError:
    with pytest.raises(fapilog.ConfigError) as caught:
        fapilog.configure(sinks=[spec])
    return caught.value


@pytest.mark.parametrize("sink", list(_REQUIRED))
@pytest.mark.parametrize("timeout", [0, -1, "soon", 100_000])
def test_a_bad_timeout_is_refused_at_configure_naming_the_path_once(sink: str, timeout: object) -> None:
    """A timeout out of range or not a number is a ConfigError whose field is sinks[0].timeout, said once."""
    error = _refused({"type": sink, **_REQUIRED[sink], "timeout": timeout})
    assert error.field == "sinks[0].timeout"
    assert str(error).startswith(f"sinks[0]: {sink}.timeout: must be a number > 0")
    assert str(error).count("timeout") == 1


@pytest.mark.parametrize(("spec", "code", "field"), [
    ({"type": "http", "url": "ftp://x"}, "FL-SNK-003", "sinks[0].url"),
    ({"type": "otlp", "endpoint": "nope"}, "FL-SNK-004", "sinks[0].endpoint"),
    ({"type": "loki", "url": "http://127.0.0.1:9", "labels": {"a-b": "x"}}, "FL-SNK-005", "sinks[0].labels.a-b"),
    ({"type": "cloudwatch", "log_group": "g", "retention_days": 2}, "FL-SNK-006", "sinks[0].retention_days"),
])
def test_a_meaning_check_keeps_the_sinks_own_code(spec: dict[str, Any], code: str, field: str) -> None:
    """A check in a sink's settings model keeps the sink's stable code and field through configure()."""
    error = _refused(spec)
    assert (error.code, error.field) == (code, field)


def test_the_otlp_endpoint_error_shows_what_the_user_wrote() -> None:
    """An endpoint without a scheme is quoted as written ('nope'), not as a rebuilt '://nope'."""
    error = _refused({"type": "otlp", "endpoint": "nope"})
    assert str(error).endswith("got 'nope'") and "://nope" not in str(error)


def test_an_endpoint_error_never_shows_credentials() -> None:
    """User information and a query in a refused endpoint stay out of the message."""
    with pytest.raises(fapilog.ConfigError) as caught:
        OtlpSink("user:hunter2@collector?key=querysecret")
    assert "hunter2" not in str(caught.value) and "querysecret" not in str(caught.value)


@pytest.mark.parametrize("headers", [{"X-Key": "a\r\nX-Injected: 1"}, {"Bad Name": "v"}])
def test_a_header_that_would_break_the_request_is_refused(headers: dict[str, str]) -> None:
    """A header value with a line break, or a name with a space, is refused naming the header."""
    name = next(iter(headers))
    error = _refused({"type": "http", **_REQUIRED["http"], "headers": headers})
    assert error.field == f"sinks[0].headers.{name}" and error.code == "FL-SNK-003"


def test_constructing_in_code_runs_the_same_checks() -> None:
    """HttpSink(url, timeout=0) fails as the configured table does, with the field relative to the sink."""
    with pytest.raises(fapilog.ConfigError) as caught:
        HttpSink("http://127.0.0.1:9/ingest", timeout=0)
    assert caught.value.field == "timeout" and str(caught.value).startswith("http.timeout: ")


def test_the_settings_model_repr_hides_credentials() -> None:
    """The URL, headers, auth and HMAC key of a settings model do not show in its repr."""
    settings = HttpSinkSettings(url="http://u:urlpass@127.0.0.1:9/?k=q", headers={"X-Api-Key": "headerkey"},
                                auth={"bearer": "tokenvalue"}, hmac={"secret": "hmackey"})
    shown = repr(settings) + repr(HttpSink(settings))
    for secret in ("urlpass", "headerkey", "tokenvalue", "hmackey"):
        assert secret not in shown
