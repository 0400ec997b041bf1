"""The settings' metrics endpoint across ``os.fork()``: a child never passes the parent's figures off as its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

CHILD_REPORT = """
import json, os, urllib.request

import fapilog
import fapilog.metrics

fapilog.configure(sinks=["memory"], metrics={{"enabled": True, "port": {port}, "addr": "127.0.0.1"}})
parent_port = fapilog.metrics.current_server().port
read, write = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(read)
    for _ in range(5):
        fapilog.get_logger("child").info("from the child")
    fapilog.flush()
    server = fapilog.metrics.current_server()
    report = {{"parent_port": parent_port, "child_port": None, "scraped": None}}
    if server is not None:
        report["child_port"] = server.port
        with urllib.request.urlopen(server.url, timeout=10) as response:
            lines = response.read().decode().splitlines()
        report["scraped"] = next(line for line in lines if line.startswith("fapilog_events_submitted_total "))
    os.write(write, json.dumps(report).encode())
    os._exit(0)
os.close(write)
_, status = os.waitpid(pid, 0)
with os.fdopen(read) as pipe:
    print(pipe.read())
fapilog.shutdown()
"""


def _run(port: int) -> tuple[dict[str, object], str]:
    script = textwrap.dedent(CHILD_REPORT.format(port=port))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def test_forked_child_serves_its_own_figures_on_a_new_port() -> None:
    """With port 0, a forked child's first log call opens its own endpoint, whose scrape shows the child's events."""
    report, _ = _run(0)
    assert report["child_port"] is not None and report["child_port"] != report["parent_port"]
    assert report["scraped"] == "fapilog_events_submitted_total 5.0"


def test_forked_child_with_the_parents_fixed_port_says_so_instead_of_serving_the_parents() -> None:
    """With a fixed port the parent holds, the child reports no endpoint and says on stderr the port is taken."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    report, stderr = _run(port)
    assert report == {"parent_port": port, "child_port": None, "scraped": None}
    assert "metrics.port" in stderr and "FL-OBS-002" in stderr
