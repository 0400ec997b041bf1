"""The public surface of the package."""

from __future__ import annotations

import subprocess
import sys

import fapilog
import fapilog.plugins


def test_all_is_exactly_the_public_names() -> None:
    """fapilog.__all__ lists every public attribute and nothing else."""
    modules = {
        "annotations", "core", "errors", "settings", "integrations", "plugins", "builtins", "plugin_api", "testing",
        "cli", "metrics",
    }
    # pytest rewrites the asserts of every module of a distribution that registers a pytest11 plugin (fapilog
    # does: fapilog.testing.pytest_plugin), which leaves its "@py_builtins"/"@pytest_ar" helpers behind.
    public = {n for n in dir(fapilog) if not n.startswith(("_", "@"))} - modules
    assert set(fapilog.__all__) - {"__version__"} == public


def test_plugins_all_names_resolve() -> None:
    """Every name in fapilog.plugins.__all__ is importable."""
    for name in fapilog.plugins.__all__:
        assert getattr(fapilog.plugins, name) is not None


def test_version_is_the_3_line() -> None:
    """The core declares 3.0.0 so plugins requiring fapilog>=3.0,<4.0 accept it."""
    assert fapilog.__version__ == "3.0.0"


def test_import_does_not_start_threads_or_import_optional_dependencies() -> None:
    """`import fapilog` starts no thread and imports none of asyncio, logging, pydantic or the plugin registry."""
    heavy = ["asyncio", "logging", "pydantic", "packaging", "importlib.metadata", "fapilog._registry.registry"]
    code = (
        "import sys, threading, fapilog\n"
        f"print(threading.active_count(), [m for m in {heavy!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().split(maxsplit=1) == ["1", "[]"]


def test_plugins_all_is_exactly_the_public_kit() -> None:
    """fapilog.plugins.__all__ is the plugin author's kit (outcomes, record helpers included) and nothing else."""
    assert set(fapilog.plugins.__all__) == {
        "PLUGIN_API_VERSION", "BatchResult", "BatchSink", "BatchTooLargeError", "Enricher", "Filter",
        "PermanentSinkError", "PluginHealth", "PluginInfo", "PluginInstanceInfo", "PluginKind", "PluginMetadata",
        "PluginRegistry", "Processor", "Record", "Redactor", "RetryableSinkError", "Sink", "SinkDeliveryError",
        "check_health", "default_registry", "parse_retry_after", "refresh",
        # the record type, serializer, blocking-I/O helper, levels and bound context the built-ins use too
        "CRITICAL", "DEBUG", "ERROR", "INFO", "LEVEL_NAMES", "NOTSET", "RESERVED_KEYS", "WARNING", "BlockingWorker",
        "EventRecord", "Serializer", "current_context", "dumps", "json_lines", "level_name", "parse_level",
        "safe_repr",
    }
