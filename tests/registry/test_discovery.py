"""Entry-point discovery: one cached scan, no imports until load, clear errors for every failure."""

from __future__ import annotations

import io
import json
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests._offline_build import copy_core, missing_build_requirements, offline_venv, run
from tests.registry._dists import DistFactory, make

from fapilog._registry import discovery
from fapilog._registry.builtin_names import BUILTIN_PLUGINS
from fapilog._registry.registry import PluginRegistry
from fapilog._registry.report import print_report
from fapilog.errors import PluginError, PluginLoadError, PluginNotFoundError

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


@pytest.fixture
def dists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DistFactory]:
    yield from make(tmp_path, monkeypatch)


def test_discovery_finds_an_installed_plugin(dists: DistFactory) -> None:
    """A distribution with a fapilog.plugins entry point is found with its distribution and target."""
    module = dists.plugin("greet", version="1.4.0")
    entry = discovery.scan().plugins["greet"]
    assert (entry.distribution, entry.dist_version) == ("fapilog-greet", "1.4.0")
    assert entry.value == f"{module}:Plugin" and entry.verdict.compatible


def test_scan_does_not_import_plugin_code(dists: DistFactory) -> None:
    """Scanning reads metadata only: the plugin's module does not run."""
    module = dists.plugin("quiet")
    assert "quiet" in discovery.scan().plugins
    assert not dists.imported(module)


def test_scan_is_cached(dists: DistFactory) -> None:
    """A second scan() in the same process reuses the first result instead of rescanning."""
    dists.plugin("cached")
    first = discovery.scan()
    count = discovery.scan_count()
    assert discovery.scan() is first
    assert discovery.scan_count() == count


def test_refresh_forces_a_new_scan(dists: DistFactory) -> None:
    """After refresh() the next scan reads the installed metadata again and sees new plugins."""
    discovery.scan()
    count = discovery.scan_count()
    dists.plugin("late")  # installs, then refreshes
    assert "late" in discovery.scan().plugins
    assert discovery.scan_count() == count + 1


def test_load_imports_the_entry_point_target(dists: DistFactory) -> None:
    """load(name) imports the module and returns the named class."""
    module = dists.plugin("loaded")
    cls = discovery.load("loaded")
    assert isinstance(cls, type) and cls.__module__ == module
    assert dists.imported(module)


def test_unknown_name_suggests_close_matches_and_a_package(dists: DistFactory) -> None:
    """An unknown name lists close matches and says to install the package that provides it, naming none."""
    dists.plugin("splunk")
    with pytest.raises(PluginNotFoundError) as caught:
        discovery.load("splnk")
    assert "Did you mean 'splunk'" in str(caught.value)
    assert "install that package" in str(caught.value)
    assert "fapilog-splnk" not in str(caught.value)


def test_broken_import_is_a_load_error_with_the_cause_chained(dists: DistFactory) -> None:
    """A module that raises at import becomes PluginLoadError naming the plugin, with the original chained."""
    dists.plugin("broken", source="raise RuntimeError('boom at import')\n")
    with pytest.raises(PluginLoadError) as caught:
        discovery.load("broken")
    assert isinstance(caught.value.__cause__, RuntimeError)
    assert "'broken'" in str(caught.value) and "fapilog-broken 1.0.0" in str(caught.value)
    assert "pip uninstall fapilog-broken" in str(caught.value)


def test_missing_module_is_a_load_error(dists: DistFactory) -> None:
    """An entry point naming a module that does not exist says the distribution is broken."""
    dists.dist("fapilog-ghost", entry_points={"ghost": "fapilog_test_no_such_module:Plugin"})
    with pytest.raises(PluginLoadError, match="does not exist") as caught:
        discovery.load("ghost")
    assert isinstance(caught.value.__cause__, ModuleNotFoundError)


def test_missing_attribute_is_a_load_error(dists: DistFactory) -> None:
    """An entry point naming an attribute the module lacks says the entry point is wrong."""
    module = dists.module("noattr", "X = 1\n")
    dists.dist("fapilog-noattr", entry_points={"noattr": f"{module}:Plugin"})
    with pytest.raises(PluginLoadError, match="has no attribute 'Plugin'"):
        discovery.load("noattr")


def test_conflicting_third_party_names_fail_when_configured(dists: DistFactory) -> None:
    """Two third-party distributions offering one name: configuring it names both and how to resolve it."""
    first = dists.plugin("twin", dist="fapilog-twin-a")
    second = dists.plugin("twin", dist="fapilog-twin-b")
    assert "twin" in discovery.scan().conflicts
    with pytest.raises(PluginError) as caught:
        PluginRegistry().create("sink", "twin")
    message = str(caught.value)
    assert "fapilog-twin-a" in message and "fapilog-twin-b" in message and "pip uninstall" in message
    assert not dists.imported(first) and not dists.imported(second)


