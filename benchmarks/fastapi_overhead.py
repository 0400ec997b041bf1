"""Requests per second of a minimal FastAPI app under uvicorn, with fapilog-fastapi's middleware on and off.

    .venv/bin/python benchmarks/fastapi_overhead.py [--quick] [--runs N] [--seconds S] [--connections C]
                                                    [--json PATH]

Three server configurations, each run in a fresh uvicorn process (``--serve MODE``, one worker, on 127.0.0.1
port 0), ``--runs`` times with the order rotated per run:

``bare``
    no access log at all (``access_log=False``): the floor.
``uvicorn_access``
    uvicorn's own text access log, written to a file: what an application pays today for an access log.
``ids_only``
    ``RequestLoggingMiddleware(access_log=False)``: request id, bound context and header echo, no event.
``middleware``
    ``RequestLoggingMiddleware`` (request id, bound context, header echo) with one structured access event per
    request delivered by fapilog to a file sink, and uvicorn's access log routed off (``route_uvicorn_logs``).

A second table gives the middleware's own cost per request without a server or a network: a trivial ASGI
app called in-process 20,000 times, bare and wrapped (``ids_only``, ``middleware``), measured as the calling
thread's CPU time (``time.thread_time_ns``, so the fapilog worker's delivery is not in it), median of 10 chunks,
each configuration in ``--runs`` fresh processes. It is far steadier on a shared machine than requests/s.

The load comes from this process: ``--connections`` keep-alive HTTP/1.1 connections over raw asyncio streams
(far cheaper than an HTTP client library, so the server stays the bottleneck), after a 0.5 s warm-up, for
``--seconds``. The report gives the median requests/s per configuration and the ratios to ``bare``. Every
request must answer 200; the middleware's access events are counted from its file and must match the
requests served (exit 1 otherwise; timings are never asserted). Client and server share the machine's cores,
as they do in every row, so compare rows of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MODES = ("bare", "uvicorn_access", "ids_only", "middleware")
INPROC_MODES = ("bare", "ids_only", "middleware")
REQUEST = b"GET /ping HTTP/1.1\r\nHost: bench\r\nUser-Agent: bench/1\r\n\r\n"


def serve(mode: str, log_path: str) -> None:
    """The server child: a minimal app under one uvicorn worker; prints its port, serves until terminated."""
    import logging

    import uvicorn
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    access_log = mode == "uvicorn_access"
    if mode in ("ids_only", "middleware"):
        from fapilog_fastapi import RequestLoggingMiddleware, route_uvicorn_logs

        import fapilog

        fapilog.configure(sinks=[{"type": "file", "path": log_path}])
        app.add_middleware(RequestLoggingMiddleware, access_log=mode == "middleware")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit it: without it the body, written after the headers, waits on the client's
    # delayed ACK (40 ms per request here), and every configuration measures that wait instead of the server.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)  # connections queue up until the server's loop accepts them
    config = uvicorn.Config(app, log_level="info", access_log=access_log, lifespan="off")
    server = uvicorn.Server(config)
    if access_log:  # uvicorn's text lines go to a file, as they would to a collected stderr
        handler = logging.FileHandler(log_path)
        access = logging.getLogger("uvicorn.access")
        access.handlers = [handler]
    if mode in ("ids_only", "middleware"):
        route_uvicorn_logs("WARNING")
    print(sock.getsockname()[1], flush=True)
    server.run(sockets=[sock])
    if mode in ("ids_only", "middleware"):
        import fapilog

        fapilog.shutdown(10.0)


def inproc(mode: str, log_path: str, n: int = 20_000, chunks: int = 10) -> None:
    """The in-process child: prints the median caller CPU (ns) per request through the middleware (or none)."""
    from fapilog_fastapi import RequestLoggingMiddleware

    import fapilog

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"11")]})
        await send({"type": "http.response.body", "body": b'{"ok":true}'})

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        return None

    fapilog.configure(sinks=[{"type": "file", "path": log_path}])
    wrapped: Any = app if mode == "bare" else RequestLoggingMiddleware(app, access_log=mode == "middleware")
    headers = [(b"host", b"bench"), (b"user-agent", b"bench/1"), (b"x-request-id", b"bench-request-1")]
    base = {"type": "http", "method": "GET", "path": "/ping", "root_path": "", "headers": headers,
            "client": ("127.0.0.1", 40000)}

    async def chunk() -> float:
        started = time.thread_time_ns()
        for _ in range(n // chunks):
            await wrapped(dict(base), receive, send)
        return (time.thread_time_ns() - started) / (n // chunks)

    async def run() -> list[float]:
        await chunk()  # warm-up
        return [await chunk() for _ in range(chunks)]

    per_request = asyncio.run(run())
    report = fapilog.shutdown(30.0)
    print(json.dumps({"ns": statistics.median(per_request), "delivered_ok": bool(report)}), flush=True)


def measure_inproc(mode: str) -> dict[str, Any]:
    """One fresh process of the in-process measurement."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--inproc", mode, "--log", str(Path(tmp) / "a.log")]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
        if proc.returncode != 0 or not lines:
            return {"mode": mode, "error": proc.stderr[-500:] or f"exit {proc.returncode}"}
        return {"mode": mode, **json.loads(lines[-1])}


