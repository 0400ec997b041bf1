"""The compliance presets and the ``preset`` redactor that combines them."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest
from tests.builtins.redactors._records import event, one, redact

from fapilog.builtins.redactors.presets import PRESETS, Preset, PresetRedactor
from fapilog.builtins.redactors.regex_mask import PATTERN_NAMES
from fapilog.builtins.sinks.memory import MemorySink
from fapilog.errors import ConfigError

DOC = Path(__file__).resolve().parents[3] / "docs" / "plugins" / "redactors.md"

PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
    "-----END RSA PRIVATE KEY-----"
)
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"


def dumped(record: object) -> bytes:
    """The record as the bytes a JSON sink would write."""
    return orjson.dumps(record, option=orjson.OPT_NON_STR_KEYS)


def test_there_are_five_presets() -> None:
    """credentials, pci_dss, hipaa_phi, gdpr_pii and sox, in that order."""
    assert list(PRESETS) == ["credentials", "pci_dss", "hipaa_phi", "gdpr_pii", "sox"]


@pytest.mark.parametrize("preset", PRESETS.values(), ids=list(PRESETS))
def test_every_rule_of_a_preset_is_documented(preset: Preset) -> None:
    """Each preset's section of docs/plugins/redactors.md lists every field glob and pattern it applies."""
    text = DOC.read_text(encoding="utf-8")
    section = re.search(rf"### `{preset.name}`\n(.*?)(?=\n### |\n## |\Z)", text, re.DOTALL)
    assert section is not None, f"no section for {preset.name}"
    listed = set(re.findall(r"`([^`]+)`", section.group(1)))
    assert set(preset.fields) <= listed
    assert set(preset.patterns) <= listed


@pytest.mark.parametrize("name", PATTERN_NAMES)
def test_every_library_pattern_is_documented(name: str) -> None:
    """The pattern table of the docs has a row for every built-in pattern."""
    assert f"| `{name}` |" in DOC.read_text(encoding="utf-8")


def test_credentials_preset() -> None:
    """Passwords, tokens, keys, auth headers, cookies, private keys and connection-string passwords are gone."""
    secrets = ["hunter2", "s3cr3t-client", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "Zm9vOmJhcg", "ck=abc123",
               "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun", "pgpass99", "dsnpass77",
               "AKIAIOSFODNN7EXAMPLE", JWT, "otp-123456", "refresh-xyz"]
    record = event(
        f"deploy key {PEM} loaded; db postgres://app:pgpass99@db/x; conn host=db user=app password=dsnpass77",
        password="hunter2",
        oauth={"client_secret": "s3cr3t-client", "refresh_token": "refresh-xyz"},
        stripe_api_key="sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        headers={"Authorization": "Basic Zm9vOmJhcg==", "Cookie": "ck=abc123", "Accept": "text/html"},
        upstream=f"called with key AKIAIOSFODNN7EXAMPLE and Bearer {JWT}",
        otp="otp-123456",
        user="ada",
    )
    out = redact(PresetRedactor(names=["credentials"]), record)[0]
    line = dumped(out)
    for secret in secrets:
        assert secret.encode() not in line, secret
    assert out["headers"]["Accept"] == "text/html"
    assert out["user"] == "ada"
    assert "postgres://***@db/x" in out["message"]


def test_pci_dss_preset() -> None:
    """Card numbers (Luhn-checked), CVV, expiry, PIN and track data are gone; other numbers stay."""
    record = event(
        "charged 5555 5555 5555 4444 ok, order 4111111111111112",
        payment={"card_number": "4111111111111111", "cvv": "123", "expiry": "12/30", "pin": "4321",
                 "amount": 42},
        swipe="%B4111111111111111^LOVELACE/ADA^3012101000000000000000000?",
        track2=";4111111111111111=30121010000000000000?",
    )
    out = redact(PresetRedactor(names=["pci_dss"]), record)[0]
    line = dumped(out)
    for secret in ("5555 5555 5555 4444", "4111111111111111", "LOVELACE", '"123"', "12/30", "4321"):
        assert secret.encode() not in line, secret
    assert out["payment"]["amount"] == 42
    assert "order 4111111111111112" in out["message"]


