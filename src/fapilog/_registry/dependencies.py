"""Ordering configured plugins by their declared ``requires``: dependencies start first, stop last.

A depth-first topological sort that keeps the configured order wherever the dependencies allow it, so the
result is deterministic and unsurprising. Every failure names the chain that led to it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from fapilog.errors import PluginError
from fapilog.plugins.metadata import PluginMetadata

__all__ = ["resolve_order"]

_VISITING, _DONE = 1, 2


def _chain(path: Sequence[str]) -> str:
    return " -> ".join(path)


def resolve_order(
    configured: Mapping[str, PluginMetadata],
    *,
    is_known: Callable[[str], bool] = lambda _name: False,
    distribution_of: Callable[[str], str | None] = lambda _name: None,
) -> list[str]:
    """Return the names of ``configured`` so that each plugin comes after everything it requires.

    ``is_known`` tells whether a missing dependency is at least installed (so the message can say "add it to
    your configuration" rather than "install it"); ``distribution_of`` names the distribution to upgrade on
    a version mismatch (assumed to version alongside the plugin). Raises :class:`~fapilog.errors.PluginError`
    for a missing dependency, a dependency whose version is outside the required range, or a cycle.
    """
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == _DONE:
            return
        if state.get(name) == _VISITING:
            cycle = [*path[path.index(name) :], name]
            raise PluginError(
                f"plugin dependency cycle: {_chain(cycle)}. Plugins cannot require each other in a loop; "
                "remove one of these requirements (PluginMetadata.requires)",
                plugin=name, code="FL-DEP-003",
            )
        state[name] = _VISITING
        here = [*path, name]
        for requirement in configured[name].requirements:
            dep = requirement.name
            if dep not in configured:
                todo = (
                    f"add {dep!r} to your configuration"
                    if is_known(dep)
                    else "install the package that provides it and add it to your configuration"
                )
                raise PluginError(
                    f"plugin {name!r} requires {str(requirement)!r} (via {_chain([*here, dep])}), but {dep!r} "
                    f"is not configured; {todo}",
                    plugin=name, code="FL-DEP-001",
                )
            found = configured[dep].version
            if not requirement.specifier.contains(found, prereleases=True):
                dist = distribution_of(dep)
                fix = f'pip install "{dist}{requirement.specifier}"' if dist else "from its publisher"
                raise PluginError(
                    f"plugin {name!r} requires {str(requirement)!r} (via {_chain([*here, dep])}), but {dep!r} "
                    f"is version {found}; install a matching release ({fix})",
                    plugin=name, code="FL-DEP-002",
                )
            visit(dep, here)
        state[name] = _DONE
        order.append(name)

    for name in configured:
        visit(name, [])
    return order
