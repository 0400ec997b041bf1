"""The ``loki`` sink against the Loki stand-in on 127.0.0.1: encodings, labels, tenant, auth, answers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from tests._loki_receiver import Fault, LokiReceiver

import fapilog
from fapilog.builtins.sinks.loki import LokiSink

FAST_RETRY = {"initial_backoff": 0.01, "max_backoff": 0.05, "max_elapsed": 30.0}


@pytest.fixture
def loki() -> Iterator[LokiReceiver]:
    receiver = LokiReceiver()
    receiver.start()
    yield receiver
    fapilog.shutdown(5.0)
    receiver.stop()


def _loki(receiver: LokiReceiver, **settings: Any) -> dict[str, Any]:
    delivery = settings.pop("delivery", {})
    return {"type": "loki", "url": receiver.url, "tenant": "team-a", "labels": {"service": "api", "env": "test"},
            **settings, "delivery": {"retry": FAST_RETRY, "batch_max_age": 0.0, **delivery}}


def _log(count: int, **fields: Any) -> None:
    log = fapilog.get_logger("loki-test")
    for i in range(count):
        log.info("event", i=i, **fields)


def _indexes(receiver: LokiReceiver) -> list[int]:
    return sorted(entry.record["i"] for entry in receiver.entries)


def test_50k_events_over_several_label_sets_arrive_once_in_order_with_ns_timestamps(loki: LokiReceiver) -> None:
    """50,000 events over six label sets arrive exactly once, per stream in order, with their own ns times."""
    # a generous queue wait: on a loaded machine the default 0.5 s wait could drop an event (not what this tests)
    fapilog.configure(
        sinks=[_loki(loki, label_fields=["level", "region"], delivery={"batch_max_age": 0.2})],
        queue={"wait_timeout": 30.0},
    )
    log = fapilog.get_logger("bulk")
    regions = ("eu", "us", "ap")
    before = time.time_ns()
    for i in range(50_000):
        (log.warning if i % 2 else log.info)("event", i=i, region=regions[i % 3])
    after = time.time_ns()
    assert fapilog.flush(120.0)
    assert _indexes(loki) == list(range(50_000))
    streams = loki.by_stream()
    assert len(streams) == 6
    for labels, entries in streams.items():
        wanted = dict(labels)
        for entry in entries:
            record = entry.record
            assert wanted == {"service": "api", "env": "test", "level": record["level"], "region": record["region"]}
            assert before <= entry.ts <= after and entry.tenant == "team-a"
            assert record["timestamp"].startswith(time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(entry.ts // 10**9)))
        assert [e.ts for e in entries] == sorted(e.ts for e in entries)  # per-stream order, across requests
        assert [e.record["i"] for e in entries] == sorted(e.record["i"] for e in entries)
    assert any(entry.ts % 1000 for entry in loki.entries)  # nanoseconds, not microseconds padded with zeros
    assert all(p.headers["content-type"] == "application/x-protobuf" for p in loki.pushes)
    assert fapilog.stats()["sinks"]["loki"]["delivered"] == 50_000


@pytest.mark.parametrize("settings", [{"encoding": "json"}, {"encoding": "json", "compression": "gzip"},
                                      {"encoding": "protobuf"}])
def test_every_encoding_delivers_lines_labels_and_structured_metadata(loki: LokiReceiver,
                                                                      settings: dict[str, Any]) -> None:
    """JSON, gzip JSON and snappy protobuf bodies carry the same lines, labels and structured metadata."""
    fapilog.configure(sinks=[_loki(loki, structured_metadata=["trace_id", "attempt"], **settings)])
    _log(30, trace_id="4bf92f3577b34da6", attempt=2, text='héllo "✓" 日本\n')
    assert fapilog.flush(10.0)
    assert _indexes(loki) == list(range(30))
    entry = loki.entries[0]
    assert entry.metadata == {"trace_id": "4bf92f3577b34da6", "attempt": "2"}
    assert entry.record["text"] == 'héllo "✓" 日本\n' and entry.labels == {"service": "api", "env": "test"}
    encodings = {p.headers.get("content-encoding") for p in loki.pushes}
    assert encodings == ({"gzip"} if settings.get("compression") else {None})


def test_entries_of_one_batch_are_sorted_by_timestamp_per_stream(loki: LokiReceiver) -> None:
    """Records given out of time order are sent sorted by timestamp within each stream of the request."""
    from fapilog.testing.records import make_record

    sink = LokiSink(loki.url, tenant="t", labels={"service": "api"}, label_fields=["level"])
    base = time.time_ns()
    records = [make_record("m", level=level, ts_ns=base + offset, i=n)
               for n, (level, offset) in enumerate([("INFO", 30), ("ERROR", 5), ("INFO", 10), ("INFO", 20)])]
    streams = sink.streams(records)
    assert {key: [ts - base for ts, *_ in s.entries] for key, s in streams.items()} == {
        b'{level="INFO", service="api"}': [10, 20, 30], b'{level="ERROR", service="api"}': [5]}


def test_429_with_retry_after_then_success_delivers_everything_once(loki: LokiReceiver) -> None:
    """A 429 with Retry-After: 1 is retried after about a second, and every event arrives once."""
    fapilog.configure(sinks=[_loki(loki)])
    loki.plan(Fault(429, retry_after="1"))
    _log(200)
    assert fapilog.flush(15.0)
    assert _indexes(loki) == list(range(200))
    first, second = loki.pushes[0], loki.pushes[1]
    assert first.status == 429 and second.status == 204
    assert second.received - first.received >= 0.9  # Retry-After, not the 10 ms backoff
    stats = fapilog.stats()["sinks"]["loki"]
    assert stats["retried"] == 1 and stats["delivered"] == 200 and stats["failed"] == 0


@pytest.mark.parametrize("fault", [Fault(500), Fault(503, retry_after="0"), Fault("drop"),
                                   Fault("slow", delay=0.3)])
def test_server_errors_drops_and_slow_answers_deliver_once(loki: LokiReceiver, fault: Fault) -> None:
    """500, 503, a dropped connection and a slow answer end with every event stored exactly once."""
    fapilog.configure(sinks=[_loki(loki, timeout=2.0)])
    loki.plan(fault)
    _log(50)
    assert fapilog.flush(15.0)
    assert _indexes(loki) == list(range(50))
    assert fapilog.stats()["sinks"]["loki"]["retried"] == (0 if fault.action == "slow" else 1)


def test_a_400_for_old_events_rejects_them_by_reason_without_retry(loki: LokiReceiver) -> None:
    """Loki's 400 naming too-old entries rejects those as greater_than_max_sample_age; the rest are stored."""
    fapilog.configure(sinks=[_loki(loki, delivery={"batch_max_age": 5.0, "batch_size": 100})])
    log = fapilog.get_logger("old")
    for i in range(3):
        log.info("old", i=i)
    time.sleep(0.01)
    loki.oldest_ns = time.time_ns()  # the events above are now older than Loki accepts
    for i in range(3, 6):
        log.info("fresh", i=i)
    result = fapilog.flush(10.0)
    assert not result.ok and result.failed_sinks == ("loki",)
    stats = fapilog.stats()["sinks"]["loki"]
    assert stats["rejected"] == {"greater_than_max_sample_age": 3}
    assert stats["delivered"] == 3 and stats["retried"] == 0
    assert _indexes(loki) == [3, 4, 5]
    assert sum(len(ts) for push in loki.pushes for _, ts in push.streams) == 6  # nothing sent twice


