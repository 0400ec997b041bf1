"""How a plugin's settings are documented: names, readable types, defaults and descriptions, from the code.

:func:`settings_of` reads a config model (a dataclass or a pydantic v2 model) or, without one, the plugin's
constructor, and finds each setting's description in the first place that has one:

1. ``dataclasses.field(metadata={"doc": ...})`` or pydantic ``Field(description=...)``;
2. an attribute docstring: a string literal right after the field in the class body (read with :mod:`ast`);
3. a clause of the model's (then the plugin class's) docstring led by the field in double backticks:
   ``"``level``: the threshold..."`` gives the text after the colon, ``"``max_bytes`` rotates..."`` the
   clause; it runs on across ``; `` until the next clause led by a field, and ends with its sentence;
4. a clause that merely mentions the field.

:func:`render_type` and :func:`render_value` write annotations and defaults for Markdown tables: no ``|``
at the top level, so a union never splits a table cell.
"""

from __future__ import annotations

import dataclasses
import re
import sys
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal, Union

__all__ = ["SettingDoc", "markdown", "render_type", "render_value", "settings_of", "type_text", "union_members"]

_NOT_SETTINGS = frozenset({"self", "clock"})
"""Constructor parameters that are never user settings (``clock`` is injected by tests)."""


@dataclasses.dataclass(frozen=True)
class SettingDoc:
    """One documented setting: its name, readable type, default (``None`` when required) and description."""

    name: str
    type: str
    default: str | None
    description: str
    value: Any = None
    """The default value itself (``dataclasses.MISSING`` when required), for building examples."""
    annotation: Any = None
    nested: bool = False
    """True for a table of settings documented in its own section (``queue``, ``plugins``...)."""

    @property
    def required(self) -> bool:
        """No default: the setting must be given."""
        return self.default is None and not self.nested


def settings_of(model: type[Any] | None, plugin: type[Any] | None = None) -> list[SettingDoc]:
    """The settings a plugin accepts: its config model's fields, or its constructor's keyword parameters.

    ``plugin`` (the plugin class) supplies the constructor when there is no model, and a second docstring
    to read descriptions from.
    """
    docs = _Descriptions(model, plugin, _setting_names(model, plugin))
    if model is not None and _is_pydantic(model):
        return [_pydantic_setting(name, info, docs) for name, info in model.model_fields.items()]
    if model is not None and dataclasses.is_dataclass(model):
        hints = _hints(model)
        return [
            _setting(f.name, hints.get(f.name, f.type), _dataclass_default(f), docs, f.metadata.get("doc"))
            for f in dataclasses.fields(model)
            if f.init
        ]
    if plugin is None:
        return []
    return list(_constructor_settings(plugin, docs))


def _setting_names(model: type[Any] | None, plugin: type[Any] | None) -> list[str]:
    import inspect

    if model is not None and _is_pydantic(model):
        return list(model.model_fields)
    if model is not None and dataclasses.is_dataclass(model):
        return [f.name for f in dataclasses.fields(model)]
    if plugin is None:
        return []
    try:
        return list(inspect.signature(plugin).parameters)
    except (TypeError, ValueError):
        return []


def _is_pydantic(model: type[Any]) -> bool:
    pydantic = sys.modules.get("pydantic")
    return pydantic is not None and issubclass(model, pydantic.BaseModel)


def _hints(obj: object) -> dict[str, Any]:
    try:
        return typing.get_type_hints(obj)
    except Exception:  # noqa: BLE001 - unresolvable annotations (TYPE_CHECKING imports) fall back to their text
        return {}


def _dataclass_default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def _pydantic_setting(name: str, info: Any, docs: _Descriptions) -> SettingDoc:
    default = dataclasses.MISSING if info.is_required() else info.get_default(call_default_factory=True)
    return _setting(info.alias or name, info.annotation, default, docs, info.description, attribute=name)


def _constructor_settings(plugin: type[Any], docs: _Descriptions) -> Iterator[SettingDoc]:
    import inspect

    try:
        signature = inspect.signature(plugin)
    except (TypeError, ValueError):  # an extension type without an introspectable signature
        return
    hints = _hints(plugin.__init__)
    for name, param in signature.parameters.items():
        if name in _NOT_SETTINGS or param.kind not in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY):
            continue
        default = dataclasses.MISSING if param.default is param.empty else param.default
        annotation = hints.get(name, param.annotation if param.annotation is not param.empty else Any)
        yield _setting(name, annotation, default, docs, None)


