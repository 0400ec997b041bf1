"""Property tests: for arbitrary nested input, planted secrets never survive and the input never changes."""

from __future__ import annotations

import copy
import string
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.builtins.redactors._records import event, redact

from fapilog.builtins.redactors.field_mask import FieldMaskRedactor
from fapilog.builtins.redactors.presets import PresetRedactor
from fapilog.builtins.redactors.regex_mask import RegexMaskRedactor, luhn_valid
from fapilog.builtins.redactors.url_credentials import UrlCredentialsRedactor

# Filler never contains an upper-case letter, '@', '-', '_' or '.', so it cannot form a planted secret.
FILLER = string.ascii_lowercase + string.digits + " "
MARK = "ZQX"  # every field-mask secret contains it; filler cannot
SETTINGS = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])

filler_text = st.text(alphabet=FILLER, max_size=10)
filler_keys = st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=8)
scalars = st.one_of(filler_text, st.integers(-(10**6), 10**6), st.none(), st.booleans())


@st.composite
def any_case(draw: st.DrawFn, word: str) -> str:
    """``word`` with each letter's case chosen at random."""
    return "".join(c.upper() if draw(st.booleans()) else c for c in word)


SECRET_KEYS = ["password", "db_password", "access_token", "Token", "api_key", "api-key", "client_secret"]
secret_keys = st.sampled_from(SECRET_KEYS).flatmap(any_case)


def nested(leaves: st.SearchStrategy[Any], keys: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    """Dicts, lists and tuples of ``leaves``, arbitrarily nested."""
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.lists(children, max_size=3).map(tuple),
            st.dictionaries(keys, children, max_size=4),
        ),
        max_leaves=25,
    )


field_secret = st.integers(0, 10**6).map(lambda n: f"{MARK}{n}")


