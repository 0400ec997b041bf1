"""The built-in redactors: mask secrets and personal data after enrichers run and before any sink sees them.

- ``secrets`` (:class:`~fapilog.builtins.redactors.secrets.SecretsRedactor`): on by default in every pipeline;
  well-known secret field names at any depth and in header pairs, and URL credentials;
- ``field_mask`` (:class:`~fapilog.builtins.redactors.field_mask.FieldMaskRedactor`): by field name, nested,
  case-insensitive globs and dotted paths;
- ``regex_mask`` (:class:`~fapilog.builtins.redactors.regex_mask.RegexMaskRedactor`): by value pattern, only
  the matching part (JWTs, API keys, AWS keys, emails, Luhn-checked card numbers, bearer tokens, your own);
- ``url_credentials`` (:class:`~fapilog.builtins.redactors.url_credentials.UrlCredentialsRedactor`):
  ``user:password@`` in URLs of any scheme;
- ``preset`` (:class:`~fapilog.builtins.redactors.presets.PresetRedactor`): the compliance presets
  ``credentials``, ``pci_dss``, ``hipaa_phi``, ``gdpr_pii`` and ``sox`` in one pass.

They never mutate what the caller passed (changed containers are copied), cannot be switched off per call,
and contain their own failures: a value a rule cannot handle becomes ``[REDACTION_ERROR]``, the rest of the
event is still redacted, and ``health_check()`` reports ``degraded``. The classes are importable from here
(``from fapilog.builtins.redactors import PresetRedactor``); their modules load on first use, so importing
this package costs nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fapilog.builtins.redactors.field_mask import FieldMaskRedactor
    from fapilog.builtins.redactors.presets import PRESETS, PresetRedactor
    from fapilog.builtins.redactors.regex_mask import RegexMaskRedactor
    from fapilog.builtins.redactors.secrets import SecretsRedactor
    from fapilog.builtins.redactors.url_credentials import UrlCredentialsRedactor

__all__ = [
    "PRESETS",
    "FieldMaskRedactor",
    "PresetRedactor",
    "RegexMaskRedactor",
    "SecretsRedactor",
    "UrlCredentialsRedactor",
]

_LAZY = {
    "SecretsRedactor": "secrets",
    "FieldMaskRedactor": "field_mask",
    "RegexMaskRedactor": "regex_mask",
    "UrlCredentialsRedactor": "url_credentials",
    "PresetRedactor": "presets",
    "PRESETS": "presets",
}


def __getattr__(name: str) -> Any:
    """Import a redactor's module the first time one of its names is used (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
