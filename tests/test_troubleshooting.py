"""docs/troubleshooting.md documents every message the plugin system can produce.

The source is read, not run: the AST of every module of the plugin system is walked for message sites, and
each message must appear in the page. A new message without documentation fails here, naming the
``file:line`` of the message and its source form.

A *message site* is one of:

* a call that constructs a fapilog error (``ConfigError(...)``, ``PluginLoadError(...)``, ... every subclass
  of ``FapilogError`` in :mod:`fapilog.errors`), whether it is raised on the spot or returned by a helper;
* ``CompatVerdict(compatible, constraint, reason)``: the version gate's reason is part of the refusal
  message and is what ``debug_plugins()`` shows;
* ``PluginHealth(status, detail)`` with a status other than ``"healthy"``: what ``fapilog.health()`` reports;
* ``warn(key, message)`` (the rate-limited ``fapilog: ...`` lines on stderr), ``sys.stderr.write(...)`` and
  ``warnings.warn(...)`` and ``warnings.warn_explicit(...)``.

What is checked is the message's **literal text**, split by its placeholders into chunks:

* its *leading text*, the first chunk at least :data:`MIN_CHUNK` characters long (whitespace collapsed,
  leading punctuation dropped), must be in the page; and
* its *shape*, every chunk of :data:`MIN_SHAPE_CHUNK` or more characters in order, with at most
  :data:`MAX_GAP` characters between two of them (a placeholder's value), must be in the page: the message is
  documented whole, as users see it.

A message with a conditional part (``"a newer" if ... else "an older"``) has one variant per branch, and
every variant is checked. Placeholders that are local variables holding text (``wanted = "a whole number"
+ ...``) are followed into their assignment. Messages a helper builds from its parameters
(``_fail(plugin, field, problem)`` builds ``f"{plugin}.{field}: {problem}"``) are followed to the helper's
callers (same module, or a module importing the helper by name): each call is a site of its own, checked on
the helper's text with the caller's arguments in place. A site without enough literal text to check
(re-raising a caught error's text behind a location prefix) must be listed in :data:`EXCLUSIONS` with the
reason; texts the scanner cannot reach are listed in :data:`ALSO_DOCUMENTED`.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

import fapilog
import fapilog.errors
from fapilog.plugins.metadata import PluginMetadata

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "fapilog"
PAGE = ROOT / "docs" / "troubleshooting.md"

MIN_CHUNK = 12
"""Shortest chunk that identifies a message; also the least literal text a message needs to be checkable."""
MIN_SHAPE_CHUNK = 3
"""Chunks shorter than this (``": "``, ``"'"``, ``">="``) are glue between placeholders, not checked."""
MAX_GAP = 300
"""Most characters a placeholder's documented value may take in the page (``<name>``, a list of fields...)."""
MAX_VARIANTS = 16
"""Most variants one message is expanded into (a guard against a combinatorial blow-up)."""

ERROR_CLASSES = frozenset(
    name
    for name, obj in vars(fapilog.errors).items()
    if inspect.isclass(obj) and issubclass(obj, fapilog.errors.FapilogError)
)
CARRIERS = {"CompatVerdict": (2, "reason"), "PluginHealth": (1, "detail")}
"""Non-exception constructors whose text users read: position and keyword of that text."""


def scanned_modules() -> list[Path]:
    """The plugin system: everything under ``plugins/`` and ``builtins/``; the core modules that configure, run,
    reload and report plugins; the settings and the validation engine (``_constraints``, ``_coercion``: every plugin
    table goes through it); and
    the level parser (level settings of the built-in filters use it)."""
    core = ("builder", "control", "state", "levels", "pipeline", "delivery", "worker", "runtime", "batch_send",
            "fallback", "record_writes", "delivery_options", "sink_intake")
    return [
        *sorted((SRC / "plugins").rglob("*.py")),
        *sorted((SRC / "builtins").rglob("*.py")),
        *(SRC / "core" / f"{name}.py" for name in core),
        SRC / "settings.py",
        SRC / "_constraints.py",
        SRC / "_coercion.py",
    ]


