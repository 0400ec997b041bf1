"""The built-in ``size_guard`` processor: every serialized record fits the limit, measured as the core measures."""

from __future__ import annotations

import asyncio
import decimal
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fapilog
from fapilog._kit.record import EventRecord
from fapilog._kit.serialize import Serializer
from fapilog._registry.registry import PluginRegistry
from fapilog.builtins.processors.size_guard import (
    CLOUDWATCH_MAX_EVENT_BYTES,
    LOKI_MAX_LINE_BYTES,
    MIN_MAX_BYTES,
    SizeGuardProcessor,
)
from fapilog.builtins.sinks.memory import MemorySink
from fapilog.errors import ConfigError

CORE = {"timestamp": "2025-01-02T03:04:05.678901Z", "level": "INFO", "logger": "app.orders", "seq": 41}


def record(**fields: Any) -> EventRecord:
    out = EventRecord({**CORE, "message": "order placed"})
    out.update(fields)
    out.ts_ns, out.levelno, out.captured = 1, 20, None
    return out


def size(value: Mapping[str, Any]) -> int:
    return len(Serializer().encode(value))


def guard(records: Sequence[Mapping[str, Any]], **options: Any) -> list[Mapping[str, Any]]:
    return asyncio.run(SizeGuardProcessor(**options).process_batch(records))


def test_records_that_fit_are_returned_as_the_same_objects() -> None:
    """A record under the limit costs one measurement and comes back untouched (same object)."""
    small = [record(order_id=i) for i in range(5)]
    out = guard(small, max_bytes=1024)
    assert all(a is b for a, b in zip(out, small, strict=True))


def test_truncate_cuts_the_longest_strings_first_and_marks_the_record() -> None:
    """The long fields are cut to a common length; short ones and the core keys keep their values."""
    big = record(body="b" * 5000, note="n" * 3000, tag="short", other="o" * 400)
    (out,) = guard([big], max_bytes=2048)
    assert size(out) <= 2048
    assert {k: out[k] for k in CORE} == CORE
    assert out["tag"] == "short" and out["other"] == "o" * 400 and out["message"] == "order placed"
    assert out["body"].endswith("...") and out["note"].endswith("...")
    assert len(out["body"]) == len(out["note"])  # cut to a common length
    assert out["_truncated"] == {"fields": ["body", "note"], "original_bytes": size(big)}


def test_truncate_reaches_nested_strings_and_the_exception() -> None:
    """Strings inside objects and lists, the exception's message and frame files, are all candidates."""
    frames = [{"file": "/srv/" + "d" * 300 + ".py", "line": n, "function": "handler"} for n in range(10)]
    exc = {"type": "ValueError", "message": "m" * 3000, "frames": frames, "truncated_frames": 0}
    big = record(request={"headers": ["h" * 2000, "ok"]}, exception=exc)
    (out,) = guard([big], max_bytes=2048)
    assert size(out) <= 2048
    cut = out["_truncated"]["fields"] + ["omitted"] * out["_truncated"].get("omitted", 0)
    assert "request.headers[0]" in cut and "exception.message" in cut
    assert out["request"]["headers"][1] == "ok"
    assert out["exception"]["type"] == "ValueError"
    assert [f["line"] for f in out["exception"]["frames"]] == list(range(10))


def test_fields_too_big_to_cut_are_dropped_whole_and_listed() -> None:
    """A field whose structure alone exceeds the limit is dropped; smaller ones survive."""
    big = record(samples=list(range(3000)), small=[1, 2, 3], text="t" * 3000)
    (out,) = guard([big], max_bytes=1024)
    assert size(out) <= 1024
    assert "samples" not in out and out["small"] == [1, 2, 3]
    assert out["_truncated"]["dropped"] == ["samples"]


def test_values_are_measured_in_their_serialized_form() -> None:
    """bytes, Decimal, sets and arbitrary objects count as the JSON the serializer makes of them."""

    class Opaque:
        def __repr__(self) -> str:
            return "<opaque " + "o" * 3000 + ">"

    big = record(raw=b"r" * 3000, amount=decimal.Decimal("1." + "9" * 2000), tags={"a" * 2000}, obj=Opaque())
    (out,) = guard([big], max_bytes=2048)
    assert size(out) <= 2048
    assert orjson.loads(orjson.dumps(out)) == out  # only JSON-native values remain


def test_escaped_and_multibyte_strings_fit_exactly() -> None:
    """Control characters (escaped to 6 bytes) and 4-byte emoji are measured by their encoded size."""
    big = record(ctrl="\x01" * 4000, emoji="\U0001f600" * 4000, quote='"' * 4000)
    (out,) = guard([big], max_bytes=1500)
    assert size(out) <= 1500
    assert set(out["_truncated"]["fields"]) == {"ctrl", "emoji", "quote"}


def test_drop_mode_replaces_the_event_with_a_counted_marker() -> None:
    """mode=drop keeps only the core keys, a message saying why, and the original size; dropped counts it."""
    guard_ = SizeGuardProcessor(max_bytes=1024, mode="drop")
    big = record(body="b" * 5000)
    out, kept = asyncio.run(guard_.process_batch([big, record()]))
    original = size(big)
    assert out == {**CORE, "message": f"[event dropped: {original} bytes > 1024]", "_dropped_oversize": original}
    assert kept["message"] == "order placed"
    assert guard_.dropped == 1 and guard_.truncated == 0


