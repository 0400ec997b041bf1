"""The ``http`` sink against a real HTTP server on 127.0.0.1: formats, gzip, auth, HMAC, status mapping."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest
from tests._http_server import Answer, RecordingServer

import fapilog

FAST_RETRY = {"initial_backoff": 0.01, "max_backoff": 0.05, "max_elapsed": 30.0}


def _http(server: RecordingServer, **settings: Any) -> dict[str, Any]:
    delivery = settings.pop("delivery", {})
    return {"type": "http", "url": server.url, **settings,
            "delivery": {"retry": FAST_RETRY, "batch_max_age": 0.0, **delivery}}


def _log(count: int, **fields: Any) -> None:
    log = fapilog.get_logger("http-test")
    for i in range(count):
        log.info("event", i=i, **fields)


def _sent_indexes(server: RecordingServer) -> list[int]:
    return [record["i"] for record in server.accepted_records()]


def test_ndjson_batches_arrive_in_order_with_the_json_content_type(http_server: RecordingServer) -> None:
    """Records arrive once each, in order, as NDJSON lines with Content-Type application/x-ndjson."""
    fapilog.configure(sinks=[_http(http_server)])
    _log(300)
    assert fapilog.flush(10.0)
    assert _sent_indexes(http_server) == list(range(300))
    assert {r.headers["content-type"] for r in http_server.requests} == {"application/x-ndjson"}
    assert fapilog.stats()["sinks"]["http"]["delivered"] == 300


def test_gzip_bodies_decode_to_the_records(http_server: RecordingServer) -> None:
    """compression='gzip' sends Content-Encoding: gzip bodies that decompress to the records."""
    fapilog.configure(sinks=[_http(http_server, compression="gzip")])
    _log(50, text="héllo ✓ 日本")
    assert fapilog.flush(10.0)
    assert all(r.headers["content-encoding"] == "gzip" and r.raw[:2] == b"\x1f\x8b" for r in http_server.requests)
    records = http_server.accepted_records()
    assert [r["i"] for r in records] == list(range(50)) and records[0]["text"] == "héllo ✓ 日本"


@pytest.mark.parametrize(("fmt", "opening"), [("json_array", b"["), ("wrapped", b'{"logs":[')])
def test_json_array_and_wrapped_formats(http_server: RecordingServer, fmt: str, opening: bytes) -> None:
    """format='json_array' sends a JSON array; 'wrapped' sends {wrap_key: [...]}."""
    fapilog.configure(sinks=[_http(http_server, format=fmt, wrap_key="logs")])
    _log(20)
    assert fapilog.flush(10.0)
    assert http_server.requests[0].body.startswith(opening)
    assert http_server.requests[0].headers["content-type"] == "application/json"
    assert _sent_indexes(http_server) == list(range(20))


def test_hmac_signature_verifies_over_the_exact_body(http_server: RecordingServer,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The HMAC header is hex HMAC-SHA256 of the exact bytes sent (gzip included), keyed from the environment."""
    monkeypatch.setenv("TEST_HOOK_KEY", "s3cret-key")
    fapilog.configure(sinks=[_http(http_server, compression="gzip",
                                   hmac={"secret": {"env": "TEST_HOOK_KEY"}, "header": "X-Hub-Signature"})])
    _log(10)
    assert fapilog.flush(10.0)
    for request in http_server.requests:
        expected = hmac.new(b"s3cret-key", request.raw, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(request.headers["x-hub-signature"], expected)


def test_bearer_and_basic_auth_headers(http_server: RecordingServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """auth={'bearer': {'env': ...}} and auth={'basic': [...]} send the matching Authorization header."""
    monkeypatch.setenv("TEST_LOG_TOKEN", "tok-123")
    fapilog.configure(sinks=[_http(http_server, auth={"bearer": {"env": "TEST_LOG_TOKEN"}}, headers={"X-App": "a"})])
    _log(1)
    assert fapilog.flush(10.0)
    assert http_server.requests[-1].headers["authorization"] == "Bearer tok-123"
    assert http_server.requests[-1].headers["x-app"] == "a"
    fapilog.configure(sinks=[_http(http_server, auth={"basic": ["user", "pw"]})])
    _log(1)
    assert fapilog.flush(10.0)
    assert http_server.requests[-1].headers["authorization"] == "Basic dXNlcjpwdw=="


def test_secrets_never_show_in_repr_stats_or_errors(http_server: RecordingServer,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Tokens, passwords and HMAC keys are absent from the sink's repr, stats() and config errors."""
    from fapilog.builtins.sinks.http import HttpSink

    sink = HttpSink(http_server.url.replace("http://", "http://u:urlpass@") + "?key=querysecret",
                    auth={"basic": ["u", "basicpass"]}, hmac={"secret": "hmackey"})
    fapilog.configure(sinks=[sink])
    _log(3)
    fapilog.flush(10.0)
    shown = repr(sink) + repr(vars(sink)) + repr(fapilog.stats())
    for secret in ("urlpass", "querysecret", "basicpass", "hmackey"):
        assert secret not in shown
    with pytest.raises(fapilog.ConfigError) as caught:
        HttpSink(http_server.url, auth={"bearer": 12345678})
    assert "12345678" not in str(caught.value) and caught.value.field == "auth.bearer"
    monkeypatch.delenv("NOT_SET_TOKEN", raising=False)
    with pytest.raises(fapilog.ConfigError, match="NOT_SET_TOKEN"):
        HttpSink(http_server.url, auth={"bearer": {"env": "NOT_SET_TOKEN"}})


def test_a_400_is_rejected_with_its_status_and_not_retried(http_server: RecordingServer) -> None:
    """A 400 answer rejects the batch (counted as rejected http_400), sends it once, and later batches go on."""
    fapilog.configure(sinks=[_http(http_server)])
    http_server.plan(Answer(400))
    _log(5)
    result = fapilog.flush(10.0)
    assert not result.ok and result.failed_sinks == ("http",)
    stats = fapilog.stats()["sinks"]["http"]
    refused = len(http_server.requests[0].records())  # the first batch (all 5 events, or the first of them)
    assert stats["rejected"] == {"http_400": refused} and stats["failed"] == refused and stats["retried"] == 0
    assert sum(len(r.records()) for r in http_server.requests) == 5  # nothing was sent twice
    assert stats["delivered"] == 5 - refused and stats["circuit"] == "closed"
    _log(2)
    assert fapilog.flush(10.0)
    assert fapilog.stats()["sinks"]["http"]["delivered"] == 7 - refused


@pytest.mark.parametrize("answer", [Answer(503, retry_after="0"), Answer(429), Answer(500), Answer(408),
                                    Answer("reset")])
def test_retryable_answers_are_retried_and_delivered_once(http_server: RecordingServer, answer: Answer) -> None:
    """503 with Retry-After, 429, 500, 408 and a reset connection are retried; each record arrives once."""
    fapilog.configure(sinks=[_http(http_server)])
    http_server.plan(answer, answer)
    _log(40)
    assert fapilog.flush(10.0)
    assert _sent_indexes(http_server) == list(range(40))
    stats = fapilog.stats()["sinks"]["http"]
    assert stats["retried"] == 2 and stats["delivered"] == 40 and stats["failed"] == 0


def test_retry_after_is_honoured(http_server: RecordingServer) -> None:
    """The retry after a 503 with Retry-After: 1 waits about that long, not the (tiny) computed backoff."""
    fapilog.configure(sinks=[_http(http_server)])
    http_server.plan(Answer(503, retry_after="1"))
    _log(1)
    assert fapilog.flush(10.0)
    first, second = http_server.requests
    assert second.received - first.received >= 0.9


def test_a_hanging_server_is_retried_after_the_timeout(http_server: RecordingServer) -> None:
    """A request that gets no answer within `timeout` is retried; the records are accepted once."""
    fapilog.configure(sinks=[_http(http_server, timeout=0.3)])
    http_server.plan(Answer("hang"))
    _log(10)
    assert fapilog.flush(10.0)
    assert _sent_indexes(http_server) == list(range(10))
    assert fapilog.stats()["sinks"]["http"]["retried"] == 1


def test_a_slow_answer_within_the_timeout_is_delivered(http_server: RecordingServer) -> None:
    """A server that answers slowly (within the timeout) gets each record once, without retries."""
    fapilog.configure(sinks=[_http(http_server, timeout=5.0)])
    http_server.default = Answer("slow", delay=0.05)
    _log(30)
    assert fapilog.flush(10.0)
    assert _sent_indexes(http_server) == list(range(30))
    assert fapilog.stats()["sinks"]["http"]["retried"] == 0


def test_413_splits_the_batch_and_an_oversize_record_is_rejected(http_server: RecordingServer) -> None:
    """A body over the server's limit is sent again in halves; a single record still too large is rejected."""
    http_server.max_body = 2_000
    fapilog.configure(sinks=[_http(http_server, delivery={"batch_size": 64})])
    log = fapilog.get_logger("split")
    for i in range(40):
        log.info("event", i=i, pad="x" * (5_000 if i == 17 else 20))
    result = fapilog.flush(10.0)
    assert not result.ok
    assert _sent_indexes(http_server) == [i for i in range(40) if i != 17]
    stats = fapilog.stats()["sinks"]["http"]
    assert stats["rejected"] == {"http_413": 1} and stats["delivered"] == 39 and stats["retried"] == 0


def test_config_errors_name_the_field(http_server: RecordingServer) -> None:
    """Bad http settings raise ConfigError naming the user's field."""
    with pytest.raises(fapilog.ConfigError) as caught:
        fapilog.configure(sinks=[{"type": "http", "url": "ftp://x"}])
    assert caught.value.field is not None and caught.value.field.endswith("url")
    with pytest.raises(fapilog.ConfigError) as caught:
        fapilog.configure(sinks=[_http(http_server, delivery={"retry": {"max_attempts": 0}})])
    assert caught.value.field == "sinks[0].delivery.retry.max_attempts"


def test_bulk_action_lines_and_per_item_failures_are_rejected(http_server: RecordingServer) -> None:
    """bulk_action writes an action line before each record; a _bulk answer's failed items count as rejected."""
    answers = iter([b'{"errors": true, "items": [{"create": {"status": 201}}, {"create": {"status": 400}}, '
                    b'{"create": {"status": 201}}]}'])
    http_server.body_for = lambda request: next(answers, b'{"errors": false, "items": []}')
    fapilog.configure(sinks=[_http(http_server, bulk_action={"create": {"_index": "logs"}},
                                   delivery={"batch_size": 3, "batch_max_age": 5.0})])  # one batch of 3
    _log(3)
    assert not fapilog.flush(10.0)
    lines = http_server.requests[0].body.splitlines()
    assert lines[0] == b'{"create": {"_index": "logs"}}' and len(lines) == 6
    stats = fapilog.stats()["sinks"]["http"]
    assert stats["rejected"] == {"bulk_400": 1} and stats["delivered"] == 2


def test_a_host_name_url_still_delivers_from_the_exit_drain(http_server: RecordingServer) -> None:
    """With a host name (not an IP), events logged just before exit are delivered by the exit drain, and the
    request carries the original Host header (the name is resolved on the sink's own thread)."""
    import subprocess
    import sys
    import textwrap

    url = http_server.url.replace("127.0.0.1", "localhost")
    script = textwrap.dedent(
        f"""
        import fapilog
        fapilog.configure(sinks=[{{"type": "http", "url": {url!r}}}])
        log = fapilog.get_logger("exit")
        for i in range(300):
            log.info("e", i=i)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and "not delivered" not in done.stderr, done.stderr
    assert _sent_indexes(http_server) == list(range(300))
    assert http_server.requests[0].headers["host"] == f"localhost:{http_server.port}"
