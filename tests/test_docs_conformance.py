"""The docs name only what exists: extras and entry points, install hints, and every benchmark script."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

import fapilog
from fapilog.errors import PluginNotFoundError

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _toml_blocks(page: str) -> list[str]:
    text = (REPO / "docs" / page).read_text(encoding="utf-8")
    return re.findall(r"```toml\n(.*?)```", text, flags=re.S)


@pytest.mark.parametrize("name", ["kafka", "splunk"])
def test_an_unknown_sink_does_not_invent_a_distribution_name(name: str) -> None:
    """Configuring a sink nothing ships (`kafka`, `splunk`) fails without suggesting a made-up `fapilog-<name>`."""
    with pytest.raises(PluginNotFoundError) as caught:
        fapilog.configure(sinks=[name])
    message = str(caught.value)
    assert f"no plugin named {name!r}" in message
    assert "fapilog-" not in message and "by convention" not in message


def test_core_entry_points_in_plugins_md_exist_or_are_labelled_hypothetical() -> None:
    """Every core entry point docs/plugins.md shows is in pyproject.toml, unless its block says it is hypothetical."""
    shipped = PYPROJECT["entry-points"]["fapilog.plugins"]
    for block in _toml_blocks("plugins.md"):
        if "hypothetical" in block:
            continue
        for name, target in re.findall(r'^(\w[\w-]*) = "(fapilog\.plugins\.[^"]+)"', block, flags=re.M):
            assert shipped.get(name) == target.split(" [")[0], f"docs/plugins.md shows {name} = {target!r}"


def test_core_extras_in_plugins_md_exist() -> None:
    """Every `pip install "fapilog[extra]"` in docs/plugins.md names an extra pyproject.toml declares."""
    text = (REPO / "docs" / "plugins.md").read_text(encoding="utf-8")
    extras = set(re.findall(r'pip install "fapilog\[([\w,-]+)\]"', text))
    assert extras, "the page shows how to install an extra"
    for extra in extras:
        assert set(extra.split(",")) <= set(PYPROJECT["optional-dependencies"]), extra


def test_every_benchmark_script_is_documented() -> None:
    """Each runnable script in benchmarks/ (child.py is run.py's helper) is named on docs/benchmarks.md."""
    page = (REPO / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    scripts = [p.name for p in (REPO / "benchmarks").glob("*.py") if "__main__" in p.read_text(encoding="utf-8")]
    assert "default_chain.py" in scripts
    for script in scripts:
        assert f"benchmarks/{script}" in page, f"docs/benchmarks.md does not document benchmarks/{script}"


def test_the_chain_section_benchmarks_md_refers_to_exists() -> None:
    """docs/benchmarks.md links to its end-to-end chain section, and that section exists."""
    page = (REPO / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    assert "## The recommended chain, end to end" in page
    assert "(#the-recommended-chain-end-to-end)" in page