def test_enormous_core_keys_are_cut_only_as_a_last_resort() -> None:
    """A logger name bigger than the limit is cut in the drop marker rather than let the record through."""
    guard_ = SizeGuardProcessor(max_bytes=512)
    (out,) = asyncio.run(guard_.process_batch([record(logger="L" * 5000)]))
    assert size(out) <= 512
    assert out["logger"].startswith("LLL") and out["logger"].endswith("...")
    assert "_dropped_oversize" in out and guard_.dropped == 1


def test_single_record_method_matches_the_batch_form() -> None:
    """process() and process_batch() give the same result."""
    big = record(body="b" * 5000, nested={"x": "y" * 3000})
    one = asyncio.run(SizeGuardProcessor(max_bytes=1024).process(big))
    assert one == guard([big], max_bytes=1024)[0]


def test_presets_are_the_documented_limits() -> None:
    """CloudWatch: 256 KiB minus 26 bytes (the default); Loki: 256,000 bytes."""
    assert CLOUDWATCH_MAX_EVENT_BYTES == 262_118 == SizeGuardProcessor().max_bytes
    assert LOKI_MAX_LINE_BYTES == 256_000
    assert MIN_MAX_BYTES == 512


@pytest.mark.parametrize(
    ("options", "start"),
    [
        ({"max_bytes": 511}, "size_guard.max_bytes: must be a whole number >= 512"),
        ({"max_bytes": True}, "size_guard.max_bytes:"),
        ({"max_bytes": "1mb"}, "size_guard.max_bytes:"),
        ({"mode": "shred"}, "size_guard.mode: got 'shred'; accepted: 'truncate', 'drop', 'split'"),
    ],
)
def test_bad_settings_name_the_field_and_what_is_accepted(options: dict[str, Any], start: str) -> None:
    """Invalid settings raise ConfigError starting with '<plugin>.<field>:'."""
    with pytest.raises(ConfigError) as caught:
        SizeGuardProcessor(**options)
    assert str(caught.value).startswith(start)


def test_numbers_may_arrive_as_strings_from_the_environment() -> None:
    """'4096' (how an environment variable delivers it) is accepted as 4096."""
    assert SizeGuardProcessor(max_bytes="4096").max_bytes == 4096  # type: ignore[arg-type]


def test_settings_by_name_are_validated_by_the_config_model() -> None:
    """Configured as a table, a bad value is refused with the plugin and the field named."""
    registry = PluginRegistry([SizeGuardProcessor], entry_points=False)
    _, instance = registry.create("processor", {"type": "size_guard", "max_bytes": 4096, "mode": "drop"})
    assert isinstance(instance, SizeGuardProcessor) and instance.mode == "drop"
    with pytest.raises(ConfigError, match=r"size_guard\.max_bytes"):
        registry.create("processor", {"type": "size_guard", "max_bytes": 10})


json_leaf = (
    st.text(max_size=600)
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True)
    | st.booleans()
    | st.none()
    | st.binary(max_size=300)
    | st.decimals(allow_nan=False, places=3)
)
values = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=20) | st.dictionaries(st.text(max_size=40), inner, max_size=12),
    max_leaves=25,
)
fields = st.dictionaries(st.text(min_size=1, max_size=60), values, max_size=15)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=fields, max_bytes=st.integers(min_value=MIN_MAX_BYTES, max_value=4096),
       mode=st.sampled_from(["truncate", "drop"]))
def test_no_record_ever_leaves_bigger_than_max_bytes(fields: dict[str, Any], max_bytes: int, mode: str) -> None:
    """For arbitrary records (core keys included) and any max_bytes >= 512, the output fits."""
    (out,) = guard([record(**fields)], max_bytes=max_bytes, mode=mode)
    assert size(out) <= max_bytes


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=fields.map(lambda f: {k: v for k, v in f.items() if k not in CORE}),
       max_bytes=st.integers(min_value=MIN_MAX_BYTES, max_value=4096))
def test_core_keys_survive_truncation(fields: dict[str, Any], max_bytes: int) -> None:
    """timestamp, level, logger and seq come out unchanged whenever they are of ordinary size."""
    (out,) = guard([record(**fields)], max_bytes=max_bytes)
    assert {k: out[k] for k in CORE} == CORE


def test_end_to_end_every_delivered_line_fits() -> None:
    """Through the real pipeline, the JSON lines the sink receives are all within max_bytes."""
    sink = MemorySink()
    fapilog.configure(sinks=[sink], processors=[SizeGuardProcessor(max_bytes=2048)])
    log = fapilog.get_logger("e2e")
    log.info("small", n=1)
    log.info("huge", payload="p" * 100_000, rows=[{"id": i, "name": "n" * 50} for i in range(500)])
    try:
        raise RuntimeError("x" * 50_000)
    except RuntimeError:
        log.exception("failed")
    assert fapilog.flush(5.0)
    assert all(len(line) <= 2048 for line in sink.lines)
    small, huge, failed = sink.records
    assert "_truncated" not in small
    assert huge["_truncated"]["original_bytes"] > 100_000 and huge["message"] == "huge"
    assert failed["exception"]["type"] == "RuntimeError" and failed["exception"]["message"].endswith("...")
