"""The suite does not depend on what else is installed: it passes with third-party plugins in the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.registry._dists import write_dist_info

REPO = Path(__file__).resolve().parents[1]

# A third-party sink that would fail the core's contract suite (no description, no type hints).
SLOPPY_SINK = """
from fapilog.plugins.metadata import PluginMetadata


class Plugin:
    metadata = PluginMetadata(name="thirdparty-sloppy", version="0.1.0", kind="sink")

    async def write(self, record):
        pass
"""


def test_listing_and_contract_tests_pass_with_third_party_plugins_installed(tmp_path: Path) -> None:
    """With an incompatible and a sloppy third-party plugin installed, the summary-count and the built-in
    contract tests still pass (they count what is installed and check only the core's own plugins)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "thirdparty_sloppy.py").write_text(SLOPPY_SINK, encoding="utf-8")
    write_dist_info(site, "thirdparty-sloppy", "0.1.0", entry_points={"thirdparty-sloppy": "thirdparty_sloppy:Plugin"},
                    requires=["fapilog>=3.0,<4.0"])
    write_dist_info(site, "thirdparty-old", "0.9.0", entry_points={"thirdparty-old": "thirdparty_old:Plugin"},
                    requires=["fapilog>=1.0,<2.0"])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    listed = subprocess.run([sys.executable, "-m", "fapilog", "plugin", "list"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120, check=False)
    assert "thirdparty-sloppy" in listed.stdout and "thirdparty-old" in listed.stdout  # really installed
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x",
         "tests/cli/test_listing.py::test_list_table_puts_reasons_under_the_table",
         "tests/testing/test_checks.py::test_every_builtin_plugin_meets_the_contract"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "thirdparty" not in proc.stdout  # no test was generated for (or failed on) a third-party plugin
