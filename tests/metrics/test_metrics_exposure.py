"""Exposing the metrics: a registry, an HTTP endpoint, an ASGI app, and the endpoint from the settings."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from tests.metrics._exposition import samples, value

import fapilog
import fapilog.metrics
from fapilog.builtins.sinks.memory import MemorySink


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return str(response.read().decode("utf-8"))


@pytest.fixture
def no_settings_endpoint() -> Iterator[None]:
    """Whatever a test configured, the endpoint started from settings is stopped afterwards."""
    yield
    fapilog.configure(sinks=[MemorySink()])
    assert fapilog.metrics.current_server() is None


def test_start_http_server_serves_the_metrics_on_loopback_and_close_frees_the_port() -> None:
    """A real HTTP GET on 127.0.0.1 returns the exposition with fapilog's figures; after close() nothing listens."""
    fapilog.configure(sinks=[MemorySink()])
    fapilog.get_logger("http").info("one")
    assert fapilog.flush(5.0)
    server = fapilog.metrics.start_http_server(0, registry=CollectorRegistry())
    try:
        assert server.url == f"http://127.0.0.1:{server.port}/metrics"
        parsed = samples(_get(server.url))
        assert value(parsed, "fapilog_sink_events_total", sink="memory", outcome="delivered") == 1
    finally:
        server.close()
    with pytest.raises(urllib.error.URLError):
        _get(server.url)


def test_asgi_app_answers_a_get_with_the_exposition() -> None:
    """The ASGI application, called through the ASGI protocol itself, answers 200 with the text format."""
    fapilog.configure(sinks=[MemorySink()])
    fapilog.get_logger("asgi").info("one")
    assert fapilog.flush(5.0)
    app = fapilog.metrics.asgi_app(CollectorRegistry())
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "query_string": b"", "headers": []}
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 200
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body").decode()
    assert value(samples(body), "fapilog_sink_events_total", sink="memory", outcome="delivered") == 1


@pytest.mark.usefixtures("no_settings_endpoint")
def test_settings_start_keep_and_stop_the_endpoint() -> None:
    """metrics.enabled serves on the port given; the same settings keep the server; disabling stops it."""
    port = _free_port()
    fapilog.configure(sinks=[MemorySink()], metrics={"enabled": True, "port": port})
    server = fapilog.metrics.current_server()
    assert server is not None and server.port == port
    fapilog.get_logger("settings").info("one")
    assert fapilog.flush(5.0)
    assert value(samples(_get(server.url)), "fapilog_events_submitted_total") == 1
    fapilog.configure(sinks=[MemorySink()], metrics={"enabled": True, "port": port})
    assert fapilog.metrics.current_server() is server  # reconfiguring does not restart the endpoint
    assert value(samples(_get(server.url)), "fapilog_events_submitted_total") == 0  # the new pipeline's figures
    fapilog.configure(sinks=[MemorySink()])
    assert fapilog.metrics.current_server() is None
    with pytest.raises(urllib.error.URLError):
        _get(server.url)


@pytest.mark.usefixtures("no_settings_endpoint")
def test_a_taken_port_is_a_config_error_and_the_previous_pipeline_stays() -> None:
    """Port in use: ConfigError on metrics.port saying to choose a free port; logging goes on as before."""
    sink = MemorySink()
    fapilog.configure(sinks=[sink])
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(fapilog.ConfigError, match="choose a free port") as caught:
            fapilog.configure(sinks=[MemorySink()], metrics={"enabled": True, "port": taken.getsockname()[1]})
    assert caught.value.field == "metrics.port"
    fapilog.get_logger("kept").info("still here")
    assert fapilog.flush(5.0)
    assert [r["message"] for r in sink.records] == ["still here"]


@pytest.mark.usefixtures("no_settings_endpoint")
def test_a_refused_move_to_a_taken_port_keeps_the_running_endpoint() -> None:
    """configure() refused for a taken metrics port keeps the previous settings' endpoint serving, same port."""
    fapilog.configure(sinks=[MemorySink()], metrics={"enabled": True, "port": 0})
    before = fapilog.metrics.current_server()
    assert before is not None
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(fapilog.ConfigError, match="choose a free port"):
            fapilog.configure(sinks=[MemorySink()], metrics={"enabled": True, "port": taken.getsockname()[1]})
    assert fapilog.metrics.current_server() is before
    fapilog.get_logger("kept").info("counted")
    assert fapilog.flush(5.0)
    assert value(samples(_get(before.url)), "fapilog_events_submitted_total") == 1


