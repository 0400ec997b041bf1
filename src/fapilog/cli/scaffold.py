"""``fapilog plugin new``: start a plugin from a working, tested example.

Two shapes of output:

* by default a separate ``fapilog-NAME`` distribution (src layout): ``pyproject.toml`` with the
  ``fapilog.plugins`` entry point and a ``fapilog>=X.Y,<X+1`` requirement matching the running core, a typed
  example plugin with metadata and a config model, tests built on the contract suite of
  :mod:`fapilog.testing`, a README, a pre-commit config and a CI workflow. The project passes its own
  tests, ``ruff``, ``mypy --strict`` and ``fapilog plugin check .`` as generated;
* with ``--first-party`` a module for ``src/fapilog/builtins/<kind>s/`` of the core itself, whose optional
  third-party library is imported only when the plugin is created (so importing the module never fails and
  a missing extra reads ``pip install 'fapilog[NAME]'``), its tests, and ``pyproject-snippet.toml`` holding
  the ``[project.optional-dependencies]`` extra and the entry point to paste into the core's
  ``pyproject.toml``.

The files come from text templates rendered by :mod:`fapilog.cli._templates`. Each plugin kind has one
template for its example logic (``kinds/<kind>.py.tmpl``) and one for its behaviour tests
(``kinds/<kind>_tests.py.tmpl``), shared by both shapes.

``new_plugin("audit", "sink")`` does what ``fapilog plugin new audit --kind sink`` does and returns the
directory it wrote.
"""

from __future__ import annotations

import argparse
import dataclasses
import keyword
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from fapilog.cli._ask_kind import ask_kind
from fapilog.cli._core_range import core_requirement, oldest_core
from fapilog.cli._errors import EXIT_OK, EXIT_USAGE, CliError
from fapilog.cli._scaffold_kinds import SCAFFOLD_KINDS
from fapilog.cli._templates import module, render, template
from fapilog.plugins.metadata import PLUGIN_KINDS

__all__ = [
    "KINDS",
    "PluginNames",
    "add_parser",
    "core_requirement",
    "new_plugin",
    "plugin_names",
    "run",
]

KINDS: tuple[str, ...] = PLUGIN_KINDS
"""The kinds a plugin can be scaffolded as (the kit's own list)."""
"""The kinds ``fapilog plugin new`` scaffolds (the pipeline's stages)."""

_NAME = re.compile(r"[a-z0-9]([a-z0-9_-]*[a-z0-9])?")
"""A plugin name that is also a valid distribution name once prefixed: no trailing ``-`` or ``_``."""
_MAX_NAME = 30  # longer names would push generated lines past the line-length limit
_CONTRACT_IMPORTS = ("from collections.abc import Mapping", "from typing import Any, ClassVar")
"""What the contract subclass's ``settings: ClassVar[Mapping[str, Any]]`` annotation needs."""
_LINE_LENGTH = 120  # the generated projects' ruff setting, and the core's


@dataclasses.dataclass(frozen=True)
class PluginNames:
    """Every name derived from a plugin's configured ``name`` and its ``kind``.

    >>> plugin_names("audit-log", "sink").class_name
    'AuditLogSink'
    """

    name: str
    """What users configure: ``sinks=["audit-log"]``."""
    kind: str
    distribution: str
    """The separate distribution: ``fapilog-audit-log``."""
    package: str
    """Its import package: ``fapilog_audit_log``."""
    module: str
    """The first-party module name: ``audit_log`` (``src/fapilog/builtins/sinks/audit_log.py``)."""
    class_name: str
    """``AuditLogSink``."""
    settings_class: str
    """The config model: ``AuditLogSinkSettings``."""
    contract: str
    """The contract suite of :mod:`fapilog.testing`: ``SinkContract``."""
    extra: str
    """The core extra of a first-party plugin: ``audit_log`` (``pip install 'fapilog[audit_log]'``).

    Underscores, not hyphens: Python 3.11's ``importlib.metadata`` splits an entry point's ``[audit-log]``
    marker at the hyphen, while extra names themselves compare equal either way (PEP 685)."""


