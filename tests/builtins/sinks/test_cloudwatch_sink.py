"""The ``cloudwatch`` sink against a real CloudWatch Logs endpoint (moto's server on 127.0.0.1), with every
request it sends checked against the real PutLogEvents limits and AWS errors injected through botocore."""

from __future__ import annotations

import itertools
import json
import multiprocessing
import time
from typing import Any

import pytest
from tests._cloudwatch import Recorder, answer, check_limits, error, joined, read_stream

import fapilog

pytest.importorskip("moto.server")
pytest.importorskip("flask_cors")

FAST = {"retry": {"initial_backoff": 0.01, "max_backoff": 0.05, "max_elapsed": 30.0}, "batch_max_age": 0.0}
GROUP = "/fapilog/test"


@pytest.fixture
def logs(moto_url: str) -> Any:
    """A boto3 client of the same endpoint, for the test's own reads."""
    import boto3

    return boto3.client("logs", endpoint_url=moto_url, region_name="us-east-1")


def _sink(moto_url: str, recorder: Recorder | None = None, queue: dict[str, Any] | None = None,
          **settings: Any) -> Any:
    """A started cloudwatch sink (configured as the only sink) whose client requests go through ``recorder``."""
    from fapilog.builtins.sinks.cloudwatch import CloudWatchSink

    settings.setdefault("log_stream", "app-{pid}")
    sink = CloudWatchSink(GROUP, endpoint_url=moto_url, region="us-east-1", **settings)
    fapilog.configure(sinks=[sink], sink_defaults=FAST, **({"queue": queue} if queue else {}))
    if recorder is not None:
        recorder.attach(sink.client)
    return sink


def _messages(logs: Any, stream: str) -> list[str]:
    return [event["message"] for event in read_stream(logs, GROUP, stream)]


