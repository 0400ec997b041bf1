"""Compliance presets: named, documented sets of field names and value patterns, and the ``preset`` redactor.

A preset is data: field-name globs (masked whole, as ``field_mask`` does), built-in value patterns (masked
in place, as ``regex_mask`` does) and whether URL credentials are stripped (as ``url_credentials`` does). The
``preset`` redactor combines any of them into a single pass over each record::

    fapilog.configure(redactors=[{"type": "preset", "names": ["credentials", "pci_dss"]}])

The presets are practical starting points that catch what is commonly logged by mistake, not a
certification: review them against your own data (``docs/plugins/redactors.md`` lists every rule), and add
``field_mask``/``regex_mask`` entries for names and formats that are specific to you.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Any

from fapilog._kit.url_credentials import CredentialStripper
from fapilog._version import __version__
from fapilog.builtins.redactors._base import Depth, Items, Names, RedactorBase
from fapilog.builtins.redactors._keys import KeyMatcher
from fapilog.builtins.redactors._walker import TextRule
from fapilog.builtins.redactors.field_mask import DEFAULT_FIELDS
from fapilog.builtins.redactors.regex_mask import PatternMasker
from fapilog.plugins.constraints import NonEmpty, setting_error, settings_from
from fapilog.plugins.metadata import PluginMetadata

__all__ = ["PRESETS", "SOX_AUDIT_FIELDS", "Preset", "PresetRedactor", "PresetSettings"]

NAME = "preset"


@dataclasses.dataclass(frozen=True)
class Preset:
    """One compliance preset: field-name globs, built-in pattern names, and URL-credential stripping."""

    name: str
    description: str
    fields: tuple[str, ...]
    patterns: tuple[str, ...]
    url_credentials: bool = False


_PERSON_NAMES = ("*first*name*", "*last*name*", "*full*name*", "*given*name*", "*family*name*", "*middle*name*",
                 "*maiden*name*", "*surname*")
_CONTACT = ("*email*", "*e?mail*", "*phone*", "*mobile*", "*fax*")
_ADDRESS = ("*address*", "*street*", "zip", "*zip?code*", "*zipcode*", "*postal?code*", "*postcode*")
_NETWORK = ("ip", "*_ip", "*ip?address*", "*ipaddress*", "remote_addr", "x-forwarded-for", "x-real-ip")
_LOCATION = ("latitude", "longitude", "coordinates", "*geo?location*")
_BIRTH = ("dob", "*birth*")
_NATIONAL_IDS = ("ssn", "*_ssn", "*social?security*", "*national?id*", "*passport*", "*driver*licen?e*")
_BIOMETRIC = ("*biometric*", "*fingerprint*", "*voiceprint*", "*retina*")

CREDENTIALS = Preset(
    "credentials",
    "Passwords, secrets, tokens, API and private keys, auth headers, cookies, and passwords inside connection "
    "strings and URLs.",
    fields=(*DEFAULT_FIELDS, "*passphrase*", "*access?key*", "*accesskey*", "*privatekey*", "*signing?key*",
            "*encryption?key*", "*master?key*", "*credential*", "auth", "*authorization", "*cookie", "cookies",
            "tokens", "access_tokens", "refresh_tokens", "api_tokens", "auth_tokens", "*session?id", "*sessionid",
            "session_key", "jsessionid", "phpsessid", "otp", "totp", "mfa_code", "connection_string",
            "connectionstring"),
    patterns=("private_key", "bearer", "basic_auth", "jwt", "api_key", "aws_access_key", "aws_secret",
              "credential_assignment"),
    url_credentials=True,
)

PCI_DSS = Preset(
    "pci_dss",
    "Cardholder data and sensitive authentication data: card numbers (Luhn-checked), CVV/CVC, expiry, PINs "
    "and magnetic-stripe track data.",
    fields=("*card?number*", "*cardnumber*", "card_no", "cardno", "pan", "primary_account_number", "cc_number",
            "cc_num", "ccnum", "*credit?card*", "*creditcard*", "cvv", "cvv2", "cvc", "cvc2", "cav2",
            "*security?code*", "*card?verification*", "card_expiry", "card_expiration", "card_exp", "expiry",
            "expiry_date", "expiration_date", "exp_date", "exp_month", "exp_year", "*track?data*", "track1",
            "track2", "magstripe", "mag_stripe", "pin", "pin_block", "pinblock"),
    patterns=("track1", "track2", "card_number"),
)

HIPAA_PHI = Preset(
    "hipaa_phi",
    "The 18 HIPAA Safe Harbor identifiers as practical field names (names, addresses, dates, phone, fax, email, "
    "SSN, MRN, health plan, account, licence, vehicle and device ids, URLs, IPs, biometrics, photos) plus "
    "patterns for SSNs, MRNs, dates of birth, phones, emails and IP addresses.",
    fields=(*_PERSON_NAMES, "*patient*name*", *_ADDRESS, "city", "county", *_LOCATION, *_BIRTH,
            "*admission?date*", "*admit?date*", "*discharge?date*", "*death*", *_CONTACT, *_NATIONAL_IDS,
            "mrn", "*_mrn", "*medical?record*", "*patient?id*", "*health?plan*", "*beneficiary*", "*member?id*",
            "*insurance?id*", "*policy?number*", "*subscriber?id*", "*account?number*", "*account?no",
            "*acct?num*", "*bank?account*", "iban", "*licen?e?number*", "*certificate?number*", "vin",
            "*vehicle?id*", "*licen?e?plate*", "*plate?number*", "*serial?number*", "*device?serial*",
            "*device?id*", "imei", "udi", "*personal?url*", "website", *_NETWORK, *_BIOMETRIC, "*photo*",
            "*face?image*"),
    patterns=("email", "ssn", "mrn", "dob", "phone", "ipv4", "ipv6"),
)

GDPR_PII = Preset(
    "gdpr_pii",
    "Personal data under the GDPR: names and user names, contact details, addresses, online identifiers "
    "(IPs, device and advertising ids), dates of birth, national ids, bank details, location, biometrics and "
    "special-category fields.",
    fields=(*_PERSON_NAMES, "*user?name*", "*username*", *_CONTACT, *_ADDRESS, *_NETWORK, "*device?id*",
            "*advertising?id*", "idfa", "gaid", "imei", *_BIRTH, *_NATIONAL_IDS, "*national?insurance*", "nin",
            "*tax?id*", "id_card", "idcard", "*identity?card*", "iban", "*bank?account*", *_LOCATION,
            *_BIOMETRIC, "gender", "*ethnicity*", "*religion*", "*sexual?orientation*"),
    patterns=("email", "phone", "ipv4", "ipv6", "iban"),
)

_FINANCIAL_ACCOUNTS = ("*account?number*", "*accountnumber*", "*account?no", "*acct?num*", "*acct?no",
                       "*bank?account*", "*routing?number*", "*routingnumber*", "aba", "iban", "*sort?code*")

SOX = Preset(
    "sox",
    "Audit trails of financial systems (SOX sections 302/404 controls): keeps who did what to which record, "
    "when and with what outcome, and hides what such a trail must never expose: credentials, financial "
    "account, routing and card numbers, and taxpayer ids.",
    fields=(*CREDENTIALS.fields, *_FINANCIAL_ACCOUNTS, "*card?number*", "*cardnumber*", "pan", "cvv", "cvc",
            "pin", "*tax?id*", "tin", "ssn", "*_ssn", "*social?security*"),
    patterns=(*CREDENTIALS.patterns, "card_number", "iban", "ssn"),
    url_credentials=True,
)
SOX_AUDIT_FIELDS: tuple[str, ...] = (
    "actor", "user_id", "action", "target", "resource", "timestamp", "outcome", "status", "amount", "currency",
    "approver", "change_id", "ticket", "reason",
)
"""Fields a SOX audit trail needs (actor, action, target, time, outcome...): ``sox`` leaves them readable."""

PRESETS: Mapping[str, Preset] = MappingProxyType(
    {preset.name: preset for preset in (CREDENTIALS, PCI_DSS, HIPAA_PHI, GDPR_PII, SOX)}
)
"""Every preset by name, in documentation order."""


def _chain(first: TextRule, second: TextRule) -> TextRule:
    def both(text: str) -> str:
        return second(first(text))

    return both


@dataclasses.dataclass(frozen=True)
class PresetSettings:
    """Settings of ``preset``; see :class:`PresetRedactor`."""

    names: Annotated[Names, NonEmpty] = ("credentials",)
    """Presets to apply together: ``credentials``, ``pci_dss``, ``hipaa_phi``, ``gdpr_pii``, ``sox``."""
    mask: str = "***"
    max_depth: Depth = 16
    max_items: Items = 1000

    def __post_init__(self) -> None:
        for name in self.names:
            if name not in PRESETS:
                raise setting_error("names", f"unknown preset {name!r}; accepted: {', '.join(PRESETS)}", root=NAME)
        object.__setattr__(self, "names", tuple(dict.fromkeys(self.names)))


class PresetRedactor(RedactorBase):
    """Applies one or more compliance presets (``credentials``, ``pci_dss``, ``hipaa_phi``, ``gdpr_pii``, ``sox``).

    Field names are masked whole with ``mask``, pattern matches become ``[REDACTED:<pattern>]``, URL
    credentials become ``<mask>@``, all in one pass. ``max_depth`` and ``max_items`` guard the walk as in
    the other built-in redactors.
    """

    _copy_on_write = True  # see RedactorBase
    metadata = PluginMetadata(
        name=NAME,
        version=__version__,
        kind="redactor",
        description="Compliance presets (credentials, pci_dss, hipaa_phi, gdpr_pii, sox) combined in one pass.",
        config_model=PresetSettings,
    )

    def __init__(self, settings: PresetSettings | None = None, /, **values: Any) -> None:
        """``settings`` (the registry passes the validated model) or the same fields as keywords."""
        settings = self.settings = settings_from(PresetSettings, settings, root=NAME, **values)
        chosen = [PRESETS[name] for name in self.settings.names]
        fields = tuple(dict.fromkeys(field for preset in chosen for field in preset.fields))
        patterns = tuple(dict.fromkeys(pattern for preset in chosen for pattern in preset.patterns))
        text: TextRule = PatternMasker(plugin=NAME, builtins=patterns, patterns=(), replacement="[REDACTED:{name}]")
        if any(preset.url_credentials for preset in chosen):
            text = _chain(CredentialStripper(keep_user=False, mask=settings.mask), text)
        super().__init__(
            keys=KeyMatcher(fields, plugin=NAME, field="names"), text=text, mask=settings.mask,
            max_depth=settings.max_depth, max_items=settings.max_items,
        )