EXCLUSIONS: dict[tuple[str, str], str] = {
    ("core/builder.py", "_create"): (
        "re-raises the registry's ConfigError or PluginError with the configured location in front "
        "('sinks[1]: '); the page explains the prefix and every original message is checked at its own site"
    ),
    ("core/builder.py", "create_stage"): (
        "wraps the TypeError of core/pipeline.py Stage.replace ('has no <method>() method'), checked through "
        "ALSO_DOCUMENTED"
    ),
    ("core/builder.py", "_create_sink"): (
        "wraps the TypeError of core/delivery.py SinkRunner ('has neither write() nor write_batch()'), checked "
        "through ALSO_DOCUMENTED"
    ),
    ("plugins/discovery.py", "load_plugin"): (
        "a PluginError raised by a plugin module's own import-time code is re-raised with the plugin's "
        "location in front; its text is the plugin's own, or PluginMetadata's (checked at its site)"
    ),
    ("builtins/sinks/otlp.py", "_endpoint_and_auth"): (
        "re-raises the http sink's url and auth ConfigErrors (builtins/sinks/_http_config.py, checked there) "
        "with 'otlp sink:' and 'endpoint' in place of 'http sink:' and 'url'; the page lists them under otlp too"
    ),
    ("_coercion.py", "_fail"): (
        "the validation engine's one way out: each caller's problem text goes to constraints.setting_error(); "
        "the engine's messages are listed in the page under 'Settings the validation engine refuses'"
    ),
    ("_coercion.py", "_key_error"): (
        "an unknown or missing field, text given by _build() ('unknown setting', 'required setting is missing')"
    ),
    ("plugins/_settings.py", "in_plugin"): (
        "re-raises a plugin constructor's own ConfigError behind 'plugin <name>: ' unless it names the plugin "
        "already; the plugin's text is checked at its own site"
    ),
    ("_constraints.py", "prefixed"): (
        "re-raises a ConfigError with the configured location in front ('filters[0]: '), field and message together"
    ),
    ("plugins/_settings.py", "_from_pydantic"): (
        "the text after 'plugin <name>: field <loc>: ' is pydantic's own; the form is checked through "
        "ALSO_DOCUMENTED"
    ),
}
"""``(module relative to src/fapilog, enclosing function) -> reason`` for sites with nothing to check."""

ALSO_DOCUMENTED: tuple[tuple[str, str], ...] = (
    ("core/pipeline.py", "has no {method}() method"),
    ("core/delivery.py", "has neither write() nor write_batch()"),
    ("plugins/_settings.py", "field {loc!r}: {msg}"),
    ("plugins/diagnostics.py", "needs {', '.join(entry.missing)}; to use it: {entry.install_hint}"),
    ("plugins/diagnostics.py", "the built-in {entry.name!r} takes precedence"),
    ("plugins/diagnostics.py", "no plugins found in entry-point group"),
    ("core/control.py", "switched off in plugins.disabled"),
    ("core/control.py", "configured as an object ({type(plugin).__qualname__})"),
    ("core/control.py", "health: {result.detail}"),
    ("core/runtime.py", "the pipeline was not built within {timeout}s"),
    ("core/runtime.py", "plugins did not start within {timeout}s"),
)
"""Texts built where the scanner cannot follow them (the TypeErrors the builder wraps, pydantic's messages,
the reasons ``debug_plugins()`` prints, the start-up timeouts ``configure()`` reports): ``(module, text)``.
The text must be in that module's source and, with each ``{placeholder}`` standing for any value, in the
page."""


# -- the scanner --------------------------------------------------------------------------------------------

Function = ast.FunctionDef | ast.AsyncFunctionDef
Pieces = tuple[str | None, ...]
"""One variant of a message: its literal strings, and ``None`` for each placeholder, in order."""
Bindings = dict[str, tuple[ast.expr, Function | None]]
"""A helper's parameters bound to what one caller passes (with the caller's function, for its locals)."""


