"""The built-in stages configured by name through the registry, end to end, and per-sink processors."""

from __future__ import annotations

from pathlib import Path

import orjson

import fapilog
from fapilog.builtins.sinks.memory import MemorySink


def test_builtin_chain_by_name_masks_limits_and_enriches() -> None:
    """Built-ins named in configure() run in order: secrets masked, runtime fields added, size enforced."""
    sink = MemorySink()
    fapilog.configure(
        sinks=[sink],
        enrichers=[{"type": "runtime", "service": "checkout", "environment": "test"}],
        redactors=[{"type": "preset", "names": ["credentials"]}],
        processors=[{"type": "size_guard", "max_bytes": 2048}],
    )
    log = fapilog.get_logger("e2e")
    log.info("login", password="hunter2", api_key="sk-live-abcdefghijklmnop1234", note="x" * 10_000)
    assert fapilog.flush(5.0)
    line = sink.lines[0]
    record = sink.records[0]
    assert b"hunter2" not in line and b"sk-live-abcdefghijklmnop1234" not in line
    assert record["service"] == "checkout" and record["environment"] == "test"
    assert len(line) <= 2048 and "_truncated" in record


def test_per_sink_processors_change_only_that_sinks_copy(tmp_path: Path) -> None:
    """A size_guard listed under one sink trims that sink's lines; the other sink gets the full event."""
    full, limited = tmp_path / "full.log", tmp_path / "limited.log"
    fapilog.configure(
        sinks=[
            {"type": "file", "path": str(full)},
            {"type": "file", "name": "limited", "path": str(limited),
             "processors": [{"type": "size_guard", "max_bytes": 600}]},
        ]
    )
    fapilog.get_logger("p").info("big", payload="y" * 5_000)
    assert fapilog.flush(5.0)
    (full_line,) = full.read_bytes().splitlines()
    (limited_line,) = limited.read_bytes().splitlines()
    assert orjson.loads(full_line)["payload"] == "y" * 5_000
    assert len(limited_line) <= 600 and "_truncated" in orjson.loads(limited_line)
    assert fapilog.stats()["sinks"]["limited"]["processor_errors"] == {"size_guard@limited": 0}


def test_unknown_builtin_setting_names_plugin_and_field() -> None:
    """A typo in a built-in's settings fails configure() naming where, which plugin and which field."""
    import pytest

    with pytest.raises(fapilog.ConfigError) as info:
        fapilog.configure(filters=[{"type": "rate_limit", "rate": -1}])
    assert "filters[0]" in str(info.value) and "rate_limit.rate" in str(info.value)
