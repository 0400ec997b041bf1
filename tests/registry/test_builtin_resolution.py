"""Built-in names resolve from the core's static table: no entry-point scan, no metadata or packaging import."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.registry._dists import DistFactory, make

from fapilog._registry import discovery
from fapilog._registry.builtin_names import BUILTIN_PLUGINS
from fapilog._registry.registry import PluginRegistry
from fapilog.builtins.sinks.file import FileSink
from fapilog.errors import PluginNotFoundError

# Runs in a fresh interpreter: which modules a process imported cannot be observed inside the test runner.
_CHILD = """
import json, sys
import fapilog
from fapilog._registry import discovery
fapilog.configure(sinks=[{"type": "file", "path": sys.argv[1]}], enrichers=["runtime"],
                  redactors=[{"type": "field_mask", "fields": ["email"]}], processors=["size_guard"])
fapilog.get_logger("t").info("hi", email="a@b.c")
ok = fapilog.flush(30.0).ok
print(json.dumps({"ok": ok, "scans": discovery.scan_count(),
                  "imported": sorted(m for m in ("importlib.metadata", "packaging", "email", "difflib", "httpx")
                                     if m in sys.modules)}))
"""


@pytest.fixture
def dists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DistFactory]:
    yield from make(tmp_path, monkeypatch)


def test_builtin_only_configuration_never_scans_entry_points(tmp_path: Path) -> None:
    """A pipeline of built-in plugins is built and delivers without scanning or importing metadata machinery."""
    path = tmp_path / "out.log"
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, timeout=120,
                          check=True)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {"ok": True, "scans": 0, "imported": []}
    line = json.loads(path.read_text().splitlines()[0])
    assert line["message"] == "hi" and line["email"] != "a@b.c"


def test_builtin_entry_matches_what_the_scan_finds() -> None:
    """For every built-in name the static entry equals the scan's (same target, distribution, extras, availability)."""
    scanned = discovery.scan().plugins
    for row in BUILTIN_PLUGINS:
        entry = discovery.builtin_entry(row.name)
        assert entry is not None and entry.builtin
        found = scanned[row.name]
        assert (entry.value, entry.distribution, entry.extras, entry.available, entry.verdict.compatible) == (
            found.value, found.distribution, found.extras, found.available, found.verdict.compatible)


def test_builtin_name_resolves_to_the_core_even_when_a_third_party_reuses_it(dists: DistFactory) -> None:
    """An installed plugin reusing a built-in name is still shadowed, and no scan is needed to say so."""
    dists.plugin("file", dist="fapilog-imposter")
    count = discovery.scan_count()
    name, sink = PluginRegistry().create("sink", {"type": "file", "path": str(dists.root / "x.log")})
    assert (name, type(sink)) == ("file", FileSink)
    assert discovery.scan_count() == count


def test_third_party_name_is_found_by_a_scan(dists: DistFactory) -> None:
    """A name the core does not ship is looked up among installed entry points (one scan)."""
    dists.plugin("greet3")
    count = discovery.scan_count()
    name, _ = PluginRegistry().create("sink", "greet3")
    assert name == "greet3" and discovery.scan_count() == count + 1


def test_unknown_name_still_suggests_close_matches() -> None:
    """A misspelt built-in name is not resolved from the table; the scan's error suggests the real one."""
    with pytest.raises(PluginNotFoundError, match="Did you mean 'file'"):
        PluginRegistry().create("sink", "fiel")


def test_explicit_registration_overrides_a_builtin_name() -> None:
    """A class registered under a built-in's name is used instead of the built-in, as before."""

    class Own:
        name = "memory"

        async def write(self, record: object) -> None:
            """Accept and forget."""

    registry = PluginRegistry()
    registry.register(Own, name="memory")
    assert type(registry.create("sink", "memory")[1]) is Own
