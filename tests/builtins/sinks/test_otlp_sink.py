"""The ``otlp`` sink: OTLP log records over HTTP/protobuf, on the core's retries, breaker and counters.

The end-to-end test runs against a real OTLP/HTTP receiver, the rotel agent (see ``tests/_otlp_receiver.py``;
skipped when its binary does not run on this platform). Answers rotel never gives (partial success, 503,
400) come from ``StandInReceiver``, a stand-in over a real socket on 127.0.0.1 that decodes each request with
``opentelemetry-proto`` and answers as the OTLP/HTTP specification says a receiver does.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import fapilog
from fapilog.builtins.sinks.memory import MemorySink

pytest.importorskip("opentelemetry.proto", reason="needs the 'otlp' extra")
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from tests._otlp_receiver import Reply, Rotel, StandInReceiver, free_port, rotel_binary

FAST = {"retry": {"initial_backoff": 0.01, "max_backoff": 0.05, "max_attempts": 20}, "batch_max_age": 0.05}


@pytest.fixture
def receiver() -> Iterator[StandInReceiver]:
    server = StandInReceiver()
    server.start()
    yield server
    fapilog.shutdown(5.0)
    server.stop()


@pytest.fixture
def rotel(tmp_path: Path) -> Iterator[Rotel]:
    binary = rotel_binary()
    if binary is None:
        pytest.skip("the rotel agent is not installed or does not run here (pip install rotel)")
    agent = Rotel(binary, tmp_path)
    try:
        if not agent.wait_listening():
            pytest.fail(f"rotel did not start listening: {agent.output()[-2000:]}")
        yield agent
    finally:
        fapilog.shutdown(5.0)
        agent.stop()


def _epoch_us(iso: str) -> int:
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


def _otlp(endpoint: str, **extra: Any) -> dict[str, Any]:
    return {"type": "otlp", "endpoint": endpoint, "service_name": "shop", "delivery": FAST, **extra}


def test_records_reach_a_real_receiver_once_in_order_with_their_trace_context(rotel: Rotel) -> None:
    """rotel prints every record once, in order, with severity, body, attributes, timestamps and the span's ids."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    memory = MemorySink()
    fapilog.configure(sinks=[_otlp(rotel.endpoint, delivery={**FAST, "batch_size": 7}), memory],
                      enrichers=["otel"])
    log = fapilog.get_logger("shop.orders")
    with tracer.start_as_current_span("checkout"):
        for i in range(30):
            (log.warning if i % 10 == 9 else log.info)("paid", order=i, tags=["a", "b"], price=1.5)
    fapilog.get_logger("shop.jobs").error("outside any span", job="nightly")
    assert fapilog.flush(10.0)
    assert rotel.wait_for(lambda records: len(records) >= 31), rotel.output()[-2000:]
    records = rotel.records()
    assert len(records) == 31  # exactly once: nothing repeated by a retry
    (span,) = exporter.get_finished_spans()
    trace_id, span_id = f"{span.context.trace_id:032x}", f"{span.context.span_id:016x}"
    for i, (printed, sent) in enumerate(zip(records[:30], memory.records[:30], strict=True)):
        assert printed["attributes"]["order"] == f"Int({i})"  # in the order they were logged
        assert printed["attributes"]["tags"] == "Slice(Str(a), Str(b))"
        assert printed["attributes"]["price"] == "Double(1.5)"
        assert printed["Body"] == "Str(paid)" and printed["scope"] == "shop.orders"
        assert (printed["trace_id"], printed["span_id"]) == (trace_id, span_id)
        assert printed["Timestamp"] == printed["ObservedTimestamp"]
        assert int(printed["Timestamp"]) // 1000 == _epoch_us(sent["timestamp"])  # the capture time
        expected = ("WARNING", "SEVERITY_NUMBER_WARN(13)") if i % 10 == 9 else ("INFO", "SEVERITY_NUMBER_INFO(9)")
        assert (printed["SeverityText"], printed["SeverityNumber"]) == expected
        assert int(printed["Flags"]) & 1 == 1  # sampled
    last = records[30]
    assert last["scope"] == "shop.jobs" and last["SeverityNumber"] == "SEVERITY_NUMBER_ERROR(17)"
    assert last["trace_id"] == "" and last["span_id"] == "" and last["attributes"]["job"] == "Str(nightly)"
    stats = fapilog.stats()["sinks"]["otlp"]
    assert stats["delivered"] == 31 and stats["failed"] == 0 and stats["retried"] == 0


def test_a_partial_success_counts_the_refused_records_as_rejected(receiver: StandInReceiver) -> None:
    """200 with partial_success.rejected_log_records=2: 2 rejected (otlp_rejected), the rest delivered, no retry."""
    receiver.plan(Reply(200, rejected=2))
    fapilog.configure(sinks=[_otlp(receiver.endpoint, delivery={**FAST, "batch_size": 5})])
    log = fapilog.get_logger("p")
    for i in range(5):
        log.info("e", i=i)
    assert not fapilog.flush(10.0).timed_out
    stats = fapilog.stats()["sinks"]["otlp"]
    assert stats["delivered"] == 3 and stats["rejected"] == {"otlp_rejected": 2} and stats["retried"] == 0
    assert len(receiver.requests) == 1


