"""``fapilog.plugin_api`` (the stories' import path) is an alias of ``fapilog.plugins``, not a second copy."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fapilog import plugin_api, plugins


def test_every_public_name_is_the_same_object_under_both_paths() -> None:
    assert plugin_api.__all__ == plugins.__all__
    for name in plugins.__all__:
        assert getattr(plugin_api, name) is getattr(plugins, name), name


def test_a_plugin_written_against_the_alias_loads_and_processes() -> None:
    """The appendix's form: ``from fapilog.plugin_api import Processor``, then a pipeline runs it."""
    script = """
import fapilog
from fapilog.plugin_api import Processor, Sink


class Upper:
    async def process(self, record):
        return {**record, "message": str(record["message"]).upper()}


class Keep:
    name = "keep"
    runs_on_worker_loop = True

    def __init__(self):
        self.records = []

    async def write(self, record):
        self.records.append(record)


processor: Processor = Upper()  # the protocols type-check plugins; they need no base class
sink: Sink = Keep()
fapilog.configure(sinks=[sink], processors=[processor])
fapilog.get_logger("a").info("hello")
assert fapilog.flush(10.0)
print(sink.records[0]["message"])
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "HELLO"


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchThing"):
        plugin_api.NoSuchThing  # noqa: B018
