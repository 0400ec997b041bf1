"""A record the worker serialized before a copy-on-write chain is judged by its JSON line: exactly as strictly."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tests.builtins.redactors._records import event, redact

import fapilog
from fapilog._kit.record import RESERVED_KEYS
from fapilog._kit.serialize import Serializer
from fapilog.builtins.redactors.secrets import SecretsRedactor

SETTINGS = settings(deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow])

# Text that can hold everything the line test looks at: '@', '://', brackets, braces, quotes, escapes.
tricky = st.text(alphabet=string.ascii_letters + ":/@[]{}\"\\ .-_\n\u00e9", max_size=24)
urls = st.builds(lambda user, pw: f"postgres://{user}:{pw}@db/app", st.sampled_from(["app", "u"]),
                 st.sampled_from(["pw", "S3CRET"]))
names = st.sampled_from(["password", "Authorization", "token", "note"])  # a pair's first item may be a name
scalars = st.one_of(tricky, urls, names, st.integers(-(10**12), 10**12), st.floats(allow_nan=False), st.none(),
                    st.booleans())
keys = st.one_of(st.sampled_from(["user", "ip", "path", "password", "api_key", "note", "token"]),
                 st.text(alphabet=string.ascii_lowercase + "_@:/", min_size=1, max_size=8))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(keys, inner, max_size=3)), max_leaves=8)
records = st.lists(st.dictionaries(keys, values, max_size=5), min_size=1, max_size=6)


def _batch(fields_list: list[dict[str, Any]], *, serialized: bool) -> list[Any]:
    batch = [event(**{k: v for k, v in fields.items() if k not in RESERVED_KEYS}) for fields in fields_list]
    if serialized:
        Serializer().encode_early(batch)
    return batch


@SETTINGS
@given(first=records, second=records)
@example(first=[{"note": "postgres://app:pw@db/app"}], second=[{}])  # a URL under a key seen plain before
@example(first=[{"note": ["password", "x"]}], second=[{}])  # a header pair: no '@', no '{'
@example(first=[{"note": {"token": "x"}}], second=[{}])  # a nested secret name: no '@', no '['
@example(first=[{"note": "[x] {y} a@b"}, {"note": 1}], second=[{}])  # brackets and '@' in plain text
def test_a_serialized_batch_is_redacted_exactly_like_one_judged_by_value(
    first: list[dict[str, Any]], second: list[dict[str, Any]]
) -> None:
    """Same output and same untouched objects with and without the JSON lines, over two batches (warm caches)."""
    by_value, by_line = SecretsRedactor(), SecretsRedactor()
    for fields_list in (first, second, first):
        plain = _batch(fields_list, serialized=False)
        lines = _batch(fields_list, serialized=True)
        out_plain = redact(by_value, *plain)
        out_lines = redact(by_line, *lines)
        assert [dict(r) for r in out_lines] == [dict(r) for r in out_plain]
        assert [o is i for o, i in zip(out_lines, lines, strict=True)] == \
               [o is i for o, i in zip(out_plain, plain, strict=True)]
        for out in out_lines:  # a record passed on keeps bytes that are still its own; a changed one has none
            line = getattr(out, "json", None)
            assert line is None or orjson.loads(line) == orjson.loads(orjson.dumps(dict(out)))


def test_a_masked_record_is_written_masked_and_a_fallback_value_counted_once(tmp_path: Path) -> None:
    """Default chain to a real file: masked values reach the file, a Decimal degrades nowhere, a masked
    unserializable value is never counted as degraded."""
    from decimal import Decimal

    path = tmp_path / "out.log"
    fapilog.configure(sinks=[{"type": "file", "path": str(path)}])
    try:
        log = fapilog.get_logger("line")
        log.info("plain", user="ann", status=200)
        log.info("url", dsn="postgres://app:hunter2@db/x")
        log.info("nested", request={"headers": {"authorization": "Bearer hunter2"}})
        log.info("masked object", password=object())
        log.info("decimal", amount=Decimal("1.50"))
        assert fapilog.flush(10.0).ok
        stats = fapilog.stats()
    finally:
        fapilog.shutdown(10.0)
    lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert "hunter2" not in path.read_text()
    assert [line["message"] for line in lines] == ["plain", "url", "nested", "masked object", "decimal"]
    assert lines[0]["user"] == "ann" and lines[0]["status"] == 200
    assert lines[1]["dsn"] == "postgres://app:***@db/x"
    assert lines[3]["password"] == "***"
    assert lines[4]["amount"] == "1.50"
    assert stats["serialization"]["degraded"] == 0


class InPlaceRedactor(SecretsRedactor):
    """A subclass that changes the records it is given in place, as a careless subclass might."""

    async def redact_batch(self, records: Any) -> list[Any]:
        out = await super().redact_batch(records)
        for record in out:
            record["note"] = "changed in place"
        return out


def test_only_a_class_declaring_copy_on_write_is_serialized_before() -> None:
    """The built-in redactors declare it; a subclass inherits no such promise, so the chain is not trusted."""
    from fapilog._engine.pipeline import Pipeline, Stage

    builtins = Pipeline([Stage("redactor", "secrets", SecretsRedactor())])
    mixed = Pipeline([Stage("redactor", "secrets", SecretsRedactor()), Stage("redactor", "mine", InPlaceRedactor())])
    assert builtins.copy_on_write and not mixed.copy_on_write


def test_a_record_changed_in_place_by_a_subclass_is_written_as_changed(tmp_path: Path) -> None:
    """End to end: the file holds what the in-place subclass wrote, not bytes made before it ran."""
    path = tmp_path / "out.log"
    fapilog.configure(sinks=[{"type": "file", "path": str(path)}], redactors=[InPlaceRedactor()])
    try:
        fapilog.get_logger("line").info("m", note="original", user="ann")
        assert fapilog.flush(10.0).ok
    finally:
        fapilog.shutdown(10.0)
    [line] = [orjson.loads(raw) for raw in path.read_bytes().splitlines()]
    assert line["note"] == "changed in place" and line["user"] == "ann"
