"""``stdout`` and ``stderr`` sinks: JSON lines for machines, a readable coloured format for people.

Format ``auto`` (the default) picks ``console`` when the stream is a terminal and ``json`` otherwise. Each
batch becomes one write on the sink's own I/O thread, so a slow pipe never blocks the worker's loop. The
stream is looked up at write time, so redirections such as pytest's capture keep working.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, ClassVar, Literal, TextIO

from fapilog._value_methods import ValueMethods, value_class
from fapilog._version import __version__
from fapilog.plugins import BlockingWorker, dumps, json_lines, safe_repr
from fapilog.plugins.constraints import settings_from
from fapilog.plugins.metadata import PluginMetadata

__all__ = ["StderrSink", "StdoutSink", "StreamSink", "StreamSinkSettings", "format_console"]

Format = Literal["auto", "json", "console"]

_COLOURS = {
    "DEBUG": "\x1b[2m",
    "INFO": "\x1b[32m",
    "WARNING": "\x1b[33m",
    "ERROR": "\x1b[31m",
    "CRITICAL": "\x1b[1;31m",
}
_RESET = "\x1b[0m"
_HEADER_KEYS = frozenset({"timestamp", "level", "logger", "message", "seq", "exception"})


def format_console(record: Mapping[str, Any], *, colour: bool) -> str:
    """One human-readable line (plus indented frames for an exception); never raises.

    Every piece of the event is escaped (:func:`_printable`), so a message cannot forge a second line, move
    the cursor or change the terminal's colours: only the colour codes this function adds reach the terminal.
    An event that cannot be formatted at all is written as its JSON line instead, escaped the same way.
    """
    try:
        return _console_line(record, colour=colour)
    except Exception:  # noqa: BLE001 - one odd record must not cost the batch: show it as JSON
        return _printable(dumps(record).decode("utf-8", "backslashreplace"))


def _console_line(record: Mapping[str, Any], *, colour: bool) -> str:
    level = _printable(str(record.get("level", "")))
    fields = " ".join(
        f"{_printable(_text(k))}={_printable(safe_repr(v))}" for k, v in record.items() if k not in _HEADER_KEYS
    )
    head = (
        f"{_printable(_text(record.get('timestamp', '')))} {level:<8} {_printable(_text(record.get('logger', '')))}: "
        f"{_printable(_text(record.get('message', '')))}"
    )
    if colour and level in _COLOURS:
        head = f"{_COLOURS[level]}{head}{_RESET}"
    line = f"{head}  {fields}" if fields else head
    exc = record.get("exception")
    if isinstance(exc, Mapping):
        frames = exc.get("frames") or []
        shown = "".join(
            "\n    " + _printable(f"{f.get('file')}:{f.get('line')} in {f.get('function')}")
            for f in frames
            if isinstance(f, Mapping)
        )
        line += f"\n  {_printable(_text(exc.get('type')))}: {_printable(_text(exc.get('message')))}{shown}"
    return line


def _text(value: object) -> str:
    return value if isinstance(value, str) else safe_repr(value)


def _printable(text: str) -> str:
    """``text`` with every non-printable character (newline, CR, tab, ESC, other C0 and C1 controls, DEL,
    lone surrogates, line and paragraph separators) written as a Python-style escape such as ``\\n``."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def _escape(char: str) -> str:
    code = ord(char)
    if char in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


@value_class  # see fapilog._value_methods
class StreamSinkSettings(ValueMethods):
    """Settings of the ``stdout`` and ``stderr`` sinks (values are checked when the sink is created)."""

    format: Format = "auto"
    """``json`` lines, a readable ``console`` format, or ``auto``: console on a terminal, JSON otherwise."""
    colour: bool | None = None
    """Colour the console format; ``None`` colours only on a terminal."""
    name: str | None = None
    """The name this sink runs under in ``stats()`` and diagnostics (default: ``stdout``/``stderr``)."""