@st.composite
def with_planted_fields(draw: st.DrawFn) -> Any:
    """A nested structure where some dicts carry a secret-named key holding a secret (or a subtree of them)."""
    secret_value = st.one_of(field_secret, nested(field_secret, filler_keys))

    def plant(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        planted = st.builds(lambda base, key, value: {**base, key: value},
                            st.dictionaries(filler_keys, children, max_size=3), secret_keys, secret_value)
        return st.one_of(planted, st.lists(children, max_size=4), st.dictionaries(filler_keys, children, max_size=4))

    return draw(st.recursive(scalars, plant, max_leaves=30))


def dumped(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


@SETTINGS
@given(data=with_planted_fields(), top_key=secret_keys, top_secret=field_secret)
def test_field_mask_never_lets_a_planted_secret_through(data: Any, top_key: str, top_secret: str) -> None:
    """Secrets under matching keys, in any casing and at any depth, are absent from the serialized output."""
    record = event(data=data, **{top_key: top_secret})
    before = copy.deepcopy(dict(record))
    out = redact(FieldMaskRedactor(fields=["*password*", "*token*", "api?key", "*secret*"]), record)[0]
    assert MARK.encode() not in dumped(out)
    assert dict(record) == before


@SETTINGS
@given(data=with_planted_fields(), max_depth=st.integers(1, 6))
def test_field_mask_guards_never_leak(data: Any, max_depth: int) -> None:
    """With a small max_depth, whatever is cut off is replaced by the marker, never passed on."""
    out = redact(FieldMaskRedactor(fields=["*password*", "*token*", "api?key", "*secret*"], max_depth=max_depth,
                                   max_items=3), event(data=data))[0]
    assert MARK.encode() not in dumped(out)


def luhn_complete(stem: str) -> str:
    return next(stem + d for d in string.digits if luhn_valid(stem + d))


B64URL = string.ascii_letters + string.digits + "-_"
ALNUM = string.ascii_letters + string.digits
cards = st.builds(lambda first, body: luhn_complete(f"{first}{body}"), st.sampled_from("23456"),
                  st.text(alphabet=string.digits, min_size=14, max_size=14))
grouped_cards = cards.map(lambda c: " ".join(c[i : i + 4] for i in range(0, 16, 4)))
value_secrets = st.one_of(
    st.builds(lambda a, b, c: f"eyJ{a}.eyJ{b}.{c}", *(st.text(alphabet=B64URL, min_size=10, max_size=20),) * 3),
    st.builds(lambda k: f"sk-{k}9", st.text(alphabet=ALNUM, min_size=16, max_size=30)),
    st.builds(lambda k: f"sk_live_{k}", st.text(alphabet=ALNUM, min_size=10, max_size=24)),
    st.builds(lambda k: f"ghp_{k}", st.text(alphabet=ALNUM, min_size=36, max_size=36)),
    st.builds(lambda k: f"xoxb-{k}", st.text(alphabet=ALNUM + "-", min_size=10, max_size=30)),
    st.builds(lambda k: f"AKIA{k}", st.text(alphabet=string.ascii_uppercase + string.digits, min_size=16, max_size=16)),
    st.builds(lambda user, host: f"{user}@{host}.example.com", st.text(alphabet=ALNUM + "._+", min_size=1, max_size=12),
              st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=8)),
    st.builds(lambda t: f"Bearer X{t}", st.text(alphabet=ALNUM + "._~+/-", min_size=16, max_size=30)),
    cards,
    grouped_cards,
)


@st.composite
def with_planted_values(draw: st.DrawFn) -> tuple[Any, list[str]]:
    """A nested structure with secrets embedded in strings (or as mapping keys), plus the list of them."""
    planted: list[str] = []

    def embed(secret: str, left: str, right: str) -> str:
        planted.append(secret)
        return f"{left} {secret} {right}"

    texts = st.builds(embed, value_secrets, filler_text, filler_text)
    leaves = st.one_of(scalars, texts)
    keys = st.one_of(filler_keys, st.builds(embed, value_secrets, st.just(""), st.just("")))
    data = draw(nested(leaves, keys))
    return data, planted


def assert_absent(out: Any, planted: list[str]) -> None:
    line = dumped(out)
    for secret in planted:
        assert secret.encode() not in line, secret
        if secret.replace(" ", "").isdigit():
            assert secret.replace(" ", "").encode() not in line


@SETTINGS
@given(case=with_planted_values(), message_secret=value_secrets)
def test_regex_mask_never_lets_a_planted_secret_through(case: tuple[Any, list[str]], message_secret: str) -> None:
    """Secrets inside strings, keys and the message, at any depth, are absent from the serialized output."""
    data, planted = case
    record = event(f"seen {message_secret} here", data=data)
    before = copy.deepcopy(dict(record))
    out = redact(RegexMaskRedactor(), record)[0]
    assert_absent(out, [*planted, message_secret])
    assert dict(record) == before


@SETTINGS
@given(card=cards)
def test_card_numbers_logged_as_ints_are_masked(card: str) -> None:
    """Any Luhn-valid 15-digit number of a major network, logged as an int, is masked."""
    out = redact(RegexMaskRedactor(builtins=["card_number"]), event(amount=12, card=int(card)))[0]
    assert out["card"] == "[REDACTED:card_number]"
    assert out["amount"] == 12


passwords = st.builds(lambda p: f"PW{p}", st.text(alphabet=ALNUM + "!$&()*+,;=%~@:", min_size=1, max_size=16))
schemes = st.sampled_from(["http", "https", "postgres", "postgresql+psycopg", "redis", "rediss", "amqps",
                           "mongodb+srv", "ftp", "mysql"])


@SETTINGS
@given(scheme=schemes, user=st.text(alphabet=ALNUM, max_size=8), password=passwords, left=filler_text,
       keep_user=st.booleans(), where=st.sampled_from(["message", "field", "nested"]))
def test_url_credentials_never_lets_a_password_through(
    scheme: str, user: str, password: str, left: str, keep_user: bool, where: str
) -> None:
    """The password of any scheme://user:password@host URL is absent from the output."""
    url = f"{left} {scheme}://{user}:{password}@db.example.net:5432/app?x=1"
    record = {"message": event(url), "field": event(dsn=url), "nested": event(cfg={"urls": [url]})}[where]
    before = copy.deepcopy(dict(record))
    out = redact(UrlCredentialsRedactor(keep_user=keep_user), record)[0]
    assert password.encode() not in dumped(out)
    assert dict(record) == before


@SETTINGS
@given(fields=with_planted_fields(), values=with_planted_values())
def test_all_presets_together_never_let_a_planted_secret_through(
    fields: Any, values: tuple[Any, list[str]]
) -> None:
    """The four presets combined catch secrets planted by name and by value, without touching the input."""
    data, planted = values
    record = event(named=fields, valued=data)
    before = copy.deepcopy(dict(record))
    out = redact(PresetRedactor(names=["credentials", "pci_dss", "hipaa_phi", "gdpr_pii"]), record)[0]
    assert MARK.encode() not in dumped(out)
    assert_absent(out, planted)
    assert dict(record) == before
