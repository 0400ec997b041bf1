"""``fapilog``: the command line (also ``python -m fapilog``).

::

    fapilog plugin new NAME [--kind KIND]   scaffold a fapilog-NAME plugin project
    fapilog plugin list [--json]            installed plugins: kind, version, distribution, verdict, state
    fapilog plugin check NAME|PATH          quality gate for a plugin (exit 1 with reasons)
    fapilog plugin health [NAME ...]        start plugins and ask for their health (exit 1 if any is not healthy)
    fapilog plugin docs NAME                Markdown reference page of a plugin
    fapilog debug [--json]                  the same report as fapilog.debug_plugins()
    fapilog --version

Exit codes: 0 ok, 1 a check failed or a plugin is not healthy, 2 usage error or bad input, 3 plugin error
(not found, incompatible, cannot be loaded). Errors are two lines on stderr: ``fapilog: error: ...`` and
``hint: ...``. Each command lives in its own module, imported only when the parser is built, and each module
imports the plugin machinery only when its command runs, so ``fapilog --version`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from fapilog.cli._errors import EXIT_INTERNAL, EXIT_OK, EXIT_PLUGIN, EXIT_USAGE, CliError, from_fapilog_error

__all__ = ["build_parser", "main"]

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """An argparse parser whose usage errors become :class:`CliError` (exit 2) instead of printing usage."""

    def error(self, message: str) -> NoReturn:
        raise CliError(message, f"run '{self.prog} --help' for usage", EXIT_USAGE)


def _with_handler(subparsers: argparse._SubParsersAction[_Parser], name: str, handler: Handler) -> None:
    parser = subparsers.choices.get(name)
    if parser is not None:
        parser.set_defaults(handler=handler)


def _add_scaffold(plugin: argparse._SubParsersAction[_Parser]) -> None:
    try:
        from fapilog.cli import scaffold
    except ModuleNotFoundError as exc:
        if exc.name != "fapilog.cli.scaffold":
            raise
        unavailable = plugin.add_parser("new", help="scaffold a fapilog-NAME plugin project (unavailable)")
        unavailable.set_defaults(handler=_scaffold_missing)
        return
    scaffold.add_parser(plugin)
    _with_handler(plugin, "new", scaffold.run)


def _scaffold_missing(args: argparse.Namespace) -> int:
    raise CliError(
        "'fapilog plugin new' is not available in this installation (fapilog.cli.scaffold is missing)",
        "reinstall fapilog: pip install --force-reinstall fapilog",
        EXIT_USAGE,
    )


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every command's options (each command module adds its own)."""
    from fapilog._version import __version__
    from fapilog.cli import check, docgen, listing

    parser = _Parser(prog="fapilog", description="fapilog: plugins, diagnostics and documentation from the shell.")
    parser.add_argument("--version", action="version", version=f"fapilog {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    plugin_parser = commands.add_parser("plugin", help="create, list, check, health-check and document plugins")
    plugin = plugin_parser.add_subparsers(dest="plugin_command", metavar="PLUGIN_COMMAND", required=True)
    _add_scaffold(plugin)
    listing.add_parser(plugin)
    check.add_parser(plugin)
    docgen.add_parser(plugin)
    for name in ("list", "health"):
        _with_handler(plugin, name, listing.run)
    _with_handler(plugin, "check", check.run)
    _with_handler(plugin, "docs", docgen.run)
    listing.add_debug_parser(commands)
    _with_handler(commands, "debug", listing.run)
    return parser


def _run(handler: Handler, args: argparse.Namespace) -> int:
    """Run a command; a ``SystemExit`` escaping it is plugin code ending the process, reported as such.

    Only argparse (``--help``, ``--version``) ends the CLI with ``SystemExit`` on purpose, and it does so
    while parsing, before a command runs. A plugin calling ``sys.exit()`` while a command imports or runs it
    would otherwise end the command with the plugin's status and no word of explanation.
    """
    try:
        return handler(args)
    except SystemExit as exc:
        raise CliError(
            f"the command was ended by SystemExit({exc.code!r}) raised from plugin code (or a library it "
            "imported), not by fapilog",
            "run 'fapilog plugin list' to see which plugin is broken, then uninstall it or report it",
            EXIT_PLUGIN,
        ) from exc


def main(argv: Sequence[str] | None = None) -> int:  # noqa: PLR0911 - one exit per kind of ending
    """Run the ``fapilog`` command line with ``argv`` (default: ``sys.argv[1:]``) and return the exit code."""
    from fapilog.errors import FapilogError

    try:
        args = build_parser().parse_args(argv)
        handler: Handler = args.handler
        return _run(handler, args)
    except CliError as exc:
        exc.report(sys.stderr)
        return exc.code
    except FapilogError as exc:
        error = from_fapilog_error(exc)
        error.report(sys.stderr)
        return error.code
    except SystemExit as exc:  # argparse's --help and --version end this way, with code 0
        return exc.code if isinstance(exc.code, int) else EXIT_OK if exc.code is None else EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("fapilog: interrupted\n")
        return 130
    except BrokenPipeError:
        # The reader went away (`fapilog plugin list | head`): stop quietly, and keep the interpreter's final
        # flush of stdout from raising again.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - last resort: a bug of ours is reported, never a traceback
        CliError(
            f"internal error: {type(exc).__name__}: {exc}",
            "this is a bug in fapilog; report it with the command you ran (https://github.com/fapilog/fapilog/issues)",
            EXIT_INTERNAL,
        ).report(sys.stderr)
        return EXIT_INTERNAL
