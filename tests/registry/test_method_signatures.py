"""Plugins are checked when they register, as pluggy checks hooks: methods the core cannot call are refused.

Each plugin here is a real distribution on a temporary ``sys.path`` directory, found through its entry point,
so the check runs where a third-party plugin meets it. Warnings about a plugin point at the plugin's own code.
"""

from __future__ import annotations

import importlib
import inspect
import linecache
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.registry._dists import DistFactory, make

import fapilog
from fapilog._registry.registry import LegacyPluginWarning, PluginRegistry
from fapilog.errors import PluginValidationError


@pytest.fixture
def dists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DistFactory]:
    yield from make(tmp_path, monkeypatch)


def _declared(kind: str, body: str) -> str:
    header = (
        "from fapilog.plugins.metadata import PluginMetadata\n"
        "class Plugin:\n"
        f"    metadata = PluginMetadata(name='{{name}}', version='1.0', kind='{kind}')\n"
    )
    return header + body


BAD = [
    ("filter", "    async def filter(self):\n        return None\n", "filter(record)",
     "`async def filter(self, record)`"),
    ("enricher", "    async def enrich(self, record, extra):\n        return {}\n", "enrich(record)",
     "`async def enrich(self, record)`"),
    ("sink", "    async def write(self, record): pass\n    async def write_batch(self): pass\n",
     "write_batch(records)", "`async def write_batch(self, records)`"),
    ("processor", "    async def process(self, record): return record\n    async def start(self, loop): pass\n",
     "start()", "`async def start(self)`"),
]


@pytest.mark.parametrize(("kind", "body", "call", "wanted"), BAD, ids=[b[2] for b in BAD])
def test_a_method_the_core_cannot_call_is_refused_at_registration(
    dists: DistFactory, kind: str, body: str, call: str, wanted: str
) -> None:
    """A method whose parameters cannot take the core's call is refused naming the plugin, method and signature."""
    dists.plugin("shaped", source=_declared(kind, body))
    with pytest.raises(PluginValidationError) as caught:
        PluginRegistry().load("shaped")
    message = str(caught.value)
    assert message.startswith("plugin 'shaped' (Plugin, kind ")
    assert f"does not accept the call the core makes, {call}" in message and wanted in message
    assert caught.value.plugin == "shaped"


def test_the_refusal_reaches_configure_naming_where_it_was_configured(dists: DistFactory) -> None:
    """configure() fails before any event is logged, with the location of the spec in front."""
    dists.plugin("shaped", source=_declared("filter", "    async def filter(self):\n        return None\n"))
    with pytest.raises(PluginValidationError, match=r"^filters\[0\]: plugin 'shaped'.*filter\(record\)"):
        fapilog.configure(sinks=["memory"], filters=["shaped"])


def test_extra_parameters_with_defaults_and_star_args_are_accepted(dists: DistFactory) -> None:
    """Parameters beyond the core's call are fine when they have defaults, and *args takes anything."""
    body = (
        "    async def filter(self, record, *, strict=False):\n        return record\n"
        "    async def filter_batch(self, *records):\n        return list(records[0])\n"
        "    async def flush(self, timeout=None): pass\n"
    )
    dists.plugin("roomy", source=_declared("filter", body))
    assert PluginRegistry().load("roomy").state == "loaded"


def test_a_legacy_sync_sink_is_still_wrapped_with_a_warning(dists: DistFactory) -> None:
    """A plugin without metadata keeps a plain `def write(self, record)`: it is adapted, not refused."""
    dists.plugin("oldsink", source="class Plugin:\n    def write(self, record):\n        pass\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, instance = PluginRegistry().create("sink", "oldsink")
    assert type(instance).__name__ == "LegacySinkAdapter"
    assert any(issubclass(w.category, LegacyPluginWarning) for w in caught)


def test_a_legacy_sink_with_a_wrong_write_is_refused(dists: DistFactory) -> None:
    """Legacy rules allow a sync write, not one the core cannot call: `def write(self)` is refused."""
    dists.plugin("oldbad", source="class Plugin:\n    def write(self):\n        pass\n")
    with pytest.raises(PluginValidationError, match=r"write\(record\); write `def write\(self, record\)`"):
        PluginRegistry().create("sink", "oldbad")


def test_the_legacy_warning_points_at_the_plugins_own_class(dists: DistFactory) -> None:
    """The legacy-plugin warning's filename and line are the plugin class's, not the registry's or builder's."""
    module = dists.plugin("pointed", source="\n\nclass Plugin:\n    def write(self, record):\n        pass\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fapilog.configure(sinks=["pointed"])
    [warning] = [w for w in caught if issubclass(w.category, LegacyPluginWarning)]
    cls = importlib.import_module(module).Plugin
    assert warning.filename == inspect.getsourcefile(cls)
    assert linecache.getline(warning.filename, warning.lineno).startswith("class Plugin:")


def test_the_legacy_warning_for_a_class_exec_d_from_text_points_at_that_text() -> None:
    """A plugin class compiled from a string (no source file) is pointed at by its own code, not line 1 of a module."""
    namespace = {"__name__": __name__}
    source = "\n\nclass ExecSink:\n    def write(self, record):\n        pass\n"
    exec(compile(source, "<plugin-source>", "exec"), namespace)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        PluginRegistry().create("sink", namespace["ExecSink"]())
    [warning] = [w for w in caught if issubclass(w.category, LegacyPluginWarning)]
    assert (warning.filename, warning.lineno) == ("<plugin-source>", 4)


FORWARDED = {
    "partialmethod": (
        "import functools\n"
        "async def _drop(self, record, word):\n    return None if record['message'] == word else record\n",
        "    filter = functools.partialmethod(_drop, word='drop')\n",
    ),
    "async-callable-object": (
        "class _Drop:\n    async def __call__(self, record):\n"
        "        return None if record['message'] == 'drop' else record\n",
        "    filter = _Drop()\n",
    ),
    "wraps-decorator": (
        "import functools\n"
        "def traced(fn):\n    @functools.wraps(fn)\n    def wrapper(*args, **kwargs):\n"
        "        return fn(*args, **kwargs)\n    return wrapper\n",
        "    @traced\n    async def filter(self, record):\n"
        "        return None if record['message'] == 'drop' else record\n",
    ),
}


@pytest.mark.parametrize("form", list(FORWARDED))
def test_an_async_method_behind_a_forwarding_wrapper_is_accepted_and_runs(dists: DistFactory, form: str) -> None:
    """partialmethod, an async callable object or a functools.wraps decorator over `async def` is not refused."""
    from fapilog.builtins.sinks.memory import MemorySink

    prelude, body = FORWARDED[form]
    source = (
        f"{prelude}from fapilog.plugins.metadata import PluginMetadata\n"
        "class Plugin:\n    metadata = PluginMetadata(name='{name}', version='1.0', kind='filter')\n" + body
    )
    dists.plugin("forwarded", source=source)
    memory = MemorySink()
    fapilog.configure(filters=["forwarded"], sinks=[memory])
    for message in ("keep", "drop", "also kept"):
        fapilog.get_logger("app").info(message)
    assert fapilog.flush(5.0)
    assert [r["message"] for r in memory.records] == ["keep", "also kept"]
