"""The built-in processors: the last stage before the sinks, reshaping each record.

* ``exception`` (:class:`~fapilog.builtins.processors.exception.ExceptionProcessor`): bounds the structured
  ``exception`` field (frames, message length, cause chain; optional source lines);
* ``shape`` (:class:`~fapilog.builtins.processors.shape.ShapeProcessor`): renames fields, with presets for
  Elastic ECS, Datadog and Google Cloud Logging;
* ``size_guard`` (:class:`~fapilog.builtins.processors.size_guard.SizeGuardProcessor`): keeps every
  serialized event under a byte limit (CloudWatch, Loki).

Processors run in the order configured; ``exception``, then ``shape``, then ``size_guard`` (last, so it
measures what the sinks receive) is the order that makes sense for these three. The modules are imported
only when a processor is configured.
"""

from __future__ import annotations

from fapilog.errors import ConfigError

__all__: list[str] = []


_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def _int_setting(plugin: str, field: str, value: object, *, minimum: int) -> int:
    """A whole number >= ``minimum``; numeric strings too, as environment variables deliver them."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{plugin}.{field}: expected an integer >= {minimum}, got {value!r}", field=field)
    return value


def _bool_setting(plugin: str, field: str, value: object) -> bool:
    """true/false; the strings true/false, yes/no, on/off, 1/0 too (environment variables)."""
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    if not isinstance(value, bool):
        raise ConfigError(f"{plugin}.{field}: expected true or false, got {value!r}", field=field)
    return value
