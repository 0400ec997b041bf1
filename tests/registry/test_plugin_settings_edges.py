"""A third-party plugin's config model under hostile settings, through a real entry point on a temporary sys.path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.registry._dists import DistFactory, make

from fapilog._registry.registry import PluginRegistry
from fapilog.errors import ConfigError


@pytest.fixture
def dists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DistFactory]:
    yield from make(tmp_path, monkeypatch)


def _filter(model: str, init: str) -> str:
    return (
        "import dataclasses\n"
        "from typing import Annotated, Literal\n"
        "from fapilog.errors import ConfigError\n"
        "from fapilog.plugins.constraints import Positive, settings_from\n"
        "from fapilog.plugins.metadata import PluginMetadata\n"
        f"{model}\n"
        "class Plugin:\n"
        "    metadata = PluginMetadata(name='{name}', version='1.0', kind='filter', config_model=M)\n"
        f"{init}\n"
        "    async def filter(self, record):\n"
        "        return record\n"
    )


@pytest.mark.parametrize(
    "init",
    [
        "    def __init__(self, settings: M | None = None, /, **values):\n"
        "        self.settings = settings_from(M, settings, root='slotted', **values)\n",
        "    def __init__(self, port=80):\n        self.port = port\n",
    ],
    ids=["takes-model", "takes-fields"],
)
def test_a_slotted_dataclass_model_is_accepted(dists: DistFactory, init: str) -> None:
    """A `@dataclass(slots=True)` config model (no weak references) validates instead of failing every configuration."""
    model = "@dataclasses.dataclass(frozen=True, slots=True)\nclass M:\n    port: Annotated[int, Positive] = 80\n"
    dists.plugin("slotted", source=_filter(model, init))
    _, instance = PluginRegistry().create("filter", {"type": "slotted", "port": "81"})
    port = getattr(instance, "port", None) or instance.settings.port  # type: ignore[attr-defined]
    assert port == 81
    with pytest.raises(ConfigError) as caught:
        PluginRegistry().create("filter", {"type": "slotted", "port": 0})
    assert caught.value.field == "port"


_ROUTES = (
    "@dataclasses.dataclass(frozen=True)\nclass Route:\n    path: str\n    weight: Annotated[int, Positive] = 1\n"
    "@dataclasses.dataclass(frozen=True)\nclass M:\n    routes: list[Route] = dataclasses.field(default_factory=list)\n"
)


@pytest.mark.parametrize(
    ("entry", "field", "problem"),
    [
        ({"path": "b", "wieght": 2}, "routes[1].wieght", "unknown setting"),
        ({"path": "b", "weight": "x"}, "routes[1].weight", "must be a whole number > 0, got 'x'"),
        ({}, "routes[1].path", "required setting is missing"),
    ],
)
def test_a_setting_inside_a_list_of_tables_is_named_by_its_index(
    dists: DistFactory, entry: dict[str, object], field: str, problem: str
) -> None:
    """A bad key in the second table of a list is `routes[1].weight`, said once, not `routes` with a repeated prefix."""
    init = "    def __init__(self, routes=()):\n        self.routes = routes\n"
    dists.plugin("routed", source=_filter(_ROUTES, init))
    with pytest.raises(ConfigError) as caught:
        PluginRegistry().create("filter", {"type": "routed", "routes": [{"path": "a"}, entry]})
    assert caught.value.field == field
    assert str(caught.value).startswith(f"routed.{field}: {problem}")
    assert str(caught.value).count("routes") == 1


def test_a_model_whose_own_check_crashes_is_a_plugin_error_at_configure(dists: DistFactory) -> None:
    """A `__post_init__` raising KeyError is a PluginLoadError naming the plugin and model, not a bare KeyError."""
    import fapilog
    from fapilog.errors import PluginLoadError

    model = (
        "@dataclasses.dataclass(frozen=True)\nclass M:\n    port: int = 80\n"
        "    def __post_init__(self):\n        raise KeyError('lookup')\n"
    )
    dists.plugin("crashy", source=_filter(model, "    def __init__(self, port=80):\n        self.port = port\n"))
    with pytest.raises(PluginLoadError) as caught:
        fapilog.configure(sinks=["memory"], filters=[{"type": "crashy", "port": 1}])
    assert str(caught.value).startswith("filters[0]: plugin 'crashy': checking its settings with M failed: KeyError")
    assert caught.value.code == "FL-IMP-006"
    assert isinstance(caught.value.__cause__ and caught.value.__cause__.__cause__, KeyError)


def test_one_unresolvable_string_annotation_leaves_the_other_fields_checked(dists: DistFactory) -> None:
    """With `from __future__ import annotations` and a name imported only for type checkers, `rate` is still checked."""
    module = "fapilog_test_future_annotations"
    (dists.root / f"{module}.py").write_text(
        "from __future__ import annotations\n"
        "import dataclasses\n"
        "from typing import TYPE_CHECKING, Annotated\n"
        "from fapilog.plugins.constraints import Positive\n"
        "from fapilog.plugins.metadata import PluginMetadata\n"
        "if TYPE_CHECKING:\n"
        "    from decimal import Decimal\n"
        "@dataclasses.dataclass(frozen=True)\n"
        "class M:\n"
        "    rate: Annotated[float, Positive] = 1.0\n"
        "    amount: Decimal | None = None\n"
        "class Plugin:\n"
        "    metadata = PluginMetadata(name='future', version='1.0', kind='filter', config_model=M)\n"
        "    def __init__(self, rate=1.0, amount=None):\n"
        "        self.rate, self.amount = rate, amount\n"
        "    async def filter(self, record):\n"
        "        return record\n",
        encoding="utf-8",
    )
    dists.modules.append(module)
    dists.dist("fapilog-future", entry_points={"future": f"{module}:Plugin"})
    _, instance = PluginRegistry().create("filter", {"type": "future", "rate": "2", "amount": "any"})
    assert (instance.rate, instance.amount) == (2.0, "any")  # type: ignore[attr-defined]
    with pytest.raises(ConfigError) as caught:
        PluginRegistry().create("filter", {"type": "future", "rate": -1})
    assert caught.value.field == "rate"


def test_a_pydantic_validator_that_crashes_is_a_plugin_error(dists: DistFactory) -> None:
    """A pydantic validator raising KeyError (pydantic passes it through) is a PluginLoadError, not a bare KeyError."""
    from fapilog.errors import PluginLoadError

    model = (
        "import pydantic\n"
        "class M(pydantic.BaseModel):\n    port: int = 80\n"
        "    @pydantic.field_validator('port')\n    @classmethod\n"
        "    def _check(cls, value):\n        raise KeyError('lookup')\n"
    )
    dists.plugin("pydcrash", source=_filter(model, "    def __init__(self, port=80):\n        self.port = port\n"))
    with pytest.raises(PluginLoadError, match=r"^plugin 'pydcrash': checking its settings with M failed: KeyError"):
        PluginRegistry().create("filter", {"type": "pydcrash", "port": 1})


@pytest.mark.parametrize(
    ("declared", "field"),
    [("{'batch_size': -1}", "batch_size"), ("{'retry': {'max_attempts': 'x'}}", "retry.max_attempts")],
)
def test_a_sink_plugins_bad_delivery_default_is_blamed_on_the_plugin(
    dists: DistFactory, declared: str, field: str
) -> None:
    """A bad value in a sink's own delivery_defaults is not reported as sink_defaults, which the user never wrote."""
    import fapilog

    source = (
        "from fapilog.plugins.metadata import PluginMetadata\n"
        "class Plugin:\n    metadata = PluginMetadata(name='{name}', version='1.0', kind='sink')\n"
        f"    delivery_defaults = {declared}\n"
        "    async def write(self, record):\n        pass\n"
    )
    name = "eager-" + field.replace(".", "-").replace("_", "-")  # one name per case: the default registry caches
    dists.plugin(name, source=source)
    with pytest.raises(ConfigError) as caught:
        fapilog.configure(sinks=[name])
    assert caught.value.field == f"sinks[0].delivery.{field}"
    assert str(caught.value).startswith(f"sinks[0]: the sink plugin's own delivery_defaults.{field}: ")
    fapilog.configure(sinks=[{"type": name, "delivery": {"batch_size": 5, "retry": {"max_attempts": 2}}}])
