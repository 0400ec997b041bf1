"""``exception`` processor: bounds the structured ``exception`` field the core builds from a logged error.

The core turns an exception into ``{"type", "message", "frames": [{"file", "line", "function"}],
"truncated_frames", "cause"?, "context"?}`` (see :mod:`fapilog._kit.exception_fields`) with generous limits. This
processor applies the limits a deployment wants on the way out, at every link of the cause chain:

* ``max_frames``: keep the innermost frames (where the error happened); ``truncated_frames`` counts the rest,
  and ``frame_count`` gives the full depth of the traceback;
* ``max_message_length``: cut long messages (``truncated_message`` says how many characters were removed);
* ``chain_depth``: follow at most this many ``cause``/``context`` links (``truncated_chain`` counts the rest);
* ``include_source_context``: add each frame's line of source code (``source``), read through :mod:`linecache`.

Frame locals are never read: they are where passwords and tokens live, and the core never captures them.
The processor is idempotent: running it twice gives the same record as running it once.

:func:`render_stack` turns the structured field back into Python's familiar traceback text, for the vendor
shapes that want a string (see the ``shape`` processor).
"""

from __future__ import annotations

import dataclasses
import linecache
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from fapilog._version import __version__
from fapilog.plugins.constraints import NonNegative, Range, settings_from
from fapilog.plugins.metadata import PluginMetadata

__all__ = ["ExceptionProcessor", "ExceptionSettings", "render_stack"]

_NAME = "exception"
_ELLIPSIS = "..."
_MIN_MESSAGE_LENGTH = 8
_MAX_RENDERED_LINKS = 16
_CAUSE_HEADER = "The above exception was the direct cause of the following exception:"
_CONTEXT_HEADER = "During handling of the above exception, another exception occurred:"


@dataclasses.dataclass(frozen=True)
class ExceptionSettings:
    """Settings of the ``exception`` processor (validated on creation)."""

    max_frames: Annotated[int, NonNegative] = 20
    """Innermost frames kept per exception (0 keeps none)."""
    max_message_length: Annotated[int, Range(ge=_MIN_MESSAGE_LENGTH)] = 2048
    """Longest exception message kept, in characters, including the ``...`` that marks a cut (>= 8)."""
    include_source_context: bool = False
    """Add the source line of each frame as ``source`` (read from the files on the worker, cached)."""
    chain_depth: Annotated[int, NonNegative] = 3
    """``cause``/``context`` links followed below the logged exception (0 keeps only the exception itself)."""


