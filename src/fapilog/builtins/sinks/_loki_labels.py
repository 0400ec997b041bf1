"""Loki labels for the ``loki`` sink: checked at configuration time, formatted once per stream.

Loki indexes streams by their label set, so every distinct set of label values is a new stream: a label
whose value changes per event (a request id, a duration, a timestamp) creates a stream per event and makes
Loki slow and expensive (its docs call this a cardinality explosion). The sink therefore takes labels only
from a static table and an explicit allow-list of record fields, refuses names Loki refuses
(``[a-zA-Z_][a-zA-Z0-9_]*``, not starting ``__``) and warns (:class:`~fapilog.errors.ConfigWarning`) about
keys that look like per-event values and about more than 15 labels (Loki's per-stream limit).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fapilog.errors import ConfigWarning
from fapilog.plugins.constraints import setting_error

__all__ = [
    "MAX_LABELS", "check_field_names", "check_labels", "high_cardinality_keys", "label_value", "selector", "warn_about",
]

_CODE = "FL-SNK-005"
MAX_LABELS = 15
"""Loki's default ``max_label_names_per_series``."""
_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
_MAX_NAME_BYTES = 1024
_MAX_VALUE_BYTES = 2048
_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_PER_EVENT_WORDS = frozenset({
    "id", "ids", "uuid", "guid", "uid", "trace", "span", "request", "req", "session", "user", "email", "ip",
    "addr", "address", "timestamp", "ts", "time", "date", "datetime", "duration", "latency", "elapsed", "ms",
    "ns", "seconds", "seq", "message", "msg", "path", "url", "query", "hash", "token", "offset", "count",
    "size", "bytes",
})
"""Words in a key that usually mean a value per event (ids, times, durations, free text)."""


def high_cardinality_keys(keys: Iterable[str]) -> list[str]:
    """The keys that look like per-event values: a word such as ``id``, ``trace``, ``duration``, ``ts``."""
    return [key for key in keys if any(w.lower() in _PER_EVENT_WORDS for w in _WORDS.findall(key))]


def _check_name(name: str, field: str) -> str:
    if not _NAME.match(name):
        raise setting_error(field, f"{name!r} is not a valid Loki label name: use letters, digits and '_', not "
                                   "starting with a digit (e.g. 'service', 'env', 'level')", code=_CODE)
    if name.startswith("__"):
        raise setting_error(field, f"{name!r} starts with '__', which Loki reserves for itself; pick another name",
                            code=_CODE)
    if len(name.encode()) > _MAX_NAME_BYTES:
        raise setting_error(field, f"a label name is at most {_MAX_NAME_BYTES} bytes", code=_CODE)
    return name


def check_labels(labels: Mapping[str, str]) -> None:
    """Refuse static labels Loki would refuse: none at all, an invalid name, an empty or too long value."""
    if not labels:
        raise setting_error("labels", "expected a table with at least one label, such as {'service': 'api', "
                                      "'env': 'prod'} (Loki refuses a stream without labels)", code=_CODE)
    for name, value in labels.items():
        _check_name(name, f"labels.{name}")
        if not value or len(value.encode()) > _MAX_VALUE_BYTES:
            raise setting_error(f"labels.{name}", f"expected a non-empty text of at most {_MAX_VALUE_BYTES} bytes",
                                code=_CODE)


def check_field_names(names: Sequence[str], field: str) -> None:
    """Refuse record field names that cannot be label or structured-metadata names, or one listed twice."""
    for index, name in enumerate(names):
        _check_name(name, f"{field}[{index}]")
    if len(set(names)) != len(names):
        raise setting_error(field, "a name is listed twice", code=_CODE)


def warn_about(labels: Mapping[str, str], label_fields: Sequence[str], name: str) -> list[str]:
    """Warn (``ConfigWarning``) about label keys that look per-event and about more than 15 labels.

    Returns a short form of each, which the sink keeps as ``notes``.
    """
    notes: list[str] = []
    suspicious = high_cardinality_keys([*labels, *label_fields])
    if suspicious:
        warnings.warn(ConfigWarning(f"loki sink {name!r}: label keys {suspicious} look like per-event values (ids, "
                                    "times, durations): each distinct value makes a new Loki stream; keep them in "
                                    "the line or list them in structured_metadata instead", code="FL-SNK-010"),
                      stacklevel=4)
        notes.append(f"label keys {suspicious} look like per-event values; see the warning")
    count = len(set(labels) | set(label_fields))
    if count > MAX_LABELS:
        warnings.warn(ConfigWarning(f"loki sink {name!r}: {count} labels per stream; Loki refuses more than "
                                    f"{MAX_LABELS} (max_label_names_per_series): keep the few you select streams by",
                                    code="FL-SNK-010"), stacklevel=4)
        notes.append(f"{count} labels per stream, over Loki's {MAX_LABELS}")
    return notes


def label_value(value: Any) -> str:
    """A record field's value as a label value: text as it is (cut to Loki's 2048 bytes), others as ``str``."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > _MAX_VALUE_BYTES // 4 and len(text.encode()) > _MAX_VALUE_BYTES:
        text = text.encode()[:_MAX_VALUE_BYTES].decode(errors="ignore")
    return text


def selector(labels: Mapping[str, str]) -> str:
    """The stream selector text Loki expects, names sorted: ``{env="prod", service="api"}``."""
    return "{" + ", ".join(f'{name}="{_escape(labels[name])}"' for name in sorted(labels)) + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
