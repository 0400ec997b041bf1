"""The range of fapilog releases a scaffolded plugin declares, and the oldest of them (what its CI tests first)."""

from __future__ import annotations

from fapilog._version import __version__

__all__ = ["core_requirement", "oldest_core"]


def core_requirement(version: str = __version__) -> str:
    """The requirement a plugin built against core ``version`` declares: ``fapilog>=3.2,<4.0`` for 3.4.1.

    The support policy (docs/compatibility.md) asks every plugin release to cover the N-2 window, so the lower
    bound is two minors back (never below ``M.0``) and the upper bound the next major, the one that may break
    plugins. A pre-release core keeps its exact version as the lower bound when the window would start above
    it (``3.0.0.dev1`` sorts below ``3.0``).
    """
    from packaging.version import Version

    current = Version(version)
    lower = f"{current.major}.{max(current.minor - 2, 0)}"
    if Version(lower) > current:
        lower = str(current)
    return f"fapilog>={lower},<{current.major + 1}.0"


def oldest_core(version: str = __version__) -> str:
    """The pin of the oldest core :func:`core_requirement` admits (``fapilog==3.2.*``): what CI tests first."""
    lower = core_requirement(version).split(">=", 1)[1].split(",", 1)[0]
    return f"fapilog=={lower}.*" if lower.count(".") == 1 else f"fapilog=={lower}"
