"""Failure containment, guards, immutability and plugin plumbing shared by every built-in redactor."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest
from tests.builtins.redactors._records import event, one, redact

import fapilog
from fapilog._registry.builtin_names import BUILTIN_PLUGINS
from fapilog._registry.registry import PluginRegistry
from fapilog.builtins.redactors.field_mask import FieldMaskRedactor
from fapilog.builtins.redactors.presets import PresetRedactor
from fapilog.builtins.redactors.regex_mask import RegexMaskRedactor
from fapilog.builtins.redactors.secrets import SecretsRedactor
from fapilog.builtins.redactors.url_credentials import UrlCredentialsRedactor
from fapilog.builtins.sinks.memory import MemorySink

ALL: list[type[Any]] = [SecretsRedactor, FieldMaskRedactor, RegexMaskRedactor, UrlCredentialsRedactor, PresetRedactor]


class Unprintable:
    """An object whose text cannot be produced."""

    def __str__(self) -> str:
        raise RuntimeError("ada@example.com")  # the message quotes a secret: it must not be reported

    __repr__ = __str__


def nest(depth: int, leaf: Any) -> Any:
    """``leaf`` wrapped in ``depth`` levels of alternating dicts and lists."""
    value = leaf
    for level in range(depth):
        value = {"k": value} if level % 2 else [value]
    return value


def test_unprintable_value_becomes_a_marker_and_the_rest_is_redacted() -> None:
    """A value whose __str__ raises is replaced; other fields of the same event are still masked."""
    redactor = RegexMaskRedactor()
    out = one(redactor, "mail ada@example.com", odd=Unprintable(), nested={"deep": [Unprintable(), "ok"]})
    assert out["odd"] == "[REDACTION_ERROR]"
    assert out["nested"] == {"deep": ["[REDACTION_ERROR]", "ok"]}
    assert out["message"] == "mail [REDACTED:email]"
    assert redactor.failures == 2


def test_failures_make_the_plugin_degraded() -> None:
    """health_check() is healthy until a failure, then degraded with the count."""
    redactor = RegexMaskRedactor()
    assert asyncio.run(redactor.health_check()).status == "healthy"
    one(redactor, odd=Unprintable())
    health = asyncio.run(redactor.health_check())
    assert health.status == "degraded"
    assert health.detail.startswith("1 value(s) could not be redacted")


def test_failure_is_reported_on_stderr_without_the_value(capsys: pytest.CaptureFixture[str]) -> None:
    """The stderr line names the redactor and exception type, never the exception's message."""
    one(RegexMaskRedactor(), odd=Unprintable())
    err = capsys.readouterr().err
    assert "redactor 'regex_mask' could not redact a value (RuntimeError)" in err
    assert "ada@example.com" not in err


@pytest.mark.parametrize("redactor_class", ALL)
def test_cyclic_structures_are_replaced(redactor_class: type[Any]) -> None:
    """A dict or list that contains itself becomes a marker inside, and the event goes on."""
    loop: dict[str, Any] = {"name": "loop"}
    loop["self"] = loop
    chain: list[Any] = ["x"]
    chain.append(chain)
    redactor = redactor_class()
    out = one(redactor, loop=loop, chain=chain)
    assert out["loop"]["self"] == "[REDACTION_ERROR]"
    assert out["chain"][1] == "[REDACTION_ERROR]"
    assert redactor.failures == 2
    assert loop["self"] is loop  # the caller's structure is untouched


@pytest.mark.parametrize("redactor_class", ALL)
def test_containers_beyond_max_depth_are_replaced(redactor_class: type[Any]) -> None:
    """Nesting deeper than max_depth becomes a marker, so nothing below it is passed on unsearched."""
    out = one(redactor_class(max_depth=4), deep=nest(10, {"password": "sk_live_4eC39HqLyjWDarjtT1zdp7dc"}))
    assert "[REDACTED:max_depth]" in repr(out["deep"])
    assert "sk_live" not in repr(out)


def test_containers_within_max_depth_are_searched() -> None:
    """A secret nested up to max_depth is still found and masked."""
    out = one(FieldMaskRedactor(max_depth=6), deep=nest(5, {"password": "pw"}))
    assert "[REDACTED" not in repr(out)
    assert "'pw'" not in repr(out)


@pytest.mark.parametrize("redactor_class", ALL)
def test_containers_beyond_max_items_are_replaced(redactor_class: type[Any]) -> None:
    """A list or dict with more than max_items entries becomes a marker."""
    wide = {str(i): i for i in range(11)}
    out = one(redactor_class(max_items=10), ids=list(range(11)), small=list(range(10)), wide=wide)
    assert out["ids"] == out["wide"] == "[REDACTED:max_items]"
    assert out["small"] == list(range(10))