def normalize(text: str) -> str:
    """Whitespace collapsed; leading punctuation and surrounding spaces dropped (``". Fix: x "`` -> ``"Fix: x"``)."""
    return " ".join(text.split()).lstrip(".,;:)]} ").rstrip()


@dataclasses.dataclass(frozen=True)
class Site:
    """One variant of one message at one place, and the literal text the page must contain for it."""

    module: str
    line: int
    function: str
    kind: str
    source: str
    pieces: Pieces

    @property
    def where(self) -> str:
        return f"src/fapilog/{self.module}:{self.line}"

    @property
    def chunks(self) -> list[str]:
        """Normalized literal runs between placeholders."""
        runs: list[str] = []
        current = ""
        for piece in (*self.pieces, None):
            if piece is None:
                if normalize(current):
                    runs.append(normalize(current))
                current = ""
            else:
                current += piece
        return runs

    @property
    def leading(self) -> str | None:
        """The first chunk of at least MIN_CHUNK characters."""
        return next((chunk for chunk in self.chunks if len(chunk) >= MIN_CHUNK), None)

    @property
    def checkable(self) -> bool:
        """True when the message has enough literal text to look for."""
        kept = sum(len(chunk) for chunk in self.chunks if len(chunk) >= MIN_SHAPE_CHUNK)
        return self.leading is not None or kept >= MIN_CHUNK

    def shape(self) -> re.Pattern[str]:
        """Every chunk of MIN_SHAPE_CHUNK or more characters, in order, with short gaps between them."""
        kept = [re.escape(chunk) for chunk in self.chunks if len(chunk) >= MIN_SHAPE_CHUNK]
        return re.compile(f".{{0,{MAX_GAP}}}?".join(kept))


@dataclasses.dataclass
class Module:
    """One parsed source file: its calls (with their enclosing function) and the names it imports."""

    rel: str
    calls: list[tuple[ast.Call, Function | None]] = dataclasses.field(default_factory=list)
    imports: set[tuple[str, str]] = dataclasses.field(default_factory=set)
    """``(module, name)`` for every ``from module import name``."""

    @property
    def dotted(self) -> str:
        return "fapilog." + self.rel.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


class _Walker(ast.NodeVisitor):
    def __init__(self, module: Module) -> None:
        self.module = module
        self.stack: list[Function] = []

    def _function(self, node: Function) -> None:
        self.stack.append(node)
        self.generic_visit(node)
        self.stack.pop()

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def visit_Call(self, node: ast.Call) -> None:
        self.module.calls.append((node, self.stack[-1] if self.stack else None))
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:  # relative: resolve against this module's package
            package = self.module.dotted.split(".")
            if not self.module.rel.endswith("__init__.py"):
                package = package[:-1]
            package = package[: len(package) - node.level + 1]
            base = ".".join([*package, *([node.module] if node.module else [])])
        base = REEXPORTS.get(base, base)
        self.module.imports.update((base, alias.name) for alias in node.names)


REEXPORTS = {"fapilog.plugins.constraints": "fapilog._constraints"}
"""Public modules that re-export a helper defined elsewhere: importing from them is importing the helper."""


def parse_module(rel: str, text: str) -> Module:
    """Parse ``text`` as the module ``src/fapilog/<rel>``."""
    module = Module(rel)
    _Walker(module).visit(ast.parse(text, filename=rel))
    return module


