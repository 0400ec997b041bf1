"""What ``fapilog plugin new`` says about each kind besides its ``kinds/*`` templates: summary and settings."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

__all__ = ["SCAFFOLD_KINDS", "ScaffoldKind", "Setting"]


@dataclasses.dataclass(frozen=True)
class Setting:
    """One setting of the example plugin, as its README table shows it."""

    name: str
    default: str
    text: str


@dataclasses.dataclass(frozen=True)
class ScaffoldKind:
    """The kind-specific text the templates need besides the ``kinds/*`` logic and tests."""

    summary: str
    """Completes "A fapilog sink that ..." (no trailing full stop)."""
    settings: tuple[Setting, ...]
    example: str
    """A settings table for ``configure()`` (Python source, without ``"type"``)."""
    contract_settings: str
    """What the generated contract suite creates the plugin with (Python source)."""


SCAFFOLD_KINDS: Mapping[str, ScaffoldKind] = {
    "sink": ScaffoldKind(
        summary="appends every event to a file as one JSON line",
        settings=(Setting("path", '"{{name}}.jsonl"', "the file the lines are appended to; missing parent "
                           "directories are created"),),
        example='"path": "logs/app.jsonl"',
        contract_settings='{"path": "contract.jsonl"}',
    ),
    "filter": ScaffoldKind(
        summary="drops events whose message contains any of the configured texts",
        settings=(
            Setting("contains", "[]", 'texts that drop an event when its message contains one, e.g. '
                     '`["GET /health"]`'),
            Setting("ignore_case", "false", "compare without regard to case"),
        ),
        example='"contains": ["GET /health"]',
        contract_settings='{"contains": ["event 1"]}',
    ),
    "enricher": ScaffoldKind(
        summary="adds the same fields (service, environment...) to every event",
        settings=(Setting("fields", "{}", 'field name to text, e.g. `{"service": "checkout", "env": "prod"}`; '
                           "an event's own field of the same name wins"),),
        example='"fields": {"service": "checkout"}',
        contract_settings='{"fields": {"service": "checkout", "env": "test"}}',
    ),
    "redactor": ScaffoldKind(
        summary="masks the values of the configured fields, however deeply nested",
        settings=(
            Setting("fields", '["password", "secret", "token", "authorization"]', "field names to mask, at "
                     "any depth of nested objects and lists, compared case-insensitively"),
            Setting("mask", '"***"', "what replaces a masked value"),
        ),
        example='"fields": ["password", "card_number"]',
        contract_settings='{"fields": ["password", "user_id"]}',
    ),
    "processor": ScaffoldKind(
        summary="renames fields, e.g. for a log backend's field names",
        settings=(Setting("renames", "{}", 'field name to new name, e.g. `{"message": "msg"}`; a field '
                           "already under the new name is kept as `<name>_`"),),
        example='"renames": {"message": "msg"}',
        contract_settings='{"renames": {"user_id": "user"}}',
    ),
}
