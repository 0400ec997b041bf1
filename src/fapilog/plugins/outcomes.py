"""What a sink's ``write_batch`` can tell the core about a batch: the outcomes network sinks need.

The core owns delivery (retries with jittered backoff, ``Retry-After``, a circuit breaker per sink, the
fallback for what cannot be delivered, and the counters). A sink only says what happened to one batch:

- return normally (or return ``None``): every record was accepted;
- return :class:`BatchResult` with ``rejected={index: reason}``: the backend accepted the batch except those
  records, which are counted as rejected by reason and never retried (the others count as delivered);
- raise :class:`RetryableSinkError` (optionally with ``retry_after`` seconds): nothing was accepted, try the
  same batch again later;
- raise :class:`PermanentSinkError` with a ``reason``: the backend will never accept this batch; its records are
  counted as rejected and go to the fallback;
- raise :class:`BatchTooLargeError`: the body was over the backend's limit; the core splits the batch in halves
  and sends each (a single record still too large is rejected with the error's reason).

Any other exception counts as retryable: a sink that does not classify its errors still gets retries.

>>> from fapilog.plugins import PermanentSinkError, RetryableSinkError
>>> class Webhook:
...     async def write_batch(self, records):
...         status = 429  # what the backend answered
...         if status == 429:
...             raise RetryableSinkError("throttled", retry_after=2.0)
...         if 400 <= status < 500:
...             raise PermanentSinkError(f"HTTP {status}", reason=f"http_{status}")
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterable, Mapping

from fapilog._value_methods import ValueMethods, value_class
from fapilog.errors import FapilogError

__all__ = [
    "BatchResult",
    "BatchTooLargeError",
    "PermanentSinkError",
    "RetryableSinkError",
    "SinkDeliveryError",
    "parse_retry_after",
]


class SinkDeliveryError(FapilogError):
    """Base of the outcomes a sink raises from ``write_batch``; ``reason`` is the counter key in ``stats()``."""

    def __init__(self, message: str = "", *, reason: str | None = None) -> None:
        super().__init__(message or reason or type(self).__name__)
        self.reason = reason or type(self).__name__


class RetryableSinkError(SinkDeliveryError):
    """Nothing of the batch was accepted, and trying again later may work (throttling, 5xx, a lost connection).

    ``retry_after`` is the backend's own hint in seconds (e.g. from ``Retry-After``); the core honours it, capped
    by the sink's ``delivery.retry.max_retry_after``.

    ``accepted`` and ``rejected`` are for a sink that sends one batch as several requests (a backend limit
    forced a split) and failed part-way: the indexes (in the batch the sink was given) the backend already
    accepted, and those it refused for good with their reason. The core counts those as delivered / rejected
    and retries only the other records, so nothing is sent twice.
    """

    def __init__(
        self,
        message: str = "",
        *,
        retry_after: float | None = None,
        reason: str | None = None,
        accepted: Iterable[int] = (),
        rejected: Mapping[int, str] | None = None,
    ) -> None:
        super().__init__(message, reason=reason)
        if retry_after is not None and (not math.isfinite(retry_after) or retry_after < 0):
            retry_after = None
        self.retry_after = retry_after
        self.accepted = frozenset(accepted)
        self.rejected: Mapping[int, str] = dict(rejected or {})


class PermanentSinkError(SinkDeliveryError):
    """The backend will never accept this batch (a 400, a missing permission): its records are rejected with
    ``reason`` and not retried."""


class BatchTooLargeError(PermanentSinkError):
    """The batch's body was over the backend's size limit (HTTP 413): the core sends it again in halves."""


@value_class  # see fapilog._value_methods
class BatchResult(ValueMethods):
    """A partly accepted batch: ``rejected`` maps the index of each refused record (in the batch the sink was
    given) to the reason it was refused. Records not listed were delivered."""

    rejected: Mapping[int, str] = dataclasses.field(default_factory=dict)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date; None when absent or bad.

    >>> parse_retry_after("3")
    3.0
    >>> parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0)
    10.0
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    import email.utils  # only for the rare date form: keeps `import fapilog.plugins` light

    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None  # an HTTP date is always GMT; one without a zone is not an HTTP date
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)
