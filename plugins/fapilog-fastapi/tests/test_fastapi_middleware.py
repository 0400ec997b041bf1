"""RequestLoggingMiddleware in-process (httpx.ASGITransport): ids, context, access events and options."""

from __future__ import annotations

import asyncio
from typing import Any

import fapilog
import httpx
import pytest
from fapilog.testing import capture_events
from starlette.testclient import TestClient

from _helpers import asgi_client, build_app
from fapilog_fastapi import RequestLoggingMiddleware, is_valid_request_id

ACCESS = "request finished"


def _get(app: Any, path: str, **kwargs: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        async with asgi_client(app, raise_app_exceptions=False) as client:
            return await client.get(path, **kwargs)

    return asyncio.run(go())


def test_access_event_carries_every_documented_field() -> None:
    """A 200 response yields one access event with method, path, route, status, timing, client, id, agent, bytes."""
    app = build_app()
    with capture_events() as events:
        response = _get(app, "/items/7", headers={"User-Agent": "probe/1.0"})
    assert response.status_code == 200
    (access,) = events.filter(ACCESS)
    assert access["logger"] == "fapilog_fastapi.access" and access["level"] == "INFO"
    assert access["method"] == "GET" and access["path"] == "/items/7" and access["route"] == "/items/{item_id}"
    assert access["status"] == 200 and access["client"] == "127.0.0.1" and access["user_agent"] == "probe/1.0"
    assert access["response_bytes"] == len(response.content)
    assert isinstance(access["duration_ms"], float) and access["duration_ms"] >= 0
    assert access["request_id"] == response.headers["x-request-id"]


@pytest.mark.parametrize(
    ("path", "status", "level", "route"),
    [
        ("/items/1", 200, "INFO", "/items/{item_id}"),
        ("/nowhere", 404, "WARNING", None),
        ("/validate?n=abc", 422, "WARNING", "/validate"),
        ("/boom", 500, "ERROR", "/boom"),
        ("/stream", 200, "INFO", "/stream"),
    ],
)
def test_access_event_has_the_status_the_client_got(path: str, status: int, level: str, route: str | None) -> None:
    """Each kind of outcome is logged with the status and level the client saw."""
    with capture_events() as events:
        response = _get(build_app(), path)
    assert response.status_code == status
    (access,) = events.filter(ACCESS)
    assert (access["status"], access["level"], access["route"]) == (status, level, route)


def test_endpoint_exception_is_logged_as_500_and_reraised() -> None:
    """When the endpoint raises, the access event says 500 and names the error, and the exception propagates."""

    async def go() -> None:
        async with asgi_client(build_app()) as client:
            await client.get("/boom")

    with capture_events() as events, pytest.raises(RuntimeError, match="kaboom"):
        asyncio.run(go())
    (access,) = events.filter(ACCESS)
    assert access["status"] == 500 and access["error"] == "RuntimeError" and access["level"] == "ERROR"
    assert events.find("about to fail")["request_id"] == access["request_id"]


def test_streaming_body_events_carry_the_request_id_and_bytes_are_counted() -> None:
    """Events logged by a streaming body generator carry the request's id; response_bytes counts every chunk."""
    with capture_events() as events:
        response = _get(build_app(), "/stream", headers={"X-Request-ID": "stream-1"})
    assert response.content == b"x" * 30
    assert [e["request_id"] for e in events.filter("chunk")] == ["stream-1"] * 3
    assert events.find(ACCESS)["response_bytes"] == 30


def test_valid_incoming_id_is_kept_and_echoed() -> None:
    """A safe X-Request-ID from the client is used for the events and echoed back."""
    with capture_events() as events:
        response = _get(build_app(), "/items/3", headers={"X-Request-ID": "lb-7f3a.2:x"})
    assert response.headers["x-request-id"] == "lb-7f3a.2:x"
    assert {e["request_id"] for e in events} == {"lb-7f3a.2:x"}
    assert "request_id_replaced" not in events.find(ACCESS)


@pytest.mark.parametrize(
    "bad",
    ["x" * 129, "abc def", "id\twith-tab", "<script>", "-starts-with-dash", "ümlaut", "a;DROP TABLE", ""],
)
def test_bad_incoming_id_is_replaced_never_trusted(bad: str) -> None:
    """An unsafe X-Request-ID is replaced by a fresh id; the bad value is neither logged nor echoed."""
    with capture_events() as events:
        response = _get(build_app(), "/items/3", headers={"X-Request-ID": bad.encode("utf-8")})
    echoed = response.headers["x-request-id"]
    assert echoed != bad and is_valid_request_id(echoed)
    assert {e["request_id"] for e in events} == {echoed}
    assert events.find(ACCESS)["request_id_replaced"] is True
    if bad:  # the empty header is replaced too; there is no text of it to look for
        assert all(bad not in event.json.decode() for event in events)


def test_missing_id_is_generated_and_unique_per_request() -> None:
    """Without X-Request-ID each request gets its own fresh 32-hex-digit id."""
    app = build_app()
    ids = {_get(app, "/items/1").headers["x-request-id"] for _ in range(20)}
    assert len(ids) == 20 and all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


def test_app_set_request_id_header_is_not_duplicated() -> None:
    """The response carries exactly one request-id header, the middleware's."""
    response = _get(build_app(), "/items/1", headers={"X-Request-ID": "abc"})
    assert response.headers.get_list("x-request-id") == ["abc"]


def test_two_hundred_concurrent_requests_never_mix_ids() -> None:
    """200 interleaved requests (async and threadpool endpoints): every event carries its own request's id."""
    app = build_app()

    async def go() -> list[httpx.Response]:
        async with asgi_client(app) as client:
            calls = [
                client.get(f"/items/{n}" if n % 2 else f"/sync/{n}", headers={"X-Request-ID": f"req-{n}"})
                for n in range(200)
            ]
            return await asyncio.gather(*calls)

    with capture_events() as events:
        responses = asyncio.run(go())
    assert [r.headers["x-request-id"] for r in responses] == [f"req-{n}" for n in range(200)]
    for event in events:
        n = event.get("item_id", event.get("n"))
        if n is not None:
            assert event["request_id"] == f"req-{n}", event
        else:
            assert event["message"] == ACCESS and event["request_id"] == f"req-{event['path'].rsplit('/', 1)[1]}"
    assert len(events.filter(ACCESS)) == 200
    assert len(events.filter("item read")) == len(events.filter("item returned")) == 100


def test_context_is_restored_after_the_request_even_when_it_fails() -> None:
    """The bound fields are gone once the request ends, after a success and after an exception."""

    async def go() -> tuple[dict[str, Any], dict[str, Any]]:
        fapilog.bind(tenant="acme")
        async with asgi_client(build_app(), raise_app_exceptions=False) as client:
            await client.get("/items/1")  # the app runs in this very task
            after_ok = dict(fapilog.current_context())
            await client.get("/boom")
            return after_ok, dict(fapilog.current_context())

    after_ok, after_error = asyncio.run(go())
    assert after_ok == after_error == {"tenant": "acme"}


def test_websocket_connection_is_bound_echoed_and_logged() -> None:
    """A WebSocket gets the id in its accept headers, its events carry it, and one access event says 101."""
    with (
        capture_events() as events,
        TestClient(build_app()) as client,
        client.websocket_connect("/ws", headers={"X-Request-ID": "ws-1"}) as ws,
    ):
        ws.send_text("hi")
        assert ws.receive_text() == "HI"
        assert (b"x-request-id", b"ws-1") in list(ws.extra_headers or [])
    assert events.find("ws message")["request_id"] == "ws-1"
    access = events.find(ACCESS)
    assert access["status"] == 101 and access["method"] == "WEBSOCKET" and access["route"] == "/ws"


def test_skip_paths_get_an_id_but_no_access_event() -> None:
    """A skipped path (exact or prefix) is still given an id, but no access event is logged."""
    app = build_app(skip_paths=["/healthz", "/items/*"])
    with capture_events() as events:
        health = _get(app, "/healthz")
        _get(app, "/items/4")
        _get(app, "/sync/4")
    assert is_valid_request_id(health.headers["x-request-id"])
    assert [e["path"] for e in events.filter(ACCESS)] == ["/sync/4"]


def test_sampling_drops_only_successful_requests() -> None:
    """With sample_rate 0.5 and an unlucky draw, 2xx events are dropped but 4xx and 5xx are always logged."""
    app = build_app(sample_rate=0.5, rng=lambda: 0.9)
    with capture_events() as events:
        for path in ("/items/1", "/nowhere", "/boom", "/items/2"):
            _get(app, path)
    assert [e["status"] for e in events.filter(ACCESS)] == [404, 500]
    assert len(events.filter("item read")) == 2  # the requests' own events are never sampled by the middleware


def test_levels_by_status_class_can_be_changed() -> None:
    """levels={"2xx": "DEBUG", "4xx": "ERROR"} changes the access event's level for those classes only."""
    app = build_app(levels={"2xx": "DEBUG", "4xx": "ERROR"})
    with capture_events() as events:
        _get(app, "/items/1")
        _get(app, "/nowhere")
        _get(app, "/boom")
    assert [e["level"] for e in events.filter(ACCESS)] == ["DEBUG", "ERROR", "ERROR"]


def test_logged_headers_mask_credentials() -> None:
    """log_headers adds the request headers, with authorization, cookies and custom names masked."""
    app = build_app(log_headers=True, redact_headers=["authorization", "cookie", "x-tenant-secret"])
    with capture_events() as events:
        _get(app, "/items/1", headers={"Authorization": "Bearer s3cr3t", "Cookie": "sid=1", "X-Tenant-Secret": "t",
                                       "Accept": "application/json"})
    headers = events.find(ACCESS)["headers"]
    assert headers["authorization"] == headers["cookie"] == headers["x-tenant-secret"] == "***"
    assert headers["accept"] == "application/json"
    assert "s3cr3t" not in events.find(ACCESS).json.decode()


def test_default_masking_covers_identity_proxy_tokens() -> None:
    """With the default list, the JWTs identity-aware proxies forward are masked by the access event itself."""
    tokens = {"Cf-Access-Jwt-Assertion": "eyJ.cf", "X-Amzn-Oidc-Data": "eyJ.alb", "X-Forwarded-Access-Token": "ya29"}
    with capture_events() as events:  # captured before any redactor runs: the middleware's own masking
        _get(build_app(log_headers=True), "/items/1", headers={**tokens, "Accept": "application/json"})
    headers = events.find(ACCESS)["headers"]
    assert {name: headers[name.lower()] for name in tokens} == dict.fromkeys(tokens, "***")
    assert headers["accept"] == "application/json"


def test_custom_header_name_and_no_access_log() -> None:
    """header_name changes the header read and echoed; access_log=False keeps ids and context, logs no event."""
    app = build_app(header_name="X-Correlation-ID", access_log=False)
    with capture_events() as events:
        response = _get(app, "/items/5", headers={"X-Correlation-ID": "corr-5"})
    assert response.headers["x-correlation-id"] == "corr-5" and "x-request-id" not in response.headers
    assert events.filter(ACCESS) == [] and events.find("item read")["request_id"] == "corr-5"


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("sample_rate", 1.5),
        ("sample_rate", "half"),
        ("skip_paths", ["healthz"]),
        ("levels", {"6xx": "INFO"}),
        ("levels", {"2xx": "LOUD"}),
        ("header_name", "X Request"),
        ("header_name", "X-Request(ID)"),  # not a token: uvicorn would fail every response carrying it
        ("header_name", "X-Req/ID"),
        ("redact_headers", [1]),
        ("redact_headers", ["Authorization "]),  # would match no header: the value would be logged unmasked
        ("redact_headers", ["x api key"]),
    ],
)
def test_bad_option_raises_config_error_naming_it(option: str, value: Any) -> None:
    """A bad option fails when the middleware is built, with a ConfigError that names the option."""
    with pytest.raises(fapilog.ConfigError, match=option):
        RequestLoggingMiddleware(build_app(), **{option: value})


