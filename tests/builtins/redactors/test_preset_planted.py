"""Every compliance preset against planted data: nothing planted survives, what an audit needs does.

Each preset gets a record holding the data it promises to hide, by field name (at several depths, in header
pairs, as a key) and inside free text, next to the fields an audit trail must keep. The record goes through
the preset's batch form, is serialized as a JSON sink would write it, and the bytes are searched for every
planted value.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from tests.builtins.redactors._records import event, redact

import fapilog
from fapilog.builtins.redactors.presets import PRESETS, SOX_AUDIT_FIELDS, PresetRedactor
from fapilog.builtins.redactors.secrets import SecretsRedactor

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwbGFudGVkIn0.c2lnbmF0dXJlLXBsYW50ZWQtMDAx"
STRIPE = "sk_live_PLNT4eC39HqLyjWDarjtT1zdp7dc"
AKIA = "AKIAPLNTODNN7EXAMPLE"

AUDIT: dict[str, Any] = {
    "actor": "u-1042", "user_id": 1042, "action": "ledger.post", "target": "journal/JE-2291",
    "resource": "gl/4000", "outcome": "success", "status": 200, "amount": 1250.75, "currency": "USD",
    "approver": "u-7", "change_id": "CHG-77", "ticket": "FIN-311", "reason": "month-end accrual",
}
"""Fields an audit trail keeps: no preset may touch them."""

# preset -> (fields holding planted values, message with planted text, the planted values)
PLANTED: dict[str, tuple[dict[str, Any], str, list[str]]] = {
    "credentials": (
        {
            "password": "plnt-pw-1", "db_password": "plnt-pw-2", "oauth": {"client_secret": "plnt-cs-3",
            "refresh_token": "plnt-rt-4", "access_token": "plnt-at-5"},
            "tokens": ["plnt-tok-6", "plnt-tok-7"], "session_id": "plnt-sid-8", "sessionId": "plnt-sid-9",
            "headers": [("Authorization", "Bearer plnt-hdr-10"), ("Accept", "text/html")],
            "raw_headers": [["Cookie", "plnt-ck-11"]], "asgi": [(b"x-api-key", b"plnt-asgi-12")],
            "proxy": ("Proxy-Authorization", "plnt-pa-13"), "X-Api-Key": "plnt-key-14",
            "nested": [{"deep": {"private_key": "plnt-pk-15"}}],
            JWT: "owner-of-a-jwt-used-as-key", "keys": {STRIPE: "stripe"},
            "upstream": f"called with {AKIA}", "dsn": "postgres://app:plnt-url-16@db/x",
        },
        "conn host=db user=app password=plnt-msg-17 via Bearer plntBearer18token",
        ["plnt-pw-1", "plnt-pw-2", "plnt-cs-3", "plnt-rt-4", "plnt-at-5", "plnt-tok-6", "plnt-tok-7",
         "plnt-sid-8", "plnt-sid-9", "plnt-hdr-10", "plnt-ck-11", "plnt-asgi-12", "plnt-pa-13", "plnt-key-14",
         "plnt-pk-15", JWT, STRIPE, AKIA, "plnt-url-16", "plnt-msg-17", "plntBearer18token"],
    ),
    "pci_dss": (
        {
            "payment": {"card_number": "4111111111111111", "cvv": "737", "expiry": "11/31", "pin": "8642"},
            "cards": [{"cardNumber": "5555555555554444"}], "swipe": "%B4012888888881881^PLNT/ADA^3112101?",
            "track2": ";4222222222222=31121010000000000000?", "4000056655665556": "card used as a key",
        },
        "charged 3782 822463 10005 ok",
        ["4111111111111111", "737", "11/31", "8642", "5555555555554444", "4012888888881881", "PLNT/ADA",
         "4222222222222", "4000056655665556", "3782 822463 10005"],
    ),
    "hipaa_phi": (
        {
            "patient": {"first_name": "Plntada", "lastName": "Plntlovelace", "dob": "1961-04-12",
                        "ssn": "219-09-9999", "mrn": "MRN-PLNT-1", "address": "12 Plnt Street"},
            "contacts": [{"email": "plnt@example.com", "phone": "+1 415 555 2671"}], "client_ip": "10.9.8.7",
        },
        "patient MRN: PLNT4455 DOB: 1970-01-02 reached at (415) 555-0199 or plnt2@example.org from 10.1.2.3",
        ["Plntada", "Plntlovelace", "1961-04-12", "219-09-9999", "MRN-PLNT-1", "Plnt Street", "plnt@example.com",
         "555 2671", "10.9.8.7", "PLNT4455", "1970-01-02", "555-0199", "plnt2@example.org", "10.1.2.3"],
    ),
    "gdpr_pii": (
        {
            "user": {"username": "plntuser", "full_name": "Plnt Person", "passport_no": "PLNTX123",
                     "national_id": "QQ123456C", "iban": "GB82 WEST 1234 5698 7654 32"},
            "remote_addr": "203.0.113.77", "devices": [{"device_id": "plnt-dev-1"}],
        },
        "signup from 2001:db8::8a2e:370:7334 by plnt3@example.com, +44 20 7946 0958",
        ["plntuser", "Plnt Person", "PLNTX123", "QQ123456C", "GB82 WEST", "203.0.113.77", "plnt-dev-1",
         "2001:db8::8a2e:370:7334", "plnt3@example.com", "7946 0958"],
    ),
    "sox": (
        {
            "password": "plnt-pw-21", "api_key": "plnt-key-22", "session_id": "plnt-sid-23",
            "headers": [("Authorization", "Bearer plnt-hdr-24")],
            "transfer": {"account_number": "plnt-acct-25", "routing_number": "plnt-rtn-26",
                         "iban": "DE89 3704 0044 0532 0130 00", "bank_account": {"no": "plnt-bank-27"}},
            "payee": {"tax_id": "plnt-tin-28", "ssn": "plnt-ssn-29"}, "card_number": "4111111111111111",
            "ledger_db": "mysql://gl:plnt-url-30@db/ledger",
        },
        "posted by u-1042 with card 4242 4242 4242 4242, payee SSN 078-05-1120, token=plnt-msg-31",
        ["plnt-pw-21", "plnt-key-22", "plnt-sid-23", "plnt-hdr-24", "plnt-acct-25", "plnt-rtn-26",
         "DE89 3704", "plnt-bank-27", "plnt-tin-28", "plnt-ssn-29", "4111111111111111", "plnt-url-30",
         "4242 4242 4242 4242", "078-05-1120", "plnt-msg-31"],
    ),
}


def dumped(record: object) -> bytes:
    """The record as the bytes a JSON sink would write."""
    return orjson.dumps(record, option=orjson.OPT_NON_STR_KEYS, default=lambda b: b.decode("latin-1"))


def test_every_preset_has_planted_data() -> None:
    """The planted table covers every preset there is."""
    assert sorted(PLANTED) == sorted(PRESETS)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_nothing_planted_survives_a_preset(name: str) -> None:
    """Every value planted for a preset is absent from the serialized output of that preset."""
    fields, message, planted = PLANTED[name]
    [out] = redact(PresetRedactor(names=[name]), event(message, **fields, **AUDIT))
    line = dumped(out)
    left = [value for value in planted if value.encode() in line]
    assert not left, f"{name} let through {left}: {line.decode()}"


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_audit_fields_survive_a_preset(name: str) -> None:
    """actor, action, target, outcome, amounts and ids are left exactly as logged by every preset."""
    fields, message, _ = PLANTED[name]
    [out] = redact(PresetRedactor(names=[name]), event(message, **fields, **AUDIT))
    assert {key: out[key] for key in AUDIT} == AUDIT
    assert out["timestamp"] == "2026-01-02T03:04:05.000006Z"


def test_the_audit_table_covers_the_documented_sox_fields() -> None:
    """SOX_AUDIT_FIELDS (documented as what sox keeps) are all among the fields checked to survive."""
    assert set(SOX_AUDIT_FIELDS) - {"timestamp"} <= set(AUDIT)


def test_all_presets_together_keep_the_audit_fields() -> None:
    """Even all five presets at once leave the audit fields alone."""
    everything: dict[str, Any] = {}
    for fields, _, _ in PLANTED.values():
        everything.update(fields)
    [out] = redact(PresetRedactor(names=list(PRESETS)), event("m", **everything, **AUDIT))
    assert {key: out[key] for key in AUDIT} == AUDIT
    line = dumped(out)
    assert [v for _, _, planted in PLANTED.values() for v in planted if v.encode() in line] == []


@pytest.mark.parametrize(
    "key",
    ["password", "db_password", "client_secret", "access_token", "token", "tokens", "api_key", "X-Api-Key",
     "apiKey", "private_key", "Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "cookies",
     "session_id", "sessionId", "JSESSIONID", "credentials", "otp", "auth", "connection_string",
     "HTTP_AUTHORIZATION", "HTTP_COOKIE", "refresh_tokens"],
)
def test_credentials_preset_masks_what_the_default_masks(key: str) -> None:
    """Every name the default `secrets` redactor masks, the credentials preset masks too."""
    record = event("m", **{key: "plnt-value"})
    [by_default] = redact(SecretsRedactor(), record)
    [by_preset] = redact(PresetRedactor(names=["credentials"]), record)
    assert by_default[key] == "***"
    assert by_preset[key] == "***"


def test_sox_through_a_real_file_sink(tmp_path: Path) -> None:
    """Configured as a table, sox keeps the audit trail readable in the file and hides every planted value."""
    fields, message, planted = PLANTED["sox"]
    path = tmp_path / "audit.log"
    fapilog.configure(sinks=[{"type": "file", "path": str(path)}], redactors=[{"type": "preset", "names": ["sox"]}])
    fapilog.get_logger("audit").info(message, **fields, **AUDIT)
    assert fapilog.flush(10.0)
    text = path.read_text(encoding="utf-8")
    assert [value for value in planted if value in text] == []
    assert {key: json.loads(text)[key] for key in AUDIT} == AUDIT


def test_a_pair_whose_name_is_itself_a_secret_value_masks_both_items() -> None:
    """`[" sk-…credential… ", ""]` looks like a (secret name, value) pair: the value is masked, and the name,
    itself an API key, still goes through the value rules (hypothesis found it passing through whole)."""
    record = event(valued=[" sk-CREDENTIAL0000009 ", ""], nested=(" sk-CREDENTIAL0000009 ", "x"))
    out = redact(PresetRedactor(names=["credentials", "pci_dss", "hipaa_phi", "gdpr_pii"]), record)[0]
    line = orjson.dumps(dict(out))
    assert b"sk-CREDENTIAL0000009" not in line
    assert out["valued"][1] == "***" and out["nested"][1] == "***"