def _callee(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _arg(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == keyword:
            return kw.value
    return call.args[position] if len(call.args) > position else None


def _assigned(function: Function | None, name: str) -> ast.expr | None:
    """The value last assigned to the local ``name`` in ``function`` (``None`` if not a plain assignment)."""
    found: ast.expr | None = None
    for node in ast.walk(function) if function is not None else ():
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            found = node.value
    return found


def _product(parts: list[list[Pieces]]) -> list[Pieces]:
    combined = [tuple(itertools.chain.from_iterable(choice)) for choice in itertools.product(*parts)]
    return combined[:MAX_VARIANTS]


def variants(  # noqa: PLR0911 - one return per kind of expression keeps the rules readable
    node: ast.expr | None, function: Function | None = None, bindings: Bindings | None = None, depth: int = 0
) -> list[Pieces]:
    """Every variant of a message expression as literal pieces, ``None`` standing for each placeholder.

    Follows ``+`` concatenation, f-strings, both branches of ``a if c else b``, and (two levels deep) local
    variables holding text, ``"; ".join(f"..." for ...)`` and the parameters bound in ``bindings``.
    """
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [(node.value,)]
    if isinstance(node, ast.JoinedStr):
        return _product([_part(part, function, bindings, depth) for part in node.values])
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _product([variants(side, function, bindings, depth) for side in (node.left, node.right)])
    if isinstance(node, ast.IfExp):
        both = [*variants(node.body, function, bindings, depth), *variants(node.orelse, function, bindings, depth)]
        return both[:MAX_VARIANTS]
    if isinstance(node, ast.Name) and depth < 2:
        if bindings and node.id in bindings:
            bound, caller = bindings[node.id]
            return variants(bound, caller, None, depth + 1)
        value = _assigned(function, node.id)
        if value is not None:
            return variants(value, function, bindings, depth + 1)
    if isinstance(node, ast.Call) and _callee(node) == "join" and node.args:
        inner = node.args[0]
        if isinstance(inner, (ast.GeneratorExp, ast.ListComp)):
            # Each element is printed once per item, joined by a separator: keep it apart from its neighbours.
            return [(None, *variant, None) for variant in variants(inner.elt, function, bindings, depth)]
    return [(None,)]


def _part(part: ast.expr, function: Function | None, bindings: Bindings | None, depth: int) -> list[Pieces]:
    if isinstance(part, ast.FormattedValue):
        # ``{x!r}`` and ``{x:g}`` print something else than the text of ``x``: a placeholder.
        plain = part.format_spec is None and part.conversion in (-1, ord("s"))
        return variants(part.value, function, bindings, depth) if plain else [(None,)]
    return variants(part, function, bindings, depth)


def _is_rewrap(message: ast.expr | None, function: Function | None) -> bool:
    """True for ``f"{where}: {exc}"``/``str(exc)``: a caught error's text passed on behind a prefix."""
    if message is None or function is None:
        return False
    caught = {h.name for h in ast.walk(function) if isinstance(h, ast.ExceptHandler) and h.name}
    return any(isinstance(n, ast.Name) and n.id in caught for n in ast.walk(message))


def _params(function: Function) -> list[str]:
    args = function.args
    names = [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]]
    return [n for n in names if n not in ("self", "cls")]


def _message_of(call: ast.Call) -> tuple[str, ast.expr | None] | None:  # noqa: PLR0911 - one return per site kind
    """``(kind, message expression)`` when ``call`` produces a user-facing message, else ``None``."""
    name = _callee(call)
    func = call.func
    if isinstance(func, ast.Call) and _callee(func) == "type":
        return "type(exc)(...)", _arg(call, 0, "message")  # re-raises a caught error as its own class
    if name in ERROR_CLASSES:
        return name, _arg(call, 0, "message")
    if name in CARRIERS:
        status = _arg(call, 0, "status") if name == "PluginHealth" else None
        if isinstance(status, ast.Constant) and status.value == "healthy":
            return None  # a healthy detail ("ok", "sampling at 40%") is nothing to troubleshoot
        position, keyword = CARRIERS[name]
        return name, _arg(call, position, keyword)
    if name == "warn" and isinstance(func, ast.Name) and len(call.args) >= 2:
        return "stderr line (warn)", call.args[1]
    owner = func.value if isinstance(func, ast.Attribute) else None
    if name in ("warn", "warn_explicit") and isinstance(owner, ast.Name) and owner.id == "warnings":
        return f"warnings.{name}", _arg(call, 0, "message")
    if name == "write" and isinstance(owner, ast.Attribute) and owner.attr == "stderr":
        return "stderr line", _arg(call, 0, "s")
    return None


def _callers(modules: list[Module], home: Module, helper: str) -> Iterator[tuple[Module, ast.Call, Function | None]]:
    """Calls of ``helper`` (defined in ``home``) in ``home`` itself and in modules importing it by name."""
    for module in modules:
        if module is not home and (home.dotted, helper) not in module.imports:
            continue
        for call, function in module.calls:
            if _callee(call) == helper and (function is None or function.name != helper):
                yield module, call, function


def _bindings(call: ast.Call, params: list[str], caller: Function | None) -> Bindings:
    bound: Bindings = {name: (arg, caller) for name, arg in zip(params, call.args, strict=False)}
    bound.update({kw.arg: (kw.value, caller) for kw in call.keywords if kw.arg in params})
    return bound


def _sites(
    module: str, line: int, function: str, kind: str, node: ast.expr | None, where: Function | None,
    bindings: Bindings | None = None, call: ast.Call | None = None,
) -> list[Site]:
    source = ast.unparse(node) if node is not None else "<no message>"
    if call is not None:
        source = f"{source}, called as {ast.unparse(call)}"
    return [Site(module, line, function, kind, source, v) for v in variants(node, where, bindings)]


def sites_of(modules: list[Module]) -> list[Site]:
    """Every variant of every message; a helper's template gives way to one site per call of the helper."""
    sites: list[Site] = []
    for module in modules:
        for call, function in module.calls:
            found = _message_of(call)
            if found is None:
                continue
            kind, message = found
            name = function.name if function is not None else "<module>"
            own = _sites(module.rel, call.lineno, name, kind, message, function)
            used = {n.id for n in ast.walk(message) if isinstance(n, ast.Name)} if message is not None else set()
            template = (
                function is not None
                and all(site.leading is None for site in own)
                and kind != "type(exc)(...)"
                and not _is_rewrap(message, function)
                and bool(used & set(_params(function)))
            )
            if not template:
                sites.extend(own)
                continue
            assert function is not None
            via = [
                site
                for caller_module, caller, caller_fn in _callers(modules, module, function.name)
                for site in _sites(
                    caller_module.rel,
                    caller.lineno,
                    caller_fn.name if caller_fn is not None else "<module>",
                    f"{kind} via {function.name}()",
                    message,
                    function,
                    _bindings(caller, _params(function), caller_fn),
                    caller,
                )
            ]
            # A helper is a template only if its callers give it the text; otherwise the site is its own.
            sites.extend(via if any(site.leading is not None for site in via) else own)
    return sites


def collect_sites(paths: Iterable[Path]) -> list[Site]:
    """Every message site of the modules at ``paths``."""
    modules = [parse_module(path.relative_to(SRC).as_posix(), path.read_text(encoding="utf-8")) for path in paths]
    return sites_of(modules)


def blind_sites(sites: Iterable[Site]) -> set[tuple[str, int, str]]:
    """``(module, line, function)`` of message sites none of whose variants has text to check."""
    by_place: dict[tuple[str, int, str], bool] = {}
    for site in sites:
        key = (site.module, site.line, site.function)
        by_place[key] = by_place.get(key, False) or site.checkable
    return {key for key, checkable in by_place.items() if not checkable}


def page_text() -> str:
    """The troubleshooting page, whitespace collapsed the same way as the messages."""
    return " ".join(PAGE.read_text(encoding="utf-8").split())


def undocumented(sites: Iterable[Site], page: str) -> list[tuple[Site, str]]:
    """``(site, what is missing)`` for every checkable variant whose leading text or shape is not in ``page``."""
    missing = []
    for site in sites:
        if not site.checkable:
            continue  # a variant with almost no text of its own (the short branch of a conditional part)
        if site.leading is not None and site.leading not in page:
            missing.append((site, f"leading text {site.leading!r}"))
        elif site.shape().search(page) is None:
            chunks = [chunk for chunk in site.chunks if len(chunk) >= MIN_SHAPE_CHUNK]
            missing.append((site, f"the whole message, in order: {chunks}"))
    return missing


# -- the checks ---------------------------------------------------------------------------------------------


def test_every_message_of_the_plugin_system_is_documented() -> None:
    """Each variant of each message appears in docs/troubleshooting.md: its leading text and its whole shape."""
    missing = undocumented(collect_sites(scanned_modules()), page_text())
    report = "\n".join(
        f"  {site.where} ({site.kind} in {site.function}()): {what}\n    message: {site.source}"
        for site, what in missing
    )
    assert not missing, f"document these messages in docs/troubleshooting.md, with cause and fix:\n{report}"


def test_every_message_site_has_text_or_a_stated_exclusion() -> None:
    """A message with too little literal text to check is listed in EXCLUSIONS with the reason."""
    blind = sorted(key for key in blind_sites(collect_sites(scanned_modules())) if (key[0], key[2]) not in EXCLUSIONS)
    report = "\n".join(f"  src/fapilog/{module}:{line} in {function}()" for module, line, function in blind)
    assert not blind, (
        f"these messages have under {MIN_CHUNK} characters of literal text to look for in "
        "docs/troubleshooting.md; give them a message that says what happened and what to do, or add "
        f"(module, function) to EXCLUSIONS in tests/test_troubleshooting.py with the reason:\n{report}"
    )


def test_exclusions_are_still_needed() -> None:
    """Every exclusion names a site that still has nothing to check (stale entries get removed)."""
    blind = {(module, function) for module, _, function in blind_sites(collect_sites(scanned_modules()))}
    stale = sorted(set(EXCLUSIONS) - blind)
    assert not stale, f"remove these stale EXCLUSIONS from tests/test_troubleshooting.py: {stale}"


@pytest.mark.parametrize(("module", "text"), ALSO_DOCUMENTED, ids=[text for _, text in ALSO_DOCUMENTED])
def test_texts_the_scanner_cannot_follow_are_documented(module: str, text: str) -> None:
    """Each text is still in its module's source, and in the page (``{placeholder}`` matching any value)."""
    assert text in (SRC / module).read_text(encoding="utf-8"), f"{text!r} is no longer in src/fapilog/{module}"
    parts = [re.escape(" ".join(part.split())) for part in re.split(r"\{[^{}]*\}", text)]
    pattern = f".{{1,{MAX_GAP}}}?".join(part for part in parts if part)
    assert re.search(pattern, page_text()), f"document {text!r} (src/fapilog/{module}) in docs/troubleshooting.md"


def test_the_scan_covers_the_whole_plugin_system() -> None:
    """The scan sees the known sites: discovery, the version gate, helpers, warnings, settings and stderr."""
    sites = collect_sites(scanned_modules())
    modules = {site.module for site in sites}
    assert {"plugins/discovery.py", "plugins/compat.py", "plugins/registry.py", "core/builder.py"} <= modules
    assert {"core/control.py", "core/state.py", "settings.py", "builtins/sinks/file.py"} <= modules
    assert any(site.leading == "no plugin named" for site in sites if site.module == "plugins/discovery.py")
    verdicts = {chunk for site in sites if site.kind == "CompatVerdict" for chunk in site.chunks}
    assert {"is installed (it was built for a newer core)", "is installed (it was built for an older core)"} <= verdicts
    assert any(site.kind.endswith("via setting_error()") and site.module == "settings.py"
               for site in sites), "the engine's setting_error() helper is followed to its callers"
    assert any(site.kind.endswith("via setting_error()") and site.module == "builtins/redactors/regex_mask.py"
               for site in sites), "the engine's helper is followed through its public re-export"
    assert any(site.kind == "warnings.warn_explicit via _notify_once()" for site in sites), "the legacy-plugin notice"
    assert any(site.kind.startswith("stderr line") for site in sites)
    assert len(sites) > 150


# -- the scanner on samples, so its rules are pinned down ---------------------------------------------------

_HELPERS = '''
from fapilog.errors import ConfigError

def _fail(plugin, field, problem):
    return ConfigError(f"{plugin}.{field}: {problem}", field=field)

def count(plugin, field, value, low):
    wanted = "a whole number" + (f" >= {low}" if low is not None else "")
    raise _fail(plugin, field, f"must be {wanted}, got {value!r}")

def flag(plugin, field, value):
    raise _fail(plugin, field, f"must be true or false, got {value!r}")
'''

_SAMPLE = '''
import sys
from fapilog.errors import PluginError, PluginLoadError
from fapilog.plugins.helpers import _fail

def direct(name):
    raise PluginLoadError(f"{name!r}: module is broken beyond repair; reinstall it", plugin=name)

def rewrap(where):
    try:
        pass
    except ValueError as exc:
        raise PluginError(f"{where}: {exc}") from exc

def same_class(exc):
    raise type(exc)(f"sinks[0]: {exc}", plugin="x") from exc

def concatenated():
    raise PluginError("first part, " + "of a long message that goes on")

def imported(value):
    raise _fail("level", "min_level", f"must be a level name such as INFO, got {value!r}")

def conditional(newer):
    direction = "a newer" if newer else "an older"
    raise PluginError(f"the plugin was built for {direction} core")

def stderr(name):
    sys.stderr.write(f"fapilog: the replaced instance of {name!r} failed to stop\\n")
'''


def _sample_sites() -> dict[tuple[str, str], list[Site]]:
    found: dict[tuple[str, str], list[Site]] = {}
    for site in sites_of([parse_module("plugins/helpers.py", _HELPERS), parse_module("plugins/sample.py", _SAMPLE)]):
        found.setdefault((site.module, site.function), []).append(site)
    return found


def test_the_scanner_reads_direct_helper_built_concatenated_conditional_and_stderr_messages() -> None:
    """Direct messages, helper calls (same module and importing module), local variables, conditional parts
    and stderr lines are found with their text; re-raises of a caught error have none."""
    found = _sample_sites()
    sample = "plugins/sample.py"
    assert [s.leading for s in found[sample, "direct"]] == ["module is broken beyond repair; reinstall it"]
    assert not any(s.checkable for s in found[sample, "rewrap"])
    assert not any(s.checkable for s in found[sample, "same_class"])
    assert [s.leading for s in found[sample, "concatenated"]] == ["first part, of a long message that goes on"]
    assert [s.leading for s in found[sample, "imported"]] == ["level.min_level: must be a level name such as INFO, got"]
    assert [s.chunks for s in found[sample, "conditional"]] == [
        ["the plugin was built for a newer core"],
        ["the plugin was built for an older core"],
    ]
    assert [s.leading for s in found[sample, "stderr"]] == ["fapilog: the replaced instance of"]
    assert [s.chunks for s in found["plugins/helpers.py", "flag"]] == [["must be true or false, got"]]
    with_bound, without = found["plugins/helpers.py", "count"]
    assert with_bound.shape().search("level.min: must be a whole number >= 1, got 'x'")
    assert without.shape().search("level.seed: must be a whole number, got 'x'")
    assert not with_bound.shape().search("level.min: must be an integer, got 'x'")
    assert ("plugins/helpers.py", "_fail") not in found, "a helper's template gives way to its callers' sites"


def test_a_missing_partial_or_one_sided_message_is_reported() -> None:
    """The check fails for a page lacking the message, showing only its start, or only one variant."""
    found = _sample_sites()
    stderr = found["plugins/sample.py", "stderr"]
    assert undocumented(stderr, "nothing here") == [(stderr[0], "leading text 'fapilog: the replaced instance of'")]
    assert undocumented(stderr, "fapilog: the replaced instance of 'file'") != []
    assert undocumented(stderr, "fapilog: the replaced instance of 'file' failed to stop") == []
    conditional = found["plugins/sample.py", "conditional"]
    assert len(undocumented(conditional, "the plugin was built for a newer core")) == 1
    both = "the plugin was built for a newer core; or: the plugin was built for an older core"
    assert undocumented(conditional, both) == []


# -- real messages against the page ---------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"<[A-Za-z][^<>]*>")
_LOCATION = re.compile(r"^(?:[a-z_]+\[\d+\](?:\.[a-z_]+\[\d+\])*|load_plugin|reload_plugin\('[^']*'\)): ")


def documented_forms() -> list[re.Pattern[str]]:
    """Each line, and each whole block, of the page's ``text`` blocks as a pattern (``<...>`` matches a value)."""
    blocks = re.findall(r"```text\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.DOTALL)
    forms = [*blocks, *(line for block in blocks for line in block.splitlines())]

    def pattern(form: str) -> re.Pattern[str]:
        literal = [re.escape(part) for part in _PLACEHOLDER.split(form.strip())]
        return re.compile(".+?".join(literal), re.DOTALL)

    return [pattern(form) for form in forms if form.strip()]


def _raised(action: Callable[[], object]) -> str:
    try:
        action()
    except fapilog.errors.FapilogError as exc:
        return str(exc)
    raise AssertionError("expected a FapilogError")


def _metadata(**fields: Any) -> PluginMetadata:
    return PluginMetadata(**{"name": "demo", "version": "1.0.0", "kind": "sink", **fields})


class _SyncWrite:
    metadata = PluginMetadata(name="sync-write", version="1.0.0", kind="sink")

    def write(self, record: object) -> None:
        pass


class _Ready:
    metadata = PluginMetadata(name="ready", version="1.0.0", kind="sink")

    async def write(self, record: object) -> None:
        pass


def _configure(**settings: object) -> None:
    fapilog.configure(**settings)


def _incompatible() -> None:
    from fapilog.plugins.compat import check_constraint, incompatible_error

    raise incompatible_error("splunk", "fapilog-splunk", "0.9.0", check_constraint(">=2.0,<3.0"))


def _cycle() -> None:
    from fapilog.plugins._dependencies import resolve_order

    resolve_order({"a": _metadata(name="a", requires=("b",)), "b": _metadata(name="b", requires=("a",))})


def _sync_write() -> None:
    from fapilog.plugins.registry import PluginRegistry

    PluginRegistry([_SyncWrite])


def _reload_object() -> None:
    fapilog.configure(sinks=[_Ready()])
    fapilog.reload_plugin("ready")


REAL_ERRORS: dict[str, Callable[[], object]] = {
    "not found, with a suggestion": lambda: _configure(sinks=["stdot"]),
    "not found": lambda: _configure(sinks=["zzzzzz"]),
    "unknown plugin setting": lambda: _configure(sinks=[{"type": "file", "path": "a.log", "max_byte": 1}]),
    "required setting": lambda: _configure(sinks=[{"type": "file"}]),
    "built-in's own check": lambda: _configure(filters=[{"type": "sampling", "rate": 5}]),
    "wrong stage list": lambda: _configure(processors=["file"]),
    "denied": lambda: _configure(sinks=["stdout"], plugins={"deny": ["stdout"]}),
    "not allowed": lambda: _configure(sinks=["stdout"], plugins={"allow": ["file"]}),
    "plugins section typo": lambda: _configure(plugins={"alow": ["file"]}),
    "spec without type": lambda: _configure(sinks=[{"path": "app.log"}]),
    "bad level": lambda: _configure(level="loud"),
    "delivery keys": lambda: _configure(sinks=[{"type": "memory", "delivery": {"x": 1}}]),
    "version gate": _incompatible,
    "plugin API": lambda: _metadata(api_version="2.0"),
    "metadata name": lambda: _metadata(name="Demo"),
    "metadata kind": lambda: _metadata(kind="sinks"),
    "sync method": _sync_write,
    "dependency cycle": _cycle,
    "load_plugin kind": lambda: fapilog.load_plugin("alerter", "memory"),
    "reload an object": _reload_object,
}


@pytest.mark.parametrize("case", list(REAL_ERRORS))
def test_real_messages_match_a_documented_form(case: str) -> None:
    """The message a real mistake raises (with or without its location prefix) matches a form in the page."""
    message = _raised(REAL_ERRORS[case])
    candidates = {message, _LOCATION.sub("", message)}
    forms = documented_forms()
    assert any(form.fullmatch(text) for form in forms for text in candidates), f"no documented form matches:\n{message}"
