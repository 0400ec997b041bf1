"""The built-in ``level`` filter: global and per-logger thresholds, driven directly and through the pipeline."""

from __future__ import annotations

import pytest
from tests.builtins.filters._events import constructor_matches_model, event, registered, run

import fapilog
from fapilog._kit.levels import DEBUG, ERROR, INFO, WARNING
from fapilog.builtins.filters.level import LevelFilter
from fapilog.builtins.sinks.memory import MemorySink
from fapilog.errors import ConfigError


def kept_seqs(flt: LevelFilter, records: list) -> list[int]:  # type: ignore[type-arg]
    return [r["seq"] for r in run(flt.filter_batch(records))]


def test_global_threshold_drops_lower_levels() -> None:
    """Events below ``level`` are dropped and the rest kept in order."""
    flt = LevelFilter(level="INFO")
    records = [event(level=lvl, seq=i) for i, lvl in enumerate([DEBUG, INFO, DEBUG, WARNING, ERROR])]
    assert kept_seqs(flt, records) == [1, 3, 4]


def test_longest_logger_prefix_wins() -> None:
    """The most specific ``loggers`` entry decides; loggers no entry covers use ``level``."""
    flt = LevelFilter(level="INFO", loggers={"app": "WARNING", "app.db": "DEBUG"})
    records = [
        event(logger="app.db.pool", level=DEBUG, seq=0),  # app.db: DEBUG -> kept
        event(logger="app.web", level=INFO, seq=1),  # app: WARNING -> dropped
        event(logger="app", level=WARNING, seq=2),  # app: WARNING -> kept
        event(logger="other", level=INFO, seq=3),  # global INFO -> kept
        event(logger="other", level=DEBUG, seq=4),  # global INFO -> dropped
    ]
    assert kept_seqs(flt, records) == [0, 2, 3]


def test_prefixes_match_whole_dotted_segments() -> None:
    """``"app"`` covers ``app`` and ``app.x`` but not ``apple``."""
    flt = LevelFilter(level="DEBUG", loggers={"app": "ERROR"})
    assert flt.threshold_for("app") == ERROR
    assert flt.threshold_for("app.x.y") == ERROR
    assert flt.threshold_for("apple") == DEBUG


def test_single_record_form_accepts_a_plain_mapping() -> None:
    """``filter()`` reads the level name of a plain dict and returns that dict or None."""
    flt = LevelFilter(level="WARNING")
    loud = {"level": "ERROR", "logger": "x", "message": "m"}
    assert run(flt.filter(loud)) is loud
    assert run(flt.filter({"level": "INFO", "logger": "x", "message": "m"})) is None


@pytest.mark.parametrize(
    ("settings", "start"),
    [
        ({"level": "LOUD"}, "level.level: unknown level 'LOUD'"),
        ({"level": -5}, "level.level: a level number must be between 0 and 100"),
        ({"loggers": {"db": "nope"}}, "level.loggers.db: unknown level 'nope'"),
        ({"loggers": "db=INFO"}, "level.loggers: expected a table"),
    ],
)
def test_bad_settings_name_plugin_and_field(settings: dict[str, object], start: str) -> None:
    """A bad value raises ConfigError starting ``level.<field>:`` and saying what is accepted."""
    with pytest.raises(ConfigError) as info:
        LevelFilter(**settings)  # type: ignore[arg-type]
    assert str(info.value).startswith(start)
    assert info.value.field in ("level", "loggers", "loggers.db")


def test_bad_settings_in_a_table_fail_configure() -> None:
    """Configured as a table, a bad level fails configure() naming the stage, plugin and field."""
    with registered(LevelFilter), pytest.raises(ConfigError) as info:
        fapilog.configure(sinks=[MemorySink()], filters=[{"type": "level", "level": "LOUD"}])
    assert "filters[0]" in str(info.value) and "level.level: unknown level 'LOUD'" in str(info.value)


def test_constructor_takes_the_config_model() -> None:
    """The constructor takes the validated config model (or its fields as keywords) and no setting of its own."""
    assert constructor_matches_model(LevelFilter)


def test_drops_are_counted_per_filter_end_to_end() -> None:
    """Through the pipeline, dropped events appear as intentional ``filtered:level`` drops."""
    sink = MemorySink()
    fapilog.configure(level="DEBUG", sinks=[sink], filters=[LevelFilter(level="INFO", loggers={"noisy": "ERROR"})])
    fapilog.get_logger("app").debug("dropped")
    fapilog.get_logger("app").info("kept")
    fapilog.get_logger("noisy.lib").warning("dropped too")
    assert fapilog.flush(5.0).ok
    assert [r["message"] for r in sink.records] == ["kept"]
    dropped = fapilog.stats()["dropped"]
    assert dropped["by_reason"]["filtered:level"] == 2
    assert dropped["intentional"] == 2 and dropped["unintentional"] == 0
