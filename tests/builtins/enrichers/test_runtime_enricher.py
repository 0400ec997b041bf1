"""The built-in ``runtime`` enricher: service, environment, version, host and pid."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import textwrap
from typing import Any

import pytest

import fapilog
from fapilog._kit.record import EventRecord
from fapilog._registry.registry import PluginRegistry
from fapilog.builtins.enrichers.runtime import ENV_FALLBACKS, RuntimeEnricher
from fapilog.builtins.sinks.memory import MemorySink
from fapilog.errors import ConfigError

ALL_VARS = [name for names in ENV_FALLBACKS.values() for name in names]


@pytest.fixture(autouse=True)
def _no_runtime_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ALL_VARS:
        monkeypatch.delenv(name, raising=False)


def started(**options: Any) -> RuntimeEnricher:
    enricher = RuntimeEnricher(**options)
    asyncio.run(enricher.start())
    return enricher


def test_adds_configured_values_host_and_pid() -> None:
    """Settings give service, environment and version; host and pid come from the system."""
    enricher = started(service="checkout", environment="prod", version="1.4.2")
    fields = asyncio.run(enricher.enrich(EventRecord(message="m")))
    assert fields == {"service": "checkout", "environment": "prod", "version": "1.4.2",
                      "host": socket.gethostname(), "pid": os.getpid()}


def test_environment_variables_fill_unset_fields_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """SERVICE_NAME before OTEL_SERVICE_NAME, ENVIRONMENT before ENV, SERVICE_VERSION; settings win."""
    monkeypatch.setenv("OTEL_SERVICE_NAME", "from-otel")
    monkeypatch.setenv("ENV", "staging")
    monkeypatch.setenv("ENVIRONMENT", "prod")
    monkeypatch.setenv("SERVICE_VERSION", "9.9")
    fields = started(version="1.0").fields
    assert (fields["service"], fields["environment"], fields["version"]) == ("from-otel", "prod", "1.0")
    monkeypatch.setenv("SERVICE_NAME", "from-service-name")
    assert started().fields["service"] == "from-service-name"


def test_fields_without_a_value_are_left_out() -> None:
    """No settings, no variables, host and pid switched off: nothing is added."""
    assert started(include_host=False, include_pid=False).fields == {}
    assert set(started().fields) == {"host", "pid"}


def test_batch_form_gives_every_record_the_same_fields() -> None:
    """enrich_batch returns one mapping per record, all equal to enrich()'s."""
    enricher = started(service="api")
    records = [EventRecord(message=str(i)) for i in range(4)]
    out = asyncio.run(enricher.enrich_batch(records))
    assert len(out) == 4 and all(fields == {"service": "api", **{k: enricher.fields[k] for k in ("host", "pid")}}
                                 for fields in out)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_reports_its_own_pid() -> None:
    """After fork the next batch carries the child's pid, without restarting the enricher."""
    script = textwrap.dedent(
        """
        import asyncio, os
        from fapilog._kit.record import EventRecord
        from fapilog.builtins.enrichers.runtime import RuntimeEnricher

        enricher = RuntimeEnricher()
        asyncio.run(enricher.start())
        parent = asyncio.run(enricher.enrich_batch([EventRecord()]))[0]["pid"]
        read, write = os.pipe()
        child = os.fork()
        if child == 0:
            pid = asyncio.run(enricher.enrich_batch([EventRecord()]))[0]["pid"]
            os.write(write, f"{pid} {os.getpid()}".encode())
            os._exit(0)
        os.waitpid(child, 0)
        seen, actual = os.read(read, 100).decode().split()
        assert parent == os.getpid(), parent
        assert int(seen) == int(actual) == child, (seen, actual, child)
        print("ok")
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


@pytest.mark.parametrize(
    ("options", "start"),
    [
        ({"service": ""}, "runtime.service: must not be empty"),
        ({"environment": 3}, "runtime.environment:"),
        ({"include_pid": "maybe"}, "runtime.include_pid: must be true or false"),
    ],
)
def test_bad_settings_name_the_field(options: dict[str, Any], start: str) -> None:
    """Invalid settings raise ConfigError starting with '<plugin>.<field>:'."""
    with pytest.raises(ConfigError) as caught:
        RuntimeEnricher(**options)
    assert str(caught.value).startswith(start)


def test_settings_by_table_reach_the_constructor() -> None:
    """The registry validates a table with the config model and builds the enricher from it."""
    registry = PluginRegistry([RuntimeEnricher], entry_points=False)
    _, instance = registry.create("enricher", {"type": "runtime", "service": "api", "include_host": False})
    assert isinstance(instance, RuntimeEnricher) and instance.settings.service == "api"


def test_end_to_end_adds_fields_but_never_overwrites() -> None:
    """Through the pipeline every event gets the fields; a call field of the same name is kept."""
    sink = MemorySink()
    fapilog.configure(sinks=[sink], enrichers=[RuntimeEnricher(service="api", environment="prod")])
    log = fapilog.get_logger("e2e")
    log.info("one")
    log.info("two", service="override")
    assert fapilog.flush(5.0)
    one, two = sink.records
    assert one["service"] == "api" and one["environment"] == "prod" and one["pid"] == os.getpid()
    assert two["service"] == "override" and two["environment"] == "prod"
