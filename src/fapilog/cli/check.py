"""``fapilog plugin check NAME|PATH``: the quality gate a plugin passes before it is published.

Two checks of its own, then the testing kit's contract (:func:`fapilog.testing.check_plugin`):

``version_constraint``
    the distribution (its installed ``Requires-Dist``, or a project's ``[project].dependencies``) declares a
    ``fapilog`` range with an upper bound that admits the running core. Without one, pip may pair the
    plugin with a core it was never written for, and the version gate cannot refuse it before import.
``load``
    the entry point's target imports (an installed plugin goes through the version gate first).

then ``metadata``, ``type_hints``, ``protocol``, ``settings``, ``lifecycle``, ``behaviour``, ``batch_form``,
``error_behaviour``, ``concurrency`` and ``pipeline`` (see :mod:`fapilog.testing.checks`).

``NAME`` is an installed (discovered) plugin; ``PATH`` is a plugin project directory (or its
``pyproject.toml``): every ``[project.entry-points."fapilog.plugins"]`` entry is imported from its ``src/``
(or the project root) and checked. A ``PATH`` is anything with a ``/`` or ``.`` in it, or an existing
directory holding a ``pyproject.toml``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fapilog.cli._errors import EXIT_FAILED, EXIT_OK, CliError, plugin_exit_reason
from fapilog.cli._output import parse_settings, plugin_output_to_stderr, seconds, write_json

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet

    from fapilog._registry.derived import DistributionFacts
    from fapilog.plugins.metadata import PluginMetadata
    from fapilog.testing import CheckResult

__all__ = ["PluginTarget", "add_parser", "check_target", "constraint_result", "resolve", "run"]

_ENTRY_GROUP = "fapilog.plugins"
_UPPER_BOUNDS = frozenset({"<", "<=", "~=", "==", "==="})


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``plugin check`` to the ``plugin`` command."""
    from fapilog.plugins.metadata import PLUGIN_KINDS

    parser = subparsers.add_parser(
        "check",
        help="quality gate: version constraint, metadata, protocol and contract checks (exit 1 with reasons)",
        description="Check an installed plugin (NAME) or a plugin project directory (PATH): its fapilog "
        "version constraint, that it loads, and the testing kit's contract checks. Prints PASS/FAIL/SKIP "
        "per check and exits 1 when any check fails.",
    )
    parser.add_argument("target", metavar="NAME|PATH", help="an installed plugin's name, or a project directory")
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting the plugin is created with (repeatable; JSON when it parses, else text); relative "
        "paths land in a temporary directory",
    )
    parser.add_argument("--kind", choices=PLUGIN_KINDS, help="the contract to check against (default: metadata's)")
    parser.add_argument(
        "--stateful",
        action="store_true",
        help="the plugin keeps state or decides randomly (samplers, rate limiters): its batch form is "
        "compared with the per-record method on shape only",
    )
    parser.add_argument("--timeout", type=seconds, default=10.0, metavar="SECONDS", help="deadline per check")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON document")


# -- what is checked -----------------------------------------------------------------------------------------


@dataclasses.dataclass
class PluginTarget:
    """One plugin to check: where it comes from, its constraint verdict, and the loaded object (or why not)."""

    name: str
    value: str
    distribution: str
    version: str
    constraint: CheckResult
    plugin: object | None = None
    load_error: str | None = None
    facts: DistributionFacts | None = None
    """What the distribution (or the project's ``[project]`` table) says: metadata for a plugin declaring none."""


def _result(name: str, ok: bool, reason: str = "", *, skipped: bool = False) -> CheckResult:
    from fapilog.testing import CheckResult

    return CheckResult(name, ok, reason, skipped)


def _suggested_range() -> str:
    from fapilog._version import __version__

    major = int(__version__.split(".", 1)[0])
    return f"fapilog>={major}.0,<{major + 1}.0"


def constraint_result(spec: SpecifierSet | None, where: str) -> CheckResult:
    """The ``version_constraint`` check for the ``fapilog`` range ``where`` declares (``None``: none)."""
    from fapilog._registry.compat import check_constraint, format_specifier
    from fapilog._version import __version__

    name = "version_constraint"
    if spec is None:
        return _result(
            name,
            False,
            f"{where} declares no fapilog requirement; add '{_suggested_range()}' to its dependencies so pip "
            "and the version gate can refuse a core it was not written for",
        )
    text = format_specifier(spec)
    if not any(item.operator in _UPPER_BOUNDS for item in spec):
        return _result(
            name,
            False,
            f"{where} requires 'fapilog{text}', which has no upper bound: the next major release of fapilog "
            f"may break the plugin; use a range such as '{_suggested_range()}'",
        )
    verdict = check_constraint(spec)
    if not verdict.compatible:
        return _result(name, False, f"{where} {verdict.reason}")
    return _result(name, True, f"{where} requires 'fapilog{text}', which admits the running fapilog {__version__}")