class StreamSink:
    """Writes records to a standard stream; subclasses choose which one."""

    stream_name: ClassVar[str] = "stdout"
    runs_on_worker_loop: ClassVar[bool] = True
    """Its coroutines never block: a write to a full pipe waits on the sink's own I/O thread."""

    def __init__(self, settings: StreamSinkSettings | None = None, /, **values: Any) -> None:
        """``settings`` (the registry passes the validated model) or the same fields as keywords."""
        self.settings = settings = settings_from(StreamSinkSettings, settings, root=self.stream_name, **values)
        self.name = settings.name or self.stream_name
        self.format = settings.format
        self.colour = settings.colour
        self._console = settings.format == "console"
        self._io = BlockingWorker(self.name)

    def _stream(self) -> TextIO:
        stream: TextIO = getattr(sys, self.stream_name)
        return stream

    async def start(self) -> None:
        self.choose_format()
        self._io.start()

    def choose_format(self) -> bool:
        """Decide ``format="auto"`` (console on a terminal, JSON otherwise) and the colour; True for JSON lines.

        Called by :meth:`start`, and by a pipeline delivered at shutdown without ever starting its sinks
        (``fapilog._engine.direct``)."""
        if self.format == "auto":
            try:
                self._console = self._stream().isatty()
            except (AttributeError, ValueError):
                self._console = False
        if self.colour is None:
            self.colour = self._console
        return not self._console

    def console_lines(self, records: Sequence[Mapping[str, Any]]) -> list[str]:
        """The console format of each record, without its newline (indented frames for an exception)."""
        colour = bool(self.colour)
        return [format_console(r, colour=colour) for r in records]

    async def stop(self) -> None:
        await self.flush()
        self._io.stop()

    async def write(self, record: Mapping[str, Any]) -> None:
        await self.write_batch([record])

    async def write_batch(self, records: Sequence[Mapping[str, Any]]) -> None:
        if self._console:
            await self._io.run(self._write_text, "".join(line + "\n" for line in self.console_lines(records)))
        else:
            await self._write_json_lines(json_lines(records))

    @property
    def write_lines(self) -> Callable[[Sequence[bytes]], Awaitable[None]] | None:
        """Writes JSON lines, when the format is JSON; ``None`` for the console format, which needs the records.

        The pipeline looks for it once the sink has started (when ``format="auto"`` has been decided), and
        then buffers lines instead of records for this sink."""
        return None if self._console else self._write_json_lines

    async def _write_json_lines(self, lines: Sequence[bytes]) -> None:
        parts = list(lines)
        parts.append(b"")  # the join then ends with the last line's newline
        await self._io.run(self._write_bytes, b"\n".join(parts))

    async def flush(self) -> None:
        await self._io.run(self._flush)

    def _write_bytes(self, data: bytes) -> None:
        stream = self._stream()
        buffer = getattr(stream, "buffer", None)
        if buffer is not None:
            stream.flush()  # keep order with anything the text layer still holds
            buffer.write(data)
            buffer.flush()
        else:
            stream.write(data.decode("utf-8", "replace"))
            stream.flush()

    def _write_text(self, text: str) -> None:
        stream = self._stream()
        try:
            stream.write(text)
        except UnicodeEncodeError:  # a stream that cannot encode some character (LANG=C): escape those
            encoding = getattr(stream, "encoding", None) or "ascii"
            stream.write(text.encode(encoding, "backslashreplace").decode(encoding))
        stream.flush()

    def _flush(self) -> None:
        self._stream().flush()


class StdoutSink(StreamSink):
    """JSON lines (or console format on a TTY) to standard output."""

    stream_name = "stdout"
    metadata = PluginMetadata(
        name="stdout", version=__version__, kind="sink",
        description="JSON lines, or a coloured console format on a terminal, to standard output.",
        config_model=StreamSinkSettings,
    )


class StderrSink(StreamSink):
    """JSON lines (or console format on a TTY) to standard error."""

    stream_name = "stderr"
    metadata = PluginMetadata(
        name="stderr", version=__version__, kind="sink",
        description="JSON lines, or a coloured console format on a terminal, to standard error.",
        config_model=StreamSinkSettings,
    )