def test_explicit_registration_resolves_a_conflict(dists: DistFactory) -> None:
    """Registering a class under a conflicting name makes that name usable again."""
    dists.plugin("twin", dist="fapilog-twin-a")
    dists.plugin("twin", dist="fapilog-twin-b")
    registry = PluginRegistry()
    registry.register(discovery.load_plugin(discovery.scan().conflicts["twin"].candidates[0]))
    assert registry.create("sink", "twin")[0] == "twin"


def test_core_distribution_wins_a_builtin_name(dists: DistFactory) -> None:
    """A third-party plugin reusing a built-in name is shadowed by the core's plugin, not a conflict."""
    dists.plugin("file", dist="fapilog-imposter")
    result = discovery.scan()
    assert result.plugins["file"].builtin
    assert [entry.distribution for entry in result.shadowed] == ["fapilog-imposter"]


def test_builtins_are_discovered_from_the_core(dists: DistFactory) -> None:
    """The built-in sinks come through discovery, from the fapilog distribution or its source-tree table."""
    plugins = discovery.scan().plugins
    for row in BUILTIN_PLUGINS:
        assert plugins[row.name].builtin and plugins[row.name].value == row.target


def test_builtin_table_matches_pyproject_entry_points() -> None:
    """The source-tree fallback table holds exactly the entry points pyproject.toml declares."""
    declared = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["entry-points"][discovery.GROUP]
    table = {row.name: row.target + (f" [{row.extra}]" if row.extra else "") for row in BUILTIN_PLUGINS}
    assert table == declared


def test_plugin_with_missing_extra_is_listed_as_unavailable(dists: DistFactory) -> None:
    """An unconfigured plugin whose extra is not installed is reported unavailable, not raised."""
    dists.plugin(
        "cloudy",
        extras=" [cloud]",
        requires=["fapilog>=3.0,<4.0", 'fapilog-test-absent-dep>=1; extra == "cloud"'],
        source="import fapilog_test_absent_dep\n",
    )
    entry = discovery.find("cloudy")
    assert not entry.available and entry.missing == ("fapilog-test-absent-dep>=1",)
    rows = {row["name"]: row for row in print_report(io.StringIO(), registry=PluginRegistry())}
    assert rows["cloudy"]["state"] == "unavailable"
    assert "pip install 'fapilog-cloudy[cloud]'" in rows["cloudy"]["reason"]


def test_hyphenated_and_multiple_extras_are_read_whole(dists: DistFactory) -> None:
    """``[fp-sink, other]`` is two extras, fp-sink and other (Python 3.11's EntryPoint.extras splits on '-')."""
    dists.plugin(
        "hyphen",
        extras=" [fp-sink, other]",
        requires=["fapilog>=3.0,<4.0", 'fapilog-test-absent-dep>=1; extra == "fp-sink"'],
        source="import fapilog_test_absent_dep\n",
    )
    entry = discovery.find("hyphen")
    assert entry.extras == ("fp-sink", "other")
    assert not entry.available and entry.missing == ("fapilog-test-absent-dep>=1",)
    assert entry.install_hint == "pip install 'fapilog-hyphen[fp-sink,other]'"


def test_configuring_a_plugin_with_missing_extra_names_the_extra(dists: DistFactory) -> None:
    """Loading a plugin whose extra's dependency is missing says which pip command installs it."""
    dists.plugin(
        "cloudy",
        extras=" [cloud]",
        requires=["fapilog>=3.0,<4.0", 'fapilog-test-absent-dep>=1; extra == "cloud"'],
        source="import fapilog_test_absent_dep\n",
    )
    with pytest.raises(PluginLoadError, match=r"pip install 'fapilog-cloudy\[cloud\]'") as caught:
        discovery.load("cloudy")
    assert isinstance(caught.value.__cause__, ModuleNotFoundError)


def test_core_extra_error_names_the_fapilog_extra() -> None:
    """For a built-in needing an extra, the hint is pip install 'fapilog[aws]'."""
    error = discovery.missing_extra_error("cloudwatch", "fapilog", ["aws"], ModuleNotFoundError(name="boto3"))
    assert "'boto3'" in str(error) and "pip install 'fapilog[aws]'" in str(error)