def test_a_400_that_names_no_entry_rejects_the_batch_by_its_reason(loki: LokiReceiver) -> None:
    """A 400 whose text names no entry (an unparsable body) rejects the whole batch once, not retried."""
    fapilog.configure(sinks=[_loki(loki, headers={"Content-Type": "text/plain"})])
    _log(4)
    assert not fapilog.flush(10.0)
    stats = fapilog.stats()["sinks"]["loki"]
    assert stats["rejected"] == {"http_400": 4} and stats["retried"] == 0 and len(loki.pushes) >= 1


def test_the_tenant_header_is_sent_and_required(loki: LokiReceiver) -> None:
    """tenant sends X-Scope-OrgID; without it the stand-in's 401 'no org id' rejects the batch as http_401."""
    fapilog.configure(sinks=[_loki(loki, tenant=None)])
    _log(2)
    assert not fapilog.flush(10.0)
    assert fapilog.stats()["sinks"]["loki"]["rejected"] == {"http_401": 2}
    fapilog.configure(sinks=[_loki(loki, tenant="team-b")])
    _log(2)
    assert fapilog.flush(10.0)
    assert {entry.tenant for entry in loki.entries} == {"team-b"}


def test_basic_and_bearer_auth_headers(loki: LokiReceiver, monkeypatch: pytest.MonkeyPatch) -> None:
    """auth basic (Grafana Cloud: user id and token) and bearer send the Authorization header."""
    monkeypatch.setenv("LOKI_TOKEN", "glc_secret")
    fapilog.configure(sinks=[_loki(loki, auth={"basic": ["123456", {"env": "LOKI_TOKEN"}]})])
    _log(1)
    assert fapilog.flush(10.0)
    fapilog.configure(sinks=[_loki(loki, auth={"bearer": {"env": "LOKI_TOKEN"}})])
    _log(1)
    assert fapilog.flush(10.0)
    sent = [push.headers["authorization"] for push in loki.pushes]
    assert sent == ["Basic MTIzNDU2OmdsY19zZWNyZXQ=", "Bearer glc_secret"]
    assert "glc_secret" not in repr(LokiSink(loki.url, auth={"bearer": {"env": "LOKI_TOKEN"}}))


