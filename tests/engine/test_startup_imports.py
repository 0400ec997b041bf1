"""Start-up stays lean: what `import fapilog` and the default pipeline leave out of a real interpreter's modules.

Which modules a process imported can only be observed in a fresh interpreter, so every test runs a child
Python. Nothing here is timed (see ``benchmarks/startup_imports.py`` and the ``import`` workload for that).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

# Heavy or optional modules the default configuration never uses: the entry-point scan and its metadata
# parsing, the HTTP and network sinks' dependencies, settings files, path and decimal types, validation libraries.
# fnmatch serves only field-name globs with inner wildcards (the default names have none); the metadata
# derivation and the legacy adapter serve only third-party plugins without metadata or with synchronous methods.
# The stats schema is only needed when stats() is asked for (the exit drain counts its drops without it).
# The `secrets` redactor uses the URL rule (`_kit/url_credentials.py`), not the `url_credentials` plugin.
NEVER_BY_DEFAULT = (
    "importlib.metadata",
    "packaging",
    "email",
    "zipfile",
    "difflib",
    "httpx",
    "pydantic",
    "tomllib",
    "pathlib",
    "urllib.parse",
    "ipaddress",
    "decimal",
    "fapilog._registry.compat",
    "fapilog._registry.report",
    "fapilog.plugins.health",
    "fapilog._engine.control",
    "fapilog.builtins.sinks.file",
    "fapilog.builtins.sinks.http",
    "fapilog.integrations.stdlib",
    "fapilog.integrations.observability",
    "fnmatch",
    "fapilog._registry.derived",
    "fapilog._registry.legacy",
    "fapilog._engine.stats_schema",
    "fapilog.builtins.redactors.url_credentials",
)

# Not yet needed right after `import fapilog`: the worker's event loop and everything the pipeline build brings.
NOT_AT_IMPORT = (
    "asyncio",
    "ssl",
    "socket",
    "subprocess",
    "concurrent.futures",
    "logging",
    "orjson",
    "fapilog._engine.builder",
    "fapilog._engine.delivery",
    "fapilog._engine.worker",
    "fapilog._registry.registry",
    "fapilog._registry.discovery",
    *NEVER_BY_DEFAULT,
)

# The parent's FAPILOG_* variables must not change the child's default configuration.
_ENV = {k: v for k, v in os.environ.items() if not k.startswith("FAPILOG_")}

_AT_EXIT = """
import atexit, json, sys

def report():  # registered before fapilog's drain, so it runs after it (atexit runs in reverse order)
    from fapilog._registry import discovery
    found = sorted(m for m in json.loads(sys.argv[1]) if m in sys.modules)
    sys.stderr.write("MODULES " + json.dumps({"loaded": found, "scans": discovery.scan_count()}) + "\\n")

atexit.register(report)
import fapilog
fapilog.get_logger("startup").info("hi", n=1)
"""


def _child(code: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120,
                          check=True, env=env if env is not None else _ENV)


def _modules_report(stderr: str) -> dict[str, object]:
    [line] = [line for line in stderr.splitlines() if line.startswith("MODULES ")]
    result: dict[str, object] = json.loads(line.removeprefix("MODULES "))
    return result


def test_import_fapilog_leaves_the_pipeline_and_the_event_loop_unimported() -> None:
    """Right after `import fapilog` neither asyncio, orjson, the builder, the registry nor discovery is loaded."""
    code = "import json, sys, fapilog\nprint(json.dumps([m for m in json.loads(sys.argv[1]) if m in sys.modules]))"
    out = _child(code, json.dumps(NOT_AT_IMPORT)).stdout
    assert json.loads(out) == []


def test_default_pipeline_delivers_at_exit_without_scanning_or_unused_imports() -> None:
    """The default configuration's first event is delivered at exit with no entry-point scan and no unused module."""
    proc = _child(_AT_EXIT, json.dumps(NEVER_BY_DEFAULT))
    [line] = proc.stdout.splitlines()
    assert json.loads(line)["message"] == "hi"
    assert _modules_report(proc.stderr) == {"loaded": [], "scans": 0}


def test_builtin_only_environment_configuration_imports_only_what_it_names() -> None:
    """FAPILOG_* naming only built-ins (stderr sink, runtime enricher) scans nothing and imports no other sink."""
    env = {**_ENV, "FAPILOG_SINKS": '["stderr"]', "FAPILOG_ENRICHERS": '["runtime"]'}
    proc = _child(_AT_EXIT, json.dumps(NEVER_BY_DEFAULT), env=env)
    [line] = [line for line in proc.stderr.splitlines() if not line.startswith("MODULES ")]
    assert json.loads(line)["message"] == "hi" and "pid" in json.loads(line)
    assert _modules_report(proc.stderr) == {"loaded": [], "scans": 0}


def test_path_and_decimal_values_imported_after_start_keep_their_json_form() -> None:
    """A Decimal or a path made after the pipeline started is still a plain JSON value, redaction included."""
    code = (
        "import fapilog\n"
        "log = fapilog.get_logger('late')\n"
        "log.info('first')\n"
        "fapilog.flush(30.0)\n"
        "import decimal, pathlib\n"
        "log.info('second', price=decimal.Decimal('1.10'), where=pathlib.PurePosixPath('/tmp/x'),\n"
        "         nested={'items': [decimal.Decimal('2.5'), pathlib.PurePosixPath('rel/y')]})\n"
    )
    lines = [json.loads(line) for line in _child(code).stdout.splitlines()]
    assert [line["message"] for line in lines] == ["first", "second"]
    assert (lines[1]["price"], lines[1]["where"], lines[1]["nested"]) == ("1.10", "/tmp/x", {"items": ["2.5", "rel/y"]})


def test_redaction_keeps_decimal_and_path_leaves_whose_modules_came_later() -> None:
    """Decimal and path values stay untouched leaves when their modules are imported after the redactor."""
    code = (
        "import asyncio, json, sys\n"
        "from fapilog.builtins.redactors.presets import PresetRedactor\n"
        "redactor = PresetRedactor(names=['pci_dss'])\n"
        "loaded_early = 'decimal' in sys.modules or 'pathlib' in sys.modules\n"
        "import decimal, pathlib\n"
        "amount, where = decimal.Decimal('4111111111111111'), pathlib.PurePosixPath('/cards/4111111111111111')\n"
        "out = asyncio.run(redactor.redact({'message': 'm', 'amount': amount, 'where': where,\n"
        "                                   'text': '4111111111111111'}))\n"
        "print(json.dumps([loaded_early, out['amount'] is amount, out['where'] is where, out['text']]))\n"
    )
    assert json.loads(_child(code).stdout) == [False, True, True, "[REDACTED:card_number]"]
