"""Secure by default: with nothing but a file sink configured, no planted secret reaches the file.

Each channel below is a way a secret is commonly logged by mistake; every test plants unique secrets
(``S3CRET-<n>-...``), logs through the public API into the real file sink with default settings, flushes,
reads the file and asserts that no planted secret appears anywhere in it while every event was delivered.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fapilog
from fapilog.builtins.redactors.secrets import SECRET_NAMES, SecretsRedactor

MARK = "S3CRET-"


def secret(n: int) -> str:
    """The secret planted by channel ``n``: unique, and found by its ``S3CRET-`` mark in any output."""
    return f"{MARK}{n:02d}-x9"


@dataclasses.dataclass
class DbConfig:
    """A dataclass a service might log whole."""

    host: str
    password: str


def _stdlib(n: int, extra: dict[str, Any]) -> None:
    fapilog.capture_stdlib(level="INFO")
    logging.getLogger("thirdparty").warning(f"channel-{n}", extra=extra)


# channel number -> how it logs its secret (every call logs exactly one event whose message is channel-<n>)
CHANNELS: dict[int, Callable[[Any], None]] = {
    1: lambda log: log.info("channel-1", password=secret(1)),
    2: lambda log: log.info("channel-2", passwd=secret(2)),
    3: lambda log: log.info("channel-3", api_key=secret(3)),
    4: lambda log: log.info("channel-4", apiKey=secret(4)),
    5: lambda log: log.info("channel-5", client_secret=secret(5)),
    6: lambda log: log.info("channel-6", access_token=secret(6), refresh_token=secret(6)),
    7: lambda log: log.info("channel-7", user={"name": "ada", "Password": secret(7)}),
    8: lambda log: log.info("channel-8", a={"b": {"c": {"d": {"e": {"private_key": secret(8)}}}}}),
    9: lambda log: log.info("channel-9", accounts=[{"id": 1, "password": secret(9)}, {"id": 2}]),
    10: lambda log: log.info("channel-10", pairs=({"db_password": secret(10)},)),
    11: lambda log: log.info("channel-11", tokens=[secret(11), secret(11)]),
    12: lambda log: log.info("channel-12", session_id=secret(12)),
    13: lambda log: log.info("channel-13", headers={"Authorization": f"Bearer {secret(13)}"}),
    14: lambda log: log.info("channel-14", headers={"Cookie": f"sid={secret(14)}", "Set-Cookie": secret(14)}),
    15: lambda log: log.info("channel-15", headers=[("Authorization", f"Bearer {secret(15)}"), ("Accept", "*/*")]),
    16: lambda log: log.info("channel-16", headers=[["X-Api-Key", secret(16)]]),
    17: lambda log: log.info("channel-17", scope={"headers": [(b"authorization", f"Basic {secret(17)}".encode())]}),
    18: lambda log: log.info("channel-18", header=("Proxy-Authorization", secret(18))),
    19: lambda log: log.info("channel-19", environ={"HTTP_AUTHORIZATION": secret(19), "HTTP_COOKIE": secret(19)}),
    20: lambda log: log.bind(credentials={"user": "ada", "key": secret(20)}).info("channel-20"),
    21: lambda log: _bound_context(log, 21),
    22: lambda log: _scoped_context(log, 22),
    23: lambda log: _stdlib(23, {"password": secret(23)}),
    24: lambda log: _stdlib(24, {"request": {"headers": {"authorization": secret(24)}}}),
    25: lambda log: log.info("channel-25", dsn=f"postgresql://app:{secret(25)}@db:5432/orders"),
    26: lambda log: log.info(f"channel-26 calling https://bot:{secret(26)}@api.example.com/v1"),
    27: lambda log: log.info("channel-27", mirrors=["https://example.com", f"https://{secret(27)}@github.com/o/r"]),
    28: lambda log: log.info("channel-28", **{f"redis://:{secret(28)}@cache:6379/0": "up"}),
    29: lambda log: log.info("channel-29", config=DbConfig(host="db", password=secret(29))),
    30: lambda log: _exception(log, 30),
    31: lambda log: log.info("channel-31", env=[{"name": "DB_PASSWORD", "value": secret(31)}]),
}


def _bound_context(log: Any, n: int) -> None:
    token = fapilog.bind(auth_token=secret(n))
    try:
        log.info(f"channel-{n}")
    finally:
        fapilog.unbind("auth_token")
        del token


def _scoped_context(log: Any, n: int) -> None:
    with fapilog.scoped(request={"cookies": {"session": secret(n)}}):
        log.info(f"channel-{n}")


def _exception(log: Any, n: int) -> None:
    try:
        raise ConnectionError(f"cannot reach amqp://worker:{secret(n)}@mq:5672//")
    except ConnectionError:
        log.exception(f"channel-{n}")


def _log_to_file(tmp_path: Path, channels: list[int]) -> tuple[str, list[dict[str, Any]]]:
    """Configure only a file sink, log through ``channels``, flush; the file's text and its parsed lines."""
    path = tmp_path / "app.log"
    fapilog.configure(sinks=[{"type": "file", "path": str(path)}])
    log = fapilog.get_logger("svc")
    for n in channels:
        CHANNELS[n](log)
    assert fapilog.flush(10.0)
    fapilog.release_stdlib()
    text = path.read_text(encoding="utf-8")
    return text, [json.loads(line) for line in text.splitlines()]