async def _connection(port: int, stop_at: float, counts: list[int], failures: list[str]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < stop_at:
            writer.write(REQUEST)
            head = await reader.readuntil(b"\r\n\r\n")
            status = head[9:12]
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            if status != b"200":
                failures.append(status.decode())
            counts[0] += 1
    finally:
        writer.close()


async def _load(port: int, seconds: float, connections: int) -> tuple[float, int, list[str]]:
    warm = [0]
    failures: list[str] = []
    await asyncio.gather(*(_connection(port, time.perf_counter() + 0.5, warm, failures) for _ in range(connections)))
    counts = [0]
    started = time.perf_counter()
    await asyncio.gather(
        *(_connection(port, started + seconds, counts, failures) for _ in range(connections))
    )
    elapsed = time.perf_counter() - started
    return counts[0] / elapsed, warm[0] + counts[0], failures


def measure(mode: str, seconds: float, connections: int) -> dict[str, Any]:
    """One fresh server process of ``mode`` under load; its requests/s and the delivery check."""
    with tempfile.TemporaryDirectory() as tmp:
        log_path = str(Path(tmp) / "access.log")
        cmd = [sys.executable, str(Path(__file__).resolve()), "--serve", mode, "--log", log_path]
        server = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            assert server.stdout is not None
            port = int(server.stdout.readline())
            rps, served, failures = asyncio.run(_load(port, seconds, connections))
        finally:
            server.terminate()  # uvicorn shuts down gracefully on SIGTERM; the middleware child then drains
            server.wait(60)
        lines = Path(log_path).read_text().count("\n") if Path(log_path).exists() else 0
    result: dict[str, Any] = {"mode": mode, "rps": rps, "served": served, "failures": len(failures)}
    if mode in ("uvicorn_access", "middleware"):
        result["log_lines"] = lines
    return result


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1 run of 1 s per configuration (about 10 s)")
    parser.add_argument("--runs", type=int, help="fresh server processes per configuration (default 5; quick 1)")
    parser.add_argument("--seconds", type=float, help="measured load per run (default 3; quick 1)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent keep-alive connections")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--serve", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--inproc", choices=INPROC_MODES, help=argparse.SUPPRESS)
    parser.add_argument("--log", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.runs = args.runs or (1 if args.quick else 5)
    args.seconds = args.seconds or (1.0 if args.quick else 3.0)
    return args


def run_servers(args: argparse.Namespace, problems: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Every server configuration in ``args.runs`` fresh processes, order rotated per run."""
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in MODES}
    for r in range(args.runs):
        for mode in MODES[r % len(MODES):] + MODES[: r % len(MODES)]:
            result = measure(mode, args.seconds, args.connections)
            runs[mode].append(result)
            sys.stderr.write(f"[run {r + 1}/{args.runs}] {mode:<15} {result['rps']:,.0f} req/s\n")
            if result["failures"]:
                problems.append(f"{mode}: {result['failures']} non-200 responses")
            if "log_lines" in result and result["log_lines"] != result["served"]:
                problems.append(f"{mode}: {result['served']} requests served but {result['log_lines']} access lines")
    return runs


def run_inproc(args: argparse.Namespace, problems: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Every in-process configuration in ``args.runs`` fresh processes, order rotated per run."""
    costs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in INPROC_MODES}
    for r in range(args.runs):
        for mode in INPROC_MODES[r % 3:] + INPROC_MODES[: r % 3]:
            result = measure_inproc(mode)
            costs[mode].append(result)
            if "error" in result or not result.get("delivered_ok"):
                problems.append(f"in-process {mode}: {result.get('error', 'events not all delivered')}")
    return costs


def print_report(args: argparse.Namespace, runs: dict[str, list[dict[str, Any]]],
                 costs: dict[str, list[dict[str, Any]]]) -> dict[str, float]:
    """The two Markdown tables; returns the requests/s medians."""
    medians = {mode: statistics.median(x["rps"] for x in runs[mode]) for mode in MODES}
    print(f"FastAPI under uvicorn, {args.connections} keep-alive connections, {args.seconds:g} s per run, "
          f"{args.runs} fresh server process(es) per row; Python {platform.python_version()}, nproc={os.cpu_count()}")
    print()
    print("| server | requests/s (median) | min | max | ratio to bare |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for mode in MODES:
        values = [x["rps"] for x in runs[mode]]
        print(f"| {mode} | {medians[mode]:,.0f} | {min(values):,.0f} | {max(values):,.0f} | "
              f"{medians[mode] / medians['bare']:.2f} |")
    ns = {mode: statistics.median(x["ns"] for x in costs[mode] if "ns" in x) for mode in INPROC_MODES
          if any("ns" in x for x in costs[mode])}
    if ns:
        print()
        print("| in-process, per request | caller CPU (median) | added by the middleware |")
        print("| --- | ---: | ---: |")
        for mode, value in ns.items():
            print(f"| {mode} | {value / 1000:,.1f} µs | {(value - ns.get('bare', value)) / 1000:+,.1f} µs |")
    return medians


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.serve:
        serve(args.serve, args.log)
        return 0
    if args.inproc:
        inproc(args.inproc, args.log)
        return 0
    problems: list[str] = []
    runs = run_servers(args, problems)
    costs = run_inproc(args, problems)
    medians = print_report(args, runs, costs)
    if args.json:
        settings = {"runs": args.runs, "seconds": args.seconds, "connections": args.connections}
        doc = {"when": dt.datetime.now(dt.UTC).isoformat(), "args": settings, "runs": runs, "medians": medians,
               "inproc": costs, "problems": problems}
        args.json.write_text(json.dumps(doc, indent=2))
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
