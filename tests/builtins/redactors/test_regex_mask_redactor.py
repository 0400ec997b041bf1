"""The ``regex_mask`` redactor: secret substrings masked wherever strings are."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.builtins.redactors._records import event, one, redact

from fapilog.builtins.redactors.regex_mask import PATTERN_NAMES, RegexMaskRedactor, luhn_valid
from fapilog.builtins.sinks.memory import MemorySink
from fapilog.errors import ConfigError

JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

VALID_CARDS = [
    "4111111111111111",  # Visa
    "4242 4242 4242 4242",
    "5555-5555-5555-4444",  # Mastercard
    "2223003122003222",  # Mastercard 2-series
    "378282246310005",  # Amex
    "3782 822463 10005",
    "6011111111111117",  # Discover
    "3530111333300000",  # JCB
    "30569309025904",  # Diners
    "6011000990139424",
]
NOT_CARDS = [
    "4111111111111112",  # fails Luhn
    "1234 5678 9012 3456",
    "1718000000000",  # epoch milliseconds (Luhn-valid by chance would still not lead with 2-6)
    "79927398713",  # Luhn-valid but only 11 digits
    "4111 1111 1111 111",  # 15 digits, fails Luhn
    "12345678901234567890123",  # too long for a card
]


def scan(text: str, **settings: Any) -> str:
    """The message after redaction with the given settings."""
    out: str = one(RegexMaskRedactor(**settings), text)["message"]
    return out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"token {JWT} end", "token [REDACTED:jwt] end"),
        ("key sk-proj-Ab3dEf6hIj9kLm2nOp5q done", "key [REDACTED:api_key] done"),
        ("stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc", "stripe [REDACTED:api_key]"),
        ("gh ghp_16C7e42F292c6912E7710c838347Ae178B4a ok", "gh [REDACTED:api_key] ok"),
        ("slack xoxb-123456789012-abcdefABCDEF", "slack [REDACTED:api_key]"),
        ("id AKIAIOSFODNN7EXAMPLE used", "id [REDACTED:aws_access_key] used"),
        (f"aws_secret_access_key={AWS_SECRET}", "aws_secret_access_key=[REDACTED:aws_secret]"),
        (f'{{"SecretAccessKey": "{AWS_SECRET}"}}', '{"SecretAccessKey": "[REDACTED:aws_secret]"}'),
        ("mail ada.lovelace+logs@example.co.uk now", "mail [REDACTED:email] now"),
        ("Authorization: Bearer abc123def456ghi", "Authorization: Bearer [REDACTED:bearer]"),
        ("card 4111 1111 1111 1111 exp 12/30", "card [REDACTED:card_number] exp 12/30"),
    ],
)
def test_default_patterns_mask_only_the_secret_part(text: str, expected: str) -> None:
    """Each default pattern replaces just the matching substring by [REDACTED:<name>]."""
    assert scan(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "the task-manager-module started",  # 'sk-' inside a word is not an API key
        "bearer of bad news",  # prose, not a token
        "a 40-character run with no key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "version 1.2.3 at 12:30:45",
        "user ada at example dot com",
    ],
)
def test_look_alikes_are_left_alone(text: str) -> None:
    """Text that only resembles a secret is not changed."""
    assert scan(text) == text


@pytest.mark.parametrize("card", VALID_CARDS)
def test_luhn_valid_card_numbers_are_masked(card: str) -> None:
    """Card numbers of the major networks that pass the Luhn check are masked, grouped or not."""
    assert scan(f"paid with {card}.") == "paid with [REDACTED:card_number]."


@pytest.mark.parametrize("digits", NOT_CARDS)
def test_digit_runs_failing_the_card_checks_are_left(digits: str) -> None:
    """Digit runs that fail Luhn, length or network checks are not masked."""
    assert scan(f"ref {digits}") == f"ref {digits}"


def test_card_next_to_other_digits_is_found() -> None:
    """A card with a quantity before it and its expiry after it is still masked whole."""
    assert scan("qty 5 5 4111 1111 1111 1111 1230") == "qty 5 5 [REDACTED:card_number] 1230"
    assert scan("two: 4111111111111111 5555555555554444") == "two: [REDACTED:card_number] [REDACTED:card_number]"


def test_card_number_logged_as_an_int_is_masked() -> None:
    """A Luhn-valid integer field becomes the masked text; other integers are kept."""
    out = one(RegexMaskRedactor(), card=4111111111111111, order=4111111111111112, count=3)
    assert out["card"] == "[REDACTED:card_number]"
    assert (out["order"], out["count"]) == (4111111111111112, 3)


@given(st.integers(min_value=2, max_value=6), st.text(alphabet="0123456789", min_size=11, max_size=17))
def test_luhn_property(first: int, body: str) -> None:
    """Appending the Luhn check digit gives a masked number; any other last digit leaves it alone."""
    stem = f"{first}{body}"
    check = next(d for d in "0123456789" if luhn_valid(stem + d))
    wrong = str((int(check) + 1) % 10)
    assert scan(f"n {stem}{check}") == "n [REDACTED:card_number]"
    assert scan(f"n {stem}{wrong}") == f"n {stem}{wrong}"


def test_every_string_in_the_record_is_scanned() -> None:
    """Message, nested values, list items, mapping keys and exception messages are all scanned."""
    record = event(
        "mail from ada@example.com",
        payload={"to": ["bob@example.com"], "ada@example.com": "key of a mapping"},
        exception={
            "type": "RuntimeError",
            "message": f"upstream said {JWT}",
            "frames": [],
            "truncated_frames": 0,
            "cause": {"type": "KeyError", "message": "AKIAIOSFODNN7EXAMPLE", "frames": [], "truncated_frames": 0},
        },
    )
    out = redact(RegexMaskRedactor(), record)[0]
    assert out["message"] == "mail from [REDACTED:email]"
    assert out["payload"] == {"to": ["[REDACTED:email]"], "[REDACTED:email]": "key of a mapping"}
    assert out["exception"]["message"] == "upstream said [REDACTED:jwt]"
    assert out["exception"]["cause"]["message"] == "[REDACTED:aws_access_key]"


def test_masked_keys_that_collide_stay_distinct() -> None:
    """Two mapping keys that mask to the same text keep both values."""
    out = one(RegexMaskRedactor(builtins=["email"]), by_user={"a@example.com": 1, "b@example.com": 2})
    assert out["by_user"] == {"[REDACTED:email]": 1, "[REDACTED:email]#2": 2}


def test_objects_are_scanned_through_their_text() -> None:
    """An object that is not JSON-native is replaced by its masked text only when it holds a secret."""

    class Dsn:
        def __str__(self) -> str:
            return "user ada@example.com"

    clean = object()
    out = one(RegexMaskRedactor(), dsn=Dsn(), other=clean, raw=b"to ada@example.com")
    assert out["dsn"] == "user [REDACTED:email]"
    assert out["other"] is clean
    assert out["raw"] == "to [REDACTED:email]"


def test_user_patterns_are_applied() -> None:
    """Your own regular expressions are masked with the 'custom' label."""
    assert scan("order ORD-12345678 ok", patterns=[r"ORD-[0-9]{8}"]) == "order [REDACTED:custom] ok"


def test_user_pattern_secret_group_keeps_the_rest() -> None:
    """With a group named secret only that group is replaced."""
    text = "session=abc123; path=/"
    assert scan(text, builtins=[], patterns=[r"session=(?P<secret>[^;]+)"]) == "session=[REDACTED:custom]; path=/"


def test_builtins_can_be_chosen_from_the_whole_library() -> None:
    """Patterns beyond the defaults (here ssn and ipv4) are enabled by name."""
    assert scan("ssn 123-45-6789 from 10.1.2.3", builtins=["ssn", "ipv4"]) == "ssn [REDACTED:ssn] from [REDACTED:ipv4]"


def test_replacement_template() -> None:
    """The replacement text may use {name}."""
    assert scan("ada@example.com", replacement="<{name} removed>") == "<email removed>"
    assert scan("ada@example.com", replacement="#") == "#"


def test_default_patterns_are_the_documented_seven() -> None:
    """Without builtins the seven documented patterns apply and the rest of the library does not."""
    assert RegexMaskRedactor().settings.builtins == (
        "jwt", "api_key", "aws_access_key", "aws_secret", "email", "card_number", "bearer"
    )
    assert scan("ssn 123-45-6789") == "ssn 123-45-6789"


@pytest.mark.parametrize("pattern", PATTERN_NAMES)
def test_library_patterns_scan_hostile_input_in_linear_time(pattern: str) -> None:
    """A 200 kB string built to provoke backtracking is scanned quickly by every built-in pattern."""
    hostile = ("a" * 50 + "@" + "1 " * 50 + "-" * 20 + ":" * 10 + "eyJ" + "=" * 5 + "bearer ") * 250
    redactor = RegexMaskRedactor(builtins=[pattern])
    started = time.process_time()
    one(redactor, hostile)
    assert time.process_time() - started < 5.0


@pytest.mark.parametrize(
    ("settings", "field", "fragment"),
    [
        ({"patterns": ["("]}, "patterns", "'(' is not a valid regular expression (missing )"),
        ({"patterns": ["a*"]}, "patterns", "matches the empty string"),
        ({"patterns": "abc"}, "patterns", "expected a list"),
        ({"builtins": ["jwt", "nope"]}, "builtins", "unknown pattern 'nope'; accepted: private_key, bearer"),
        ({"builtins": [], "patterns": []}, "builtins", "no pattern is enabled"),
        ({"replacement": "{oops}"}, "replacement", "not a valid template"),
        ({"replacement": None}, "replacement", "must be text"),
        ({"max_depth": 1000}, "max_depth", ">= 1 and <= 200"),
    ],
)
def test_invalid_settings_name_plugin_and_field(settings: dict[str, Any], field: str, fragment: str) -> None:
    """A bad setting raises ConfigError starting 'regex_mask.<field>:' and saying what is accepted."""
    with pytest.raises(ConfigError) as caught:
        RegexMaskRedactor(**settings)
    assert str(caught.value).startswith(f"regex_mask.{field}:")
    assert fragment in str(caught.value)


def test_masks_through_the_real_pipeline() -> None:
    """Configured in fapilog, secrets in the message and in fields never reach the sink's bytes."""
    import fapilog

    sink = MemorySink()
    fapilog.configure(sinks=[sink], redactors=[RegexMaskRedactor()])
    log = fapilog.get_logger("billing")
    log.info("charged 4111 1111 1111 1111 for ada@example.com", upstream={"auth": f"Bearer {JWT}"})
    try:
        raise RuntimeError("AWS rejected AKIAIOSFODNN7EXAMPLE")
    except RuntimeError:
        log.exception("upstream failed")
    fapilog.flush(5.0)
    joined = b"\n".join(sink.lines)
    for secret in (b"4111 1111 1111 1111", b"ada@example.com", JWT.encode(), b"AKIAIOSFODNN7EXAMPLE"):
        assert secret not in joined
    assert sink.records[1]["exception"]["message"] == "AWS rejected [REDACTED:aws_access_key]"
