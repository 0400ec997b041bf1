"""A FastAPI service logging through fapilog, served by a real uvicorn on 127.0.0.1, that exits by itself.

Run: .venv/bin/python examples/fastapi_app.py     (needs: pip install -e plugins/fapilog-fastapi)

It starts uvicorn on a free port in a background thread, sends a few requests (one with its own request id,
one with an unsafe id, a 404, a 422 and one whose endpoint raises), stops the server, and prints a summary of
what reached the log file. Every line of the log file is JSON: the application's events carry the request's
id and route template, uvicorn's error log arrives once, and each request has one access event.
"""

from __future__ import annotations

import asyncio
import json
import socket
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn
from fapilog_fastapi import RequestLogger, RequestLoggingMiddleware, logging_lifespan
from fastapi import FastAPI

import fapilog

LOG_FILE = Path(tempfile.mkdtemp()) / "app.log"

app = FastAPI(
    lifespan=logging_lifespan(
        sinks=[{"type": "file", "path": str(LOG_FILE)}],
        enrichers=["fastapi"],  # the fapilog-fastapi enricher: route template on every event of a request
    )
)
app.add_middleware(RequestLoggingMiddleware, skip_paths=["/healthz"])
log = fapilog.get_logger("shop")


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/orders/{order_id}")
async def read_order(order_id: int) -> dict[str, int]:
    log.info("order looked up", order_id=order_id)  # never sees the request, still logs its id and route
    await asyncio.sleep(0)
    return {"order_id": order_id}


@app.post("/orders/{order_id}/pay")
async def pay(order_id: int, request_log: RequestLogger) -> dict[str, str]:
    request_log.warning("payment declined", order_id=order_id)  # a logger bound to the request
    return {"status": "declined"}


@app.get("/crash")
async def crash() -> None:
    raise RuntimeError("database unreachable")


def main() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="info"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn")
    thread.start()
    while not server.started and thread.is_alive():
        time.sleep(0.01)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with httpx.Client(base_url=base, timeout=30) as client:
        statuses = [
            client.get("/healthz").status_code,
            client.get("/orders/7", headers={"X-Request-ID": "checkout-7"}).status_code,
            client.post("/orders/7/pay").status_code,
            client.get("/orders/8", headers={"X-Request-ID": "bad id <x>"}).status_code,
            client.get("/orders/not-a-number").status_code,
            client.get("/missing").status_code,
            client.get("/crash").status_code,
        ]
    server.should_exit = True  # the lifespan's shutdown flushes every event to the file
    thread.join(30)

    lines = [json.loads(line) for line in LOG_FILE.read_text().splitlines()]
    access = [e for e in lines if e["message"] == "request finished"]
    looked_up = next(e for e in lines if e["message"] == "order looked up")
    errors = [e for e in lines if str(e["message"]).startswith("Exception in ASGI application")]
    print(f"statuses {statuses}")
    print(f"access events {len(access)}: {[(e['route'], e['status']) for e in access]}")
    print(f"'order looked up' carries request_id={looked_up['request_id']} route={looked_up['route']}")
    print(f"uvicorn errors logged: {len(errors)}")


if __name__ == "__main__":
    main()
