"""Settings that cannot mean anything are refused with a ConfigError naming the field the user wrote (item 17)."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import fapilog
from fapilog.errors import ConfigError

BAD = [
    ({"queue": {"wait_timeout": math.inf}}, "queue.wait_timeout", "finite"),
    ({"queue": {"wait_timeout": "inf"}}, "queue.wait_timeout", "finite"),
    ({"exit_timeout": math.nan}, "exit_timeout", "finite"),
    ({"start_timeout": -math.inf}, "start_timeout", "finite"),
    ({"sink_defaults": {"write_timeout": math.nan}}, "sink_defaults.write_timeout", "finite"),
    ({"sink_defaults": {"flush_timeout": 10**9}}, "sink_defaults.flush_timeout", "<= 86,400"),
    ({"level": 10**6}, "level", "between 0 and 100"),
    ({"level": "1000000"}, "level", "between 0 and 100"),
    ({"queue": {"capacity": 10**30}}, "queue.capacity", "<= 100,000,000"),
    ({"sinks": []}, "sinks", "empty list"),
    ({"sinks": [{"type": "memory", "max_records": "lots"}]}, "sinks[0].max_records", "whole number"),
    ({"sinks": [{"type": "file", "path": "x.log", "max_bytes": "big"}]}, "sinks[0].max_bytes", "whole number"),
    ({"sinks": [{"type": "file", "path": "x.log", "max_bytes": math.inf}]}, "sinks[0].max_bytes", "whole number"),
    ({"sinks": ["memory", {"type": "file", "path": "x.log", "delivery": {"buffer_policy": "bogus"}}]},
     "sinks[1].delivery.buffer_policy", "accepted"),
    ({"sinks": [{"type": "memory", "delivery": {"write_timeout": math.nan}}]}, "sinks[0].delivery.write_timeout",
     "finite"),
]


@pytest.mark.parametrize(("options", "field", "says"), BAD, ids=[b[1] + ":" + repr(b[0])[:40] for b in BAD])
def test_a_meaningless_setting_is_refused_naming_the_users_field(
    options: dict[str, Any], field: str, says: str, tmp_path: Path
) -> None:
    os.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        fapilog.configure(**options)
    assert caught.value.field == field
    assert says in str(caught.value)
    assert "clock" not in str(caught.value)  # a constructor's code hook is never offered as a setting


def test_plugin_messages_list_settings_not_code_hooks() -> None:
    """A misspelt setting lists the config model's fields, never a constructor's test clock."""
    with pytest.raises(ConfigError) as caught:
        fapilog.configure(sinks=[{"type": "file", "path": "x.log", "clok": 5}])
    assert caught.value.field == "sinks[0].clok"
    assert "accepted fields: path, max_bytes" in str(caught.value) and "clock" not in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        fapilog.configure(sinks=["memory"], filters=[{"type": "rate_limit", "clock": 5}])
    assert caught.value.field == "filters[0].clock"
    assert "accepted fields: rate, per, burst" in str(caught.value) and ", clock" not in str(caught.value)


def test_a_bad_plugin_value_names_its_location_once() -> None:
    """filters=[{"type": "rate_limit", "rate": -1}] says where, which plugin and which field once each."""
    with pytest.raises(ConfigError) as caught:
        fapilog.configure(sinks=["memory"], filters=[{"type": "rate_limit", "rate": -1}])
    assert str(caught.value) == "filters[0]: rate_limit.rate: must be a number > 0, got -1"
    assert caught.value.field == "filters[0].rate"


def test_a_bad_value_from_a_plugins_own_check_keeps_its_field() -> None:
    """A check in the model's __post_init__ (a file path that is a directory) keeps its field through re-wraps."""
    with pytest.raises(ConfigError) as caught:
        fapilog.configure(sinks=[{"type": "file", "path": ""}])
    assert caught.value.field == "sinks[0].path"
    assert str(caught.value).startswith("sinks[0]: file.path: must be a non-empty str")


def test_valid_edge_values_are_accepted(tmp_path: Path) -> None:
    fapilog.configure(
        sinks=[{"type": "memory", "max_records": "5"}],  # text from an environment variable or a file
        queue={"wait_timeout": 0, "capacity": 100_000_000},
        sink_defaults={"write_timeout": 86_400},
        level=100,
    )
    assert fapilog.stats()["state"] in ("running", "not started")


def test_an_environment_value_names_its_variable_and_never_breaks_the_log_call() -> None:
    script = """
import fapilog
log = fapilog.get_logger("env")
for i in range(20000):  # more than the queue holds: the bad wait_timeout would raise OverflowError when full
    log.info("e", i=i)
try:
    fapilog.configure()
except fapilog.ConfigError as exc:
    print("ERROR", exc.field, str(exc))
"""
    env = {**os.environ, "FAPILOG_QUEUE__WAIT_TIMEOUT": "inf", "FAPILOG_SINKS": '["memory"]'}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "ERROR queue.wait_timeout" in done.stdout and "FAPILOG_QUEUE__WAIT_TIMEOUT" in done.stdout
    assert "ignoring invalid FAPILOG_* settings" in done.stderr and "Traceback" not in done.stderr


def test_a_sink_that_fails_to_start_at_the_first_log_call_is_reported_with_its_code(tmp_path: Path) -> None:
    """Started by the first log call (FAPILOG_* settings, no configure()), a sink whose start() fails gets one
    stderr line naming it, its real error and FL-RUN-001, instead of only "not started" write failures."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    script = "import fapilog\nfapilog.get_logger('lazy').info('hello')\nprint(fapilog.flush(2.0).ok)\n"
    env = {**os.environ, "FAPILOG_SINKS": f'[{{"type": "file", "path": "{blocker}/x.log"}}]',
           "FAPILOG_EXIT_TIMEOUT": "0.5"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120,
                          check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [line] = [line for line in done.stderr.splitlines() if "failed to start" in line]
    assert line.startswith("fapilog: plugin 'file' failed to start: FapilogError: file sink 'file': cannot open")
    assert line.endswith("[FL-RUN-001]"), line
