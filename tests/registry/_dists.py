"""Real installed-distribution metadata on disk, for discovery tests.

:class:`DistFactory` writes ``<name>-<version>.dist-info`` directories (``METADATA`` with ``Name``, ``Version``
and ``Requires-Dist`` lines; ``entry_points.txt`` with a ``[fapilog.plugins]`` section) and the plugins'
modules into a temporary directory on ``sys.path``, exactly what ``pip install`` leaves behind, so
``importlib.metadata`` finds them the same way it finds real plugins.

Every plugin module gets a unique name, and importing it creates a marker file, so a test can prove whether
the module was imported (``factory.imported(module)``).
"""

from __future__ import annotations

import importlib
import sys
import textwrap
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from fapilog._registry import discovery

COMPATIBLE = "fapilog>=3.0,<4.0"

SINK_SOURCE = """
from fapilog.plugins.metadata import PluginMetadata


class Plugin:
    metadata = PluginMetadata(name="{name}", version="{version}", kind="sink", description="test sink")

    def __init__(self, **settings):
        self.settings = settings

    async def write(self, record):
        pass
"""


def write_dist_info(
    root: Path,
    name: str,
    version: str,
    *,
    entry_points: Mapping[str, str],
    requires: Sequence[str],
    summary: str | None = None,
) -> Path:
    """Write ``root/<name>-<version>.dist-info`` as pip would; returns the directory."""
    info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    if summary is not None:
        lines.append(f"Summary: {summary}")
    lines += [f"Requires-Dist: {requirement}" for requirement in requires]
    (info / "METADATA").write_text("\n".join(lines) + "\n", encoding="utf-8")
    table = "".join(f"{key} = {value}\n" for key, value in entry_points.items())
    (info / "entry_points.txt").write_text(f"[{discovery.GROUP}]\n{table}", encoding="utf-8")
    return info


class DistFactory:
    """Writes fake-but-real distributions into ``root`` and puts ``root`` first on ``sys.path``."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.modules: list[str] = []
        root.mkdir(parents=True, exist_ok=True)
        monkeypatch.syspath_prepend(str(root))
        self._changed()

    def _changed(self) -> None:
        importlib.invalidate_caches()
        discovery.refresh()

    def module(self, stem: str, source: str) -> str:
        """Write a module whose import leaves a marker file; returns its (unique) module name."""
        name = f"fapilog_test_{stem}_{uuid.uuid4().hex[:8]}"
        marker = self.root / f"{name}.imported"
        prologue = f"open({str(marker)!r}, 'w').close()\n"
        (self.root / f"{name}.py").write_text(prologue + textwrap.dedent(source), encoding="utf-8")
        self.modules.append(name)
        self._changed()
        return name

    def imported(self, module: str) -> bool:
        """Whether ``module``'s code ever ran (its marker file exists)."""
        return (self.root / f"{module}.imported").exists()

    def dist(
        self,
        name: str,
        version: str = "1.0.0",
        *,
        entry_points: Mapping[str, str] | None = None,
        requires: Sequence[str] = (COMPATIBLE,),
        summary: str | None = None,
    ) -> Path:
        """Write ``<name>-<version>.dist-info`` on ``sys.path`` with these ``Requires-Dist`` lines and entry points."""
        info = write_dist_info(
            self.root, name, version, entry_points=entry_points or {}, requires=requires, summary=summary
        )
        self._changed()
        return info

    def plugin(
        self,
        plugin: str,
        *,
        dist: str | None = None,
        version: str = "1.0.0",
        requires: Sequence[str] = (COMPATIBLE,),
        source: str | None = None,
        extras: str = "",
        summary: str | None = None,
    ) -> str:
        """One distribution offering one plugin named ``plugin`` whose class is ``Plugin``; returns its module.

        ``source`` defaults to a valid async sink declaring matching metadata; ``{name}`` and ``{version}``
        in it are filled in. ``extras`` is appended to the entry point (e.g. ``" [aws]"``).
        """
        code = (source or SINK_SOURCE).replace("{name}", plugin).replace("{version}", version)
        module = self.module(plugin.replace("-", "_"), code)
        self.dist(
            dist or f"fapilog-{plugin}",
            version,
            entry_points={plugin: f"{module}:Plugin{extras}"},
            requires=requires,
            summary=summary,
        )
        return module

    def cleanup(self) -> None:
        """Forget imported test modules and the cached scan (``sys.path`` is restored by monkeypatch)."""
        for name in self.modules:
            sys.modules.pop(name, None)
        self._changed()


def make(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DistFactory]:
    """Body of each test module's ``dists`` fixture: a factory, cleaned up after the test."""
    factory = DistFactory(tmp_path / "site", monkeypatch)
    yield factory
    factory.cleanup()