def test_no_channel_leaks_a_secret_with_default_settings(tmp_path: Path) -> None:
    """Every one of the 31 channels is delivered to the file and none of their secrets is in it."""
    text, events = _log_to_file(tmp_path, sorted(CHANNELS))
    assert sorted(event["message"].split()[0] for event in events) == sorted(f"channel-{n}" for n in CHANNELS)
    assert MARK not in text, [line for line in text.splitlines() if MARK in line]


@pytest.mark.parametrize("n", sorted(CHANNELS))
def test_each_channel_alone(tmp_path: Path, n: int) -> None:
    """Each channel on its own delivers its event without its secret."""
    text, events = _log_to_file(tmp_path, [n])
    assert [event["message"].split()[0] for event in events] == [f"channel-{n}"]
    assert secret(n) not in text


def test_what_is_not_secret_survives(tmp_path: Path) -> None:
    """Masking keeps the event readable: names, hosts, non-secret headers and counts stay as logged."""
    _, events = _log_to_file(tmp_path, [7, 15, 25, 26, 29])
    by_message = {event["message"].split()[0]: event for event in events}
    assert by_message["channel-7"]["user"] == {"name": "ada", "Password": "***"}
    assert by_message["channel-15"]["headers"] == [["Authorization", "***"], ["Accept", "*/*"]]
    assert by_message["channel-25"]["dsn"] == "postgresql://app:***@db:5432/orders"
    assert by_message["channel-26"]["message"] == "channel-26 calling https://bot:***@api.example.com/v1"
    assert by_message["channel-29"]["config"] == {"host": "db", "password": "***"}


def test_llm_token_counts_are_not_masked(tmp_path: Path) -> None:
    """Plural token names that are counts (max_tokens, prompt_tokens) stay readable."""
    path = tmp_path / "app.log"
    fapilog.configure(sinks=[{"type": "file", "path": str(path)}])
    fapilog.get_logger("llm").info("completion", max_tokens=512, prompt_tokens=31, token_count=7)
    assert fapilog.flush(10.0)
    event = json.loads(path.read_text(encoding="utf-8"))
    assert (event["max_tokens"], event["prompt_tokens"], event["token_count"]) == (512, 31, 7)


def test_an_explicit_list_keeps_the_default_first(tmp_path: Path) -> None:
    """Configuring a redactor of one's own adds to the default, which runs before it."""
    seen: list[Any] = []

    class Spy:
        """A redactor of the user's that records the password it is given (real pipeline, own object)."""

        async def redact(self, record: dict[str, Any]) -> dict[str, Any]:
            seen.append(record.get("password"))
            return record

    path = tmp_path / "app.log"
    fapilog.configure(sinks=[{"type": "file", "path": str(path)}],
                      redactors=[Spy(), {"type": "regex_mask", "builtins": ["email"]}])
    fapilog.get_logger("svc").info("mail ada@example.com", password=secret(1))
    assert fapilog.flush(10.0)
    event = json.loads(path.read_text(encoding="utf-8"))
    assert (event["message"], event["password"]) == ("mail [REDACTED:email]", "***")
    assert seen == ["***"]


def test_a_list_naming_the_default_runs_it_where_given(tmp_path: Path) -> None:
    """When the list names `secrets`, it runs at that place and with the settings given there."""
    seen: list[Any] = []

    class Spy:
        """A redactor of the user's that records the password it is given (real pipeline, own object)."""

        async def redact(self, record: dict[str, Any]) -> dict[str, Any]:
            seen.append(record.get("password"))
            return record

    path = tmp_path / "app.log"
    fapilog.configure(sinks=[{"type": "file", "path": str(path)}],
                      redactors=[Spy(), {"type": "secrets", "mask": "[x]"}])
    fapilog.get_logger("svc").info("login", password="pw-seen-by-the-spy")
    assert fapilog.flush(10.0)
    assert json.loads(path.read_text(encoding="utf-8"))["password"] == "[x]"
    assert seen == ["pw-seen-by-the-spy"]


