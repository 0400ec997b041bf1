"""``fapilog plugin list``, ``fapilog plugin health`` and ``fapilog debug``: what is installed, and how it is.

``plugin list`` loads every plugin the version gate admits to learn its kind (the kind lives in the code,
not in the entry point); one that fails to import is listed as ``failed`` with the reason, never hiding the
others. ``debug`` is exactly :func:`fapilog.debug_plugins` (metadata only, nothing imported). ``plugin
health`` either starts the named plugins standalone or builds the configured pipeline, asks every plugin's
``health_check()`` and stops again.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
from typing import TYPE_CHECKING, Any

from fapilog.cli._errors import EXIT_FAILED, EXIT_OK, EXIT_PLUGIN, CliError
from fapilog.cli._output import parse_settings, plugin_output_to_stderr, seconds, write_json, write_table

if TYPE_CHECKING:
    from fapilog._registry.registry import PluginRegistry
    from fapilog.plugins.metadata import PluginHealth

__all__ = ["add_debug_parser", "add_parser", "health_rows", "plugin_rows", "run"]

_LIST_COLUMNS = ("name", "kind", "version", "distribution", "compatible", "state")
_HEALTH_COLUMNS = ("name", "kind", "status", "detail")


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``plugin list`` and ``plugin health`` to the ``plugin`` command."""
    from fapilog.plugins.metadata import PLUGIN_KINDS

    listing = subparsers.add_parser(
        "list",
        help="list installed plugins: kind, version, distribution, compatibility verdict, state",
        description="List every discovered or registered plugin. Compatible plugins are imported to learn "
        "their kind; a plugin that fails to import is shown as failed, with the reason.",
    )
    listing.add_argument("--kind", choices=PLUGIN_KINDS, help="only plugins of this kind")
    listing.add_argument("--json", action="store_true", help="print one JSON list instead of a table")

    health = subparsers.add_parser(
        "health",
        help="start plugins and report their health (exit 1 if any is not healthy)",
        description="With NAMEs, create each plugin standalone with the --setting values, start it, ask its "
        "health and stop it. Without, build the pipeline configured by FAPILOG_* variables (and --config), "
        "report every running plugin's health, then shut down.",
    )
    health.add_argument("names", nargs="*", metavar="NAME", help="plugins to check standalone")
    health.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting for the named plugins (repeatable; the value is JSON when it parses, else text)",
    )
    health.add_argument("--config", metavar="FILE", help="a TOML or JSON settings file (without NAMEs)")
    health.add_argument("--timeout", type=seconds, default=5.0, metavar="SECONDS", help="per-plugin deadline")
    health.add_argument("--json", action="store_true", help="print one JSON list instead of a table")


