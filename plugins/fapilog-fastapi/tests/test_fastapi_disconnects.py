"""Clients that go away mid-request, against a real uvicorn server on 127.0.0.1 over raw sockets."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator
from typing import Any

from fapilog.testing import capture_events
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

from _helpers import serve, wait_until
from fapilog_fastapi import RequestLoggingMiddleware

ACCESS = "request finished"
CHUNK = 1000
CHUNKS = 200


def _app(**middleware: Any) -> tuple[FastAPI, threading.Event]:
    """A slow stream (200 chunks of 1000 bytes) and an upload endpoint; the event is set once a chunk went out."""
    app = FastAPI()
    first_chunk_sent = threading.Event()

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(CHUNKS):
                yield b"x" * CHUNK
                first_chunk_sent.set()
                await asyncio.sleep(0.01)

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, int]:
        body = await request.body()  # the client sends part of the body and hangs up
        return {"size": len(body)}

    app.add_middleware(RequestLoggingMiddleware, **middleware)
    return app, first_chunk_sent


def _hang_up_during_stream(url: str, first_chunk_sent: threading.Event) -> None:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(b"GET /stream HTTP/1.1\r\nHost: test\r\nX-Request-ID: gone-1\r\n\r\n")
        assert first_chunk_sent.wait(10)
        conn.recv(4096)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # close with RST


def test_stream_cut_off_by_the_client_is_marked_disconnected() -> None:
    """A streaming response the client abandons is logged with client_disconnected and only the bytes sent."""
    app, first_chunk_sent = _app()
    with capture_events() as events, serve(app) as (url, _server):
        _hang_up_during_stream(url, first_chunk_sent)
        wait_until(lambda: len(events.filter(ACCESS)) == 1)
    event = events.find(ACCESS)
    assert event["request_id"] == "gone-1" and event["status"] == 200
    assert event["client_disconnected"] is True
    assert 0 < event["response_bytes"] < CHUNK * CHUNKS


def test_disconnected_request_is_logged_even_when_sampled_out() -> None:
    """sample_rate=0 drops successful requests' events, but never the event of a client that hung up."""
    app, first_chunk_sent = _app(sample_rate=0.0)
    with capture_events() as events, serve(app) as (url, _server):
        _hang_up_during_stream(url, first_chunk_sent)
        wait_until(lambda: len(events.filter(ACCESS)) == 1)
    assert events.find(ACCESS)["client_disconnected"] is True


def test_upload_abandoned_before_any_response_is_499_at_warning() -> None:
    """A client hanging up in the middle of its request body is status 499 at WARNING, not a 500 ERROR."""
    app, _ = _app()
    with capture_events() as events, serve(app) as (url, _server):
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as conn:
            conn.sendall(b"POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: 100000\r\n\r\n" + b"y" * 10)
        wait_until(lambda: len(events.filter(ACCESS)) == 1)
    event = events.find(ACCESS)
    assert (event["status"], event["level"], event["client_disconnected"]) == (499, "WARNING", True)
    assert event["response_bytes"] == 0


def test_completed_response_is_not_marked_disconnected() -> None:
    """A client that reads the whole stream and then closes is an ordinary 200 without client_disconnected."""
    app, _ = _app()
    with capture_events() as events, serve(app) as (url, _server):
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=30) as conn:
            conn.sendall(b"GET /stream HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            received = b""
            while chunk := conn.recv(65536):
                received += chunk
        wait_until(lambda: len(events.filter(ACCESS)) == 1)
    event = events.find(ACCESS)
    assert event["status"] == 200 and "client_disconnected" not in event
    assert event["response_bytes"] == CHUNK * CHUNKS and received.count(b"x") >= CHUNK * CHUNKS
