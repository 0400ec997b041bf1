"""Hostile input to the validation engine: every refusal is a ConfigError naming the field the user wrote."""

from __future__ import annotations

import pytest

import fapilog
from fapilog.errors import ConfigError
from fapilog.settings import LoggingSettings


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"queue": {"capacity": 10**400}}, "queue.capacity"),
        ({"queue": {"wait_timeout": 10**400}}, "queue.wait_timeout"),
        ({"filters": [{"type": "rate_limit", "rate": 10**400}]}, "filters[0].rate"),
    ],
)
def test_an_integer_too_large_for_a_float_is_a_config_error(overrides: dict[str, object], field: str) -> None:
    """An integer beyond any float (a 400-digit JSON number) is refused naming its field, not an OverflowError."""
    with pytest.raises(ConfigError) as caught:
        fapilog.configure(sinks=["memory"], **overrides)
    assert caught.value.field == field and caught.value.code == "FL-CFG-001"


def test_a_huge_whole_number_is_kept_exact_for_an_int_without_bounds() -> None:
    """An int field without bounds takes a whole number of any size as it is (no round trip through a float)."""
    from fapilog._coercion import check_value

    assert check_value(10**400, int, "n") == 10**400
    assert LoggingSettings.load({"queue": {"capacity": "1e3"}}, environ={}).queue.capacity == 1000


def test_a_literal_is_matched_by_type_as_well_as_value() -> None:
    """`True` and `1.0` equal the literal `1` but are not it: a Literal[1, 2] field refuses them."""
    from typing import Literal

    from fapilog._coercion import check_value

    assert check_value(2, Literal[1, 2], "n") == 2
    for value in (True, 1.0):
        with pytest.raises(ConfigError, match=r"^n: got .*; accepted: 1, 2"):
            check_value(value, Literal[1, 2], "n")


def test_a_fixed_length_tuple_checks_each_place_by_its_own_type() -> None:
    """`tuple[str, int]` takes `["a", 1]` (the int checked as an int) and refuses a list of the wrong length."""
    from fapilog._coercion import check_value

    assert check_value(["a", "2"], tuple[str, int], "pair") == ("a", 2)
    with pytest.raises(ConfigError, match=r"^pair: expected a list of 2 entries, got \[.a.\]"):
        check_value(["a"], tuple[str, int], "pair")
    with pytest.raises(ConfigError, match=r"^pair: entry 1 must be a whole number, got .x."):
        check_value(["a", "x"], tuple[str, int], "pair")


def test_a_settings_object_built_by_hand_is_validated_like_a_table() -> None:
    """`configure(queue=QueueSettings(capacity=-1))` is refused naming queue.capacity, as the table form is."""
    from fapilog.settings import QueueSettings

    for call in (
        lambda: fapilog.configure(sinks=["memory"], queue=QueueSettings(capacity=-1)),
        lambda: fapilog.configure(LoggingSettings(sinks=["memory"], queue=QueueSettings(capacity=-1))),
    ):
        with pytest.raises(ConfigError) as caught:
            call()
        assert caught.value.field == "queue.capacity"
    fapilog.configure(sinks=["memory"], queue=QueueSettings(capacity="5"))  # type: ignore[arg-type]
    assert fapilog.stats()["queue"]["capacity"] == 5


@pytest.mark.parametrize("limit", [-1, 0])
def test_a_memory_sink_limit_that_would_keep_nothing_is_refused(limit: int) -> None:
    """`max_records` of -1 or 0 silently emptied the memory sink on every write; it is refused at configure."""
    with pytest.raises(ConfigError) as caught:
        fapilog.configure(sinks=[{"type": "memory", "max_records": limit}])
    assert caught.value.field == "sinks[0].max_records"
    assert str(caught.value).startswith(f"sinks[0]: memory.max_records: must be a whole number > 0, got {limit}")


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"sink_defaults": {"fallback": 5}}, "sink_defaults.fallback"),
        ({"sink_defaults": {"fallback": {"type": "file"}}}, "sink_defaults.fallback.path"),
        ({"sinks": ["stderr", {"type": "memory", "delivery": {"fallback": 5}}]}, "sinks[1].delivery.fallback"),
    ],
)
def test_a_bad_fallback_is_named_where_the_user_wrote_it(options: dict[str, object], field: str) -> None:
    """A fallback set in sink_defaults is reported as sink_defaults.fallback, not as a sink's delivery table."""
    with pytest.raises(ConfigError) as caught:
        fapilog.configure(**{"sinks": ["memory"], **options})
    assert caught.value.field == field
    assert str(caught.value).startswith(field.removesuffix(".path"))


@pytest.mark.parametrize("entry", [None, 5, ["file"], True])
def test_an_entry_that_is_no_plugin_is_a_config_error_naming_its_place(entry: object) -> None:
    """`sinks=["memory", None]` is a ConfigError at sinks[1], not a validation error about a plugin 'nonetype'."""
    with pytest.raises(ConfigError) as caught:
        fapilog.configure(sinks=["memory", entry])
    assert caught.value.field == "sinks[1]" and caught.value.code == "FL-CFG-010"
    assert str(caught.value).startswith(f"sinks[1]: plugin spec {entry!r} does not say which plugin to use")


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"filters": ["rate_limit"], "plugins": {"settings": {"rate_limit": {"rate": -1}}}},
         "plugins.settings.rate_limit.rate"),
        ({"sinks": ["memory"], "plugins": {"settings": {"memory": {"max_records": "x"}}}},
         "plugins.settings.memory.max_records"),
        ({"sinks": ["stderr"], "plugins": {"settings": {"stderr": {"colour": "maybe"}}}},
         "plugins.settings.stderr.colour"),
        ({"filters": [{"type": "rate_limit", "rate": -1}], "plugins": {"settings": {"rate_limit": {"rate": 5}}}},
         "filters[0].rate"),
    ],
)
def test_a_bad_value_from_plugins_settings_is_named_there(options: dict[str, object], field: str) -> None:
    """A value the user wrote under plugins.settings.<name> is reported there, not at the list entry that names it."""
    with pytest.raises(ConfigError) as caught:
        fapilog.configure(**{"sinks": ["memory"], **options})
    assert caught.value.field == field
    assert str(caught.value).startswith(field.rsplit(".", 1)[0] + ": ")


def test_an_enum_field_gets_its_member_and_refuses_other_values() -> None:
    """A field annotated with an Enum receives the member (by value or name), not the raw text; others are refused."""
    import enum

    from fapilog._coercion import check_value

    class Mode(enum.Enum):
        FAST = "fast"
        SAFE = "safe"

    assert check_value("fast", Mode, "mode") is Mode.FAST
    assert check_value("SAFE", Mode, "mode") is Mode.SAFE
    assert check_value(Mode.SAFE, Mode | None, "mode") is Mode.SAFE
    with pytest.raises(ConfigError, match=r"^mode: got 'slow'; accepted: 'fast', 'safe'"):
        check_value("slow", Mode, "mode")


def test_a_path_field_gets_a_path_and_refuses_a_number() -> None:
    """A field annotated `Path` receives a Path made from the text; a number or blank text is refused."""
    from pathlib import Path

    from fapilog._coercion import check_value

    assert check_value("logs/app.log", Path, "path") == Path("logs/app.log")
    for value in (5, " "):
        with pytest.raises(ConfigError, match=r"^path: must be a path \(non-empty text\)"):
            check_value(value, Path, "path")
