"""LoggingSettings: validation errors, environment variables and settings files."""

from __future__ import annotations

from pathlib import Path

import pytest

import fapilog
from fapilog import ConfigError, LoggingSettings


@pytest.mark.parametrize(
    ("options", "field", "hint"),
    [
        ({"queue": {"policy": "fast"}}, "queue.policy", "'wait', 'drop_newest', 'drop_oldest'"),
        ({"queue": {"capacity": 0}}, "queue.capacity", "> 0"),
        ({"queue": {"capacity": "lots"}}, "queue.capacity", "whole number"),
        ({"queue": {"wait_timeout": -1}}, "queue.wait_timeout", ">= 0"),
        ({"level": "loud"}, "level", "accepted: NOTSET, DEBUG"),
        ({"loggers": {"db": "chatty"}}, "loggers.db", "unknown level"),
        ({"format": "xml"}, "format", "'auto', 'json', 'console'"),
        ({"colour": True}, "colour", "unknown setting; accepted:"),
        ({"sink_defaults": {"buffer_policy": "spill"}}, "sink_defaults.buffer_policy", "'inherit'"),
        ({"sinks": "stdout"}, "sinks", "expected a list"),
    ],
)
def test_invalid_settings_name_the_field_and_accepted_values(options: dict[str, object], field: str, hint: str) -> None:
    """Each invalid value is a ConfigError whose message names the field and what is accepted."""
    with pytest.raises(ConfigError) as info:
        LoggingSettings.load(options, environ={})
    assert info.value.field == field
    assert str(info.value).startswith(field) and hint in str(info.value)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (20.0, "got 20.0, a float, not a level"),
        (20.5, "got 20.5, a float, not a level"),
        (True, "got True, a bool, not a level"),
        (None, "got None, not a level"),
        ([20], "got [20], a list, not a level"),
    ],
)
def test_a_level_that_is_not_a_name_or_whole_number_says_what_is_accepted(value: object, says: str) -> None:
    """configure(level=20.0 / True / None / ...) is a ConfigError (FL-CFG-007) naming the value's type and saying
    that a level name or a whole number from 0 to 100 is accepted."""
    with pytest.raises(ConfigError) as info:
        fapilog.configure(level=value, sinks=["memory"])
    message = str(info.value)
    assert info.value.field == "level" and info.value.code == "FL-CFG-007"
    assert message.startswith(f"level: {says}")
    assert "accepted: NOTSET, DEBUG, INFO, WARNING, WARN, ERROR, CRITICAL, FATAL (any case) or a whole number " \
        "from 0 to 100" in message


def test_a_float_level_with_a_whole_value_suggests_the_number() -> None:
    """configure(level=20.0) suggests writing 20."""
    with pytest.raises(ConfigError, match=r"write 20 for that level"):
        fapilog.configure(level=20.0, sinks=["memory"])


def test_a_level_number_out_of_range_and_an_unknown_name_say_what_is_accepted() -> None:
    """set_level(-5) and set_level("loud") say the accepted range and names, like configure()."""
    with pytest.raises(ConfigError, match=r"between 0 and 100, got -5; accepted: NOTSET"):
        fapilog.set_level(-5)
    with pytest.raises(ConfigError, match=r"unknown level 'loud'; accepted: NOTSET.*whole number from 0 to 100"):
        fapilog.set_level("loud")


def test_configure_rejects_bad_settings_and_keeps_the_old_pipeline() -> None:
    """configure() with a bad value raises and the previous configuration stays in force."""
    from fapilog.builtins.sinks.memory import MemorySink

    sink = MemorySink()
    fapilog.configure(sinks=[sink])
    with pytest.raises(ConfigError):
        fapilog.configure(queue={"policy": "nope"})
    fapilog.get_logger("c").info("still here")
    assert fapilog.flush(5.0)
    assert [r["message"] for r in sink.records] == ["still here"]


def test_unknown_sink_name_is_an_actionable_error() -> None:
    """Configuring a sink nobody provides raises PluginNotFoundError naming it."""
    with pytest.raises(fapilog.PluginNotFoundError, match="kafka"):
        fapilog.configure(sinks=["kafka"])


def test_environment_variables_nest_with_double_underscore() -> None:
    """FAPILOG_QUEUE__CAPACITY and JSON lists are read; values are coerced and validated."""
    settings = LoggingSettings.load(
        environ={
            "FAPILOG_LEVEL": "debug",
            "FAPILOG_QUEUE__CAPACITY": "50000",
            "FAPILOG_QUEUE__POLICY": "drop_oldest",
            "FAPILOG_SINKS": '["stderr", {"type": "memory"}]',
            "FAPILOG_LOGGERS": '{"sqlalchemy": "warning"}',
            "UNRELATED": "x",
        }
    )
    assert settings.level_number == fapilog.DEBUG
    assert settings.queue.capacity == 50_000 and settings.queue.policy == "drop_oldest"
    assert settings.sinks == ["stderr", {"type": "memory"}]
    assert settings.loggers == {"sqlalchemy": "warning"}


def test_bad_environment_value_names_the_variable_path() -> None:
    """A malformed FAPILOG_ value raises ConfigError naming the setting."""
    with pytest.raises(ConfigError, match=r"queue\.capacity: must be a whole number"):
        LoggingSettings.load(environ={"FAPILOG_QUEUE__CAPACITY": "many"})
    with pytest.raises(ConfigError, match="FAPILOG_SINKS: not valid JSON"):
        LoggingSettings.load(environ={"FAPILOG_SINKS": "[stdout"})


def test_precedence_is_defaults_env_file_then_code(tmp_path: Path) -> None:
    """Code overrides a file, which overrides the environment, which overrides defaults."""
    toml = tmp_path / "pyproject.toml"
    toml.write_text('[tool.fapilog]\nlevel = "warning"\n[tool.fapilog.queue]\ncapacity = 123\npolicy = "drop_newest"\n')
    settings = LoggingSettings.load(
        {"queue": {"policy": "wait"}},
        environ={"FAPILOG_LEVEL": "debug", "FAPILOG_QUEUE__BATCH_SIZE": "64"},
        file=toml,
    )
    assert settings.level == "warning"
    assert (settings.queue.capacity, settings.queue.policy, settings.queue.batch_size) == (123, "wait", 64)


def test_json_settings_file(tmp_path: Path) -> None:
    """A JSON file works too, and a broken one is a ConfigError naming the file."""
    good = tmp_path / "log.json"
    good.write_text('{"level": "error", "sinks": ["stderr"]}')
    assert LoggingSettings.load(file=good, environ={}).level == "error"
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(ConfigError, match=r"bad\.json"):
        LoggingSettings.load(file=bad, environ={})


def test_plugin_switches_come_from_the_environment_too() -> None:
    """FAPILOG_PLUGINS__DENY and FAPILOG_PLUGINS__SETTINGS reach the plugins section."""
    settings = LoggingSettings.load(
        environ={"FAPILOG_PLUGINS__DENY": '["stdout"]', "FAPILOG_PLUGINS__SETTINGS": '{"file": {"path": "a.log"}}'}
    )
    assert settings.plugins.deny == ["stdout"]
    assert settings.plugins.settings == {"file": {"path": "a.log"}}
