"""Plugin dependencies: metadata.requires orders plugins; missing, mismatched and cyclic ones are errors."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from tests.registry._dists import DistFactory, make

from fapilog._registry.registry import PluginRegistry
from fapilog.errors import PluginError, PluginValidationError
from fapilog.plugins.metadata import PluginMetadata


def enricher(name: str, *requires: str, version: str = "1.0.0") -> type:
    """An enricher class named ``name`` that requires the given plugins."""

    async def enrich(self: object, record: Mapping[str, Any]) -> Mapping[str, Any]:
        return {}

    metadata = PluginMetadata(name=name, version=version, kind="enricher", requires=requires)
    return type(name.title(), (), {"metadata": metadata, "enrich": enrich})


def registry(*classes: type) -> PluginRegistry:
    return PluginRegistry(classes, entry_points=False)


@pytest.fixture
def dists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DistFactory]:
    yield from make(tmp_path, monkeypatch)


def test_dependencies_come_first() -> None:
    """a requires b requires c: the order is c, b, a whatever the configured order."""
    reg = registry(enricher("a", "b"), enricher("b", "c>=1.0"), enricher("c"))
    assert reg.resolve_order(["a", "b", "c"]) == ["c", "b", "a"]


def test_independent_plugins_keep_configured_order() -> None:
    """Plugins without requirements stay in the order they were configured."""
    reg = registry(enricher("x"), enricher("y"), enricher("z"))
    assert reg.resolve_order(["z", "x", "y"]) == ["z", "x", "y"]


def test_cycle_names_the_chain() -> None:
    """A requirement cycle is a PluginError spelling out the loop."""
    reg = registry(enricher("a", "b"), enricher("b", "c"), enricher("c", "a"))
    with pytest.raises(PluginError, match="plugin dependency cycle: a -> b -> c -> a"):
        reg.resolve_order(["a", "b", "c"])


def test_missing_dependency_names_the_chain_and_package() -> None:
    """A requirement on an unconfigured, unknown plugin names the chain and says to install what provides it."""
    reg = registry(enricher("a", "b"), enricher("b", "geo>=2"))
    with pytest.raises(PluginError, match=r"'b' requires 'geo>=2' \(via a -> b -> geo\).*install the package"):
        reg.resolve_order(["a", "b"])


def test_known_but_unconfigured_dependency_asks_to_configure_it() -> None:
    """A requirement on an installed plugin that is not configured asks to add it to the configuration."""
    reg = registry(enricher("a", "b"), enricher("b"))
    with pytest.raises(PluginError, match="add 'b' to your configuration"):
        reg.resolve_order(["a"])


def test_version_mismatch_names_both_versions(dists: DistFactory) -> None:
    """A dependency outside the required range names the range, the found version and a pip command."""
    dists.plugin("geo", version="1.5.0")
    reg = PluginRegistry([enricher("a", "geo>=2.0")])
    with pytest.raises(PluginError, match=r"requires 'geo>=2.0'.*version 1.5.0.*pip install \"fapilog-geo>=2.0\""):
        reg.resolve_order(["a", "geo"])


def test_dependency_in_range_is_accepted(dists: DistFactory) -> None:
    """A discovered dependency whose version is in range is ordered first."""
    dists.plugin("geo", version="2.1.0")
    reg = PluginRegistry([enricher("a", "geo>=2.0,<3")])
    assert reg.resolve_order(["a", "geo"]) == ["geo", "a"]


def test_invalid_requirement_is_refused_at_declaration() -> None:
    """A requires entry that is not 'name' or 'name<specifier>' fails when the metadata is declared."""
    with pytest.raises(PluginValidationError, match="invalid plugin requirement"):
        PluginMetadata(name="a", version="1.0", kind="enricher", requires=("Not A Name!",))


def test_self_requirement_is_refused() -> None:
    """A plugin cannot require itself."""
    with pytest.raises(PluginValidationError, match="cannot require itself"):
        PluginMetadata(name="a", version="1.0", kind="enricher", requires=("a",))