def test_fifty_thousand_events_arrive_once_within_every_limit(moto_url: str, logs: Any,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """50k events with 300 KB ones, non-ASCII text and out-of-order times read back exactly once; every
    request stays within the PutLogEvents limits."""
    real = time.time_ns
    counter = itertools.count()

    def clock() -> int:  # a clock that steps back: some events are seconds, a few are two days, older
        n = next(counter)
        if n % 97 == 0:
            return real() - 2 * 86_400 * 10**9 - n
        return real() - (5 * 10**9 if n % 10 == 3 else 0)

    monkeypatch.setattr(time, "time_ns", clock)
    recorder = Recorder()
    sink = _sink(moto_url, recorder, queue={"wait_timeout": 60.0}, oversize="split")  # lossless producer
    monkeypatch.setattr(time, "time_ns", real)
    log = fapilog.get_logger("bulk")
    big = dict.fromkeys((7, 25_000, 49_999), "日本語✓ü" * 20_000)  # 300,000 bytes of UTF-8 each
    for i in range(50_000):
        log.info("ünïcødé ✓ event", i=i, text=big.get(i, "ok"))
    assert fapilog.flush(120.0)
    stats = fapilog.stats()["sinks"]["cloudwatch"]
    assert stats["delivered"] == 50_000 and stats["failed"] == 0
    for body in recorder.puts():
        check_limits(body, sink.max_event_bytes)
    records = joined(_messages(logs, sink.stream_name()))
    assert sorted(record["i"] for record in records) == list(range(50_000))
    by_index = {record["i"]: record for record in records}
    assert all(by_index[i]["text"] == text for i, text in big.items())
    assert by_index[3]["message"] == "ünïcødé ✓ event"
    assert sink.counters["split"] == 3 and sink.counters["extra_requests"].get("span", 0) >= 1


def test_throttling_and_service_unavailable_are_retried_then_delivered(moto_url: str, logs: Any) -> None:
    """ThrottlingException and a 503 ServiceUnavailableException are retried by the core, then delivered once."""
    recorder = Recorder()
    sink = _sink(moto_url, recorder)
    recorder.plan("PutLogEvents", error("ThrottlingException", 400, "Rate exceeded"),
                  error("ServiceUnavailableException", 503, "Service unavailable"))
    for i in range(20):
        fapilog.get_logger("t").info("event", i=i)
    assert fapilog.flush(20.0)
    stats = fapilog.stats()["sinks"]["cloudwatch"]
    assert stats["retried"] == 2 and stats["delivered"] == 20
    assert len(recorder.puts()) >= 3
    assert sorted(json.loads(m)["i"] for m in _messages(logs, sink.stream_name())) == list(range(20))


def test_a_split_batch_that_fails_midway_resends_only_the_rest(moto_url: str, logs: Any,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """When the second request of a split batch is throttled, only its records are sent again: none twice."""
    real = time.time_ns
    counter = itertools.count()
    monkeypatch.setattr(time, "time_ns", lambda: real() - (2 * 86_400 * 10**9 if next(counter) < 5 else 0))
    recorder = Recorder()
    sink = _sink(moto_url, recorder)
    monkeypatch.setattr(time, "time_ns", real)
    recorder.plan("PutLogEvents", None, error("ThrottlingException"))
    for i in range(10):
        fapilog.get_logger("t").info("event", i=i)
    assert fapilog.flush(20.0)
    assert [len(body["logEvents"]) for body in recorder.puts()] == [5, 5, 5]
    assert sorted(json.loads(m)["i"] for m in _messages(logs, sink.stream_name())) == list(range(10))
    assert fapilog.stats()["sinks"]["cloudwatch"]["delivered"] == 10


def test_a_split_record_is_not_sent_twice_when_a_later_request_of_its_batch_is_throttled(
        moto_url: str, logs: Any) -> None:
    """Two records split into parts, more than one request together: each record's parts travel in one request,
    so when the second request is throttled the retry sends only that record, and no part arrives twice."""
    from fapilog.builtins.sinks.cloudwatch import CloudWatchSink

    recorder = Recorder()
    sink = CloudWatchSink(GROUP, endpoint_url=moto_url, region="us-east-1", log_stream="app-{pid}", oversize="split")
    sink.delivery_defaults = {"batch_size": 2, "batch_max_age": 5.0, "batch_max_bytes": 0}  # both in one batch
    fapilog.configure(sinks=[sink], sink_defaults={"retry": FAST["retry"]})
    recorder.attach(sink.client)
    recorder.plan("PutLogEvents", None, error("ThrottlingException"))
    for i in range(2):
        fapilog.get_logger("t").info("big", i=i, text="x" * 600_000)
    assert fapilog.flush(20.0)
    messages = _messages(logs, sink.stream_name())
    assert len(messages) == len(set(messages)) and sink.counters["split"] >= 2
    assert sorted(record["i"] for record in joined(messages)) == [0, 1]
    assert [len({json.loads(e["message"])["fapilog_part"]["id"] for e in body["logEvents"]})
            for body in recorder.puts()] == [1, 1, 1]
    assert fapilog.stats()["sinks"]["cloudwatch"]["delivered"] == 2


def test_access_denied_is_permanent_and_names_the_missing_action(moto_url: str,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """AccessDeniedException rejects the batch (no retry) and the message names the IAM action to grant."""
    recorder = Recorder()
    sink = _sink(moto_url, recorder)
    recorder.plan("PutLogEvents", error("AccessDeniedException", 400, "not authorized"))
    fapilog.get_logger("t").info("event")
    assert not fapilog.flush(10.0)
    stats = fapilog.stats()["sinks"]["cloudwatch"]
    assert stats["rejected"] == {"access_denied": 1} and stats["retried"] == 0
    assert len(recorder.puts()) == 1
    assert "grant logs:PutLogEvents" in capsys.readouterr().err
    assert sink.last_error is not None and "logs:PutLogEvents" in sink.last_error
    recorder.plan("CreateLogStream", error("AccessDeniedException"))
    sink2 = _sink(moto_url, recorder, log_stream="other-{pid}")
    recorder.attach(sink2.client)
    fapilog.get_logger("t").info("event")
    assert not fapilog.flush(10.0)
    assert "grant logs:CreateLogStream" in capsys.readouterr().err


def test_rejected_log_events_info_is_counted_by_reason(moto_url: str) -> None:
    """rejectedLogEventsInfo (AWS's indexes: too-old end exclusive, too-new start inclusive) becomes per-event
    rejections by reason; the rest count as delivered. The answer is injected: moto's indexes differ from AWS's."""
    recorder = Recorder()
    _sink(moto_url, recorder, )
    recorder.plan("PutLogEvents", answer(200, {"rejectedLogEventsInfo": {
        "expiredLogEventEndIndex": 1, "tooOldLogEventEndIndex": 3, "tooNewLogEventStartIndex": 8}}))
    log = fapilog.get_logger("t")
    for i in range(10):
        log.info("event", i=i)
    fapilog.flush(10.0)
    stats = fapilog.stats()["sinks"]["cloudwatch"]
    assert len(recorder.puts()) == 1 and len(recorder.puts()[0]["logEvents"]) == 10
    assert stats["rejected"] == {"expired": 1, "too_old": 2, "too_new": 2}
    assert stats["delivered"] == 5


def test_invalid_parameter_is_rejected_and_not_retried(moto_url: str) -> None:
    """InvalidParameterException is permanent: the batch is rejected once, never sent again."""
    recorder = Recorder()
    _sink(moto_url, recorder)
    recorder.plan("PutLogEvents", error("InvalidParameterException"))
    fapilog.get_logger("t").info("event")
    fapilog.flush(10.0)
    assert fapilog.stats()["sinks"]["cloudwatch"]["rejected"] == {"invalid_parameter": 1}
    assert len(recorder.puts()) == 1


def test_an_oversize_event_is_truncated_with_a_marker(moto_url: str, logs: Any,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """By default an event over max_event_bytes arrives as valid JSON with its head and a fapilog_truncated
    marker, counted and announced."""
    sink = _sink(moto_url, max_event_bytes=2048, name="truncating")  # its own stderr rate-limit key
    fapilog.get_logger("t").info("big", blob="x" * 10_000)
    assert fapilog.flush(10.0)
    (message,) = _messages(logs, sink.stream_name())
    data = json.loads(message)
    assert len(message.encode()) <= 2048 and data["fapilog_truncated"]["original_bytes"] > 10_000
    assert data["head"].startswith("{") and data["level"] == "INFO"
    assert sink.counters["truncated"] == 1
    assert "larger than max_event_bytes=2048 were truncated" in capsys.readouterr().err


def test_a_deleted_stream_is_recreated_and_the_batch_delivered(moto_url: str, logs: Any) -> None:
    """ResourceNotFoundException during a put creates the stream again once and delivers the batch."""
    sink = _sink(moto_url)
    log = fapilog.get_logger("t")
    log.info("before")
    assert fapilog.flush(10.0)
    logs.delete_log_stream(logGroupName=GROUP, logStreamName=sink.stream_name())
    log.info("after")
    assert fapilog.flush(10.0)
    assert [json.loads(m)["message"] for m in _messages(logs, sink.stream_name())] == ["after"]
    assert sink.counters["recreated"] == 1 and fapilog.stats()["sinks"]["cloudwatch"]["delivered"] == 2


def test_the_group_is_created_with_its_retention(moto_url: str, logs: Any) -> None:
    """A missing group is created lazily with retention_days; an existing one is used as it is."""
    sink = _sink(moto_url, retention_days=7)
    fapilog.get_logger("t").info("one")
    assert fapilog.flush(10.0)
    (group,) = logs.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"]
    assert group["retentionInDays"] == 7 and sink.counters["groups_created"] == 1


def _child(url: str, worker: int) -> None:
    for i in range(100):
        fapilog.get_logger("w").info("from worker", worker=worker, i=i)
    assert fapilog.flush(20.0)


def test_two_forked_workers_write_to_two_streams(moto_url: str, logs: Any) -> None:
    """Forked workers get their own stream through {pid}; each holds exactly its worker's events."""
    fapilog.configure(sinks=[{"type": "cloudwatch", "log_group": GROUP, "log_stream": "worker-{pid}",
                              "endpoint_url": moto_url, "region": "us-east-1", "delivery": FAST}])
    fapilog.get_logger("w").info("parent")
    assert fapilog.flush(10.0)
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_child, args=(moto_url, n)) for n in (1, 2)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(60)
        assert process.exitcode == 0
    for n, process in zip((1, 2), workers, strict=True):
        records = [json.loads(m) for m in _messages(logs, f"worker-{process.pid}")]
        assert sorted(r["i"] for r in records) == list(range(100)) and {r["worker"] for r in records} == {n}


@pytest.mark.parametrize(("settings", "field"), [
    ({"retention_days": 2}, "retention_days"),
    ({"log_stream": "{nope}"}, "log_stream"),
    ({"log_stream": "a:b"}, "log_stream"),
    ({"oversize": "drop"}, "oversize"),
    ({"max_event_bytes": 2_000_000}, "max_event_bytes"),
    ({"endpoint_url": "localhost:4566"}, "endpoint_url"),
])
def test_bad_settings_are_refused_naming_the_field(settings: dict[str, Any], field: str) -> None:
    """Meaningless settings raise ConfigError naming the field the user wrote."""
    from fapilog.builtins.sinks.cloudwatch import CloudWatchSink

    with pytest.raises(fapilog.ConfigError) as caught:
        CloudWatchSink(GROUP, **settings)
    assert caught.value.field == field


def test_the_region_comes_from_aws_region_when_not_configured(moto_url: str, logs: Any,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """No `region` setting: AWS_REGION (which botocore alone ignores) picks it, and the events arrive there."""
    from fapilog.builtins.sinks.cloudwatch import CloudWatchSink

    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    sink = CloudWatchSink(GROUP, endpoint_url=moto_url, log_stream="region-from-env")
    fapilog.configure(sinks=[sink], sink_defaults=FAST)
    fapilog.get_logger("t").info("regional")
    assert fapilog.flush(10.0)
    assert sink.client.meta.region_name == "us-east-1"
    assert [json.loads(m)["message"] for m in _messages(logs, "region-from-env")] == ["regional"]


def test_without_any_region_start_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """No `region`, no AWS_REGION, no AWS_DEFAULT_REGION: configure() fails naming `region` and both fixes."""
    from fapilog.builtins.sinks.cloudwatch import CloudWatchSink

    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/fapilog-test-aws-config")
    with pytest.raises(fapilog.PluginLoadError, match="set region or AWS_REGION"):
        fapilog.configure(sinks=[CloudWatchSink(GROUP, endpoint_url="http://127.0.0.1:9")])