def _distribution_constraint(distribution: str, builtin: bool) -> CheckResult:
    import importlib.metadata

    from fapilog._registry.compat import core_requirement

    if builtin:
        return _result("version_constraint", True, "part of the fapilog core")
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return _result(
            "version_constraint", True, f"distribution {distribution!r} not found; not checked", skipped=True
        )
    return constraint_result(core_requirement(dist), f"distribution {dist.name} {dist.version}")


def _by_name(name: str) -> list[PluginTarget]:
    from fapilog._registry import discovery
    from fapilog._registry.derived import facts_from_distribution
    from fapilog.errors import PluginError

    entry = discovery.find(name)  # unknown name or unresolved conflict: PluginError, exit 3
    target = PluginTarget(
        name,
        entry.value,
        entry.distribution,
        entry.dist_version,
        _distribution_constraint(entry.distribution, entry.builtin),
        facts=None if entry.builtin else facts_from_distribution(name, entry.distribution, entry.dist_version),
    )
    try:
        target.plugin = discovery.load_plugin(entry)  # gated and imported, but not validated: the checks do that
    except PluginError as exc:  # a sys.exit() at import included: the registry turns it into a load error
        target.load_error = str(exc)
    return [target]


def _read_pyproject(path: Path) -> tuple[Path, dict[str, Any]]:
    import tomllib

    file = path if path.name == "pyproject.toml" else path / "pyproject.toml"
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CliError(
            f"cannot read {file}: {exc.strerror or exc}",
            "give the directory of a plugin project (it holds pyproject.toml), or an installed plugin's name",
        ) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CliError(f"{file} is not valid TOML: {exc}", "fix the file, then run the check again") from exc
    project = data.get("project")
    if not isinstance(project, dict):
        raise CliError(f"{file} has no [project] table", "a plugin project declares its metadata in [project]")
    return file.parent, project


def _project_constraint(project: dict[str, Any], where: str) -> CheckResult:
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.specifiers import SpecifierSet
    from packaging.utils import canonicalize_name

    if "dependencies" in project.get("dynamic", ()):
        return _result(
            "version_constraint", True, f"{where}: dependencies are dynamic; check the built wheel", skipped=True
        )
    combined: SpecifierSet | None = None
    for line in project.get("dependencies", ()):
        try:
            requirement = Requirement(str(line))
        except InvalidRequirement as exc:
            return _result("version_constraint", False, f"{where}: invalid dependency {line!r}: {exc}")
        if canonicalize_name(requirement.name) != "fapilog":
            continue
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        spec = SpecifierSet(str(requirement.specifier), prereleases=True)
        combined = spec if combined is None else combined & spec
    return constraint_result(combined, where)


def _import_target(value: str) -> object:
    import importlib

    module_name, _, attr = value.partition(":")
    target: object = importlib.import_module(module_name.strip())
    for part in attr.strip().split(".") if attr.strip() else ():
        target = getattr(target, part)
    return target


def _by_path(path: Path) -> list[PluginTarget]:
    from fapilog._registry.derived import facts_from_project

    root, project = _read_pyproject(path)
    tables = project.get("entry-points", {})
    entry_points = tables.get(_ENTRY_GROUP) if isinstance(tables, dict) else None
    if not isinstance(entry_points, dict) or not entry_points:
        raise CliError(
            f"{root / 'pyproject.toml'} declares no [project.entry-points.\"{_ENTRY_GROUP}\"] table",
            'add one: [project.entry-points."fapilog.plugins"] my_sink = "my_package.sink:MySink"',
        )
    distribution = str(project.get("name", root.name))
    version = str(project.get("version", "")) or _installed_version(distribution)
    constraint = _project_constraint(project, f"{distribution} (pyproject.toml)")
    source = root / "src" if (root / "src").is_dir() else root
    sys.path.insert(0, str(source))
    targets: list[PluginTarget] = []
    for name, value in entry_points.items():
        facts = facts_from_project(str(name), project, version)
        target = PluginTarget(str(name), str(value), distribution, version, constraint, facts=facts)
        if ":" not in str(value):
            target.load_error = f"entry point {name} = {value!r} must name a class as 'module:Class'"
        else:
            try:
                target.plugin = _import_target(str(value))
            except Exception as exc:  # noqa: BLE001 - any import failure is the check's finding, reported
                target.load_error = f"importing {value!r} from {source} failed: {type(exc).__name__}: {exc}"
            except SystemExit as exc:
                target.load_error = plugin_exit_reason(f"importing {value!r} from {source}", exc)
        targets.append(target)
    return targets


def _installed_version(distribution: str) -> str:
    """The version of a project whose pyproject.toml computes it (``dynamic``): the installed one, if any."""
    import importlib.metadata

    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "dynamic (not installed)"


