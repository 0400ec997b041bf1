"""Against a real uvicorn server on 127.0.0.1: ids under concurrency, statuses, bad ids, uvicorn's own logs."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import fapilog
import httpx
from fapilog.builtins.sinks.memory import MemorySink
from fapilog.testing import capture_events
from fastapi import BackgroundTasks, FastAPI

from _helpers import build_app, serve, wait_until
from fapilog_fastapi import RequestLoggingMiddleware, is_valid_request_id, logging_lifespan, route_uvicorn_logs

ACCESS = "request finished"


def test_two_hundred_concurrent_requests_never_mix_ids(live_server: str) -> None:
    """200 concurrent requests over real sockets: every event of a request carries that request's id."""

    async def go() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(base_url=live_server, limits=limits, timeout=30) as client:
            return await asyncio.gather(
                *(client.get(f"/items/{n}" if n % 2 else f"/sync/{n}", headers={"X-Request-ID": f"req-{n}"})
                  for n in range(200))
            )

    with capture_events() as events:
        responses = asyncio.run(go())
        wait_until(lambda: len(events.filter(ACCESS)) == 200)
    assert [r.status_code for r in responses] == [200] * 200
    assert [r.headers["x-request-id"] for r in responses] == [f"req-{n}" for n in range(200)]
    app_events = [e for e in events if e["logger"] == "tests.app"]
    assert len(app_events) == 100 * 2 + 100
    for event in app_events:
        assert event["request_id"] == f"req-{event.get('item_id', event.get('n'))}", event
    access = events.filter(ACCESS)
    assert sorted(e["request_id"] for e in access) == sorted(f"req-{n}" for n in range(200))
    assert all(e["request_id"] == "req-" + e["path"].rsplit("/", 1)[1] for e in access)


def test_statuses_over_a_real_server(live_server: str) -> None:
    """200, 404, 422, an endpoint exception (500) and a streaming response are logged with the client's status."""
    paths = {"/items/1": 200, "/nowhere": 404, "/validate?n=x": 422, "/boom": 500, "/stream": 200}
    # A fresh connection per request: uvicorn closes the one an exception went through, and a kept-alive
    # client could race that close with its next request.
    no_reuse = httpx.Limits(max_keepalive_connections=0)
    with capture_events() as events, httpx.Client(base_url=live_server, timeout=30, limits=no_reuse) as client:
        got = {path: client.get(path) for path in paths}
        wait_until(lambda: len(events.filter(ACCESS)) == len(paths))
    assert {path: r.status_code for path, r in got.items()} == paths
    access = {e["request_id"]: e for e in events.filter(ACCESS)}
    for path, response in got.items():
        event = access[response.headers.get("x-request-id", "")] if path != "/boom" else next(
            e for e in access.values() if e["path"] == "/boom")
        assert event["status"] == paths[path] and event["path"] == path.split("?")[0]
    streamed = next(e for e in access.values() if e["path"] == "/stream")
    assert streamed["response_bytes"] == 30 and len(events.filter("chunk", request_id=streamed["request_id"])) == 3
    assert next(e for e in access.values() if e["path"] == "/boom")["error"] == "RuntimeError"


def test_bad_incoming_id_is_replaced_over_a_real_server(live_server: str) -> None:
    """An over-long id with unsafe characters is replaced; the events and the response carry the new id."""
    bad = "x" * 200 + "\"}{evil"
    with capture_events() as events, httpx.Client(base_url=live_server, timeout=30) as client:
        response = client.get("/items/9", headers={"X-Request-ID": bad})
        wait_until(lambda: len(events.filter(ACCESS)) == 1)
    echoed = response.headers["x-request-id"]
    assert is_valid_request_id(echoed) and echoed != bad
    assert {e["request_id"] for e in events if "request_id" in e} == {echoed}
    assert events.find(ACCESS)["request_id_replaced"] is True


def test_uvicorn_errors_arrive_once_and_its_access_log_is_silenced() -> None:
    """With the root logger captured too, uvicorn's "Exception in ASGI application" reaches fapilog exactly once."""
    sink = MemorySink()
    fapilog.configure(sinks=[sink])
    fapilog.capture_stdlib("INFO")  # the application captures every stdlib logger as well
    with serve(build_app()) as (url, _server):
        route_uvicorn_logs()  # after the server applied its log_config, as the lifespan helper does
        with httpx.Client(base_url=url, timeout=30, limits=httpx.Limits(max_keepalive_connections=0)) as client:
            assert client.get("/boom").status_code == 500
            assert client.get("/items/1").status_code == 200
        wait_until(lambda: fapilog.flush(5.0) and len([r for r in sink.records if r["message"] == ACCESS]) == 2)
    errors = [r for r in sink.records if str(r["message"]).startswith("Exception in ASGI application")]
    assert len(errors) == 1 and errors[0]["logger"] == "uvicorn.error"
    assert errors[0]["exception"]["type"] == "RuntimeError"
    assert [r for r in sink.records if r["logger"] == "uvicorn.access"] == []
    assert logging.getLogger("uvicorn.access").hasHandlers() is False