def _camel(name: str) -> str:
    camel = "".join(part[:1].upper() + part[1:] for part in re.split(r"[-_]+", name) if part)
    return camel if camel[:1].isalpha() else f"Fapilog{camel}"  # a class name cannot start with a digit


def plugin_names(name: str, kind: str) -> PluginNames:
    """Validate ``name`` and ``kind`` and derive every other name from them.

    Raises :class:`~fapilog.cli._errors.CliError` (exit 2) for a name that is not a valid plugin name, or
    one the core already uses for a built-in plugin (the core would always win it).
    """
    if kind not in KINDS:
        raise CliError(f"unknown plugin kind {kind!r}", f"choose one of: {', '.join(KINDS)}", EXIT_USAGE)
    if _NAME.fullmatch(name) is None:
        suggestion = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-_") or "audit"
        raise CliError(
            f"invalid plugin name {name!r}: use lowercase letters, digits, '_' and '-', starting and ending with "
            "a letter or digit",
            f"try a name such as {suggestion!r}",
            EXIT_USAGE,
        )
    if len(name) > _MAX_NAME:
        raise CliError(
            f"plugin name {name!r} is {len(name)} characters long; the scaffold takes at most {_MAX_NAME}",
            "choose a shorter name (it is typed in every configuration that uses the plugin)",
            EXIT_USAGE,
        )
    from fapilog._registry.builtin_names import BUILTIN_PLUGINS

    if any(row.name == name for row in BUILTIN_PLUGINS):
        raise CliError(
            f"{name!r} is the name of a built-in fapilog plugin, which always takes precedence over a plugin "
            "package of the same name",
            f"choose another name, e.g. '{name}-plus' or 'myorg-{name}'",
            EXIT_USAGE,
        )
    module = name.replace("-", "_")
    camel = _camel(name)
    suffix = kind.capitalize()
    class_name = camel if camel.endswith(suffix) and camel != suffix else camel + suffix  # not AuditSinkSink
    return PluginNames(
        name=name,
        kind=kind,
        distribution=f"fapilog-{name}",
        package=f"fapilog_{module}",
        module=module,
        class_name=class_name,
        settings_class=f"{class_name}Settings",
        contract=f"{kind.capitalize()}Contract",
        extra=module,
    )


def _values(names: PluginNames, **extra: str) -> dict[str, str]:
    spec = SCAFFOLD_KINDS[names.kind]
    base = {field.name: getattr(names, field.name) for field in dataclasses.fields(names)}
    base.update(
        summary=spec.summary,
        core_requirement=core_requirement(),
        core_oldest=oldest_core(),
        plural=f"{names.kind}s",
        version="0.1.0",
    )
    base.update(extra)
    base["example"] = render(spec.example, base)
    base["contract_settings"] = spec.contract_settings
    base["settings_table"] = "\n".join(
        f"| `{s.name}` | `{render(s.default, base)}` | {s.text} |" for s in spec.settings
    )
    return base


# -- writing -----------------------------------------------------------------------------------------------


def _refuse_overwrite(paths: Iterable[Path], where: Path) -> None:
    existing = [path for path in paths if path.exists()]
    if existing:
        shown = ", ".join(str(path) for path in existing[:3]) + (" ..." if len(existing) > 3 else "")
        raise CliError(
            f"would overwrite existing files in {where}: {shown}",
            "pass --force to overwrite them, or choose another place with --dir PATH",
            EXIT_USAGE,
        )


def _write(files: Mapping[Path, str]) -> None:
    for path, text in files.items():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
        except OSError as exc:
            raise CliError(
                f"cannot write {path}: {exc.strerror or exc}",
                "choose a directory you can write to with --dir PATH",
                EXIT_USAGE,
            ) from exc