def test_hipaa_phi_preset() -> None:
    """The Safe Harbor identifiers, by field name and by pattern, are gone."""
    record = event(
        "patient MRN: A1234567 DOB: 1961-04-12 called from (415) 555-2671 about 123-45-6789 via 10.2.3.4",
        patient={"first_name": "Ada", "lastName": "Lovelace", "address": "12 St James's Sq", "zip_code": "02139",
                 "email": "ada@example.com", "ssn": "123-45-6789", "medical_record_number": "MRN-9",
                 "device_serial": "DX-1", "visit": "routine"},
        client_ip="192.168.1.20",
    )
    out = redact(PresetRedactor(names=["hipaa_phi"]), record)[0]
    line = dumped(out)
    for secret in ("A1234567", "1961-04-12", "555-2671", "123-45-6789", "10.2.3.4", "Ada", "Lovelace",
                   "St James", "02139", "ada@example.com", "MRN-9", "DX-1", "192.168.1.20"):
        assert secret.encode() not in line, secret
    assert out["patient"]["visit"] == "routine"


def test_gdpr_pii_preset() -> None:
    """Names, contact details, addresses, IPs, national ids and bank details are gone."""
    record = event(
        "signup from 2001:db8::8a2e:370:7334 by ada@example.com, +44 20 7946 0958, IBAN GB82 WEST 1234 5698 7654 32",
        user={"username": "ada", "full_name": "Ada Lovelace", "phone": "+44 20 7946 0958", "passport_no": "X123",
              "street": "St James's Sq", "national_id": "QQ123456C", "plan": "pro"},
        remote_addr="203.0.113.9",
    )
    out = redact(PresetRedactor(names=["gdpr_pii"]), record)[0]
    line = dumped(out)
    for secret in ("2001:db8::8a2e:370:7334", "ada@example.com", "7946 0958", "GB82 WEST", "Ada Lovelace",
                   "X123", "St James", "QQ123456C", "203.0.113.9", '"ada"'):
        assert secret.encode() not in line, secret
    assert out["user"]["plan"] == "pro"


def test_presets_combine() -> None:
    """Several presets apply together in one redactor."""
    out = one(PresetRedactor(names=["credentials", "pci_dss"]), password="pw", cvv="123", note="card 4111111111111111")
    assert (out["password"], out["cvv"], out["note"]) == ("***", "***", "card [REDACTED:card_number]")


def test_default_preset_is_credentials() -> None:
    """Without names the credentials preset applies."""
    redactor = PresetRedactor()
    assert redactor.settings.names == ("credentials",)
    assert one(redactor, password="pw", cvv="123")["cvv"] == "123"


def test_custom_mask_applies_to_fields_and_urls() -> None:
    """The mask setting replaces masked fields and URL credentials alike."""
    out = one(PresetRedactor(mask="[hidden]"), "redis://u:p@cache:6379", token="t")
    assert out["token"] == "[hidden]"
    assert out["message"] == "redis://[hidden]@cache:6379"


def test_unknown_preset_lists_the_accepted_ones() -> None:
    """An unknown preset name is a ConfigError naming the accepted presets."""
    with pytest.raises(ConfigError) as caught:
        PresetRedactor(names=["credentials", "soc2"])
    assert str(caught.value) == (
        "preset.names: unknown preset 'soc2'; accepted: credentials, pci_dss, hipaa_phi, gdpr_pii, sox"
    )
    assert caught.value.field == "names"


def test_empty_preset_list_is_refused() -> None:
    """At least one preset must be named."""
    with pytest.raises(ConfigError, match=r"^preset\.names: must not be empty"):
        PresetRedactor(names=[])


def test_preset_through_the_real_pipeline() -> None:
    """Configured in fapilog, nothing a preset covers reaches the sink's bytes."""
    import fapilog

    sink = MemorySink()
    fapilog.configure(sinks=[sink], redactors=[PresetRedactor(names=["credentials", "pci_dss", "gdpr_pii"])])
    log = fapilog.get_logger("checkout")
    log.info("paid by ada@example.com with 4111 1111 1111 1111", password="hunter2", cvv="987",
             dsn="mysql://shop:sh0pPass@db/shop")
    fapilog.flush(5.0)
    [line] = sink.lines
    # the cvv is checked as a JSON string: the timestamp's milliseconds may read 987
    for secret in (b"ada@example.com", b"4111 1111 1111 1111", b"hunter2", b'"987"', b"sh0pPass"):
        assert secret not in line
