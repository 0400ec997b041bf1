"""The ten contract checks themselves, and the records they feed a plugin (see :mod:`fapilog.testing.checks`).

Each check takes the :class:`Subject` (the plugin and how to create it) and returns when the plugin keeps
that part of the contract; it raises :class:`ContractFailure` with a reason that names the fix, or
:class:`Skip` when the check does not apply. Checks may be plain or ``async`` functions.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import typing
import warnings
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fapilog._kit.record import EventRecord
from fapilog._kit.serialize import json_lines
from fapilog._registry.config import instantiate
from fapilog._registry.derived import derived_note
from fapilog._registry.validation import check_methods, inspect_plugin
from fapilog.errors import ConfigError, ConfigWarning
from fapilog.plugins.health import check_health
from fapilog.plugins.metadata import KIND_BY_NAME, PluginKind, metadata_of
from fapilog.testing._contract_subject import ContractFailure, Note, Skip, Subject, _fail, _maybe
from fapilog.testing.records import awkward_records, make_record, make_records

__all__ = ["RUNNERS", "ContractFailure", "Note", "Skip", "Subject"]

_CORE_KEYS = ("timestamp", "level", "logger", "seq")
_OPTIONAL_METHODS = ("start", "stop", "flush", "health_check")
_CONCURRENT_CALLS = 100
_PIPELINE_EVENTS = 20


# -- the checks --------------------------------------------------------------------------------------------


def _check_metadata(subject: Subject) -> None:
    md = metadata_of(subject.cls)  # raises PluginValidationError for a wrong type: reported as a failure
    if md is None and subject.metadata is not None:
        raise Skip(derived_note(subject.metadata))
    if md is None:
        _fail(f"{subject.cls.__qualname__} has no `metadata = PluginMetadata(name=..., version=..., "
              f"kind={subject.kind!r}, description=...)` class attribute")
    if md.kind != subject.kind:
        _fail(f"metadata.kind is {md.kind!r} but the plugin is checked as a {subject.kind}")
    if not md.description.strip():
        _fail("metadata.description is empty: say in one line what the plugin does (it is shown by "
              "`fapilog plugin list` and on the generated docs page)")
    params = _settings_parameters(subject.cls)
    if params and md.config_model is None:
        _fail(f"the constructor takes settings ({', '.join(params)}) but metadata declares no config_model: add "
              "a dataclass or pydantic model so bad settings fail at configure time with the field named")


def _settings_parameters(cls: type[Any]) -> list[str]:
    """The constructor's named parameters, inherited ones included (``StdoutSink`` takes ``StreamSink``'s)."""
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):  # an extension type without an introspectable signature
        return []
    return [name for name, p in signature.parameters.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def _own_methods(cls: type[Any], kind: PluginKind) -> list[str]:
    spec = KIND_BY_NAME[kind]
    wanted = ("__init__", spec.method, spec.batch_method, *_OPTIONAL_METHODS)
    return [name for name in wanted if any(name in klass.__dict__ for klass in cls.__mro__[:-1])]


def _check_type_hints(subject: Subject) -> None:
    problems: list[str] = []
    for name in _own_methods(subject.cls, subject.kind):
        fn = getattr(subject.cls, name)
        where = f"{subject.cls.__qualname__}.{name}"
        try:
            typing.get_type_hints(fn)
        except Exception as exc:  # noqa: BLE001 - any failure to resolve is the finding
            problems.append(f"{where}: annotations do not resolve ({type(exc).__name__}: {exc})")
            continue
        signature = inspect.signature(fn)
        bare = [p for p, param in signature.parameters.items()
                if p != "self" and param.annotation is inspect.Parameter.empty]
        if bare:
            problems.append(f"{where}: parameter(s) {', '.join(bare)} not annotated")
        if signature.return_annotation is inspect.Signature.empty:
            problems.append(f"{where}: no return annotation")
    if problems:
        _fail("; ".join(problems))


def _check_protocol(subject: Subject) -> None:
    # PluginValidationError (a sync method where async is required...) names the method and the fix.
    if not subject.declared and subject.metadata is not None:
        check_methods(subject.target, subject.metadata)  # derived metadata: only the protocol to check
    elif inspect_plugin(subject.target, kind_hint=subject.kind).legacy:
        _fail("legacy plugin: no metadata, so its settings and kind cannot be checked; declare PluginMetadata")


def _check_settings(subject: Subject) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConfigWarning)
        subject.create()
    notes = [str(warning.message) for warning in caught if issubclass(warning.category, ConfigWarning)]
    for warning in caught:  # other warnings go on as if they had not been caught
        if not issubclass(warning.category, ConfigWarning):
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    _check_unknown_setting(subject)
    if notes:
        raise Note("; ".join(notes))


def _check_unknown_setting(subject: Subject) -> None:
    model = subject.metadata.config_model if subject.metadata is not None else None
    if model is None or not isinstance(subject.target, type):
        return
    unknown = "contract_check_unknown_setting"
    try:
        instantiate(subject.name, subject.cls, model, {**subject.settings, unknown: 1})
    except ConfigError as exc:
        if unknown not in str(exc):
            _fail(f"an unknown setting was refused, but the error does not name it: {exc}")
        return
    _fail(f"an unknown setting {unknown!r} was accepted silently: a typo in configuration would be ignored; "
          "let the config model reject unknown fields")


async def _lifecycle(subject: Subject) -> None:
    instance = subject.create()
    for step in ("start", "start"):
        await _step(instance, step, "must be idempotent: the core may start a reloaded plugin again")
    await _work(subject, instance, make_record("lifecycle"))
    if subject.kind == "sink":
        for _ in range(2):
            await _step(instance, "flush", "must be callable repeatedly")
    if hasattr(instance, "health_check"):
        result = (await check_health({subject.name: instance}, subject.timeout * 0.3))[subject.name]
        # Unhealthy is a legitimate answer (no backend here); raising, hanging or a wrong type is not.
        detail = result.detail
        if detail.startswith(("health check raised", "health check timed out")) or detail.endswith(
            "expected PluginHealth or bool"
        ):
            _fail(f"health_check() is broken: {detail}")
    for _ in range(2):
        await _step(instance, "stop", "must be idempotent: shutdown and reload may both stop a plugin")


async def _step(instance: object, method: str, why: str) -> None:
    try:
        await _maybe(instance, method)
    except Exception as exc:  # noqa: BLE001 - whatever the plugin raised is the finding
        _fail(f"{method}() raised {type(exc).__name__}: {exc} ({method}() {why})")


async def _work(subject: Subject, instance: object, record: EventRecord) -> Any:
    return await _maybe(instance, subject.method, record)


def _sample_records() -> list[EventRecord]:
    records = make_records(3, user_id=7, path="/login")
    records.append(make_record("with context", context={"request_id": "r-1"}, nested={"a": [1, 2, {"b": None}]}))
    records.append(make_record("warning", level="WARNING", logger="app.db", duration_ms=12.5))
    return records


def _check_result(subject: Subject, record: EventRecord, out: Any) -> None:
    kind = subject.kind
    where = f"{subject.method}()"
    if kind == "sink":
        return
    if kind == "filter":
        if out is not None and not isinstance(out, Mapping):
            _fail(f"{where} returned {type(out).__name__}; a filter returns the record (keep) or None (drop)")
        if out is not None and any(key not in out for key in _CORE_KEYS):
            _fail(f"{where} returned a record without the core keys {', '.join(_CORE_KEYS)}")
        return
    if kind == "enricher":
        if out is not None and not isinstance(out, Mapping):
            _fail(f"{where} returned {type(out).__name__}; an enricher returns a mapping of fields to add")
        if out is not None and not all(isinstance(key, str) for key in out):
            _fail(f"{where} returned non-string field names")
        return
    if not isinstance(out, Mapping):
        _fail(f"{where} returned {type(out).__name__}; a {kind} returns the (new) record as a mapping")
    if kind == "redactor" and any(key not in out for key in _CORE_KEYS):
        _fail(f"{where} dropped core keys ({', '.join(k for k in _CORE_KEYS if k not in out)}); mask values, "
              "keep timestamp, level, logger and seq")


async def _behaviour(subject: Subject) -> None:
    instance = subject.create()
    await _maybe(instance, "start")
    try:
        for record in _sample_records():
            before = copy.deepcopy(dict(record))
            out = await _work(subject, instance, record)
            _check_result(subject, record, out)
            if subject.kind == "enricher" and dict(record) != before:
                _fail("enrich() changed the record it was given; return the new fields instead (the core merges "
                      "them without overwriting existing keys)")
    finally:
        await _maybe(instance, "stop")


def _normalise(subject: Subject, outputs: list[Any]) -> list[Any]:
    if subject.kind == "filter":
        return [dict(out) for out in outputs if out is not None]
    return [dict(out) if isinstance(out, Mapping) else out for out in outputs]


async def _line_form(subject: Subject) -> None:
    """A sink's ``write_lines`` (when it has one) takes the sample records' JSON lines without failing."""
    instance = subject.create()
    await _maybe(instance, "start")
    try:
        if callable(getattr(instance, "write_lines", None)):
            await _maybe(instance, "write_lines", json_lines(_sample_records()))
    finally:
        await _maybe(instance, "stop")


async def _batch_form(subject: Subject) -> None:
    batch_method = f"{subject.method}_batch"
    if getattr(subject.target, batch_method, None) is None:
        if subject.kind == "sink" and getattr(subject.target, "write_lines", None) is not None:
            await _line_form(subject)  # a sink that takes only lines: its batch form is write_lines
            return
        raise Skip(f"no {batch_method}(); the core calls {subject.method}() per record")
    if not isinstance(subject.target, type) and subject.kind != "sink":
        raise Skip("a ready-made instance cannot be compared with a fresh one")
    one, many = subject.create(), subject.create()
    for instance in (one, many):
        await _maybe(instance, "start")
    try:
        single = [await _work(subject, one, record) for record in _sample_records()]
        batch = await _maybe(many, batch_method, _sample_records())
    finally:
        for instance in (one, many):
            await _maybe(instance, "stop")
    if subject.kind == "sink":
        await _line_form(subject)
        return
    if not isinstance(batch, list):
        _fail(f"{batch_method}() returned {type(batch).__name__}; it must return a list")
    expected = _normalise(subject, single)
    got = _normalise(subject, batch)
    if subject.kind in ("enricher", "redactor") and len(batch) != len(single):
        _fail(f"{batch_method}() returned {len(batch)} results for {len(single)} records; it must return one each")
    if subject.kind == "filter" and len(got) > len(single):
        _fail(f"{batch_method}() returned more records than it was given; filters only drop")
    if subject.deterministic and _comparable(expected) != _comparable(got):
        _fail(f"{batch_method}() disagrees with {subject.method}() on the same records: per record gave "
              f"{_comparable(expected)!r}, the batch gave {_comparable(got)!r} (pass deterministic=False if the "
              "plugin is stateful or random)")


def _comparable(outputs: list[Any]) -> list[Any]:
    # Timestamps the plugin itself adds differ between two runs by nature; compare everything else.
    return [{k: v for k, v in out.items() if "time" not in k} if isinstance(out, dict) else out for out in outputs]


async def _error_behaviour(subject: Subject) -> None:
    instance = subject.create()
    await _maybe(instance, "start")
    try:
        for label, record in awkward_records():
            try:
                out = await _work(subject, instance, record)
            except Exception as exc:  # noqa: BLE001 - whatever the plugin raised is the finding
                _fail(f"{subject.method}() raised {type(exc).__name__}: {exc} on a record with {label}; plugins "
                      "must accept any record the core can produce")
            _check_result(subject, record, out)
    finally:
        await _maybe(instance, "stop")


async def _concurrency(subject: Subject) -> None:
    instance = subject.create()
    await _maybe(instance, "start")
    try:
        records = make_records(_CONCURRENT_CALLS, user_id=1)
        calls: list[Awaitable[Any]] = [_work(subject, instance, record) for record in records]
        if subject.kind == "sink" and hasattr(instance, "flush"):
            calls.append(_maybe(instance, "flush"))
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        if errors:
            _fail(f"{len(errors)} of {len(calls)} concurrent calls raised, first: {type(errors[0]).__name__}: "
                  f"{errors[0]}")
        for record, out in zip(records, outcomes, strict=False):
            _check_result(subject, record, out)
    finally:
        await _maybe(instance, "stop")


def _pipeline(subject: Subject) -> None:
    """A private pipeline (never the process-wide one): the host's configuration, levels and any active
    ``capture_events()`` are left exactly as they were, and a plugin that hangs only hangs this pipeline."""
    from fapilog._engine.runtime import Runtime
    from fapilog._kit.levels import INFO
    from fapilog.builtins.sinks.memory import MemorySink
    from fapilog.settings import LoggingSettings

    instance = subject.create()
    memory = MemorySink(name="contract-memory")
    stages: dict[str, Any] = {"sinks": [instance] if subject.kind == "sink" else [memory]}
    if subject.kind != "sink":
        stages[f"{subject.kind}s"] = [instance]
    deadline = subject.timeout * 0.3  # start, flush and shutdown each get a share, within the check's deadline
    runtime = Runtime(LoggingSettings.load({"level": "DEBUG", **stages}, environ={}))
    runtime.start()
    try:
        failures = runtime.wait_started(deadline)
        if failures:
            name, exc = next(iter(failures.items()))
            _fail(f"{name!r} failed to start in the pipeline: {type(exc).__name__}: {exc}")
        for i in range(_PIPELINE_EVENTS):
            runtime.emit(INFO, "fapilog.contract", f"contract event {i}", {"index": i}, None, None)
        flushed = runtime.flush(deadline)
        stats = runtime.stats()
    finally:
        report = runtime.shutdown(deadline)
    errors = {name: entry["errors"] for name, entry in stats["plugins"].items() if entry.get("errors")}
    if errors:
        _fail(f"the pipeline counted errors against the plugin: {errors}; see the stderr warnings for the cause")
    if not flushed.ok or not report.ok:
        _fail(f"flush/shutdown did not complete within {deadline:g} s each: {flushed}, {report}")
    if subject.kind == "sink":
        sink_stats = next(iter(stats["sinks"].values()))
        if sink_stats.get("delivered") != _PIPELINE_EVENTS or sink_stats.get("failed"):
            _fail(f"{_PIPELINE_EVENTS} events were logged but the sink reports {sink_stats}")
        return
    if subject.kind == "filter":
        return  # a filter may legitimately drop every contract event; errors and completion are what count
    if len(memory.records) < _PIPELINE_EVENTS:
        _fail(f"{_PIPELINE_EVENTS} events were logged through the {subject.kind} but only {len(memory.records)} "
              "reached the sink")


RUNNERS: dict[str, Callable[[Subject], Any]] = {
    "metadata": _check_metadata,
    "type_hints": _check_type_hints,
    "protocol": _check_protocol,
    "settings": _check_settings,
    "lifecycle": _lifecycle,
    "behaviour": _behaviour,
    "batch_form": _batch_form,
    "error_behaviour": _error_behaviour,
    "concurrency": _concurrency,
    "pipeline": _pipeline,
}
