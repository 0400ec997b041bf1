"""Who wins for a sink's delivery settings: fapilog's defaults < the sink plugin's ``delivery_defaults`` < what the
user changed in ``sink_defaults`` < the sink's own ``delivery`` table (docs/plugins/network-sinks.md)."""

from __future__ import annotations

from typing import Any, ClassVar

from fapilog._engine.delivery_options import runner_options
from fapilog.settings import LoggingSettings


class Tuned:
    """A sink plugin that suits its backend with its own delivery defaults."""

    delivery_defaults: ClassVar[dict[str, Any]] = {"batch_size": 500, "batch_max_age": 1.0,
                                                   "retry": {"max_attempts": 9, "max_backoff": 20.0}}


def _options(delivery: dict[str, Any] | None = None, **settings: Any) -> Any:
    checked, _ = runner_options(Tuned(), delivery or {}, LoggingSettings.load(settings, environ={}), "sinks[0]",
                                lambda spec, at: spec)
    return checked


def test_the_plugins_defaults_stand_where_the_user_changed_nothing() -> None:
    """Without sink_defaults the sink plugin's own values apply; fapilog's fill in the rest."""
    checked = _options()
    assert (checked.batch_size, checked.batch_max_age) == (500, 1.0)
    assert (checked.retry.max_attempts, checked.retry.max_backoff) == (9, 20.0)
    assert checked.retry.initial_backoff == LoggingSettings().sink_defaults.retry.initial_backoff


def test_what_the_user_changed_in_sink_defaults_overrides_the_plugin() -> None:
    """sink_defaults the user changed win over the plugin's delivery_defaults, key by key (retry too)."""
    checked = _options(sink_defaults={"batch_size": 100, "retry": {"max_attempts": 2, "initial_backoff": 0.5}})
    assert (checked.batch_size, checked.batch_max_age) == (100, 1.0)
    assert (checked.retry.max_attempts, checked.retry.initial_backoff, checked.retry.max_backoff) == (2, 0.5, 20.0)


def test_the_sinks_own_delivery_table_wins_over_everything() -> None:
    """A value in the sink's own delivery table beats sink_defaults and the plugin's defaults."""
    checked = _options({"batch_size": 7, "retry": {"max_attempts": 3}}, sink_defaults={"batch_size": 100})
    assert (checked.batch_size, checked.retry.max_attempts, checked.retry.max_backoff) == (7, 3, 20.0)