def _project_files(names: PluginNames, dest: Path) -> dict[Path, str]:
    values = _values(names)
    package = Path("src", names.package)
    code = module(
        "project/plugin.py.tmpl",
        f"kinds/{names.kind}.py.tmpl",
        {**values, "init_hook": ""},
        imports=[f"from {names.package} import __version__"],
        first_party=[names.package],
        line_length=_LINE_LENGTH,
    )
    tests = module(
        "project/test_plugin.py.tmpl",
        f"kinds/{names.kind}_tests.py.tmpl",
        {**values, "test_mark": ""},
        imports=[
            *_CONTRACT_IMPORTS,
            f"from fapilog.testing import {names.contract}",
            f"from {names.package}.plugin import {names.class_name}",
        ],
        first_party=[names.package],
        line_length=_LINE_LENGTH,
    )
    plain = {
        "pyproject.toml": "project/pyproject.toml.tmpl",
        "README.md": "project/README.md.tmpl",
        ".gitignore": "project/gitignore.tmpl",
        ".pre-commit-config.yaml": "project/pre-commit-config.yaml.tmpl",
        ".github/workflows/ci.yml": "project/ci.yml.tmpl",
        "scripts/compat_table.py": "project/compat_table.py.tmpl",
        f"{package.as_posix()}/__init__.py": "project/init.py.tmpl",
    }
    files = {dest / target: render(template(source), values) for target, source in plain.items()}
    files[dest / package / "plugin.py"] = code
    files[dest / package / "py.typed"] = ""
    files[dest / "tests" / "test_plugin.py"] = tests
    return files


def _placeholder_requirement(names: PluginNames) -> str:
    """What the first-party extra installs until the real library is named: ``audit-log-client>=1.0``."""
    return f"{names.name.replace('_', '-')}-client>=1.0"


def _first_party_files(names: PluginNames, dest: Path) -> dict[Path, str]:
    if keyword.iskeyword(names.module) or not names.module.isidentifier():
        raise CliError(
            f"{names.module!r} cannot be a module name of the core (a Python keyword or not an identifier)",
            f"choose another plugin name, e.g. '{names.name}-{names.kind}'",
            EXIT_USAGE,
        )
    library = f"{names.module}_client"
    values = _values(names, library=library, requirement=_placeholder_requirement(names))
    code = module(
        "first_party/module.py.tmpl",
        f"kinds/{names.kind}.py.tmpl",
        {**values, "init_hook": "        self.library = _import_library()"},
        imports=["import importlib", "from fapilog._version import __version__", "from types import ModuleType"],
        first_party=["fapilog"],
        line_length=_LINE_LENGTH,
    )
    tests = module(
        "first_party/test_module.py.tmpl",
        f"kinds/{names.kind}_tests.py.tmpl",
        {**values, "test_mark": "@needs_extra"},
        imports=[
            *_CONTRACT_IMPORTS,
            "import importlib.util",
            "import re",
            "import pytest",
            f"from fapilog.testing import {names.contract}",
            "from fapilog.errors import PluginLoadError",
            f"from fapilog.builtins.{names.kind}s.{names.module} import EXTRA, LIBRARY, {names.class_name}",
        ],
        first_party=["fapilog"],
        line_length=_LINE_LENGTH,
    )
    snippet = render(template("first_party/pyproject-snippet.toml.tmpl"), values)
    return {
        dest / f"{names.module}.py": code,
        dest / f"test_{names.module}.py": tests,
        dest / "pyproject-snippet.toml": snippet,
    }


def new_plugin(
    name: str, kind: str, dest: Path | None = None, *, first_party: bool = False, force: bool = False
) -> Path:
    """Generate a plugin and return the directory it was written to.

    Without ``first_party``: a ``fapilog-NAME`` project in ``dest`` (default ``./fapilog-NAME``), which must
    not exist or be empty unless ``force`` (then the generated files replace theirs; other files stay).
    With it: ``NAME.py``, ``test_NAME.py`` and ``pyproject-snippet.toml`` in ``dest`` (default: the current
    directory), refusing to replace any of them unless ``force``. Raises
    :class:`~fapilog.cli._errors.CliError` (exit 2) for bad input.
    """
    names = plugin_names(name, kind)
    if first_party:
        where = Path.cwd() if dest is None else dest
        files = _first_party_files(names, where)
        if where.exists() and not where.is_dir():
            raise CliError(f"{where} is not a directory", "pass --dir with a directory path", EXIT_USAGE)
        if not force:
            _refuse_overwrite(files, where)
    else:
        where = Path(names.distribution) if dest is None else dest
        if where.exists() and not where.is_dir():
            raise CliError(f"{where} exists and is not a directory", "choose another place with --dir PATH",
                           EXIT_USAGE)
        if where.is_dir() and any(where.iterdir()) and not force:
            raise CliError(
                f"directory {where} already exists and is not empty",
                "pass --force to write the project into it anyway, or choose another place with --dir PATH",
                EXIT_USAGE,
            )
        files = _project_files(names, where)
    _write(files)
    return where


