"""Test helpers: the small FastAPI app every test serves, an in-process client and a real uvicorn server."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import fapilog
import httpx
import uvicorn
from fastapi import FastAPI, WebSocket
from fastapi.responses import StreamingResponse

from fapilog_fastapi import RequestLoggingMiddleware

log = fapilog.get_logger("tests.app")


def build_app(**middleware: Any) -> FastAPI:
    """The application every test serves: async, sync, failing, streaming, validating and WebSocket endpoints."""
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> dict[str, int]:
        log.info("item read", item_id=item_id)
        await asyncio.sleep(0.001)  # let the other requests interleave with this one
        log.info("item returned", item_id=item_id)
        return {"item_id": item_id}

    @app.get("/sync/{n}")
    def sync_work(n: int) -> dict[str, int]:
        log.info("sync work", n=n)  # runs in the threadpool, with the request's context copied
        return {"n": n}

    @app.get("/boom")
    async def boom() -> None:
        log.info("about to fail")
        raise RuntimeError("kaboom")

    @app.get("/validate")
    async def validate(n: int) -> dict[str, int]:
        return {"n": n}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for index in range(3):
                log.info("chunk", index=index)  # runs after the response started, still inside the request
                await asyncio.sleep(0)
                yield b"x" * 10

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.websocket("/ws")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        text = await websocket.receive_text()
        log.info("ws message", text=text)
        await websocket.send_text(text.upper())
        await websocket.close()

    app.add_middleware(RequestLoggingMiddleware, **middleware)
    return app


def asgi_client(app: Any, *, raise_app_exceptions: bool = True) -> httpx.AsyncClient:
    """An httpx client that calls the app in-process (same task: context leaks would show in the test)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@contextlib.contextmanager
def serve(app: Any, *, lifespan: str = "off") -> Iterator[tuple[str, uvicorn.Server]]:
    """Run ``app`` under a real uvicorn server on 127.0.0.1 (a free port), in a thread; stop it on exit.

    The server is configured as ``uvicorn.run`` would: its default ``log_config`` is applied when it is created.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms wait for a delayed ACK per response
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan=lifespan, log_level="info")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn-test", daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started or not thread.is_alive():
                break
            threading.Event().wait(0.01)
        assert server.started, "uvicorn did not start within 5 s"
        yield f"http://127.0.0.1:{port}", server
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll ``condition`` until it holds: the server logs the access event after the client has the last byte."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met within the deadline"
        time.sleep(0.005)