class ExceptionProcessor:
    """Applies frame, message and cause-chain limits to the ``exception`` field of each record.

    ``fapilog.configure(processors=[ExceptionProcessor(max_frames=5, chain_depth=1)])``, or by name:
    ``processors=[{"type": "exception", "max_frames": 5}]``.
    """

    metadata = PluginMetadata(
        name=_NAME,
        version=__version__,
        kind="processor",
        description="Limits frames, message length and cause chain of the structured exception field.",
        config_model=ExceptionSettings,
    )

    def __init__(self, settings: ExceptionSettings | None = None, /, **values: Any) -> None:
        """``settings`` (the registry passes the validated model) or the same fields as keywords; the limits
        are copied to plain attributes once, for the per-record path."""
        self.settings = settings = settings_from(ExceptionSettings, settings, root=_NAME, **values)
        self.max_frames = settings.max_frames
        self.max_message_length = settings.max_message_length
        self.include_source_context = settings.include_source_context
        self.chain_depth = settings.chain_depth

    async def start(self) -> None:
        """Nothing to open."""

    async def stop(self) -> None:
        """Nothing to close."""

    async def process(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        """The record with its ``exception`` field bounded (records without one are returned as they are)."""
        exc = record.get("exception")
        if exc is None or not isinstance(exc, Mapping):
            return record
        return {**record, "exception": self._shape(exc, 0)}

    async def process_batch(self, records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """:meth:`process` for a whole batch; records without an exception cost one dict lookup."""
        shape = self._shape
        out: list[Mapping[str, Any]] = []
        append = out.append
        for record in records:
            exc = record.get("exception")
            if exc is None:  # the common case, before the (slow) abstract-class check below
                append(record)
            else:
                append({**record, "exception": shape(exc, 0)} if isinstance(exc, Mapping) else record)
        return out

    def _shape(self, exc: Mapping[str, Any], depth: int) -> dict[str, Any]:
        out = dict(exc)
        frames = exc.get("frames")
        if isinstance(frames, list):
            already = exc.get("truncated_frames")
            total = len(frames) + (already if type(already) is int and already > 0 else 0)
            kept = frames[len(frames) - self.max_frames :] if self.max_frames else []
            if self.include_source_context:
                kept = [_with_source(frame) for frame in kept]
            out["frames"] = kept
            out["truncated_frames"] = total - len(kept)
            out["frame_count"] = total
        message = exc.get("message")
        limit = self.max_message_length
        if isinstance(message, str) and len(message) > limit:
            out["message"] = message[: limit - len(_ELLIPSIS)] + _ELLIPSIS
            out["truncated_message"] = int(exc.get("truncated_message") or 0) + len(message) - limit
        for link in ("cause", "context"):
            inner = exc.get(link)
            if not isinstance(inner, Mapping):
                continue
            if depth >= self.chain_depth:
                del out[link]
                out["truncated_chain"] = _chain_length(inner)
            else:
                out[link] = self._shape(inner, depth + 1)
        return out


def _with_source(frame: Any) -> Any:
    if not isinstance(frame, Mapping) or "source" in frame:
        return frame
    file, line = frame.get("file"), frame.get("line")
    if not isinstance(file, str) or type(line) is not int:
        return frame
    text = linecache.getline(file, line).strip()
    return {**frame, "source": text} if text else frame


def _chain_length(exc: Mapping[str, Any]) -> int:
    """Links in a chain starting at ``exc`` (itself included), counting what an earlier pass cut too."""
    count = 0
    link: Any = exc
    while isinstance(link, Mapping) and count < 1_000:
        count += 1
        earlier = link.get("truncated_chain")
        if type(earlier) is int and earlier > 0:
            count += earlier
        link = link.get("cause") if isinstance(link.get("cause"), Mapping) else link.get("context")
    return count


def render_stack(exc: Mapping[str, Any]) -> str:
    """The structured exception as Python's traceback text, causes first (as the interpreter prints them).

    >>> render_stack({"type": "ValueError", "message": "bad", "frames": [
    ...     {"file": "app.py", "line": 3, "function": "main"}], "truncated_frames": 0})
    'Traceback (most recent call last):\\n  File "app.py", line 3, in main\\nValueError: bad'
    """
    chain: list[tuple[Mapping[str, Any], str]] = []
    link: Any = exc
    header = ""
    while isinstance(link, Mapping) and len(chain) < _MAX_RENDERED_LINKS:
        chain.append((link, header))
        if isinstance(link.get("cause"), Mapping):
            link, header = link["cause"], _CAUSE_HEADER
        else:
            link, header = link.get("context"), _CONTEXT_HEADER
    blocks: list[str] = []
    for index in range(len(chain) - 1, -1, -1):
        current, _ = chain[index]
        blocks.append(_render_one(current))
        if index > 0:
            blocks.append(chain[index][1])
    return "\n\n".join(blocks)


def _render_one(exc: Mapping[str, Any]) -> str:
    lines: list[str] = []
    frames = exc.get("frames")
    if isinstance(frames, list) and frames:
        lines.append("Traceback (most recent call last):")
        skipped = exc.get("truncated_frames")
        if type(skipped) is int and skipped > 0:
            lines.append(f"  [{skipped} outer frame(s) omitted]")
        for frame in frames:
            if not isinstance(frame, Mapping):
                continue
            lines.append(f'  File "{frame.get("file")}", line {frame.get("line")}, in {frame.get("function")}')
            source = frame.get("source")
            if isinstance(source, str) and source:
                lines.append(f"    {source}")
    kind = str(exc.get("type") or "Exception")
    message = exc.get("message")
    lines.append(f"{kind}: {message}" if message not in (None, "") else kind)
    return "\n".join(lines)
