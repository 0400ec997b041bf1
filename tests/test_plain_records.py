"""The internal records turned from frozen dataclasses into plain classes compare, hash and print as before."""

from __future__ import annotations

import dataclasses
import pickle
from typing import Any

import pytest

from fapilog._coercion import _Where
from fapilog._engine.builder import BuiltPipeline
from fapilog._engine.pipeline import Pipeline
from fapilog._registry.discovery import Conflict, DiscoveredPlugin, Scan
from fapilog._registry.validation import Inspected
from fapilog._registry.verdict import CORE_VERDICT
from fapilog.plugins.metadata import PluginMetadata

_META = PluginMetadata(name="demo", version="1.0", kind="sink", description="d")
_ENTRY = DiscoveredPlugin("demo", "pkg.mod", "Sink", "acme-demo", "1.0", CORE_VERDICT, ("x",), ("y",))
_OTHER = DiscoveredPlugin("demo", "pkg.mod", "Sink", "acme-demo", "2.0", CORE_VERDICT)
_PIPELINE = Pipeline([])

# (a sample, an equal rebuild, a different one, the field names in the order the dataclass declared them)
SAMPLES: list[tuple[Any, Any, Any, tuple[str, ...]]] = [
    (_ENTRY, DiscoveredPlugin("demo", "pkg.mod", "Sink", "acme-demo", "1.0", CORE_VERDICT, ("x",), ("y",)), _OTHER,
     ("name", "module", "attr", "distribution", "dist_version", "verdict", "extras", "missing", "source")),
    (Conflict("demo", (_ENTRY, _OTHER)), Conflict("demo", (_ENTRY, _OTHER)), Conflict("demo", (_ENTRY,)),
     ("name", "candidates")),
    (Scan({"demo": _ENTRY}, {}), Scan({"demo": _ENTRY}, {}), Scan({}, {}, (_ENTRY,)),
     ("plugins", "conflicts", "shadowed")),
    (Inspected(_META, False), Inspected(_META, False), Inspected(_META, True, "legacy"),
     ("metadata", "legacy", "notice", "derived_from")),
    (BuiltPipeline(_PIPELINE, [], []), BuiltPipeline(_PIPELINE, [], []), BuiltPipeline(_PIPELINE, [], [("a", 1)]),
     ("pipeline", "sinks", "start_order")),
    (_Where("a.b", "sinks"), _Where("a.b", "sinks"), _Where("a", "sinks"), ("path", "root")),
]


def _twin(obj: Any, names: tuple[str, ...]) -> Any:
    """The same values in a generated frozen dataclass of the same name (what the class was before)."""
    cls = type(obj)
    twin: type = dataclasses.make_dataclass(cls.__name__, list(names), frozen=True)
    twin.__qualname__ = cls.__qualname__
    return twin(**{name: getattr(obj, name) for name in names})


def _hash_or_error(obj: Any) -> object:
    try:
        return hash(obj)
    except TypeError as exc:
        return f"TypeError: {exc}"


@pytest.mark.parametrize(("first", "same", "other", "names"), SAMPLES, ids=[type(s[0]).__name__ for s in SAMPLES])
def test_plain_record_reads_as_the_dataclass_it_was(first: Any, same: Any, other: Any, names: tuple[str, ...]) -> None:
    """Equality, hash (or its TypeError) and repr of a plain record equal its former frozen dataclass's."""
    twin = _twin(first, names)
    assert first == same and (first == other) == (twin == _twin(other, names))
    assert (first != same) is False and first != other
    assert _hash_or_error(first) == _hash_or_error(twin)
    assert repr(first) == repr(twin)
    assert first != twin  # only instances of the very same class compare equal, as the generated __eq__


def test_discovered_plugin_survives_pickling() -> None:
    """A discovered entry pickles and comes back equal (a multiprocessing worker may receive one)."""
    assert pickle.loads(pickle.dumps(_ENTRY)) == _ENTRY
