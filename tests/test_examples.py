"""The examples in examples/ run and do what their docstrings say."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_quickstart_runs_and_delivers_every_event() -> None:
    """examples/quickstart.py exits 0 and reports as many file lines as events submitted."""
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "quickstart.py")], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "flush ok=True; 4 submitted, 4 lines" in proc.stdout


def test_metrics_example_scrapes_its_own_endpoint() -> None:
    """examples/metrics.py serves, scrapes itself and prints the submitted counter and plugin load times."""
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "metrics.py")], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("scraped http://127.0.0.1:")
    assert "fapilog_events_submitted_total 100.0" in lines
    runtime_load = 'fapilog_plugin_load_duration_seconds{kind="enricher",plugin="runtime"}'
    assert any(line.startswith(runtime_load) for line in lines)


def test_fastapi_app_serves_on_loopback_and_logs_each_request_once() -> None:
    """examples/fastapi_app.py serves real requests under uvicorn, logs one access event each and exits by itself."""
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "fastapi_app.py")], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "statuses [200, 200, 200, 200, 422, 404, 500]" in proc.stdout
    assert "access events 6:" in proc.stdout  # /healthz is skipped
    assert "carries request_id=checkout-7 route=/orders/{order_id}" in proc.stdout
    assert "uvicorn errors logged: 1" in proc.stdout


def test_network_sink_example_gets_retries_and_partial_rejections_from_the_core() -> None:
    """examples/network_sink.py delivers 9 events in order after a 503, with one rejected by the collector."""
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "network_sink.py")], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "collector stored 9 events in order: True" in proc.stdout
    assert "delivered=9 rejected={'bad_kind': 1} retried=1 circuit=closed" in proc.stdout


def test_otlp_sink_example_ships_log_records_with_the_span_and_retries_a_503() -> None:
    """examples/otlp_sink.py: 5 OTLP log records in order with the span's trace id, one retry, two write spans."""
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "otlp_sink.py")], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "receiver got 5 log records in order: True" in proc.stdout
    assert "first: INFO 'order placed' order=0 trace_id matches the span: True" in proc.stdout
    assert "delivered=5 retried=1 circuit=closed" in proc.stdout
    assert "write spans: [(1, 'retryable'), (2, 'delivered')]" in proc.stdout
