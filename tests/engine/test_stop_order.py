"""Required plugins start first and stop last, whatever the kinds and the configured order (docs/plugins.md).

Each plugin records start and stop in one shared journal; every combination of kinds checks that a
plugin starts after and stops before every plugin it requires, and that every sink still delivered the events
logged before the shutdown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

import fapilog
from fapilog.plugins import PluginMetadata

JOURNAL: list[str] = []


class _Recorder:
    metadata: PluginMetadata

    def __init__(self, name: str) -> None:
        self.name = name
        self.written: list[str] = []

    async def start(self) -> None:
        JOURNAL.append(f"start {self.name}")

    async def stop(self) -> None:
        JOURNAL.append(f"stop {self.name}")


class _Sink(_Recorder):
    runs_on_worker_loop = True

    async def write(self, record: Mapping[str, Any]) -> None:
        self.written.append(record["message"])

    async def flush(self) -> None:
        JOURNAL.append(f"flush {self.name}")


class _Enricher(_Recorder):
    async def enrich(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        return {"by": self.name}


class _Filter(_Recorder):
    async def filter(self, record: Mapping[str, Any]) -> bool:
        return True


class _Processor(_Recorder):
    async def process(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        return record


BASES: dict[str, type[_Recorder]] = {"sink": _Sink, "enricher": _Enricher, "filter": _Filter, "processor": _Processor}


def _make(kind: str, name: str, requires: tuple[str, ...] = ()) -> _Recorder:
    """A plugin of ``kind`` whose class declares the metadata (metadata lives on the class)."""
    metadata = PluginMetadata(name=name, version="1.0", kind=kind, requires=requires)  # type: ignore[arg-type]
    cls = type(f"{kind}_{name}", (BASES[kind],), {"metadata": metadata})
    return cls(name)


KINDS = list(BASES)
SETTING = {"sink": "sinks", "enricher": "enrichers", "filter": "filters", "processor": "processors"}


def _configure(plugins: list[_Recorder]) -> None:
    options: dict[str, list[_Recorder]] = {}
    for plugin in plugins:
        options.setdefault(SETTING[plugin.metadata.kind], []).append(plugin)
    fapilog.configure(**options)  # type: ignore[arg-type]


def _assert_order(dependant: str, required: str) -> None:
    assert JOURNAL.index(f"start {required}") < JOURNAL.index(f"start {dependant}"), JOURNAL
    assert JOURNAL.index(f"stop {dependant}") < JOURNAL.index(f"stop {required}"), JOURNAL


PAIRS = [(a, b) for a in KINDS for b in KINDS]


@pytest.mark.parametrize(("dependant_kind", "required_kind"), PAIRS, ids=[f"{a}-requires-{b}" for a, b in PAIRS])
def test_a_required_plugin_starts_first_and_stops_last(dependant_kind: str, required_kind: str) -> None:
    JOURNAL.clear()
    required = _make(required_kind, f"req-{required_kind}")
    dependant = _make(dependant_kind, f"dep-{dependant_kind}", (required.name,))
    plugins: list[_Recorder] = [dependant, required]  # the dependant first: the order must not matter
    if "sink" not in (dependant_kind, required_kind):
        plugins.append(_make("sink", "out"))
    _configure(plugins)
    log = fapilog.get_logger("order")
    for i in range(10):
        log.info("event", i=i)
    report = fapilog.shutdown(10.0)
    assert report.ok, report
    _assert_order(dependant.name, required.name)
    for plugin in plugins:
        if isinstance(plugin, _Sink):
            assert plugin.written == ["event"] * 10  # delivered before any stop


def test_a_chain_across_kinds_stops_in_reverse() -> None:
    """sink -> enricher -> filter: the filter stops last, though stages usually stop before sinks."""
    JOURNAL.clear()
    base = _make("filter", "base")
    middle = _make("enricher", "middle", ("base",))
    top = _make("sink", "top", ("middle",))
    other = _make("enricher", "other")
    _configure([top, middle, other, base])
    fapilog.get_logger("order").info("one")
    assert fapilog.shutdown(10.0)
    _assert_order("top", "middle")
    _assert_order("middle", "base")
    assert top.written == ["one"]
    # A stage nothing requires still stops before the sinks (what it logs at stop is delivered).
    assert JOURNAL.index("stop other") < JOURNAL.index("stop top")
