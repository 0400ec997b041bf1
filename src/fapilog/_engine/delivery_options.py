"""A sink's delivery settings, merged and checked: fapilog's defaults < the sink plugin's ``delivery_defaults`` <
what the user changed in ``sink_defaults`` < the sink's own ``delivery`` table (nested tables such as ``retry``
merge key by key). A ``sink_defaults`` value equal to fapilog's default is not told apart from an unset one: the
plugin's value for that key stands.

Errors name the field the user wrote (``sinks[0].delivery.retry.max_attempts``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from fapilog._engine.breaker import CircuitBreaker
from fapilog._engine.retry import RetryPolicy
from fapilog.errors import ConfigError
from fapilog.settings import LoggingSettings, SinkDefaults, coerce_setting

__all__ = ["DELIVERY_KEYS", "check_delivery", "runner_options"]

DELIVERY_KEYS = frozenset(f.name for f in dataclasses.fields(SinkDefaults))
_DEFAULTS = SinkDefaults()
"""fapilog's own delivery defaults, which a sink plugin's ``delivery_defaults`` override."""


def check_delivery(delivery: object, where: str) -> Mapping[str, Any]:
    """The user's ``delivery`` table, checked key by key (ConfigError naming ``where.delivery...``)."""
    if delivery is None:
        return {}
    if not isinstance(delivery, Mapping) or not set(delivery) <= DELIVERY_KEYS:
        raise ConfigError(
            f"{where}.delivery: accepted keys are {', '.join(sorted(DELIVERY_KEYS))}; got {delivery!r}",
            field=f"{where}.delivery", code="FL-CFG-008",
        )
    if delivery:
        coerce_setting(dict(delivery), SinkDefaults, f"{where}.delivery")
    return delivery


def _as_dict(value: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    return dict(value) if isinstance(value, Mapping) else {}


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if key in ("retry", "circuit") and isinstance(value, Mapping):
            merged[key] = {**_as_dict(merged.get(key)), **value}
        else:
            merged[key] = value
    return merged


def _changed(values: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The keys of ``values`` (nested ``retry``/``circuit`` keys one by one) that differ from ``defaults``."""
    changed: dict[str, Any] = {}
    for key, value in values.items():
        if key in ("retry", "circuit"):
            default = _as_dict(defaults.get(key))
            inner = {k: v for k, v in _as_dict(value).items() if default.get(k) != v}
            if inner:
                changed[key] = inner
        elif defaults.get(key) != value:
            changed[key] = value
    return changed


def _blame(exc: ConfigError, own_defaults: object, delivery: Mapping[str, Any], where: str) -> ConfigError:
    """``exc`` about the merged settings, said of the sink plugin's own ``delivery_defaults`` when the bad value
    is one of them (the user wrote no such ``sink_defaults``), with the ``delivery`` key that overrides it."""
    rest = (exc.field or "").removeprefix("sink_defaults.")
    parts = rest.split(".")
    declared: object = own_defaults
    given: object = delivery
    for part in parts:
        declared = declared.get(part) if isinstance(declared, Mapping) else None
        given = given.get(part) if isinstance(given, Mapping) else None
    if declared is None or given is not None:
        return exc
    problem = str(exc).removeprefix(f"{exc.field}: ")
    return ConfigError(
        f"{where}: the sink plugin's own delivery_defaults.{rest}: {problem} (a bug in the plugin; set "
        f"{where}.delivery.{rest} to override it)",
        field=f"{where}.delivery.{rest}", code=exc.code,
    )


def runner_options(
    sink: object,
    delivery: Mapping[str, Any],
    settings: LoggingSettings,
    where: str,
    make_fallback: Callable[[Any, str], object],
) -> tuple[SinkDefaults, dict[str, Any]]:
    """The checked settings and the SinkRunner keywords they give (retry policy, breaker, fallback)."""
    merged = _as_dict(_DEFAULTS)
    own_defaults = getattr(sink, "delivery_defaults", None)
    if isinstance(own_defaults, Mapping):
        merged = _merge(merged, {k: v for k, v in own_defaults.items() if k in DELIVERY_KEYS})
    merged = _merge(merged, _changed(_as_dict(settings.sink_defaults), _as_dict(_DEFAULTS)))
    merged = _merge(merged, delivery)
    if merged["buffer_policy"] == "inherit":
        merged["buffer_policy"] = settings.queue.policy
    try:
        # only the merged section is checked (as the settings' own `sink_defaults` field, so errors name it the
        # same way): the rest of the settings were validated when they were loaded
        checked: SinkDefaults = coerce_setting(merged, SinkDefaults, "sink_defaults")
    except ConfigError as exc:
        raise _blame(exc, own_defaults, delivery, where) from exc
    retry, circuit = checked.retry, checked.circuit
    fallback: object = checked.fallback
    # name the fallback where it was written: the sink's own table, its plugin's defaults, or sink_defaults
    own = "fallback" in delivery or (isinstance(own_defaults, Mapping) and "fallback" in own_defaults)
    at = f"{where}.delivery.fallback" if own else "sink_defaults.fallback"
    if isinstance(fallback, str) and fallback in ("summary", "off"):
        pass
    elif isinstance(fallback, (str, Mapping)):
        fallback = make_fallback(fallback, at)
    else:
        raise ConfigError(f"{at}: expected 'summary', 'off' or a sink spec, got {fallback!r}", field=at,
                          code="FL-CFG-008")
    return checked, {
        "batch_max_bytes": checked.batch_max_bytes,
        "batch_max_age": checked.batch_max_age,
        "retry": RetryPolicy(retry.max_attempts, retry.initial_backoff, retry.max_backoff, retry.max_elapsed,
                             retry.max_retry_after),
        "breaker": CircuitBreaker(circuit.failure_threshold, circuit.reset_timeout),
        "fallback": fallback,
    }
