"""The plugin contract, as checks: what every plugin of a kind must do to be a good pipeline citizen.

:func:`check_plugin` runs them all and returns a :class:`ContractReport` (it never raises for a plugin's
failure); ``fapilog plugin check`` prints that report, and the pytest suites in
:mod:`fapilog.testing.contracts` turn each check into a test. The checks:

``metadata``
    a ``PluginMetadata`` class attribute that validates, of the expected kind, with a description, and a
    ``config_model`` whenever the constructor takes settings. A plugin that declares none but is checked with
    ``metadata=`` derived from its distribution (what ``fapilog plugin check`` does for an installed plugin
    or a project) skips this check with a note: explicit metadata enables the settings and dependency checks.
``type_hints``
    every parameter and return value of the plugin's public methods is annotated, and the hints resolve.
``protocol``
    the kind's method (and every optional one present) is ``async def``, as the registry demands.
``settings``
    the given settings create an instance; an unknown setting is refused with a ``ConfigError``. A
    ``ConfigWarning`` raised while creating it passes the check with the warning as a ``note:``.
``lifecycle``
    ``start()`` twice, work, ``flush()`` twice (sinks), ``health_check()``, ``stop()`` twice: none raises.
``behaviour``
    the kind's method returns what the pipeline expects (a record or ``None`` from a filter, fields from
    an enricher without touching its input, a record from a redactor or processor, nothing from a sink).
``batch_form``
    a batch method, when present, agrees with the per-record method on the same input.
``error_behaviour``
    awkward but legal records (``None`` or numeric messages, huge strings, nested and non-JSON values,
    structured exceptions) pass through without an exception.
``concurrency``
    100 calls in flight at once on one instance (plus a concurrent ``flush()`` for sinks) all succeed.
``pipeline``
    the plugin runs inside a real fapilog pipeline: events logged through it are delivered and no error is
    counted against it. The pipeline is private to the check: the process-wide configuration, levels and
    any active ``capture_events()`` are untouched.

Every check runs with a deadline (``timeout``, 10 s by default) on its own thread and event loop, so a plugin
that hangs fails its check instead of hanging the test run, and in a fresh temporary working directory, so
relative paths in settings never touch the project.
"""
from __future__ import annotations

import asyncio
import inspect
import os
import tempfile
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from fapilog.errors import FapilogError
from fapilog.plugins.metadata import PLUGIN_KINDS, REQUIRED_METHODS, PluginMetadata, metadata_of
from fapilog.testing._contract import RUNNERS, ContractFailure, Note, Skip, Subject
from fapilog.testing.report import CheckResult, ContractReport

__all__ = ["CHECKS", "CheckResult", "ContractReport", "check_plugin"]

CHECKS = (
    "metadata",
    "type_hints",
    "protocol",
    "settings",
    "lifecycle",
    "behaviour",
    "batch_form",
    "error_behaviour",
    "concurrency",
    "pipeline",
)
"""Every check's name, in the order they run."""


# -- running -----------------------------------------------------------------------------------------------


def _run_in_thread(fn: Callable[[], Any], timeout: float) -> tuple[bool, BaseException | None]:
    """Run ``fn`` on a daemon thread; ``(finished, error)``. A hung plugin leaves the thread behind, not us."""
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            fn()
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller
            outcome.append(exc)

    thread = threading.Thread(target=target, name="fapilog-contract-check", daemon=True)
    thread.start()
    thread.join(timeout)
    if not outcome:
        return False, None
    return True, outcome[0]


def _run_one(name: str, subject: Subject, timeout: float) -> CheckResult:
    runner = RUNNERS[name]

    def call() -> None:
        result = runner(subject)
        if inspect.isawaitable(result):
            asyncio.run(_awaited(result))

    finished, error = _run_in_thread(call, timeout)
    if not finished:
        return CheckResult(name, ok=False, reason=f"did not finish within {timeout:g} s: the plugin hangs (a "
                                                  "blocking call inside an async method, or a deadlock)")
    if error is None:
        return CheckResult(name, ok=True)
    if isinstance(error, Skip):
        return CheckResult(name, ok=True, skipped=True, reason=str(error))
    if isinstance(error, Note):
        return CheckResult(name, ok=True, reason=f"note: {error}")
    if isinstance(error, (ContractFailure, FapilogError)):
        return CheckResult(name, ok=False, reason=str(error))
    return CheckResult(name, ok=False, reason=f"raised {type(error).__name__}: {error}")


async def _awaited(awaitable: Awaitable[Any]) -> None:
    await awaitable


def _subject(
    plugin: object,
    settings: Mapping[str, Any] | None,
    kind: str | None,
    deterministic: bool,
    timeout: float,
    metadata: PluginMetadata | None = None,
) -> Subject:
    cls = plugin if isinstance(plugin, type) else type(plugin)
    try:
        md = metadata_of(cls)
    except FapilogError:
        md = None  # reported by the metadata check
    declared = md is not None
    if md is None and metadata is not None:
        md = metadata  # derived from its distribution: the checks run against it, and say so
    chosen = kind or (md.kind if md is not None else None)
    if chosen is None:
        offered = [k for k in PLUGIN_KINDS if callable(getattr(cls, REQUIRED_METHODS[k], None))]
        chosen = offered[0] if len(offered) == 1 else None
    if chosen not in PLUGIN_KINDS:
        raise ValueError(f"cannot tell which contract {cls.__qualname__} should meet: pass kind= one of "
                         "sink, filter, enricher, redactor, processor")
    if settings and not isinstance(plugin, type):
        raise ValueError("settings apply to a plugin class; a ready-made instance is checked as it is")
    name = md.name if md is not None else cls.__name__.lower()
    return Subject(plugin, cls, chosen, name, md, dict(settings or {}), deterministic,
                    timeout, declared=declared)


def check_plugin(
    plugin: type[Any] | object,
    settings: Mapping[str, Any] | None = None,
    *,
    kind: str | None = None,
    checks: Iterable[str] | None = None,
    deterministic: bool = True,
    timeout: float = 10.0,
    metadata: PluginMetadata | None = None,
) -> ContractReport:
    """Run the contract checks against ``plugin`` (a class, created with ``settings``, or an instance).

    ``kind`` defaults to the metadata's; ``checks`` picks a subset of :data:`CHECKS`; ``deterministic=False``
    relaxes ``batch_form`` for stateful or random plugins (samplers, rate limiters) to shape checks only.
    ``metadata`` stands in for a plugin that declares none (derived from its distribution); a declared
    ``metadata`` class attribute always wins.
    A plugin's failures are reported, never raised; a ``ValueError`` means the call itself was wrong.

    >>> report = check_plugin(MySink, {"path": "out.jsonl"})
    >>> report.ok, [f.reason for f in report.failures]
    """
    selected = list(CHECKS if checks is None else checks)
    unknown = [name for name in selected if name not in RUNNERS]
    if unknown:
        raise ValueError(f"unknown check(s) {', '.join(unknown)}; choose from {', '.join(CHECKS)}")
    subject = _subject(plugin, settings, kind, deterministic, timeout, metadata)
    results: list[CheckResult] = []
    previous = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="fapilog-check-") as workdir:
        os.chdir(workdir)
        try:
            for name in selected:
                results.append(_run_one(name, subject, timeout))
        finally:
            os.chdir(previous)
    return ContractReport(subject.name, subject.kind, results)