def test_a_503_with_retry_after_is_retried_and_delivered_once(receiver: StandInReceiver) -> None:
    """503 then 429 (each with Retry-After), then 200: the same request three times, records accepted once."""
    receiver.plan(Reply(503, retry_after="0"), Reply(429, retry_after="0"))
    fapilog.configure(sinks=[_otlp(receiver.endpoint, delivery={**FAST, "batch_size": 10})])
    log = fapilog.get_logger("r")
    for i in range(10):
        log.info("e", i=i)
    assert fapilog.flush(10.0)
    assert [status for status, _ in receiver.requests] == [503, 429, 200]
    bodies = [request.SerializeToString() for _, request in receiver.requests if request is not None]
    assert bodies[0] == bodies[1] == bodies[2]  # the same batch, not a later one
    assert [r.attributes[1].value.int_value for r in receiver.accepted_records()] == list(range(10))
    stats = fapilog.stats()["sinks"]["otlp"]
    assert stats["delivered"] == 10 and stats["retried"] == 2


def test_a_400_is_rejected_with_its_status_and_never_retried(receiver: StandInReceiver) -> None:
    """400 (malformed, says the receiver): the batch is rejected as http_400 and sent only once."""
    receiver.plan(Reply(400))
    fapilog.configure(sinks=[_otlp(receiver.endpoint, delivery={**FAST, "batch_size": 4})])
    log = fapilog.get_logger("b")
    for i in range(4):
        log.info("e", i=i)
    assert not fapilog.flush(10.0).timed_out
    stats = fapilog.stats()["sinks"]["otlp"]
    assert stats["rejected"] == {"http_400": 4} and stats["retried"] == 0 and len(receiver.requests) == 1


def test_a_dead_receiver_opens_the_circuit() -> None:
    """Nothing listens on the port: connection errors count as retries until the circuit opens."""
    endpoint = f"http://127.0.0.1:{free_port()}/v1/logs"
    fapilog.configure(sinks=[_otlp(endpoint, delivery={**FAST, "circuit": {"failure_threshold": 3,
                                                                           "reset_timeout": 30.0}})])
    fapilog.get_logger("d").info("nobody listens")
    result = fapilog.flush(1.0)
    assert result.timed_out and result.failed_sinks == ("otlp",)
    stats = fapilog.stats()["sinks"]["otlp"]
    assert stats["circuit"] == "open" and stats["retried"] >= 2 and stats["delivered"] == 0
    report = fapilog.shutdown(0.5)
    # The closing sink probes at once (an open circuit does not hold a shutdown): the event either spends its retry
    # budget or is still in the sink at the deadline (then also in the report's undelivered); failed once either way.
    assert fapilog.stats()["sinks"]["otlp"]["failed"] == 1 and report.undelivered in (0, 1)


def test_bad_settings_are_config_errors_naming_the_field() -> None:
    """A bad endpoint, compression or resource is refused at configure() naming the field written."""
    for settings, field in (({"endpoint": "ftp://collector/v1/logs"}, "endpoint"),
                            ({"compression": "zstd"}, "compression"),
                            ({"resource": ["not", "a", "table"]}, "resource")):
        with pytest.raises(fapilog.FapilogError) as caught:
            fapilog.configure(sinks=[{"type": "otlp", **settings}])
        assert field in str(caught.value) and "otlp" in str(caught.value)


def test_exceptions_and_awkward_values_become_attributes_without_losing_the_record(
        receiver: StandInReceiver) -> None:
    """An exception maps to exception.type/message/stacktrace; NaN, 2**70, a surrogate and deep nesting degrade."""
    fapilog.configure(sinks=[_otlp(receiver.endpoint)])
    log = fapilog.get_logger("x")
    deep: dict[str, Any] = {}
    cursor = deep
    for _ in range(20):
        cursor["d"] = {}
        cursor = cursor["d"]
    try:
        raise ValueError("bad order")
    except ValueError:
        log.exception("failed", nan=float("nan"), huge=2**70, odd="a\udcffb", deep=deep, raw=b"\x00\x01")
    assert fapilog.flush(10.0)
    (record,) = receiver.accepted_records()
    attributes = {kv.key: kv.value for kv in record.attributes}
    assert attributes["exception.type"].string_value == "ValueError"
    assert attributes["exception.message"].string_value == "bad order"
    assert "test_otlp_sink.py" in attributes["exception.stacktrace"].string_value
    assert attributes["nan"].string_value == "nan" and attributes["huge"].string_value == str(2**70)
    assert attributes["odd"].string_value == "a\\udcffb" and attributes["raw"].bytes_value == b"\x00\x01"
    assert attributes["deep"].HasField("kvlist_value")  # nested as tables, cut to text past the depth limit
    assert record.severity_number == 17 and record.body.string_value == "failed"


def test_credentials_never_show_in_repr_or_stats(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bearer token from the environment and user info in the endpoint stay out of repr and stats."""
    from fapilog.builtins.sinks.otlp import OtlpSink

    monkeypatch.setenv("OTLP_TOKEN", "tok-s3cret")
    sink = OtlpSink("http://user:pw-s3cret@127.0.0.1:9/v1/logs?key=k-s3cret", auth={"bearer": {"env": "OTLP_TOKEN"}})
    assert "s3cret" not in repr(sink) and "s3cret" not in sink.endpoint


def test_without_the_extra_starting_the_sink_says_what_to_install() -> None:
    """opentelemetry-proto unimportable: configure() fails naming the otlp sink and the pip command."""
    script = textwrap.dedent(
        """
        import sys
        sys.modules["opentelemetry.proto"] = None  # as if opentelemetry-proto were not installed
        import fapilog
        try:
            fapilog.configure(sinks=[{"type": "otlp", "endpoint": "http://127.0.0.1:9/v1/logs"}])
        except fapilog.FapilogError as exc:
            print(exc)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "otlp sink: opentelemetry-proto is not installed; run: pip install 'fapilog[otlp]'" in done.stdout
