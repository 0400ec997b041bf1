"""The built-in filters: the first pipeline stage, dropping events before anything is spent on them.

| name | class | keeps |
| --- | --- | --- |
| ``level`` | :class:`LevelFilter` | events at or above a global or per-logger threshold |
| ``sampling`` | :class:`SamplingFilter` | a fixed fraction, whole traces at a time |
| ``rate_limit`` | :class:`RateLimitFilter` | up to ``rate`` per ``per`` seconds of each repeated message |
| ``first_occurrence`` | :class:`FirstOccurrenceFilter` | the first of each repeated message per window |
| ``adaptive_sampling`` | :class:`AdaptiveSamplingFilter` | about ``target_eps`` events per second |

Every one offers ``filter(record)`` and the faster ``filter_batch(records)``, validates its settings when it
is created (errors start with ``<name>.<field>:``), and every event it drops is counted in
``fapilog.stats()["dropped"]["by_reason"]["filtered:<name>"]`` as an intentional drop. All but ``level``
exempt WARNING and above by default. See ``docs/plugins/filters.md``.
"""

from __future__ import annotations

from fapilog.builtins.filters.adaptive_sampling import AdaptiveSamplingFilter
from fapilog.builtins.filters.first_occurrence import FirstOccurrenceFilter
from fapilog.builtins.filters.level import LevelFilter
from fapilog.builtins.filters.rate_limit import RateLimitFilter
from fapilog.builtins.filters.sampling import SamplingFilter

__all__ = [
    "AdaptiveSamplingFilter",
    "FirstOccurrenceFilter",
    "LevelFilter",
    "RateLimitFilter",
    "SamplingFilter",
]
