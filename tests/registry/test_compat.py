"""The version gate: a plugin's ``Requires-Dist: fapilog`` range is checked before its code is imported."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.registry._dists import DistFactory, make, write_dist_info

from fapilog._registry import discovery
from fapilog._registry.compat import check_constraint, check_distribution
from fapilog._registry.registry import PluginRegistry
from fapilog._version import __version__
from fapilog.errors import PluginIncompatibleError
from fapilog.plugins.metadata import PLUGIN_API_VERSION, PluginMetadata


@pytest.fixture
def dists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DistFactory]:
    yield from make(tmp_path, monkeypatch)


def _distribution(root: Path, requires: list[str], name: str = "fapilog-x") -> importlib.metadata.Distribution:
    return importlib.metadata.PathDistribution(write_dist_info(root, name, "1.0.0", entry_points={}, requires=requires))


def test_incompatible_plugin_is_refused_before_import(dists: DistFactory) -> None:
    """A plugin requiring fapilog<3 raises PluginIncompatibleError and its module never runs."""
    module = dists.plugin("legacy", version="2.1.0", requires=["fapilog>=2.0,<3"])
    with pytest.raises(PluginIncompatibleError) as caught:
        discovery.load("legacy")
    assert not dists.imported(module)
    message = str(caught.value)
    assert "'legacy'" in message and "fapilog-legacy 2.1.0" in message
    assert "fapilog>=2.0,<3" in message and f"fapilog {__version__} is installed" in message
    assert f'pip install --upgrade "fapilog-legacy" "fapilog=={__version__}"' in message
    assert 'pip install "fapilog>=2.0,<3"' in message
    assert caught.value.plugin == "legacy"


def test_registry_create_refuses_incompatible_plugin_before_import(dists: DistFactory) -> None:
    """Configuring an incompatible plugin through the registry fails the same way, with nothing imported."""
    module = dists.plugin("future", requires=["fapilog>=4.0,<5"])
    with pytest.raises(PluginIncompatibleError, match="built for a newer core"):
        PluginRegistry().create("sink", "future")
    assert not dists.imported(module)


def test_plugin_without_constraint_loads_with_a_warning_reason(dists: DistFactory) -> None:
    """A distribution that declares no fapilog requirement loads, and its verdict says why that is risky."""
    dists.plugin("loose", requires=[])
    entry = discovery.find("loose")
    assert entry.verdict.compatible and entry.verdict.constraint is None
    assert "declares no fapilog requirement" in entry.verdict.reason
    assert isinstance(discovery.load("loose"), type)


def test_requirements_behind_an_extra_are_ignored(tmp_path: Path) -> None:
    """A fapilog line guarded by `extra == ...` does not constrain the base install."""
    verdict = check_distribution(_distribution(tmp_path, ['fapilog<3; extra == "old"', "fapilog>=3.0"]))
    assert verdict.compatible and verdict.constraint == ">=3.0"


def test_environment_markers_are_evaluated(tmp_path: Path) -> None:
    """A fapilog line whose environment marker is false here is ignored; a true one applies."""
    inapplicable = _distribution(tmp_path / "a", ['fapilog<3; python_version < "3"'])
    applicable = _distribution(tmp_path / "b", ['fapilog<3; python_version >= "3"'])
    assert check_distribution(inapplicable).constraint is None
    assert not check_distribution(applicable).compatible


def test_several_applicable_lines_intersect(tmp_path: Path) -> None:
    """Two applicable fapilog lines both have to hold."""
    verdict = check_distribution(_distribution(tmp_path, ["fapilog>=3.0", "fapilog<3.0.0"]))
    assert not verdict.compatible and verdict.constraint == ">=3.0,<3.0.0"


def test_core_distribution_is_compatible_with_itself(tmp_path: Path) -> None:
    """The fapilog distribution's own metadata is never gated."""
    assert check_distribution(_distribution(tmp_path, [], name="fapilog")).compatible


def test_pre_release_core_is_in_range() -> None:
    """A pre-release core inside the range passes (prereleases=True)."""
    assert check_constraint(">=3.0,<4.0", "3.1.0rc1").compatible


def test_pre_release_of_excluded_major_is_out_of_range() -> None:
    """'<4.0' still excludes 4.0.0a1, as PEP 440 specifies."""
    assert not check_constraint(">=3.0,<4.0", "4.0.0a1").compatible


def test_plugin_api_major_mismatch_is_incompatible() -> None:
    """Metadata written for plugin API 2.0 is refused with both API versions named."""
    with pytest.raises(PluginIncompatibleError, match=r"targets plugin API 2\.0.*provides plugin API 1\.0"):
        PluginMetadata(name="x", version="1.0", kind="sink", api_version="2.0")


def test_plugin_api_newer_minor_is_incompatible() -> None:
    """Metadata needing a newer minor API than the core provides is refused."""
    major = PLUGIN_API_VERSION.split(".")[0]
    with pytest.raises(PluginIncompatibleError):
        PluginMetadata(name="x", version="1.0", kind="sink", api_version=f"{major}.99")


def test_plugin_api_same_major_older_minor_is_accepted() -> None:
    """Metadata for the current major and an older or equal minor is accepted."""
    assert PluginMetadata(name="x", version="1.0", kind="sink", api_version=PLUGIN_API_VERSION).kind == "sink"


def test_plugin_api_mismatch_at_import_names_the_distribution(dists: DistFactory) -> None:
    """A plugin whose metadata targets another plugin API fails to load naming its distribution."""
    source = (
        "from fapilog.plugins.metadata import PluginMetadata\n"
        "class Plugin:\n"
        "    metadata = PluginMetadata(name='apinext', version='1.0', kind='sink', api_version='2.0')\n"
        "    async def write(self, record): pass\n"
    )
    dists.plugin("apinext", source=source)
    with pytest.raises(PluginIncompatibleError, match=r"fapilog-apinext 1\.0\.0.*targets plugin API 2\.0") as caught:
        discovery.load("apinext")
    assert isinstance(caught.value.__cause__, PluginIncompatibleError)
