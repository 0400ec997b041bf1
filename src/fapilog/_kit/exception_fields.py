"""Structured exception data: one JSON-friendly field instead of a multi-line traceback.

Frames carry file, line and function only — never frame locals, which is where secrets hide. The frame
list keeps the innermost ``max_frames`` (where the error happened) and says how many it left out; causes and
contexts are followed up to ``max_chain`` links.
"""

from __future__ import annotations

from typing import Any

__all__ = ["structure_exception"]


def _message(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception as inner:  # noqa: BLE001 - a broken __str__ must not cost the event
        return f"<unprintable {type(exc).__name__}: {type(inner).__name__}>"


def _type_name(exc: BaseException) -> str:
    cls = type(exc)
    module = cls.__module__
    return cls.__qualname__ if module in ("builtins", "__main__") else f"{module}.{cls.__qualname__}"


def structure_exception(
    exc: BaseException, *, max_frames: int = 50, max_chain: int = 5
) -> dict[str, Any]:
    """``exc`` as ``{"type", "message", "frames", "truncated_frames", "cause"?, "context"?}``."""
    seen: set[int] = set()
    return _structure(exc, max_frames, max_chain, seen)


def _structure(exc: BaseException, max_frames: int, depth: int, seen: set[int]) -> dict[str, Any]:
    import traceback  # here: a process that never logs an exception never imports it

    seen.add(id(exc))
    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ is not None else []
    kept = frames[-max_frames:] if max_frames > 0 else []
    data: dict[str, Any] = {
        "type": _type_name(exc),
        "message": _message(exc),
        "frames": [{"file": f.filename, "line": f.lineno, "function": f.name} for f in kept],
        "truncated_frames": len(frames) - len(kept),
    }
    if depth > 0:
        if exc.__cause__ is not None and id(exc.__cause__) not in seen:
            data["cause"] = _structure(exc.__cause__, max_frames, depth - 1, seen)
        elif (
            exc.__context__ is not None
            and not exc.__suppress_context__
            and id(exc.__context__) not in seen
        ):
            data["context"] = _structure(exc.__context__, max_frames, depth - 1, seen)
    return data
