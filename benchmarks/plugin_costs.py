"""Per-event cost of every built-in stage plugin, measured with ``fapilog.testing.benchmark_plugin``.

Each plugin runs in a fresh interpreter, so no plugin warms caches for another. Each run drives the plugin
the way the worker does: through its batch form when it has one, over typical request-log records. The
report gives the median ns/event over ``--runs`` processes, each itself the median of 5 rounds. It is meant
for comparing plugins, and versions of one plugin, on the same machine in one run.

    .venv/bin/python benchmarks/plugin_costs.py [--events 20000] [--runs 3] [--only field_mask,regex_mask]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import textwrap

# Settings for plugins that need some; the rest run with their defaults.
SETTINGS: dict[str, dict[str, object]] = {
    "preset": {"names": ["credentials"]},
    "sampling": {"rate": 0.5},
    "field_mask": {"fields": ["email", "password"]},
}

CHILD = textwrap.dedent(
    """
    import json, sys
    from fapilog._registry.config import instantiate
    from fapilog._registry.registry import default_registry
    from fapilog.testing import benchmark_plugin

    name, events, settings = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
    info = default_registry().load(name)
    plugin = instantiate(name, info.plugin, info.metadata.config_model, settings)
    result = benchmark_plugin(plugin, events=events)
    print(json.dumps({"kind": result.kind, "batch": result.batch, "ns": result.per_event_ns}))
    """
)


def _stage_plugins() -> list[str]:
    from fapilog._registry.registry import default_registry

    registry = default_registry()
    names = []
    for info in registry.list():
        loaded = registry.load(info.name)
        if loaded.kind in ("filter", "enricher", "redactor", "processor"):
            names.append(info.name)
    return sorted(names)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default="", help="comma-separated plugin names")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] or _stage_plugins()
    rows = []
    for name in names:
        figures, kind, batch = [], "?", False
        for _ in range(args.runs):
            done = subprocess.run(
                [sys.executable, "-c", CHILD, name, str(args.events), json.dumps(SETTINGS.get(name, {}))],
                capture_output=True, text=True, check=True,
            )
            result = json.loads(done.stdout.strip().splitlines()[-1])
            figures.append(result["ns"])
            kind, batch = result["kind"], result["batch"]
        rows.append((name, kind, batch, statistics.median(figures), min(figures), max(figures)))
    print(f"{'plugin':<20} {'kind':<10} {'form':<7} {'median ns/event':>16} {'min':>9} {'max':>9}")
    for name, kind, batch, median, low, high in sorted(rows, key=lambda row: row[3]):
        form = "batch" if batch else "single"
        print(f"{name:<20} {kind:<10} {form:<7} {median:>16,.0f} {low:>9,.0f} {high:>9,.0f}")


if __name__ == "__main__":
    main()