def test_debug_plugins_reports_every_plugin_and_verdict(dists: DistFactory) -> None:
    """print_report prints a table and returns name, kind, version, distribution, verdict and state."""
    dists.plugin("good")
    dists.plugin("stale", requires=["fapilog<3"])
    out = io.StringIO()
    rows = {row["name"]: row for row in print_report(out, registry=PluginRegistry())}
    assert rows["good"]["compatible"] and rows["good"]["kind"] == "?" and rows["good"]["state"] == "discovered"
    assert not rows["stale"]["compatible"] and rows["stale"]["state"] == "incompatible"
    assert "fapilog<3" in rows["stale"]["reason"]
    assert rows["stale"]["distribution"] == "fapilog-stale" and rows["stale"]["version"] == "1.0.0"
    assert "stale" in out.getvalue() and "DISTRIBUTION" in out.getvalue()


def test_debug_plugins_shows_kind_after_load(dists: DistFactory) -> None:
    """Once a plugin is loaded its kind and state appear in the report."""
    dists.plugin("shown")
    registry = PluginRegistry()
    registry.create("sink", "shown")
    rows = {row["name"]: row for row in print_report(io.StringIO(), registry=registry)}
    assert (rows["shown"]["kind"], rows["shown"]["state"]) == ("sink", "loaded")


HELLO_PLUGIN = '''
from fapilog.plugins.metadata import PluginMetadata


class HelloSink:
    """A real third-party sink, installed by pip into a throwaway virtual environment."""

    metadata = PluginMetadata(name="hello", version="0.3.0", kind="sink", description="says hello")

    def __init__(self, greeting: str = "hello") -> None:
        self.greeting = greeting

    async def write(self, record):
        pass
'''

HELLO_PYPROJECT = """
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "fapilog-hello"
version = "0.3.0"
dependencies = ["fapilog>=3.0,<4.0"]

[project.entry-points."fapilog.plugins"]
hello = "fapilog_hello:HelloSink"

[tool.setuptools]
py-modules = ["fapilog_hello"]
"""

PROBE = """
import json, sys
import fapilog._registry.discovery as discovery
from fapilog._registry.registry import PluginRegistry

entry = discovery.find("hello")
name, sink = PluginRegistry().create("sink", {"type": "hello", "greeting": "hi"})
md = type(sink).metadata
print(json.dumps({
    "name": name, "version": md.version, "kind": md.kind, "greeting": sink.greeting,
    "distribution": entry.distribution, "dist_version": entry.dist_version,
    "compatible": entry.verdict.compatible, "constraint": entry.verdict.constraint,
    "plugin_file": sys.modules[type(sink).__module__].__file__,
    "core_file": sys.modules["fapilog"].__file__,
}))
"""


@pytest.mark.slow  # builds and installs into a virtual environment
def test_pip_installed_plugin_is_discovered_and_loaded_in_a_real_venv(tmp_path: Path) -> None:
    """A plugin package built and installed by pip is discovered, gated and created in a fresh virtualenv."""
    if missing := missing_build_requirements():
        pytest.skip(f"building the core offline needs {', '.join(missing)} in the test environment (install .[dev])")
    core = copy_core(tmp_path / "core")
    plugin = tmp_path / "fapilog-hello"
    plugin.mkdir()
    (plugin / "pyproject.toml").write_text(HELLO_PYPROJECT, encoding="utf-8")
    (plugin / "fapilog_hello.py").write_text(HELLO_PLUGIN, encoding="utf-8")

    python, pip, purelib = offline_venv(tmp_path / "venv")
    run(*pip, core, cwd=tmp_path)
    run(*pip, plugin, cwd=tmp_path)

    report = json.loads(run(python, "-c", PROBE, cwd=tmp_path))
    assert report["name"] == "hello" and report["kind"] == "sink" and report["greeting"] == "hi"
    assert (report["distribution"], report["dist_version"], report["version"]) == ("fapilog-hello", "0.3.0", "0.3.0")
    assert report["compatible"] and report["constraint"] == ">=3.0,<4.0"
    assert Path(report["plugin_file"]).is_relative_to(purelib)
    assert Path(report["core_file"]).is_relative_to(purelib)


def test_a_plugins_own_error_class_raised_at_import_keeps_its_message_and_code(dists: DistFactory) -> None:
    """A PluginError subclass of the plugin's own (another constructor signature) raised while its module is
    imported becomes a PluginError naming the entry point, with its message and code, never a TypeError."""
    source = (
        "from fapilog.errors import PluginError\n"
        "class SetupError(PluginError):\n"
        "    def __init__(self, variable):\n"
        "        super().__init__(f'set {variable} first', code='FL-PLG-007')\n"
        "raise SetupError('PICKY_HOME')\n"
    )
    dists.plugin("picky", source=source)
    with pytest.raises(PluginError) as raised:
        PluginRegistry().create("sink", "picky")
    assert str(raised.value).startswith("plugin 'picky' (") and str(raised.value).endswith(": set PICKY_HOME first")
    assert raised.value.code == "FL-PLG-007" and raised.value.plugin == "picky"
    assert type(raised.value.__cause__).__name__ == "SetupError"