def _setting(
    name: str, annotation: Any, default: Any, docs: _Descriptions, explicit: object, *, attribute: str | None = None
) -> SettingDoc:
    description = explicit if isinstance(explicit, str) and explicit.strip() else docs.lookup(attribute or name)
    return SettingDoc(
        name,
        render_type(annotation),
        None if default is dataclasses.MISSING else render_value(default),
        markdown(description),
        default,
        annotation,
    )


class _Descriptions:
    """Descriptions from attribute docstrings, then from clauses of the model's and plugin's docstrings."""

    def __init__(self, model: type[Any] | None, plugin: type[Any] | None, names: Sequence[str]) -> None:
        import inspect

        self._attributes = _attribute_docs(model) if model is not None else {}
        docstrings = [inspect.getdoc(obj) or "" for obj in (model, plugin) if obj is not None]
        if plugin is not None and "__init__" in vars(plugin):
            docstrings.append(inspect.getdoc(vars(plugin)["__init__"]) or "")
        self._found: tuple[dict[str, str], ...] = ({}, {}, {})
        for doc in docstrings:
            _field_clauses(doc, frozenset(names), self._found)

    def lookup(self, name: str) -> str:
        """The best description of ``name`` found, or ``""``."""
        return self._attributes.get(name) or next((found[name] for found in self._found if name in found), "")


def _attribute_docs(cls: type[Any]) -> dict[str, str]:
    """``{field: docstring}`` for string literals right after annotated fields in the class body (and bases)."""
    import ast
    import inspect
    import itertools
    import textwrap

    found: dict[str, str] = {}
    for klass in reversed(cls.__mro__[:-1]):
        if klass.__module__.partition(".")[0] == "pydantic":
            continue  # BaseModel's own attributes are not settings
        try:
            source = textwrap.dedent(inspect.getsource(klass))
        except (OSError, TypeError):  # defined in an interactive session or generated: no source to read
            continue
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        body = next((node.body for node in tree.body if isinstance(node, ast.ClassDef)), [])
        for node, following in itertools.pairwise(body):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                found[node.target.id] = inspect.cleandoc(following.value.value)
    return found


_CODE = "``"


def _clause_ends(text: str, names: frozenset[str]) -> list[tuple[int, str]]:
    """Where clauses end: ``(index after the clause, separator)`` at ``. ``, ``; `` and ``, ``field`` verb``.

    Separators inside parentheses or code spans do not count, nor the dot of ``e.g.``/``i.e.``.
    """
    ends: list[tuple[int, str]] = []
    depth = 0
    in_code = False
    i = 0
    while i < len(text):
        if text.startswith(_CODE, i):
            in_code = not in_code
            i += 2
            continue
        char = text[i]
        if in_code:
            pass
        elif char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif depth == 0 and _is_boundary(text, i, names):
            ends.append((i + 1, char))
        i += 1
    ends.append((len(text), "."))
    return ends


def _is_boundary(text: str, i: int, names: frozenset[str]) -> bool:
    char, after = text[i], text[i + 1 : i + 2]
    if char in ".;" and after in (" ", ""):
        return not (char == "." and text[max(0, i - 3) : i] in ("e.g", "i.e"))
    if char == "," and text.startswith(" " + _CODE, i + 1):
        close = text.find(_CODE, i + 4)
        mentioned = text[i + 4 : close] if close != -1 else ""
        return mentioned in names and not text[close + 2 :].startswith((",", " and ", " or "))
    return False


_FIELD = r"``([A-Za-z_]\w*)``"
_LEADING = re.compile(_FIELD + r"((?:\s*(?:,|and|or)\s*``[A-Za-z_]\w*``)*)\s*(:?)\s*")


def _groups(text: str, names: frozenset[str]) -> Iterator[tuple[list[str], str, list[str]]]:
    """``(fields, description, fields mentioned)`` for each run of clauses led by known fields.

    A clause that no field leads yields ``([], clause, fields it mentions)``.
    """
    owners: list[str] = []
    others: list[str] = []
    described = (0, 0)
    start = 0
    for end, separator in _clause_ends(text, names):
        raw = text[start:end]
        offset = start + len(raw) - len(raw.lstrip())
        match = _LEADING.match(raw.strip())
        if match is not None and match.group(1) in names:
            if owners:
                yield owners, text[described[0] : described[1]], others
            found = [match.group(1), *re.findall(_FIELD, match.group(2))]
            owners = [name for name in found if name in names]
            rest = raw.strip()[match.end() :]
            others = [name for name in re.findall(_FIELD, rest) if name in names and name not in owners]
            described = (offset + (match.end() if match.group(3) else 0), end)
        elif owners:
            described = (described[0], end)
        else:
            yield [], raw, [name for name in re.findall(_FIELD, raw) if name in names]
        if separator != ";" and owners:
            yield owners, text[described[0] : described[1]], others
            owners = []
        start = end
    if owners:
        yield owners, text[described[0] : described[1]], others


