"""End to end: the real Prometheus server scrapes our endpoint and answers queries about fapilog's metrics.

Needs Debian's ``prometheus`` package (``scripts/test`` installs it when it can); skipped with the reason
otherwise. Everything runs on 127.0.0.1 with free ports, a temporary config and storage directory, and the
server is stopped by its own PID.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

import fapilog
import fapilog.metrics
from fapilog.builtins.sinks.memory import MemorySink

POLL_SECONDS = 20.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _query(api: str, expr: str) -> list[dict[str, Any]]:
    """The result vector of an instant query, or [] while the server is not ready."""
    url = f"{api}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            body = json.loads(response.read())
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return []
    return list(body["data"]["result"]) if body.get("status") == "success" else []


def test_prometheus_scrapes_the_endpoint_and_sees_plugin_load_times(tmp_path: Path) -> None:
    """A real Prometheus scraping start_http_server() stores fapilog_plugin_load_duration_seconds per plugin."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("the prometheus server is not installed (scripts/test installs Debian's prometheus package "
                    "when it can)")
    fapilog.configure(sinks=[MemorySink()], enrichers=["runtime"])
    fapilog.get_logger("e2e").info("scrape me")
    assert fapilog.flush(5.0)
    endpoint = fapilog.metrics.start_http_server(0, registry=CollectorRegistry())
    web_port = _free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: fapilog\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{endpoint.port}']\n"
    )
    log = (tmp_path / "prometheus.log").open("w")
    server = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{web_port}"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    api = f"http://127.0.0.1:{web_port}"
    try:
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + POLL_SECONDS
        while time.monotonic() < deadline and server.poll() is None:
            found = _query(api, "fapilog_plugin_load_duration_seconds")
            if found:
                break
            time.sleep(0.5)
        assert server.poll() is None, (tmp_path / "prometheus.log").read_text()[-2000:]
        assert found, f"no sample within {POLL_SECONDS}s: " + (tmp_path / "prometheus.log").read_text()[-2000:]
        plugins = {(s["metric"]["plugin"], s["metric"]["kind"]) for s in found}
        assert plugins == {("runtime", "enricher"), ("memory", "sink"), ("secrets", "redactor")}  # secrets: the default
        assert all(s["metric"]["job"] == "fapilog" and float(s["value"][1]) > 0 for s in found)
        delivered = _query(api, 'fapilog_sink_events_total{outcome="delivered"}')
        assert [float(s["value"][1]) for s in delivered] == [1.0]
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
        log.close()
        endpoint.close()