def test_a_line_over_max_line_size_is_cut_with_a_marker(loki: LokiReceiver) -> None:
    """A record longer than max_line_size arrives cut to that size, ending with the truncation marker."""
    sink = LokiSink(loki.url, tenant="t", max_line_size=1024)
    fapilog.configure(sinks=[sink], sink_defaults={"batch_max_age": 0.0})
    fapilog.get_logger("big").info("big", blob="é" * 5000)
    assert fapilog.flush(10.0)
    (entry,) = loki.entries
    line = entry.line.encode()
    assert len(line) <= 1024 and line.endswith(b" bytes]") and b"[truncated by fapilog:" in line
    assert sink.truncated == 1


@pytest.mark.parametrize(("settings", "field"), [
    ({"labels": {"service-name": "api"}}, "labels.service-name"),
    ({"labels": {"__name__": "x"}}, "labels.__name__"),
    ({"labels": {}}, "labels"),
    ({"label_fields": ["1level"]}, "label_fields[0]"),
    ({"structured_metadata": ["trace.id"]}, "structured_metadata[0]"),
    ({"encoding": "protobuf", "compression": "gzip"}, "compression"),
    ({"max_line_size": 10}, "max_line_size"),
])
def test_invalid_settings_are_config_errors_naming_the_field(settings: dict[str, Any], field: str) -> None:
    """Invalid label names, an empty label table and impossible combinations name the field in a ConfigError."""
    with pytest.raises(fapilog.ConfigError) as caught:
        fapilog.configure(sinks=[{"type": "loki", "url": "http://127.0.0.1:9", **settings}])
    assert caught.value.field == f"sinks[0].{field}"


def test_per_event_label_keys_warn_and_show_in_plugin_check() -> None:
    """A label key like request_id warns at configuration and is a note of `plugin check`'s settings check."""
    from fapilog.errors import ConfigWarning
    from fapilog.testing import check_plugin

    with pytest.warns(ConfigWarning, match=r"\['request_id', 'duration_ms'\]"):
        LokiSink("http://127.0.0.1:9", labels={"service": "api"}, label_fields=["request_id", "duration_ms"])
    with pytest.warns(ConfigWarning, match="Loki refuses more than 15"):
        LokiSink("http://127.0.0.1:9", labels={f"l{n}": "x" for n in range(16)})
    report = check_plugin(LokiSink, {"url": "http://127.0.0.1:9", "label_fields": ["user_id"]}, checks=["settings"])
    result = report.result("settings")
    assert result.ok and result.reason.startswith("note: ") and "user_id" in result.reason


def test_the_hand_encoder_matches_an_independent_protobuf_decoder() -> None:
    """The hand-written PushRequest decodes with the protobuf package: zero nanos, empty lines, UTF-8, metadata."""
    from tests._loki_receiver import PushRequest

    from fapilog.builtins.sinks._loki_proto import encode_push_request

    body = encode_push_request([
        (b'{app="a"}', [(1_700_000_000_000_000_000, b"", []), (5, "日本 ✓".encode(), [(b"k", b"v"), (b"e", b"")])]),
        (b'{app="b"}', [(2**62, b"x" * 300, [])]),
    ])
    decoded = PushRequest.FromString(body)
    assert [s.labels for s in decoded.streams] == ['{app="a"}', '{app="b"}']
    first, second = decoded.streams[0].entries
    assert (first.timestamp.seconds, first.timestamp.nanos, first.line) == (1_700_000_000, 0, "")
    assert (second.timestamp.seconds, second.timestamp.nanos, second.line) == (0, 5, "日本 ✓")
    assert [(p.name, p.value) for p in second.structuredMetadata] == [("k", "v"), ("e", "")]
    (big,) = decoded.streams[1].entries
    assert big.timestamp.seconds * 10**9 + big.timestamp.nanos == 2**62 and big.line == "x" * 300