def _is_path(text: str) -> bool:
    if any(mark in text for mark in ("/", "\\", ".")):
        return True
    candidate = Path(text)
    return candidate.is_dir() and (candidate / "pyproject.toml").is_file()


def resolve(text: str) -> list[PluginTarget]:
    """The plugins ``text`` names: one installed plugin, or every entry point of a project directory."""
    return _by_path(Path(text)) if _is_path(text) else _by_name(text)


# -- running the checks --------------------------------------------------------------------------------------


def _load_result(target: PluginTarget) -> CheckResult:
    from fapilog.errors import FapilogError
    from fapilog.plugins.metadata import metadata_of

    try:
        md = metadata_of(target.plugin)
    except FapilogError:
        md = None  # a malformed declaration is the metadata check's finding
    if md is not None and md.name != target.name:
        return _result(
            "load",
            False,
            f"the entry point is called {target.name!r} but metadata.name is {md.name!r}; the registry refuses "
            "the plugin until both say the same name",
        )
    return _result("load", True, f"imported {target.value}")


def check_target(
    target: PluginTarget, settings: dict[str, Any], *, kind: str | None, stateful: bool, timeout: float
) -> dict[str, Any]:
    """Run every check on ``target``; the report as a dict (``plugin``, ``kind``, ``ok``, ``results``...)."""
    from fapilog._registry.validation import derive_metadata
    from fapilog.testing import check_plugin

    results = [target.constraint]
    plugin_kind = kind or "?"
    if target.plugin is None:
        results.append(_result("load", False, target.load_error or "not loaded"))
        results.append(_result("contract", True, "not run: the plugin could not be loaded", skipped=True))
    else:
        results.append(_load_result(target))
        try:
            derived: PluginMetadata | None = None
            if target.facts is not None:
                derived = derive_metadata(target.plugin, target.facts, kind)  # type: ignore[arg-type]
            report = check_plugin(
                target.plugin, settings, kind=kind, deterministic=not stateful, timeout=timeout, metadata=derived
            )
        except ValueError as exc:
            raise CliError(str(exc), "pass --kind KIND to say which contract the plugin should meet") from exc
        results.extend(report.results)
        plugin_kind = report.kind
    return {
        "plugin": target.name,
        "kind": plugin_kind,
        "target": target.value,
        "distribution": target.distribution,
        "version": target.version,
        "ok": all(result.ok for result in results),
        "results": [result.to_dict() for result in results],
    }


def _label(result: dict[str, Any]) -> str:
    status = "SKIP" if result["skipped"] else "PASS" if result["ok"] else "FAIL"
    if status == "PASS":  # a passing check's reason is shown only when it is a note for the author
        note = result["reason"] if result["reason"].startswith("note: ") else ""
        return f"PASS {result['name']}" + (f": {note}" if note else "")
    return f"{status} {result['name']}: {result['reason']}"


def _print(reports: list[dict[str, Any]]) -> None:
    out = sys.stdout
    for index, report in enumerate(reports):
        if index:
            out.write("\n")
        out.write(
            f"{report['plugin']} ({report['kind']}, {report['target']}, "
            f"{report['distribution']} {report['version']})\n"
        )
        for result in report["results"]:
            out.write(_label(result) + "\n")
        results = report["results"]
        failed = sum(1 for r in results if not r["ok"])
        skipped = sum(1 for r in results if r["skipped"])
        passed = len(results) - failed - skipped
        verdict = "ok" if report["ok"] else "FAILED"
        out.write(f"{verdict}: {passed} passed, {failed} failed, {skipped} skipped\n")
        if any(r["name"] == "batch_form" and not r["ok"] for r in results):
            out.write("hint: if the plugin is stateful or random (a sampler, a rate limiter), rerun with --stateful\n")


def run(args: argparse.Namespace) -> int:
    """Run ``plugin check``: print the report and return 0 when every check passed, else 1."""
    try:
        import fapilog.testing  # noqa: F401 - the contract checks live in the testing kit
    except ImportError as exc:
        raise CliError(
            f"the testing kit cannot be imported: {exc}", "reinstall fapilog: pip install --force-reinstall fapilog"
        ) from exc
    settings = parse_settings(args.setting)
    saved_path = list(sys.path)
    try:
        with plugin_output_to_stderr():
            targets = resolve(args.target)
            reports = [
                check_target(target, settings, kind=args.kind, stateful=args.stateful, timeout=args.timeout)
                for target in targets
            ]
    finally:
        sys.path[:] = saved_path  # a project's src/ was only needed while its plugins were checked
    ok = all(report["ok"] for report in reports)
    if args.json:
        write_json({"ok": ok, "plugins": reports}, sys.stdout)
    else:
        _print(reports)
    return EXIT_OK if ok else EXIT_FAILED