@pytest.mark.parametrize(
    "options",
    [{"redactors": []}, {"plugins": {"disabled": ["secrets"]}}, {"plugins": {"deny": ["secrets"]}}],
    ids=["empty-list", "disabled", "denied"],
)
def test_the_default_can_be_turned_off(tmp_path: Path, options: dict[str, Any]) -> None:
    """redactors=[] or disabling/denying `secrets` lets a password through: the opt-out is explicit."""
    path = tmp_path / "app.log"
    fapilog.configure(sinks=[{"type": "file", "path": str(path)}], **options)
    fapilog.get_logger("svc").info("login", password="plain-for-the-test")
    assert fapilog.flush(10.0)
    assert json.loads(path.read_text(encoding="utf-8"))["password"] == "plain-for-the-test"


def test_an_allow_list_does_not_switch_the_default_off(tmp_path: Path) -> None:
    """plugins.allow written for sinks only still runs the default redactor (and raises no error)."""
    path = tmp_path / "app.log"
    fapilog.configure(sinks=[{"type": "file", "path": str(path)}], plugins={"allow": ["file"]})
    fapilog.get_logger("svc").info("login", password=secret(1))
    assert fapilog.flush(10.0)
    assert json.loads(path.read_text(encoding="utf-8"))["password"] == "***"


def test_extra_fields_extend_the_default_from_the_environment(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """FAPILOG_PLUGINS__SETTINGS adds names to the default list without replacing it."""
    monkeypatch.setenv("FAPILOG_PLUGINS__SETTINGS", '{"secrets": {"extra_fields": ["pin"]}}')
    path = tmp_path / "app.log"
    fapilog.configure(sinks=[{"type": "file", "path": str(path)}])
    fapilog.get_logger("atm").info("withdrawal", pin="4321", password=secret(1), amount=40)
    assert fapilog.flush(10.0)
    event = json.loads(path.read_text(encoding="utf-8"))
    assert (event["pin"], event["password"], event["amount"]) == ("***", "***", 40)


def test_bad_default_settings_name_the_field() -> None:
    """A bad value under plugins.settings.secrets is a ConfigError naming that field."""
    expected = r"^plugins\.settings\.secrets: secrets\.extra_fields: expected a list, got 'pin'"
    with pytest.raises(fapilog.ConfigError, match=expected) as caught:
        fapilog.configure(sinks=["memory"], plugins={"settings": {"secrets": {"extra_fields": "pin"}}})
    assert caught.value.field == "plugins.settings.secrets.extra_fields"


# --- property: a planted secret under any secret name, at any depth, never survives -------------------------

_NAME_SAMPLES = ["password", "db_password", "passwd", "client_secret", "access_token", "token", "tokens",
                 "api_key", "X-Api-Key", "apiKey", "private_key", "authorization", "Proxy-Authorization", "cookie",
                 "Set-Cookie", "session_id", "sessionId", "JSESSIONID", "credentials", "otp", "auth",
                 "connection_string", "HTTP_AUTHORIZATION"]
_FILLER = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 ", max_size=8)
_FILLER_KEYS = st.sampled_from(["id", "name", "host", "items", "meta", "count", "kind"])


@st.composite
def _any_case(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(_NAME_SAMPLES))
    return "".join(c.upper() if draw(st.booleans()) else c.lower() for c in name)


def _with_secret(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    planted_dict = st.builds(lambda base, key: {**base, key: f"{MARK}planted"},
                             st.dictionaries(_FILLER_KEYS, children, max_size=3), _any_case())
    planted_pair = st.builds(lambda key, as_list: [key, f"{MARK}planted"] if as_list else (key, f"{MARK}planted"),
                             _any_case(), st.booleans())
    return st.one_of(
        planted_dict,
        planted_pair,
        st.lists(children, max_size=3),
        st.lists(children, max_size=3).map(tuple),
        st.dictionaries(_FILLER_KEYS, children, max_size=3),
    )


@settings(deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.recursive(st.one_of(_FILLER, st.integers(-(2**63), 2**63 - 1), st.none()), _with_secret, max_leaves=20),
       top=_any_case())
def test_a_planted_secret_never_survives_the_default(data: Any, top: str) -> None:
    """Under a secret name in any casing, at any depth of dicts, lists, tuples and header pairs: masked."""
    record = {"message": "m", "data": data, top: f"{MARK}top"}
    [out] = asyncio.run(SecretsRedactor().redact_batch([record]))
    assert MARK.encode() not in orjson.dumps(out, option=orjson.OPT_NON_STR_KEYS)


def test_every_default_name_is_documented() -> None:
    """docs/redaction.md lists each entry of SECRET_NAMES."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "redaction.md").read_text(encoding="utf-8")
    for name in SECRET_NAMES:
        assert f"`{name}`" in doc, name