@pytest.mark.parametrize("redactor_class", ALL)
def test_inputs_are_never_mutated(redactor_class: type[Any]) -> None:
    """After redaction the caller's nested objects are exactly as they were."""
    fields: dict[str, Any] = {
        "password": "hunter2",
        "user": {"email": "ada@example.com", "tokens": [{"token": "t"}], "card": "4111 1111 1111 1111"},
        "dsn": "postgres://u:p@h/db",
        "pair": ("ada@example.com", 1),
    }
    record = event(**fields)
    before = copy.deepcopy(dict(record))
    redact(redactor_class(), record)
    assert dict(record) == before


@pytest.mark.parametrize("redactor_class", ALL)
def test_records_with_nothing_to_mask_pass_through_unchanged(redactor_class: type[Any]) -> None:
    """A clean record is returned as the same object by every redactor."""
    record = event("GET /health 200", status=200, duration_ms=1.5, route={"path": "/health", "tags": ["a"]})
    assert redact(redactor_class(), record)[0] is record


def test_batch_keeps_order_and_length() -> None:
    """redact_batch returns one record per input, in order."""
    records = [event(f"n{i}", password=str(i)) if i % 2 else event(f"n{i}") for i in range(6)]
    out = redact(FieldMaskRedactor(fields=["password"]), *records)
    assert [r["message"] for r in out] == [f"n{i}" for i in range(6)]
    assert [r.get("password") for r in out] == [None, "***", None, "***", None, "***"]


def test_builtin_mapping_targets_the_classes() -> None:
    """The built-in table maps each redactor's configured name to its 'module:Class' target."""
    prefix = "fapilog.builtins.redactors."
    redactors = {row.name: row.target for row in BUILTIN_PLUGINS if row.target.startswith(prefix)}
    assert redactors == {
        "secrets": "fapilog.builtins.redactors.secrets:SecretsRedactor",
        "field_mask": "fapilog.builtins.redactors.field_mask:FieldMaskRedactor",
        "regex_mask": "fapilog.builtins.redactors.regex_mask:RegexMaskRedactor",
        "url_credentials": "fapilog.builtins.redactors.url_credentials:UrlCredentialsRedactor",
        "preset": "fapilog.builtins.redactors.presets:PresetRedactor",
    }
    for name, cls in zip(redactors, ALL, strict=True):
        assert cls.metadata.name == name


@pytest.mark.parametrize("redactor_class", ALL)
def test_registry_accepts_each_redactor_and_builds_it_from_a_table(redactor_class: type[Any]) -> None:
    """Registered like any plugin, each redactor passes validation and is built from its settings table."""
    registry = PluginRegistry([redactor_class], entry_points=False)
    name, instance = registry.create("redactor", {"type": redactor_class.metadata.name, "max_depth": "8"})
    assert name == redactor_class.metadata.name
    assert isinstance(instance, redactor_class)
    assert instance.settings.max_depth == 8


def test_registry_reports_bad_settings_with_plugin_and_field() -> None:
    """A bad table value surfaces as a ConfigError naming the plugin and the field."""
    registry = PluginRegistry([PresetRedactor], entry_points=False)
    with pytest.raises(fapilog.ConfigError, match=r"preset\.names: unknown preset 'soc2'"):
        registry.create("redactor", {"type": "preset", "names": ["soc2"]})
    with pytest.raises(fapilog.ConfigError, match="unknown setting"):
        registry.create("redactor", {"type": "preset", "name_list": ["credentials"]})


def test_failure_contained_in_the_real_pipeline() -> None:
    """Through fapilog, the broken value is replaced, the event still arrives and health turns degraded."""
    sink = MemorySink()
    redactor = RegexMaskRedactor()
    # Without the default `secrets` redactor, which would otherwise meet the broken value first.
    fapilog.configure(sinks=[sink], redactors=[redactor], plugins={"disabled": ["secrets"]})
    fapilog.get_logger("app").info("for ada@example.com", odd=Unprintable(), n=1)
    fapilog.flush(5.0)
    [record] = sink.records
    assert record["odd"] == "[REDACTION_ERROR]"
    assert record["message"] == "for [REDACTED:email]"
    assert record["n"] == 1
    assert fapilog.health(timeout=2.0)["regex_mask"].status == "degraded"


def test_package_exports_the_classes_lazily() -> None:
    """The package names every redactor, and importing it alone loads none of their modules."""
    import subprocess
    import sys

    code = (
        "import sys, fapilog, fapilog.builtins.redactors as r\n"
        "assert not [m for m in sys.modules if m.startswith('fapilog.builtins.redactors.')], sys.modules\n"
        "assert r.PresetRedactor.metadata.name == 'preset' and 'pci_dss' in r.PRESETS\n"
        "assert sorted(r.__all__) == sorted(['PRESETS', 'FieldMaskRedactor', "
        "'PresetRedactor', 'RegexMaskRedactor', 'SecretsRedactor', 'UrlCredentialsRedactor'])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
