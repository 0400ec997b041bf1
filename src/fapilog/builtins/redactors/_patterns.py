"""The library of named value patterns: what a secret or identifier looks like inside a string.

Each pattern is written to scan in linear time (every repetition is delimited by characters it cannot
contain, and each starts only where a run of its characters starts), so a long hostile string cannot stall
the worker. A pattern may mark the secret part with a group named ``s``; only that part is replaced, so
``Bearer abc...`` becomes ``Bearer [REDACTED:bearer]`` and a key name before a secret stays readable. A
``locate`` function, given the secret part, rejects look-alikes or narrows the part: card numbers must pass
the Luhn check, IBANs the mod-97 check, IPv6 candidates :mod:`ipaddress`.

The tuple's order is the matching priority when two patterns start at the same position.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import ipaddress
import re
from collections.abc import Callable

__all__ = ["DEFAULT_PATTERNS", "LIBRARY", "NAMES", "Locate", "NamedPattern", "luhn_valid"]

Locate = Callable[[str], list[tuple[int, int]]]
"""Finds the spans to replace inside a match: ``[]`` rejects a look-alike, a narrower span trims it."""

_CARD_SEPARATORS = str.maketrans("", "", " -")
_DIGIT_GROUPS = re.compile(r"[0-9]+")
_MIN_CARD_DIGITS, _MAX_CARD_DIGITS = 13, 19  # ISO/IEC 7812
_NETWORK_DIGITS = frozenset("23456")  # Mastercard 2-series, Amex/Diners/JCB, Visa, Mastercard, Discover/UnionPay


def luhn_valid(number: str) -> bool:
    """True for a 13-19 digit number (spaces and dashes ignored) that passes the Luhn checksum."""
    digits = number.translate(_CARD_SEPARATORS)
    if not (_MIN_CARD_DIGITS <= len(digits) <= _MAX_CARD_DIGITS and digits.isdigit()):
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2  # doubling folds 10..18 back to 1..9
        total += value
    return total % 10 == 0


def _card_spans(text: str) -> list[tuple[int, int]]:
    """Where card numbers sit in a run of digit groups (``"order 12 4111 1111 1111 1111 exp 12"``).

    Every run of whole groups that starts with a group of at least four digits led by a network digit, holds
    13-19 digits and passes the Luhn check is a candidate; the union of the candidates is masked. A card next
    to other digits (a quantity before it, its expiry after it) is thus masked whole even when a look-alike
    overlaps it, and the work stays linear: at most seven ends per starting group.
    """
    groups = [match.span() for match in _DIGIT_GROUPS.finditer(text)]
    spans: list[tuple[int, int]] = []
    for first, (start, first_end) in enumerate(groups):
        if first_end - start < 4 or text[start] not in _NETWORK_DIGITS:
            continue
        digits = 0
        for last in range(first, len(groups)):
            digits += groups[last][1] - groups[last][0]
            if digits > _MAX_CARD_DIGITS:
                break
            end = groups[last][1]
            if digits >= _MIN_CARD_DIGITS and luhn_valid(text[start:end]):
                if spans and start <= spans[-1][1]:
                    spans[-1] = (spans[-1][0], max(spans[-1][1], end))
                else:
                    spans.append((start, end))
    return spans


def _whole(check: Callable[[str], bool]) -> Locate:
    def locate(text: str) -> list[tuple[int, int]]:
        return [(0, len(text))] if check(text) else []

    locate.__doc__ = check.__doc__
    return locate


def _iban_valid(text: str) -> bool:
    compact = text.replace(" ", "")
    if not 15 <= len(compact) <= 34:  # the shortest (Norway) and longest IBANs
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def _ipv6_valid(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def _basic_credentials(text: str) -> bool:
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return b":" in decoded


def _ssn_valid(text: str) -> bool:
    area, group, serial = text[:3], text[4:6], text[7:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def _phone_digits(text: str) -> bool:
    return 8 <= sum(char.isdigit() for char in text) <= 15  # E.164 allows at most 15 digits


@dataclasses.dataclass(frozen=True)
class NamedPattern:
    """One built-in pattern: its ``name`` (also the label in ``[REDACTED:<name>]``) and regular expression."""

    name: str
    regex: str
    description: str
    locate: Locate | None = None
    """Given the matched text, where the real secrets are inside it (none for a look-alike)."""
    triggers: tuple[str, ...] = ()
    """Lower-case literals of which the lower-cased text must contain one before the regex runs at all (a few
    substring tests cost far less than a scan); empty for patterns that must always run."""


_TOKEN = r"[A-Za-z0-9._~+/-]"
_KEYWORD_SEP = r"""["']?\s*[:=]\s*["']?"""

# Patterns that always run start with a character class, not a lookbehind, so the regex engine can skip
# through the text in C; their "not preceded by" check is a two-character lookbehind after the first one.
LIBRARY: tuple[NamedPattern, ...] = (
    NamedPattern(
        "private_key",
        r"-----BEGIN[A-Z ]{0,30}PRIVATE KEY(?: BLOCK)?-----"
        r"(?:[\s\S]*?-----END[A-Z ]{0,30}PRIVATE KEY(?: BLOCK)?-----|[\s\S]*)",
        "PEM/OpenSSH/PGP private key blocks (a block cut off before its END line is masked to the end)",
        triggers=("private key",),
    ),
    NamedPattern(
        "bearer",
        rf"(?i:\bbearer)\s+(?P<s>(?={_TOKEN}*[0-9]){_TOKEN}{{8,}}=*|{_TOKEN}{{16,}}=*)",
        "the token after 'Bearer ' (8+ characters with a digit, or 16+)",
        triggers=("bearer",),
    ),
    NamedPattern(
        "basic_auth",
        r"(?i:\bbasic)\s+(?P<s>[A-Za-z0-9+/]{6,}={0,2})(?![A-Za-z0-9+/=])",
        "the credentials after 'Basic ' (only when they decode to 'user:password')",
        _whole(_basic_credentials),
        triggers=("basic",),
    ),
    NamedPattern(
        "jwt",
        r"eyJ(?<![A-Za-z0-9]eyJ)[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+){0,2}",
        "JSON Web Tokens (JWS, and JWE's five parts)",
        triggers=("eyj",),
    ),
    NamedPattern(
        "api_key",
        r"(?<![A-Za-z0-9_-])(?:sk-(?=[A-Za-z0-9_-]*[0-9])[A-Za-z0-9_-]{16,}"
        r"|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"
        r"|xox[abposre]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}|glpat-[A-Za-z0-9_-]{20,}|npm_[A-Za-z0-9]{36})",
        "provider API keys: sk-... (OpenAI, Anthropic), sk_live_/rk_live_ (Stripe), ghp_/gho_/ghs_/github_pat_ "
        "(GitHub), xoxb-/xoxp- (Slack), AIza (Google), glpat- (GitLab), npm_",
        triggers=("sk-", "sk_", "rk_", "gh", "xox", "aiza", "glpat-", "npm_"),
    ),
    NamedPattern(
        "aws_access_key",
        r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])",
        "AWS access key ids (AKIA..., and ASIA... for temporary credentials)",
        triggers=("akia", "asia", "abia", "acca"),
    ),
    NamedPattern(
        "aws_secret",
        rf"(?i:(?:aws_?)?secret_?access_?key|aws_?secret(?:_?key)?){_KEYWORD_SEP}"
        r"(?P<s>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
        "a 40-character AWS secret key after an aws_secret_access_key / SecretAccessKey / aws_secret "
        "key and '=' or ':' (a bare 40-character string is indistinguishable from other base64)",
        triggers=("secret",),
    ),
    NamedPattern(
        "credential_assignment",
        rf"(?i:password|passwd|secret|token|api_?key|access_?key){_KEYWORD_SEP}"
        r"""(?P<s>[^\s"'&;,]{1,512})""",
        "the value in password=..., client_secret: ..., access_token=... (connection strings, query "
        "strings, config dumps)",
        triggers=("passw", "secret", "token", "apikey", "api_key", "accesskey", "access_key"),
    ),
    NamedPattern(
        "email",
        r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}"
        r"(?![A-Za-z0-9-])",
        "email addresses",
        triggers=("@",),
    ),
    NamedPattern(
        "track1",
        r"(?<![A-Za-z0-9])%?B[0-9]{13,19}\^[^^\n]{2,26}\^[0-9]{4}[0-9]*\??",
        "magnetic-stripe track 1 data",
        triggers=("^",),
    ),
    NamedPattern(
        "track2",
        r"(?<![0-9]);?[0-9]{13,19}=[0-9]{4}[0-9]*\??",
        "magnetic-stripe track 2 data",
        triggers=("=",),
    ),
    NamedPattern(
        "card_number",
        r"[0-9](?<![0-9A-Za-z][0-9])(?:[ -]?[0-9]){12,}(?![0-9])",
        "payment card numbers: 13-19 digits, ungrouped or grouped by spaces or dashes (first group of 4+ "
        "digits), starting with a major network's digit (2-6) and passing the Luhn check",
        _card_spans,
    ),
    NamedPattern(
        "iban",
        r"[A-Z](?<![A-Za-z0-9][A-Z])[A-Z][0-9]{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])",
        "IBANs (only those passing the mod-97 check)",
        _whole(_iban_valid),
    ),
    NamedPattern(
        "ssn",
        r"[0-9](?<![0-9-][0-9])[0-9]{2}(?:-[0-9]{2}-|\s[0-9]{2}\s)[0-9]{4}(?![0-9-])",
        "US social security numbers written 123-45-6789 or 123 45 6789 (invalid ranges excluded)",
        _whole(_ssn_valid),
    ),
    NamedPattern(
        "mrn",
        r"(?i:\b(?:mrn|medical record(?: number| no\.?| #)?)\s*[:#=]?\s*)"
        r"(?P<s>(?=[A-Za-z-]{0,19}[0-9])[A-Za-z0-9-]{4,20})(?![A-Za-z0-9-])",
        "medical record numbers after 'MRN' or 'medical record number'",
        triggers=("mrn", "medical record"),
    ),
    NamedPattern(
        "dob",
        r"(?i:\b(?:dob|d\.o\.b\.?|date of birth|birth ?date|born(?: on)?)\s*[:=]?\s*)"
        r"(?P<s>[0-9]{1,4}[-/.][0-9]{1,2}[-/.][0-9]{1,4})",
        "dates after 'DOB', 'date of birth', 'birthdate' or 'born'",
        triggers=("dob", "d.o.b", "birth", "born"),
    ),
    NamedPattern(
        "phone",
        r"(?<![A-Za-z0-9+])\+[0-9](?:[ .()-]{0,2}[0-9]){7,14}(?![0-9])"
        r"|(?<![0-9A-Za-z])(?:\([2-9][0-9]{2}\)\s?|[2-9][0-9]{2}[-. ])[2-9][0-9]{2}[-. ][0-9]{4}(?![0-9])",
        "phone numbers: international (+ and 8-15 digits) and North American (415-555-2671, (415) 555-2671)",
        _whole(_phone_digits),
    ),
    NamedPattern(
        "ipv4",
        r"(?<![0-9.])(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}"
        r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(?!\.?[0-9])",
        "IPv4 addresses",
        triggers=(".",),
    ),
    NamedPattern(
        "ipv6",
        r"(?<![0-9A-Za-z:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Za-z:])",
        "IPv6 addresses (validated, so times such as 12:30:45 are left alone)",
        _whole(_ipv6_valid),
        triggers=(":",),
    ),
)

NAMES: tuple[str, ...] = tuple(pattern.name for pattern in LIBRARY)
DEFAULT_PATTERNS: tuple[str, ...] = ("jwt", "api_key", "aws_access_key", "aws_secret", "email", "card_number", "bearer")
"""What ``regex_mask`` applies when its ``builtins`` setting is not given."""
