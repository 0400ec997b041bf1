"""fapilog's pytest plugin, loaded automatically through the ``pytest11`` entry point when fapilog is installed.

Fixtures:

``fapilog_events``
    a :class:`~fapilog.testing.CapturedEvents` collecting every log call made during the test, synchronously
    (no worker, no flush), at DEBUG and above. Works beside pytest's ``caplog``, which keeps seeing
    standard-library records.
``fapilog_record``
    the :func:`~fapilog.testing.make_record` factory, for feeding plugins records like the worker builds.

Importing this module costs almost nothing: the kit loads when a fixture is first used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from fapilog._kit.record import EventRecord
    from fapilog.testing.capture import CapturedEvents


@pytest.fixture
def fapilog_events() -> Iterator[CapturedEvents]:
    """Every event logged during the test, captured synchronously (see :func:`fapilog.testing.capture_events`)."""
    from fapilog.testing.capture import capture_events

    with capture_events() as events:
        yield events


@pytest.fixture
def fapilog_record() -> Callable[..., EventRecord]:
    """:func:`fapilog.testing.make_record`: ``fapilog_record("hi", level="ERROR", user_id=7)``."""
    from fapilog.testing.records import make_record

    def factory(*args: Any, **kwargs: Any) -> EventRecord:
        return make_record(*args, **kwargs)

    return factory
