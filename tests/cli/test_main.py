"""The ``fapilog`` command line: entry points, exit codes and the two-line error format."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

import fapilog
from fapilog.cli.main import main

CONSOLE_SCRIPT = Path(sys.executable).parent / "fapilog"


def _run(*args: str, exe: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [*(exe or [sys.executable, "-m", "fapilog"]), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def _assert_two_line_error(stderr: str) -> list[str]:
    lines = stderr.splitlines()
    assert len(lines) == 2, stderr
    assert lines[0].startswith("fapilog: error: ") and lines[1].startswith("hint: "), stderr
    assert "Traceback" not in stderr
    return lines


def test_python_dash_m_prints_the_version() -> None:
    """`python -m fapilog --version` prints the running core's version and exits 0."""
    proc = _run("--version")
    assert (proc.returncode, proc.stdout.strip()) == (0, f"fapilog {fapilog.__version__}")


@pytest.mark.skipif(not CONSOLE_SCRIPT.exists(), reason="the fapilog console script is not installed in this venv")
def test_console_script_runs_the_same_command_line() -> None:
    """The installed `fapilog` console script reaches the same main() (a usage error exits 2)."""
    assert _run("--version", exe=[str(CONSOLE_SCRIPT)]).stdout.strip() == f"fapilog {fapilog.__version__}"
    proc = _run("plugin", "frobnicate", exe=[str(CONSOLE_SCRIPT)])
    assert proc.returncode == 2
    _assert_two_line_error(proc.stderr)


def test_unknown_command_is_a_usage_error_in_two_lines(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown subcommand exits 2 with `fapilog: error:` and a hint naming the --help to run."""
    assert main(["plugin", "lisst"]) == 2
    error, hint = _assert_two_line_error(capsys.readouterr().err)
    assert "lisst" in error and "fapilog plugin --help" in hint


def test_missing_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """Running `fapilog` with no command exits 2 and says a command is required."""
    assert main([]) == 2
    error, _ = _assert_two_line_error(capsys.readouterr().err)
    assert "COMMAND" in error


def test_help_exits_zero_and_lists_the_plugin_commands(capsys: pytest.CaptureFixture[str]) -> None:
    """`fapilog plugin --help` exits 0 and names every plugin subcommand."""
    assert main(["plugin", "--help"]) == 0
    out = capsys.readouterr().out
    for command in ("new", "list", "check", "health", "docs"):
        assert command in out


def test_malformed_setting_exits_two(capsys: pytest.CaptureFixture[str]) -> None:
    """A --setting without `=` is bad input: exit 2, the item quoted, a hint showing the form."""
    assert main(["plugin", "health", "memory", "--setting", "oops"]) == 2
    error, hint = _assert_two_line_error(capsys.readouterr().err)
    assert "'oops'" in error and "KEY=VALUE" in error and "--setting" in hint


def test_unknown_plugin_exits_three_without_traceback() -> None:
    """A plugin that does not exist is a plugin error: exit 3, two lines, no traceback (real process)."""
    proc = _run("plugin", "docs", "no_such_plugin")
    assert proc.returncode == 3
    error, hint = _assert_two_line_error(proc.stderr)
    assert "no_such_plugin" in error and "fapilog plugin list" in hint


def test_importing_the_cli_and_printing_the_version_stays_light() -> None:
    """`import fapilog.cli.main` and `--version` import neither the registry nor the testing kit."""
    code = (
        "import sys, fapilog.cli.main as m\n"
        "try:\n    m.main(['--version'])\nexcept SystemExit:\n    pass\n"
        "heavy = [n for n in ('fapilog._registry.registry', 'fapilog.testing', 'fapilog._registry.discovery') "
        "if n in sys.modules]\n"
        "print('heavy:', heavy)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "heavy: []"


@pytest.mark.skipif(
    importlib.util.find_spec("fapilog.cli.scaffold") is None, reason="fapilog.cli.scaffold has not landed yet"
)
def test_plugin_new_is_wired_to_the_scaffold(capsys: pytest.CaptureFixture[str]) -> None:
    """`fapilog plugin new --help` reaches the scaffold command's own options."""
    assert main(["plugin", "new", "--help"]) == 0
    assert "--kind" in capsys.readouterr().out



def test_a_bug_in_a_command_is_reported_in_two_lines_with_exit_four(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from fapilog.cli import listing

    def broken(args: object) -> int:
        raise KeyError("oops")

    monkeypatch.setattr(listing, "run", broken)
    assert main(["debug"]) == 4
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "fapilog: error: internal error: KeyError: 'oops'"
    assert err[1].startswith("hint: this is a bug in fapilog; report it") and len(err) == 2


def test_an_unwritable_scaffold_directory_is_bad_input(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    assert main(["plugin", "new", "ok", "--kind", "sink", "--dir", str(blocker / "sub")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"fapilog: error: cannot write {blocker / 'sub'}")
    assert err[1] == "hint: choose a directory you can write to with --dir PATH"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'[project]\nname = "x"\nentry-points = "oops"\n', 'declares no [project.entry-points."fapilog.plugins"]'),
        (b"\xff\xfe[project]", "is not valid TOML: 'utf-8' codec can't decode"),
    ],
)
def test_a_malformed_project_is_bad_input_not_a_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes, message: str
) -> None:
    (tmp_path / "pyproject.toml").write_bytes(content)
    assert main(["plugin", "check", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize("command", [["plugin", "check", "memory"], ["plugin", "health", "memory"]])
@pytest.mark.parametrize("timeout", ["-1", "0", "nan", "inf", "soon"])
def test_a_timeout_that_is_not_a_positive_number_is_a_usage_error(
    command: list[str], timeout: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--timeout` of -1, 0, nan, inf or text exits 2 naming the option, instead of failing every check as hung."""
    assert main([*command, "--timeout", timeout]) == 2
    error, _ = _assert_two_line_error(capsys.readouterr().err)
    assert "--timeout" in error and "positive number of seconds" in error
