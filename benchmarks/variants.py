"""A/B runs by environment: each variant (``'ENV=VALUE ...'``) in fresh interpreters, alternated, so a drift of
the machine falls on every variant alike. The child prints one JSON object as its last line of output."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Sequence
from typing import Any


def run_alternated(script: str, child_args: Sequence[str], variants: Sequence[str], reps: int) -> dict[str, list[Any]]:
    """``reps`` rounds of ``python script --child child_args...`` once per variant; each run's JSON by variant."""
    results: dict[str, list[Any]] = {variant: [] for variant in variants}
    for _ in range(reps):
        for variant in variants:
            env = dict(os.environ)
            env.update(item.split("=", 1) for item in variant.split())
            done = subprocess.run([sys.executable, script, "--child", *child_args], env=env, capture_output=True,
                                  text=True, check=True)
            results[variant].append(json.loads(done.stdout.strip().splitlines()[-1]))
    return results


def medians(runs: Sequence[dict[str, float]]) -> dict[str, float]:
    """The median of each key over ``runs`` (the keys of the first run)."""
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}
