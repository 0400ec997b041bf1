"""Contract test suites for plugin authors: subclass one, point it at your plugin, and pytest runs the contract.

::

    from fapilog.testing import SinkContract

    class TestAuditSink(SinkContract):
        plugin_class = AuditSink
        settings: ClassVar[Mapping[str, Any]] = {"path": "audit.jsonl"}  # relative: in a fresh temp dir

Each ``test_*`` method runs one check of :mod:`fapilog.testing.checks` and fails with its reason. Override
:meth:`PluginContract.plugin_settings` to compute settings (e.g. from a fixture), set ``deterministic =
False`` for stateful or random plugins, and ``skip_checks`` to leave a check out (say why in a comment).
The base classes are not collected by pytest themselves (their names do not start with ``Test``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from fapilog.testing.checks import CheckResult, check_plugin

__all__ = [
    "EnricherContract",
    "FilterContract",
    "PluginContract",
    "ProcessorContract",
    "RedactorContract",
    "SinkContract",
]


class PluginContract:
    """The shared machinery; use the kind-specific subclasses."""

    kind: ClassVar[str]
    plugin_class: ClassVar[type[Any] | None] = None
    settings: ClassVar[Mapping[str, Any]] = {}
    deterministic: ClassVar[bool] = True
    skip_checks: ClassVar[frozenset[str]] = frozenset()
    timeout: ClassVar[float] = 10.0

    def plugin_settings(self) -> Mapping[str, Any]:
        """The settings every check creates the plugin with (``settings`` unless overridden)."""
        return self.settings

    def run_check(self, name: str) -> CheckResult:
        """Run one contract check and fail the calling test with its reason."""
        import pytest

        if self.plugin_class is None:
            pytest.fail(f"{type(self).__name__} must set plugin_class = <your plugin class>")
        if name in self.skip_checks:
            pytest.skip(f"{name} is in {type(self).__name__}.skip_checks")
        report = check_plugin(
            self.plugin_class,
            self.plugin_settings(),
            kind=self.kind,
            checks=[name],
            deterministic=self.deterministic,
            timeout=self.timeout,
        )
        result = report.results[0]
        if not result.ok:
            pytest.fail(f"{report.plugin} ({report.kind}) breaks the {name} contract: {result.reason}", pytrace=False)
        if result.skipped:
            pytest.skip(result.reason)
        return result

    def test_metadata(self) -> None:
        self.run_check("metadata")

    def test_type_hints(self) -> None:
        self.run_check("type_hints")

    def test_protocol(self) -> None:
        self.run_check("protocol")

    def test_settings(self) -> None:
        self.run_check("settings")

    def test_lifecycle(self) -> None:
        self.run_check("lifecycle")

    def test_behaviour(self) -> None:
        self.run_check("behaviour")

    def test_batch_form(self) -> None:
        self.run_check("batch_form")

    def test_error_behaviour(self) -> None:
        self.run_check("error_behaviour")

    def test_concurrency(self) -> None:
        self.run_check("concurrency")

    def test_pipeline(self) -> None:
        self.run_check("pipeline")


class SinkContract(PluginContract):
    """The contract of a sink: async ``write`` (and optional ``write_batch``/``flush``) that never breaks."""

    kind = "sink"


class FilterContract(PluginContract):
    """The contract of a filter: ``filter(record)`` returns the record or ``None``."""

    kind = "filter"


class EnricherContract(PluginContract):
    """The contract of an enricher: ``enrich(record)`` returns fields to add, leaving the record alone."""

    kind = "enricher"


class RedactorContract(PluginContract):
    """The contract of a redactor: ``redact(record)`` returns the record with values masked, core keys kept."""

    kind = "redactor"


class ProcessorContract(PluginContract):
    """The contract of a processor: ``process(record)`` returns the transformed record."""

    kind = "processor"