def test_an_address_of_another_host_is_a_config_error_on_addr() -> None:
    """metrics.addr that is no address of this host (TEST-NET-1): ConfigError naming metrics.addr."""
    with pytest.raises(fapilog.ConfigError) as caught:
        fapilog.configure(sinks=[MemorySink()], metrics={"enabled": True, "port": 0, "addr": "192.0.2.1"})
    assert caught.value.field == "metrics.addr"


def test_metrics_from_environment_variables_start_with_the_first_log_call(tmp_path: Path) -> None:
    """FAPILOG_METRICS__ENABLED/PORT: a process that never calls configure() serves its metrics after a log call."""
    port = _free_port()
    script = textwrap.dedent(
        f"""
        import urllib.request, fapilog
        fapilog.get_logger("env").info("hello")
        assert fapilog.flush(10.0)
        body = urllib.request.urlopen("http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
        print([line for line in body.splitlines() if line.startswith("fapilog_events_submitted_total")][0])
        """
    )
    env = {**os.environ, "FAPILOG_METRICS__ENABLED": "true", "FAPILOG_METRICS__PORT": str(port),
           "FAPILOG_SINKS": '["memory"]'}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "fapilog_events_submitted_total 1.0"


BLOCKER = '''
import importlib.abc, sys


class _NoPrometheus(importlib.abc.MetaPathFinder):
    """As if prometheus-client were not installed."""

    def find_spec(self, name, path=None, target=None):
        if name == "prometheus_client" or name.startswith("prometheus_client."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _NoPrometheus())
'''


def test_without_prometheus_client_configuring_metrics_says_what_to_install(tmp_path: Path) -> None:
    """With prometheus_client unimportable (a meta-path blocker in sitecustomize): ConfigError with the pip command."""
    (tmp_path / "sitecustomize.py").write_text(BLOCKER)
    script = textwrap.dedent(
        """
        import sys
        import fapilog, fapilog.metrics
        fapilog.configure(sinks=["memory"])
        fapilog.get_logger("x").info("plain logging works")
        assert fapilog.flush(5.0)
        for attempt in (lambda: fapilog.configure(sinks=["memory"], metrics={"enabled": True}),
                        lambda: fapilog.metrics.register()):
            try:
                attempt()
            except fapilog.ConfigError as exc:
                print(exc.field, "|", exc)
            else:
                print("no error")
        print("imported" if "prometheus_client" in sys.modules else "not imported")
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env,
                          check=False)
    assert done.returncode == 0, done.stderr
    configure_line, register_line, imported = done.stdout.strip().splitlines()
    assert configure_line.startswith("metrics.enabled | metrics.enabled: Prometheus metrics need the prometheus-client")
    assert configure_line.endswith('install it with: pip install "fapilog[metrics]"')
    assert register_line.startswith("metrics | ") and 'pip install "fapilog[metrics]"' in register_line
    assert imported == "not imported"


def test_metrics_from_the_environment_without_prometheus_client_warn_and_logging_goes_on(tmp_path: Path) -> None:
    """FAPILOG_METRICS__ENABLED without the extra: the first log call says what to install on stderr, and logs."""
    (tmp_path / "sitecustomize.py").write_text(BLOCKER)
    script = "import fapilog\nfapilog.get_logger('x').info('still logged')\nassert fapilog.flush(5.0)\n"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
           "FAPILOG_METRICS__ENABLED": "true", "FAPILOG_SINKS": '[{"type": "stdout", "format": "json"}]'}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert '"message":"still logged"' in done.stdout
    expected = '(applied when a log call started the pipeline; logging goes on without it)'
    assert f'pip install "fapilog[metrics]" {expected}' in done.stderr


def test_logging_without_metrics_never_imports_prometheus_client() -> None:
    """import fapilog, configure() and logging with the default settings leave prometheus_client unimported."""
    script = (
        "import sys, fapilog\n"
        "fapilog.configure(sinks=['memory'])\n"
        "fapilog.get_logger('x').info('x')\n"
        "assert fapilog.flush(5.0)\n"
        "print(sorted(m for m in ('prometheus_client', 'fapilog.metrics', 'opentelemetry') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
