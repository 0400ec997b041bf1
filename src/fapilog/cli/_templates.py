"""The scaffold's small template engine: ``{{key}}`` markers, and import blocks sorted the way ruff wants.

Templates are text files shipped in ``fapilog/cli/templates`` (named ``*.tmpl`` so no tool takes them for
code). :func:`render` replaces ``{{key}}`` markers; a line holding nothing but a marker whose value is empty
disappears. A kind template's import lines sit above a ``---`` line; :func:`module` merges them with the
wrapper's and sorts them into the sections ruff's isort rules expect, so generated code is lint-clean as
written, with no formatter run.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources

__all__ = ["import_block", "module", "render", "template"]

_MARKER = re.compile(r"\{\{([a-z_]+)\}\}")
_SEPARATOR = "---"


def template(relative: str) -> str:
    return resources.files("fapilog.cli").joinpath("templates", *relative.split("/")).read_text(encoding="utf-8")


def render(text: str, values: Mapping[str, str]) -> str:
    """Replace every ``{{key}}`` in ``text`` with ``values[key]``; a line that is only an empty marker goes.

    A marker without a value is a bug in the templates, so it raises ``KeyError`` rather than leaving
    ``{{key}}`` in a generated file.
    """
    lines: list[str] = []
    for line in text.splitlines(keepends=True):
        whole = _MARKER.fullmatch(line.strip())
        if whole is not None and values[whole.group(1)] == "":
            continue
        lines.append(_MARKER.sub(lambda match: values[match.group(1)], line))
    return "".join(lines)


def _split(template: str) -> tuple[list[str], str]:
    """A kind template's import lines and the code below its ``---`` line."""
    head, sep, body = template.partition(f"\n{_SEPARATOR}\n")
    if not sep:
        raise ValueError(f"kind template without a '{_SEPARATOR}' line after its imports")
    return [line for line in head.splitlines() if line.strip()], body


def _section(module: str, first_party: Iterable[str]) -> int:
    root = module.split(".", maxsplit=1)[0]
    if root == "__future__":
        return 0
    if root in sys.stdlib_module_names:
        return 1
    return 3 if root in first_party else 2


def _member_key(name: str) -> tuple[int, str, str]:
    # isort's order-by-type, as ruff applies it: CONSTANTS, then Classes, then functions and variables.
    rank = 0 if len(name) > 1 and name.isupper() else 1 if name[:1].isupper() else 2
    return rank, name.lower(), name


def import_block(lines: Iterable[str], *, first_party: Iterable[str], line_length: int) -> str:
    """Merge and sort import statements into the sections and order ruff's isort rules expect.

    ``lines`` are ``import x`` and ``from x import a, b`` statements in any order, duplicates allowed.
    """
    parties = set(first_party)
    plain: dict[int, set[str]] = {}
    members: dict[int, dict[str, set[str]]] = {}
    for line in lines:
        words = line.split()
        if words[0] == "import":
            plain.setdefault(_section(words[1], parties), set()).add(words[1])
        elif words[0] == "from" and words[2] == "import":
            names = {name.strip() for name in line.split(" import ", 1)[1].split(",") if name.strip()}
            members.setdefault(_section(words[1], parties), {}).setdefault(words[1], set()).update(names)
        else:
            raise ValueError(f"not an import statement: {line!r}")
    sections: list[str] = []
    for section in sorted({*plain, *members}):
        out = [f"import {module}" for module in sorted(plain.get(section, ()), key=str.lower)]
        for module, names in sorted(members.get(section, {}).items(), key=lambda item: item[0].lower()):
            listed = sorted(names, key=_member_key)
            single = f"from {module} import {', '.join(listed)}"
            if len(single) <= line_length:
                out.append(single)
            else:
                out.append(f"from {module} import (\n" + "".join(f"    {name},\n" for name in listed) + ")")
        sections.append("\n".join(out))
    return "\n\n".join(sections)


def module(
    wrapper: str,
    kind_template: str,
    values: Mapping[str, str],
    *,
    imports: Sequence[str],
    first_party: Iterable[str],
    line_length: int,
) -> str:
    """A Python module: ``wrapper`` around a kind template, with both import lists merged and sorted."""
    kind_imports, body = _split(template(kind_template))
    block = import_block([*imports, *kind_imports], first_party=first_party, line_length=line_length)
    return render(template(wrapper), {**values, "imports": block, "body": render(body, values).rstrip("\n")})