def test_a_second_server_in_the_same_process_still_routes_its_errors() -> None:
    """uvicorn re-applies its log config per server; route_uvicorn_logs() again still gets its errors, once."""
    sink = MemorySink()
    fapilog.configure(sinks=[sink])
    no_reuse = httpx.Limits(max_keepalive_connections=0)

    def errors() -> list[dict[str, Any]]:
        fapilog.flush(5.0)
        return [r for r in sink.records if str(r["message"]).startswith("Exception in ASGI application")]

    for served in (1, 2):  # each serve() creates a uvicorn.Server, which runs logging.config.dictConfig again
        with serve(build_app()) as (url, _server):
            route_uvicorn_logs()
            with httpx.Client(base_url=url, timeout=30, limits=no_reuse) as client:
                assert client.get("/boom").status_code == 500
            wait_until(lambda n=served: len(errors()) == n)
    assert {r["logger"] for r in errors()} == {"uvicorn.error"}


CHILD = textwrap.dedent(
    """
    import socket, threading, time
    import fapilog, httpx, uvicorn
    from fastapi import FastAPI
    from fapilog_fastapi import RequestLoggingMiddleware, logging_lifespan

    fapilog.capture_stdlib()  # the application routes every stdlib logger through fapilog as well
    app = FastAPI(lifespan=logging_lifespan(sinks=["stdout"], enrichers=["fastapi"]))
    app.add_middleware(RequestLoggingMiddleware)

    @app.get("/boom")
    async def boom():
        raise RuntimeError("kaboom")

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="info"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    while not server.started:
        time.sleep(0.01)
    port = sock.getsockname()[1]
    assert httpx.get(f"http://127.0.0.1:{port}/boom", timeout=30).status_code == 500
    server.should_exit = True
    thread.join(30)
    """
)


def test_real_process_prints_each_uvicorn_error_once_and_no_access_line(tmp_path: Path) -> None:
    """In a real process with uvicorn's default log config, the traceback is printed once, as fapilog JSON."""
    script = tmp_path / "serve.py"
    script.write_text(CHILD)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    output = proc.stdout + proc.stderr
    assert output.count("Exception in ASGI application") == 1, output[-3000:]
    (line,) = [line for line in output.splitlines() if "Exception in ASGI application" in line]
    assert line.startswith("{") and '"logger":"uvicorn.error"' in line and '"type":"RuntimeError"' in line
    assert '"GET /boom HTTP/1.1" 500' not in output  # uvicorn's own text access line is gone
    assert "color_message" not in output and "\\u001b[" not in output  # uvicorn's terminal-coloured copies
    assert output.count('"message":"request finished"') == 1 and '"status":500' in output


def test_lifespan_under_uvicorn_delivers_startup_requests_and_shutdown() -> None:
    """Under a real server the lifespan helper configures fapilog at start-up and drains it at shutdown."""
    sink = MemorySink()
    app = FastAPI(lifespan=logging_lifespan(sinks=[sink], enrichers=["fastapi"]))
    app.add_middleware(__import__("fapilog_fastapi").RequestLoggingMiddleware)

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        fapilog.get_logger("app").info("hello")
        return {"hello": "world"}

    with serve(app, lifespan="on") as (url, _server), httpx.Client(base_url=url, timeout=30) as client:
        assert client.get("/hello").status_code == 200
    messages = [r["message"] for r in sink.records]
    assert "hello" in messages and "request finished" in messages
    assert next(r for r in sink.records if r["message"] == "hello")["route"] == "/hello"
    assert any(r["logger"] == "uvicorn.error" and r["message"] == "Application startup complete." for r in sink.records)


def test_duration_ends_with_the_response_not_with_background_tasks() -> None:
    """duration_ms covers the response the client got, not a background task that runs after it."""
    client_has_response = threading.Event()
    app = FastAPI()

    def after_response() -> None:
        client_has_response.wait(10)  # runs on past the client's whole request
        fapilog.get_logger("tests.app").info("background done")

    @app.post("/orders")
    async def create(background: BackgroundTasks) -> dict[str, str]:
        background.add_task(after_response)
        return {"status": "queued"}

    app.add_middleware(RequestLoggingMiddleware)
    with capture_events() as events, serve(app) as (url, _server), httpx.Client(base_url=url, timeout=30) as client:
        began = time.perf_counter_ns()
        assert client.post("/orders").status_code == 200
        client_ms = (time.perf_counter_ns() - began) / 1e6
        time.sleep(0.2)  # the background task is still waiting: its time must not count
        client_has_response.set()
        wait_until(lambda: len(events.filter(ACCESS)) == 1)
    assert events.find("background done")["request_id"] == events.find(ACCESS)["request_id"]
    assert events.find(ACCESS)["duration_ms"] <= client_ms
