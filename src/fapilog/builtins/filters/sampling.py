"""``sampling``: keep a fixed fraction of events, whole traces at a time.

An event with a trace id (the ``key`` field, ``trace_id`` by default) is kept or dropped by a deterministic
function of that id, so every event of one trace shares the decision, in every process and service that
samples at the same rate: a trace's logs arrive complete or not at all. Events without one are kept at
random (``seed`` makes that repeatable for tests). WARNING and above are exempt by default, because the
events worth reading in an incident are the ones a sampler must not lose::

    fapilog.configure(filters=[{"type": "sampling", "rate": 0.1}])

The decision maps a trace id to a point in ``[0, 2**64)`` and keeps it below ``rate * 2**64``. For a W3C
trace id (32 hex digits) the point is the id's low 64 bits, the part OpenTelemetry's ratio samplers also
treat as random; any other id is hashed (BLAKE2b, not Python's per-process salted ``hash()``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
from typing import Annotated, Any

from fapilog._version import __version__
from fapilog.builtins.filters._records import as_event, exempt_threshold
from fapilog.plugins import EventRecord
from fapilog.plugins.constraints import Level, NonEmpty, Range, settings_from
from fapilog.plugins.metadata import PluginMetadata
from fapilog.plugins.protocols import Record

__all__ = ["TRACE_SPACE", "SamplingFilter", "SamplingSettings", "trace_point"]

_NAME = "sampling"
TRACE_SPACE = 1 << 64
"""Trace points lie in ``[0, TRACE_SPACE)``; rate ``r`` keeps the points below ``round(r * TRACE_SPACE)``."""
_W3C_LENGTH = 32


def trace_point(trace_id: object) -> int:
    """Where ``trace_id`` falls in ``[0, 2**64)``: the same id gives the same point in every process."""
    if type(trace_id) is str and len(trace_id) == _W3C_LENGTH:
        try:
            return int(trace_id[16:], 16)
        except ValueError:
            pass  # 32 characters but not hex: hash it like any other id
    data = trace_id if isinstance(trace_id, bytes) else str(trace_id).encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


def trace_bound(rate: float) -> int:
    """The exclusive upper bound on trace points kept at ``rate``."""
    return round(rate * TRACE_SPACE)


@dataclasses.dataclass(frozen=True)
class SamplingSettings:
    """Settings of the ``sampling`` filter.

    ``rate``: the fraction of events kept, in [0, 1] (required). ``key``: the field holding the trace id.
    ``exempt_level``: events at or above it are always kept (``None``: none are). ``seed``: seeds the random
    choice for events without a trace id, for repeatable tests.
    """

    rate: Annotated[float, Range(ge=0, le=1)]
    key: Annotated[str, NonEmpty] = "trace_id"
    exempt_level: Annotated[int | str | None, Level] = "WARNING"
    seed: int | None = None


class SamplingFilter:
    """Keeps ``rate`` of the events below ``exempt_level``, trace-consistently when they carry a trace id."""

    metadata = PluginMetadata(
        name=_NAME,
        version=__version__,
        kind="filter",
        description="Keeps a fraction of events; all events of one trace share the decision.",
        config_model=SamplingSettings,
    )

    def __init__(self, settings: SamplingSettings | None = None, /, **values: Any) -> None:
        """``settings`` (the registry passes the validated model) or the same fields as keywords."""
        self.settings = settings = settings_from(SamplingSettings, settings, root=_NAME, **values)
        self._exempt = exempt_threshold(settings.exempt_level)
        self._bound = trace_bound(settings.rate)
        self._random = random.Random(settings.seed)

    async def start(self) -> None:
        """Nothing to open."""

    async def stop(self) -> None:
        """Nothing to close."""

    def keeps_trace(self, trace_id: object) -> bool:
        """Whether events carrying ``trace_id`` are kept (the same answer every time, in every process)."""
        return trace_point(trace_id) < self._bound

    async def filter(self, record: Record) -> Record | None:
        """``record`` if it is sampled in (or exempt), else ``None``."""
        return record if await self.filter_batch([as_event(record)]) else None

    async def filter_batch(self, records: list[EventRecord]) -> list[EventRecord]:
        """The sampled-in and exempt records of the batch, in order."""
        rate = self.settings.rate
        if rate >= 1.0:
            return list(records)
        exempt, key, bound = self._exempt, self.settings.key, self._bound
        chance = self._random.random
        point = trace_point
        last_id: object = None
        last_keep = False
        kept: list[EventRecord] = []
        append = kept.append
        for record in records:
            if record.levelno >= exempt:
                append(record)
                continue
            trace_id = record.get(key)
            if trace_id is None:
                if chance() < rate:
                    append(record)
                continue
            if trace_id is not last_id:  # a trace's events share one id object (bound context): decide once
                last_id, last_keep = trace_id, point(trace_id) < bound
            if last_keep:
                append(record)
        return kept