@pytest.mark.filterwarnings("ignore::fapilog.errors.ConfigWarning")  # each check creates the sink again
def test_plugin_check_passes_against_the_stand_in_and_notes_per_event_labels(
    loki: LokiReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    """`fapilog plugin check loki` passes every check against the stand-in and prints the label warning as a note."""
    from fapilog.cli.main import main

    code = main(["plugin", "check", "loki", "--setting", f"url={loki.url}", "--setting", "tenant=check",
                 "--setting", 'label_fields=["level", "request_id"]'])
    out = capsys.readouterr().out
    assert code == 0, out
    (settings_line,) = [line for line in out.splitlines() if line.startswith("PASS settings")]
    assert settings_line.startswith("PASS settings: note: ") and "request_id" in settings_line
    assert {entry.tenant for entry in loki.entries} == {"check"}  # the pipeline check delivered through Loki


def test_the_stand_in_enforces_the_validation_rules_and_the_sink_names_each_reason(loki: LokiReceiver) -> None:
    """The stand-in refuses bad labels, numeric, future and far-behind timestamps; reason_of names each refusal."""
    import httpx

    from fapilog.builtins.sinks._loki_answer import reason_of

    now = time.time_ns()
    url, headers = loki.url + "/loki/api/v1/push", {"X-Scope-OrgID": "t"}

    def push(streams: list[dict[str, Any]]) -> tuple[int, str]:
        response = httpx.post(url, json={"streams": streams}, headers=headers)
        return response.status_code, response.text

    assert push([{"stream": {"app": "a"}, "values": [[now, "numeric ts"]]}])[0] == 400
    cases = {
        "invalid_labels": {"stream": {"app-name": "a"}, "values": [[str(now), "x"]]},
        "missing_labels": {"stream": {}, "values": [[str(now), "x"]]},
        "too_far_in_future": {"stream": {"app": "a"}, "values": [[str(now + 3600 * 10**9), "x"]]},
        "greater_than_max_sample_age": {"stream": {"app": "a"}, "values": [[str(now - 8 * 86400 * 10**9), "x"]]},
        "out_of_order": {"stream": {"app": "a"}, "values": [[str(now), "new"], [str(now - 2 * 3600 * 10**9), "x"]]},
    }
    for reason, stream in cases.items():
        status, text = push([stream])
        assert status == 400 and reason_of(text.splitlines()[0]) == reason, (reason, text)
    assert [entry.line for entry in loki.entries] == ["new"]  # the valid entry of a refused request is stored
    loki.max_line_size = 10
    status, text = push([{"stream": {"app": "b"}, "values": [[str(now), "x" * 11]]}])
    assert status == 400 and reason_of(text) == "line_too_long"


def test_a_refusal_written_to_the_second_names_every_entry_of_that_second() -> None:
    """A 400 line with an RFC 3339 time without fraction (or Go's time format) refuses that second's entries."""
    from fapilog.builtins.sinks._loki_answer import refused_entries, stream_key

    key = stream_key('{app="a"}')
    second = 1_765_000_000 * 10**9
    entries = {(key, second + 5): [0], (key, second + 900_000_000): [1], (key, second + 10**9): [2]}
    body = "entry for stream '{app=\"a\"}' has timestamp too old: 2025-12-06T05:46:40Z, oldest acceptable ..."
    assert refused_entries(body, entries, {key: [0, 1, 2]}) == ({0: "greater_than_max_sample_age",
                                                                1: "greater_than_max_sample_age"},
                                                               "greater_than_max_sample_age")
    go_format = "entry for stream '{app=\"a\"}' has timestamp too new: 2025-12-06 05:46:41.000000000 +0000 UTC"
    assert refused_entries(go_format, entries, {key: [0, 1, 2]}) == ({2: "too_far_in_future"}, "too_far_in_future")
    assert refused_entries("unparsable body", entries, {key: [0, 1, 2]}) is None
