"""The plugin kinds are exactly the pipeline's five stages: no kind is accepted that nothing runs."""

from __future__ import annotations

import pytest

import fapilog
from fapilog.errors import ConfigError, PluginValidationError
from fapilog.plugins import metadata
from fapilog.plugins.metadata import PLUGIN_KINDS, REQUIRED_METHODS, PluginMetadata
from fapilog.plugins.registry import PluginRegistry


def test_the_kinds_are_the_five_stages() -> None:
    """PLUGIN_KINDS and REQUIRED_METHODS list the five stages the worker runs, nothing provisional."""
    assert set(PLUGIN_KINDS) == {"sink", "processor", "enricher", "redactor", "filter"} == set(REQUIRED_METHODS)
    assert not hasattr(metadata, "PROVISIONAL_KINDS")


def test_an_alerter_is_refused_at_declaration() -> None:
    """PluginMetadata(kind="alerter") is invalid metadata, named as such."""
    with pytest.raises(PluginValidationError, match="kind 'alerter' is not one of sink, processor"):
        PluginMetadata(name="pager", version="1.0", kind="alerter")  # type: ignore[arg-type]


def test_an_alerter_kind_cannot_be_created_or_configured() -> None:
    """The registry refuses the kind, and `alerters=` is an unknown setting of configure()."""
    with pytest.raises(ConfigError, match="unknown plugin kind 'alerter'"):
        PluginRegistry(entry_points=False).create("alerter", "memory")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="alerters"):
        fapilog.configure(alerters=["pager"])