def add_debug_parser(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the top-level ``debug`` command."""
    debug = subparsers.add_parser(
        "debug",
        help="the plugin diagnostics report of fapilog.debug_plugins()",
        description="Print the same report as fapilog.debug_plugins(): every discovered plugin, its "
        "distribution, the version gate's verdict and its state. Nothing is imported.",
    )
    debug.add_argument("--json", action="store_true", help="print the report's rows as one JSON list")


def run(args: argparse.Namespace) -> int:
    """Run ``plugin list``, ``plugin health`` or ``debug``."""
    if args.command == "debug":
        return _debug(args)
    if args.plugin_command == "health":
        return _health(args)
    return _list(args)


# -- plugin list ---------------------------------------------------------------------------------------------


def plugin_rows(registry: PluginRegistry | None = None, kind: str | None = None) -> list[dict[str, Any]]:
    """One row per plugin, after loading every plugin the version gate admits (to learn its kind).

    Rows have the keys of :func:`fapilog.debug_plugins` plus ``description``; a plugin whose import failed
    has state ``failed`` and the error as its ``reason``.
    """
    import warnings

    from fapilog._registry.registry import LegacyPluginWarning, default_registry
    from fapilog._registry.report import collect
    from fapilog.errors import PluginError

    reg = registry if registry is not None else default_registry()
    with warnings.catch_warnings():
        # A legacy plugin shows as such in its row; the warning's advice is for its authors, not this listing.
        warnings.simplefilter("ignore", LegacyPluginWarning)
        for info in reg.list():
            admitted = info.verdict is None or info.verdict.compatible
            if info.state == "discovered" and info.available and admitted:
                try:
                    reg.load(info.name)
                except PluginError:
                    pass  # recorded on the plugin's info (a sys.exit() at import too): the row shows "failed"
    described = {info.name: info.metadata.description for info in reg.list() if info.metadata is not None}
    rows = collect(reg)
    for row in rows:
        row["description"] = described.get(row["name"], "") if row["state"] == "loaded" else ""
    return rows if kind is None else [row for row in rows if row["kind"] == kind]


def _list(args: argparse.Namespace) -> int:
    with plugin_output_to_stderr():  # importing a plugin may print
        rows = plugin_rows(kind=args.kind)
    if args.json:
        write_json(rows, sys.stdout)
        return EXIT_OK
    out = sys.stdout
    if not rows:
        where = f" of kind {args.kind!r}" if args.kind else ""
        out.write(f"no plugins{where} found\n")
        return EXIT_OK
    write_table(rows, _LIST_COLUMNS, out)
    notes = [row for row in rows if row["state"] != "loaded"]
    if notes:
        out.write("\n")
    for row in notes:
        out.write(f"{row['name']} ({row['distribution']}): {row['state']}: {row['reason']}\n")
    states: dict[str, int] = {}
    for row in rows:
        states[row["state"]] = states.get(row["state"], 0) + 1
    summary = ", ".join(f"{count} {state}" for state, count in sorted(states.items()))
    out.write(f"\n{len(rows)} plugin{'s' if len(rows) != 1 else ''}: {summary}\n")
    return EXIT_OK


# -- debug ---------------------------------------------------------------------------------------------------


def _debug(args: argparse.Namespace) -> int:
    import io

    import fapilog

    if args.json:
        write_json(fapilog.debug_plugins(file=io.StringIO()), sys.stdout)
    else:
        fapilog.debug_plugins(file=sys.stdout)
    return EXIT_OK


# -- plugin health -------------------------------------------------------------------------------------------


def _health_row(name: str, kind: str | None, result: PluginHealth) -> dict[str, Any]:
    return {
        "name": name,
        "kind": kind or "?",
        "status": result.status,
        "healthy": result.healthy,
        "detail": f"{result.detail} [{result.code}]" if result.code else result.detail,
    }


async def _standalone(
    names: list[str], settings: dict[str, Any], timeout: float, step: list[str]
) -> list[dict[str, Any]]:
    """Create, start, ask and stop each named plugin, each step within ``timeout``; ``step`` says where it is."""
    from fapilog._registry.registry import default_registry
    from fapilog.errors import PluginError
    from fapilog.plugins.health import check_health
    from fapilog.plugins.metadata import PluginHealth

    registry = default_registry()
    created: list[tuple[str, str | None, object]] = []
    for name in dict.fromkeys(names):
        step[:] = [name, "import"]
        kind = registry.load(name).kind  # unknown, incompatible or broken: the PluginError ends the command
        if kind is None:
            raise CliError(f"plugin {name!r} has no kind", "run 'fapilog plugin check NAME' for details", EXIT_PLUGIN)
        step[:] = [name, "create"]
        created.append((name, kind, registry.create(kind, {"type": name, **settings})[1]))
    answers: dict[str, PluginHealth] = {}
    started: dict[str, object] = {}
    try:
        for name, _, instance in created:
            step[:] = [name, "start"]
            try:
                await asyncio.wait_for(registry.start(instance), timeout)
            except PluginError as exc:
                answers[name] = PluginHealth("unhealthy", f"failed to start: {exc}", code="FL-RUN-001")
            except TimeoutError:
                answers[name] = PluginHealth("unhealthy", f"start() did not finish within {timeout:g} s",
                                             code="FL-RUN-001")
            started[name] = instance
        step[:] = ["", "health_check"]
        answers = {**await check_health({n: p for n, p in started.items() if n not in answers}, timeout), **answers}
    finally:
        for name, instance in reversed(started.items()):
            step[:] = [name, "stop"]
            try:
                await asyncio.wait_for(registry.stop(instance), timeout)
            except (PluginError, TimeoutError) as exc:
                problem = str(exc) if isinstance(exc, PluginError) else f"stop() did not finish within {timeout:g} s"
                if name in answers and answers[name].healthy:
                    answers[name] = PluginHealth("unhealthy", f"healthy, but failed to stop: {problem}",
                                                 code="FL-RUN-002")
    return [_health_row(name, kind, answers[name]) for name, kind, _ in created]


def _standalone_guarded(names: list[str], settings: dict[str, Any], timeout: float) -> list[dict[str, Any]]:
    """:func:`_standalone` on a daemon thread, so a plugin that blocks the event loop cannot hang the command.

    ``asyncio.wait_for`` ends a step that awaits forever, but not one that blocks the thread (``time.sleep``
    or a synchronous socket call inside ``async def start``): then the command reports that plugin and step
    and exits 1, leaving the blocked thread behind, as the contract checks do.
    """
    step: list[str] = ["", "import"]
    outcome: list[list[dict[str, Any]] | BaseException] = []

    def run() -> None:
        try:
            outcome.append(asyncio.run(_standalone(names, settings, timeout, step)))
        except BaseException as exc:  # noqa: BLE001 - handed back to the command's thread, raised there
            outcome.append(exc)

    worker = threading.Thread(target=run, name="fapilog-cli-health", daemon=True)
    worker.start()
    # Each plugin gets a start, a health check and a stop, each within timeout; imports get a grace period.
    worker.join(3 * timeout * len(names) + 10.0)
    if not outcome:
        name, where = step
        raise CliError(
            f"plugin {name!r} blocked the command in {where}() (a blocking call inside an async method, or a "
            "deadlock): it cannot be stopped or reported on",
            f"run 'fapilog plugin check {name}' to see which method blocks",
            EXIT_FAILED,
        )
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result


def _configured(config: str | None, timeout: float) -> list[dict[str, Any]]:
    import fapilog
    from fapilog._registry.registry import default_registry

    if config is not None:
        fapilog.configure(file=config)
    else:
        fapilog.configure()
    try:
        answers = fapilog.health(timeout)
        kinds = {info.name: info.kind for info in default_registry().instances() if info.state == "started"}
    finally:
        fapilog.shutdown()
    return [_health_row(name, kinds.get(name), result) for name, result in answers.items()]


def health_rows(
    names: list[str], settings: dict[str, Any], *, config: str | None = None, timeout: float = 5.0
) -> list[dict[str, Any]]:
    """Health rows (``name``, ``kind``, ``status``, ``healthy``, ``detail``) of the named or configured plugins."""
    if names:
        if config is not None:
            raise CliError(
                "--config applies to the configured pipeline, not to named plugins",
                "pass settings of named plugins with --setting KEY=VALUE, or drop the NAMEs",
            )
        return _standalone_guarded(names, settings, timeout)
    if settings:
        raise CliError(
            "--setting needs the NAMEs of the plugins it configures",
            "e.g. fapilog plugin health file --setting path=app.log",
        )
    return _configured(config, timeout)


def _health(args: argparse.Namespace) -> int:
    settings = parse_settings(args.setting)
    with plugin_output_to_stderr():
        rows = health_rows(list(args.names), settings, config=args.config, timeout=args.timeout)
    if args.json:
        write_json(rows, sys.stdout)
    elif rows:
        write_table(rows, _HEALTH_COLUMNS, sys.stdout)
    else:
        sys.stdout.write("no running plugins\n")
    return EXIT_OK if all(row["healthy"] for row in rows) else EXIT_FAILED
