"""A real CloudWatch Logs endpoint for tests (moto's threaded server on 127.0.0.1) and botocore hooks that record
what a sink sends or answer in AWS's place.

moto does not enforce the request limits of PutLogEvents and never throttles, so the tests record every request
the sink sends (a ``before-send`` hook, the body as botocore serialized it) and check it against the real
limits, and inject AWS error answers the same way: a ``before-send`` handler that returns a response makes
botocore skip the network and parse that response as AWS's answer.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

MAX_EVENTS = 10_000
MAX_REQUEST_BYTES = 1_048_576
OVERHEAD = 26
DAY_MS = 24 * 3600 * 1000


def start_moto(monkeypatch: Any) -> tuple[Any, str]:
    """moto's threaded server on a free port of 127.0.0.1 with an empty account, and its URL; sets dummy
    credentials and a region in the environment (never a real account)."""
    import logging
    import urllib.request

    from moto.server import ThreadedMotoServer

    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_SESSION_TOKEN", "testing"), ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    # moto keeps its state per process, not per server: start every test from an empty account.
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=10).close()
    return server, url


class _Body:
    """The raw body botocore reads from a response (``stream()`` is all it calls)."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


def answer(status: int, body: dict[str, Any]) -> Any:
    """An AWS JSON-protocol answer botocore parses as if CloudWatch had sent it."""
    from botocore.awsrequest import AWSResponse

    data = json.dumps(body).encode()
    headers = {"Content-Type": "application/x-amz-json-1.1", "Content-Length": str(len(data))}
    return AWSResponse("https://logs.invalid/", status, headers, _Body(data))


def error(code: str, status: int = 400, message: str = "injected") -> Any:
    """An AWS error answer with ``code`` (``ThrottlingException``…)."""
    return answer(status, {"__type": code, "message": message})


class Recorder:
    """Records every request a client sends, by API action, and answers in AWS's place when planned.

    ``plan(action, *answers)`` queues answers (``None`` lets the request reach moto) used one per request.
    """

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self._plans: dict[str, list[Any]] = {}
        self._lock = threading.Lock()

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-send.cloudwatch-logs", self._before_send)

    def plan(self, action: str, *answers: Any) -> None:
        with self._lock:
            self._plans.setdefault(action, []).extend(answers)

    def puts(self) -> list[dict[str, Any]]:
        return [body for action, body in self.requests if action == "PutLogEvents"]

    def _before_send(self, request: Any, **_: Any) -> Any:
        target = request.headers.get("X-Amz-Target", "")
        action = (target.decode() if isinstance(target, bytes) else str(target)).rsplit(".", 1)[-1]
        body = request.body
        parsed = json.loads(body.decode("utf-8") if isinstance(body, bytes) else body or "{}")
        with self._lock:
            self.requests.append((action, parsed))
            plan = self._plans.get(action)
            return plan.pop(0) if plan else None


def check_limits(body: dict[str, Any], max_event_bytes: int) -> None:
    """Fail unless one PutLogEvents request is within every documented limit."""
    events = body["logEvents"]
    sizes = [len(event["message"].encode("utf-8")) for event in events]
    stamps = [event["timestamp"] for event in events]
    assert 1 <= len(events) <= MAX_EVENTS
    assert sum(sizes) + OVERHEAD * len(events) <= MAX_REQUEST_BYTES
    assert max(sizes) <= max_event_bytes
    assert stamps == sorted(stamps), "events out of chronological order"
    assert stamps[-1] - stamps[0] < DAY_MS, "a request spans 24 hours or more"
    assert "sequenceToken" not in body


def read_stream(client: Any, group: str, stream: str) -> list[dict[str, Any]]:
    """Every event of a stream, oldest first, following ``nextForwardToken`` until it stops changing."""
    events: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"logGroupName": group, "logStreamName": stream, "startFromHead": True}
        if token:
            kwargs["nextToken"] = token
        page = client.get_log_events(**kwargs)
        events += page["events"]
        if page["nextForwardToken"] == token or not page["events"]:
            return events
        token = page["nextForwardToken"]


def joined(messages: list[str]) -> list[dict[str, Any]]:
    """The records behind read-back messages, split events (``fapilog_part``) joined again."""
    records: list[dict[str, Any]] = []
    parts: dict[str, dict[int, str]] = {}
    counts: dict[str, int] = {}
    for message in messages:
        data = json.loads(message)
        part = data.get("fapilog_part")
        if not part:
            records.append(data)
            continue
        parts.setdefault(part["id"], {})[part["index"]] = data["chunk"]
        counts[part["id"]] = part["count"]
        if len(parts[part["id"]]) == counts[part["id"]]:
            chunks = parts.pop(part["id"])
            records.append(json.loads("".join(chunks[i] for i in range(len(chunks)))))
    assert not parts, "a split record is missing parts"
    return records