def test_lifespan_and_other_scopes_pass_through_untouched() -> None:
    """A lifespan scope reaches the app unchanged and produces no access event."""
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    async def go() -> None:
        await RequestLoggingMiddleware(app)({"type": "lifespan"}, None, None)  # type: ignore[arg-type]

    with capture_events() as events:
        asyncio.run(go())
    assert seen == ["lifespan"] and list(events) == []


def test_a_pathsend_response_is_complete_so_a_later_disconnect_is_not_the_clients() -> None:
    """After http.response.pathsend, the disconnect a server reports once the response is done is not a hang-up.

    No server installed here implements the pathsend extension (hypercorn and granian do), so the server side
    is a hand-written ASGI caller: it answers receive() with http.disconnect, as servers do after a response.
    """

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.pathsend", "path": "/etc/hostname"})
        assert (await receive())["type"] == "http.disconnect"

    async def serve_once() -> None:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "GET", "path": "/file", "headers": [], "client": ("127.0.0.1", 1)}
        await RequestLoggingMiddleware(app)(scope, receive, send)
        assert [m["type"] for m in sent] == ["http.response.start", "http.response.pathsend"]

    with capture_events() as events:
        asyncio.run(serve_once())
    event = events.find(ACCESS)
    assert event["status"] == 200 and "client_disconnected" not in event
