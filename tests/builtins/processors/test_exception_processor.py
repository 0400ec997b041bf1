"""The built-in ``exception`` processor: frame, message and cause-chain limits on the structured exception."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Mapping
from typing import Any

import pytest

import fapilog
from fapilog._kit.exception_fields import structure_exception
from fapilog._kit.record import EventRecord
from fapilog._registry.registry import PluginRegistry
from fapilog.builtins.processors.exception import ExceptionProcessor, render_stack
from fapilog.builtins.sinks.memory import MemorySink
from fapilog.errors import ConfigError


def recurse(depth: int) -> None:
    if depth == 0:
        raise ValueError("deep " + "m" * 100)
    recurse(depth - 1)


def chained(links: int) -> BaseException:
    """An exception with ``links`` causes below it, each raised from the next."""
    try:
        if links == 0:
            raise KeyError("root")
        try:
            raise chained(links - 1)
        except BaseException as inner:
            raise RuntimeError(f"level {links}") from inner
    except BaseException as exc:
        return exc


def caught(depth: int = 30) -> dict[str, Any]:
    try:
        recurse(depth)
    except ValueError as exc:
        return structure_exception(exc)
    raise AssertionError("recurse() did not raise")


def record(exception: Any = None, **fields: Any) -> EventRecord:
    out = EventRecord(timestamp="t", level="ERROR", logger="app", message="failed", seq=0, **fields)
    if exception is not None:
        out["exception"] = exception
    return out


def run(processor: ExceptionProcessor, *records: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return asyncio.run(processor.process_batch(list(records)))


def test_keeps_the_innermost_frames_and_counts_the_rest() -> None:
    """max_frames keeps where the error happened; truncated_frames and frame_count tell the full depth."""
    exc = caught(30)
    total = len(exc["frames"])
    (out,) = run(ExceptionProcessor(max_frames=3), record(exc))
    shaped = out["exception"]
    assert shaped["frames"] == exc["frames"][-3:]
    assert shaped["frames"][-1]["function"] == "recurse"
    assert shaped["truncated_frames"] == total - 3 and shaped["frame_count"] == total


def test_cuts_long_messages_and_says_how_much() -> None:
    """A message over max_message_length ends in '...' at exactly that length."""
    (out,) = run(ExceptionProcessor(max_message_length=20), record(caught()))
    shaped = out["exception"]
    assert shaped["message"] == "deep mmmmmmmmmmmm..." and len(shaped["message"]) == 20
    assert shaped["truncated_message"] == len("deep " + "m" * 100) - 20


def test_limits_the_cause_chain() -> None:
    """chain_depth links are kept below the logged exception; truncated_chain counts the cut ones."""
    exc = structure_exception(chained(4))
    (out,) = run(ExceptionProcessor(chain_depth=1), record(exc))
    top = out["exception"]
    assert top["message"] == "level 4" and top["cause"]["message"] == "level 3"
    assert "cause" not in top["cause"] and top["cause"]["truncated_chain"] == 3
    (none,) = run(ExceptionProcessor(chain_depth=0), record(exc))
    assert "cause" not in none["exception"] and none["exception"]["truncated_chain"] == 4


def test_applies_the_limits_to_every_link() -> None:
    """Frames and messages of causes are bounded too."""
    exc = structure_exception(chained(2))
    exc["cause"]["message"] = "x" * 500
    (out,) = run(ExceptionProcessor(max_message_length=10, max_frames=1), record(exc))
    cause = out["exception"]["cause"]
    assert cause["message"] == "xxxxxxx..." and len(cause["frames"]) <= 1


def test_source_context_is_opt_in_and_never_includes_locals() -> None:
    """include_source_context adds each frame's source line; no frame ever gains locals."""
    exc = caught(2)
    (plain,) = run(ExceptionProcessor(), record(exc))
    assert all(set(frame) == {"file", "line", "function"} for frame in plain["exception"]["frames"])
    (rich,) = run(ExceptionProcessor(include_source_context=True), record(exc))
    frames = rich["exception"]["frames"]
    assert frames[-1]["source"] == 'raise ValueError("deep " + "m" * 100)'
    assert all(set(frame) <= {"file", "line", "function", "source"} for frame in frames)


def test_running_twice_changes_nothing() -> None:
    """The processor is idempotent: counts are not inflated by a second pass."""
    processor = ExceptionProcessor(max_frames=2, max_message_length=12, chain_depth=1)
    exc = structure_exception(chained(3))
    (once,) = run(processor, record(exc))
    (twice,) = run(processor, once)
    assert twice == once


def test_records_without_an_exception_are_returned_as_they_are() -> None:
    """No exception field (or a non-mapping one): the same object comes back."""
    plain, odd = record(), record("just a string")
    out = run(ExceptionProcessor(), plain, odd)
    assert out[0] is plain and out[1] is odd


def test_single_record_method_matches_the_batch_form() -> None:
    """process() and process_batch() agree."""
    processor = ExceptionProcessor(max_frames=2)
    rec = record(caught())
    assert asyncio.run(processor.process(rec)) == run(processor, rec)[0]


def test_render_stack_prints_causes_first_like_python() -> None:
    """render_stack gives Python's traceback text, the chain from the root cause up."""
    text = render_stack(structure_exception(chained(1)))
    assert text.index("KeyError: 'root'") < text.index("direct cause") < text.index("RuntimeError: level 1")
    assert text.startswith("Traceback (most recent call last):\n  File ")


@pytest.mark.parametrize(
    ("options", "start"),
    [
        ({"max_frames": -1}, "exception.max_frames: must be a whole number >= 0"),
        ({"max_message_length": 3}, "exception.max_message_length: must be a whole number >= 8"),
        ({"chain_depth": 1.5}, "exception.chain_depth:"),
        ({"include_source_context": "maybe"}, "exception.include_source_context: must be true or false"),
    ],
)
def test_bad_settings_name_the_field(options: dict[str, Any], start: str) -> None:
    """Invalid settings raise ConfigError starting with '<plugin>.<field>:'."""
    with pytest.raises(ConfigError) as caught_error:
        ExceptionProcessor(**options)
    assert str(caught_error.value).startswith(start)


def test_environment_strings_are_accepted() -> None:
    """Numbers and booleans given as strings (environment variables) are converted."""
    processor = ExceptionProcessor(max_frames="5", include_source_context="true")  # type: ignore[arg-type]
    assert processor.max_frames == 5 and processor.include_source_context is True


def test_constructor_takes_the_config_model() -> None:
    """The registry accepts the class: metadata, async methods and config model all agree."""
    registry = PluginRegistry([ExceptionProcessor], entry_points=False)
    _, instance = registry.create("processor", {"type": "exception", "max_frames": 4})
    assert isinstance(instance, ExceptionProcessor) and instance.max_frames == 4
    assert list(inspect.signature(ExceptionProcessor).parameters) == ["settings", "values"]  # the model, or its fields


def test_end_to_end_bounds_logged_exceptions() -> None:
    """Through the real pipeline, a logged deep traceback reaches the sink bounded."""
    sink = MemorySink()
    fapilog.configure(sinks=[sink], processors=[ExceptionProcessor(max_frames=5, chain_depth=0)])
    try:
        raise chained(3)
    except RuntimeError:
        fapilog.get_logger("e2e").exception("failed")
    assert fapilog.flush(5.0)
    (event,) = sink.records
    assert len(event["exception"]["frames"]) <= 5
    assert "cause" not in event["exception"] and event["exception"]["truncated_chain"] == 3