def _field_clauses(doc: str, names: frozenset[str], found: tuple[dict[str, str], ...]) -> None:
    """Collect field descriptions from clauses of ``doc`` into ``found`` = (leading, mentioned, other).

    A clause that starts with known fields in double backticks describes them: ``"``level``: the
    threshold..."`` gives the text after the colon, ``"``max_bytes`` rotates..."`` the whole clause; it runs
    on across ``; `` until the next clause that starts with a field, and ends with its sentence. Other
    fields mentioned in such a clause get it as a fallback, and fields mentioned in any other clause get
    that clause as the last resort.
    """
    leading, mentioned, other = found
    for paragraph in re.split(r"\n\s*\n", doc):
        if paragraph.lstrip().startswith((">>>", "..")):
            continue
        for owners, text, others in _groups(" ".join(paragraph.split()), names):
            described = _sentence(text)
            if not described:
                continue
            for owner in owners:
                leading.setdefault(owner, described)
            for name in others:
                (mentioned if owners else other).setdefault(name, described)


def _sentence(text: str) -> str:
    text = text.strip().rstrip(";,").strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:] if not text.startswith(_CODE) else text
    return text if text.endswith((".", "!", "?")) else text + "."


def markdown(text: str) -> str:
    """One line of Markdown from reStructuredText-flavoured docstring prose."""
    text = " ".join(text.split())
    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"`\1`", text)
    return text.replace("``", "`")


# -- rendering types and values --------------------------------------------------------------------------


def render_type(annotation: Any) -> str:
    """A readable type for a table cell: each top-level alternative its own code span, no ``|`` anywhere.

    ``int | None`` gives ``"`int` or `None`"``, and ``Literal["a", "b"]`` gives ``'`"a"` or `"b"`'``.
    """
    if isinstance(annotation, str):
        return " or ".join(f"`{part}`" for part in _split_union_text(annotation))
    options = union_members(annotation)
    spans: list[str] = []
    for option in options:
        if typing.get_origin(option) is Literal:
            spans.extend(f"`{render_value(value)}`" for value in typing.get_args(option))
        else:
            spans.append(f"`{type_text(option)}`")
    return " or ".join(spans)


def union_members(annotation: Any) -> list[Any]:
    """The alternatives of a union annotation (``None`` last), or ``[annotation]`` for anything else."""
    if typing.get_origin(annotation) in (Union, types.UnionType):
        members = list(typing.get_args(annotation))
        return sorted(members, key=lambda member: member is type(None))  # None last
    return [annotation]


def _split_union_text(text: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    current = ""
    for char in text:
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        if char == "|" and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return parts


def type_text(annotation: Any) -> str:  # noqa: PLR0911 - one return per kind of annotation
    """One annotation as Python-like text without ``|``: ``Optional[int]``, ``Mapping[str, Union[int, str]]``."""
    if annotation is type(None) or annotation is None:
        return "None"
    if annotation is Any:
        return "Any"
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (Union, types.UnionType):
        inner = [type_text(arg) for arg in args if arg is not type(None)]
        if len(inner) < len(args) and len(inner) == 1:
            return f"Optional[{inner[0]}]"
        return f"Union[{', '.join(type_text(arg) for arg in args)}]"
    if origin is Literal:
        return f"Literal[{', '.join(render_value(arg) for arg in args)}]"
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        if not args:
            return name
        rendered = [
            f"[{', '.join(type_text(a) for a in arg)}]" if isinstance(arg, list) else type_text(arg) for arg in args
        ]
        return f"{name}[{', '.join(rendered)}]"
    if isinstance(annotation, type):
        return annotation.__qualname__
    return str(annotation).replace("typing.", "")


def render_value(value: Any) -> str:
    """A default as it would be written in Python configuration: ``"DEBUG"``, ``None``, ``["a", "b"]``, ``{}``."""
    import json

    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{render_value(k)}: {render_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple, set, frozenset)):
        return "[" + ", ".join(render_value(item) for item in value) + "]"
    if callable(value) and hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', None) or '?'}.{value.__qualname__}"
    return repr(value)