# -- command line ------------------------------------------------------------------------------------------


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``plugin new`` to the ``plugin`` command."""
    parser = subparsers.add_parser(
        "new",
        help="scaffold a fapilog-NAME plugin project (or, with --first-party, a module of the core)",
        description="Generate a plugin as its own distribution: pyproject.toml with the entry point and a "
        "version constraint matching this fapilog, a typed example plugin, contract tests, README, pre-commit "
        "config and CI workflow. It passes its tests as generated. --first-party instead writes a module for "
        "src/fapilog/builtins/<kind>s/ with its optional dependency behind an extra, its tests and the "
        "pyproject.toml lines to paste.",
    )
    parser.add_argument("name", metavar="NAME", help="the plugin name users configure (lowercase, digits, '_', '-')")
    parser.add_argument("--kind", choices=KINDS, help="the stage the plugin serves (asked on a terminal if omitted)")
    parser.add_argument("--dir", type=Path, default=None, metavar="PATH",
                        help="where to write (default: ./fapilog-NAME; with --first-party, the current directory)")
    parser.add_argument("--first-party", action="store_true",
                        help="generate a module of the fapilog core with its optional dependency behind an extra")
    parser.add_argument("--force", action="store_true", help="write even if the files or directory exist")
    parser.set_defaults(handler=run)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve())) or "."
    except ValueError:
        return str(path)


def run(args: argparse.Namespace) -> int:
    """Run ``fapilog plugin new`` and print what was created and what to do next."""
    kind = args.kind or ask_kind(args.name, KINDS)
    where = new_plugin(args.name, kind, args.dir, first_party=args.first_party, force=args.force)
    names = plugin_names(args.name, kind)
    out = sys.stdout
    if args.first_party:
        out.write(_first_party_instructions(names, where))
        return EXIT_OK
    shown = _shown(where)
    out.write(
        f"Created {names.distribution}, a {names.kind} plugin project, in {shown}\n"
        f"  plugin class: {names.package}.plugin:{names.class_name} (entry point {names.name!r})\n"
        f"  requires:     {core_requirement()}\n\n"
        "Next steps:\n"
        f"  cd {shown}\n"
        "  python -m pip install -e '.[dev]'\n"
        "  pytest\n"
        "  fapilog plugin check .\n"
    )
    return EXIT_OK


def _first_party_instructions(names: PluginNames, where: Path) -> str:
    shown = _shown(where)
    sep = "" if shown.endswith("/") else "/"
    requirement = _placeholder_requirement(names)
    return (
        f"Created the first-party {names.kind} {names.name!r} in {shown}. To wire it into the fapilog core:\n"
        f"  1. move {shown}{sep}{names.module}.py to src/fapilog/builtins/{names.kind}s/{names.module}.py\n"
        f"  2. move {shown}{sep}test_{names.module}.py to tests/builtins/{names.kind}s/test_{names.module}.py\n"
        f"  3. paste the two tables of {shown}{sep}pyproject-snippet.toml into pyproject.toml, under the\n"
        f'     existing [project.optional-dependencies] and [project.entry-points."fapilog.plugins"] tables,\n'
        f"     replacing the placeholder requirement {requirement} with the real library\n"
        f"     (and LIBRARY in {names.module}.py with its import name); add it to the dev extra too\n"
        f"  4. in src/fapilog/_registry/builtin_names.py add\n"
        f'       BuiltinPlugin("{names.name}", "fapilog.builtins.{names.kind}s.{names.module}:{names.class_name}", '
        f'extra="{names.extra}"),\n'
        f'     and to EXTRA_REQUIREMENTS: "{names.extra}": ("{requirement}",),\n'
        "  5. reinstall so the entry point is registered: python -m pip install -e '.[dev]'\n"
        "See docs/plugins/first-party-extras.md.\n"
    )
