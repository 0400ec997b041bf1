"""fapilog's own metrics for Prometheus: start the endpoint, log, scrape it, print a few lines.

Run: .venv/bin/python examples/metrics.py   (needs the extra: pip install "fapilog[metrics]")
"""

from __future__ import annotations

import urllib.request

import fapilog
import fapilog.metrics

SHOWN = (
    "fapilog_events_submitted_total",
    'fapilog_events_dropped_total{intentional="true"',
    'fapilog_sink_events_total{outcome="delivered"',
    'fapilog_sink_write_duration_seconds_count',
    "fapilog_plugin_load_duration_seconds",
)


def main() -> None:
    # In production: metrics={"enabled": True, "port": 9464}. Port 0 picks a free one for this example.
    fapilog.configure(
        sinks=["memory"],
        enrichers=["runtime"],
        filters=[{"type": "sampling", "rate": 0.5, "seed": 1}],
        metrics={"enabled": True, "port": 0, "addr": "127.0.0.1"},
    )
    log = fapilog.get_logger("shop")
    for order in range(100):
        log.info("order placed", order=order)
    fapilog.flush()

    server = fapilog.metrics.current_server()
    assert server is not None
    with urllib.request.urlopen(server.url, timeout=10) as response:  # what Prometheus does every scrape
        text = response.read().decode()
    print(f"scraped {server.url}")
    for line in text.splitlines():
        if line.startswith(SHOWN):
            print(line)
    fapilog.shutdown()


if __name__ == "__main__":
    main()
