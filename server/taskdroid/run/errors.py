"""The one exception of the run package, and small helpers every module of it uses."""

from __future__ import annotations

import re

from taskdroid.core.paths import under

__all__ = ["RunError", "inside", "safe_name"]


class RunError(Exception):
    """A run that cannot start; ``str()`` is the message for the user. ``kind`` is one of
    ``not-configured``, ``runner``, ``task``, ``droid``, ``busy``, ``dependencies``,
    ``completed``, ``path``, ``verify``."""

    def __init__(self, message: str, kind: str = "task") -> None:
        super().__init__(message)
        self.kind = kind


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(text: str, default: str) -> str:
    """``text`` fit to be part of a file name: letters, digits and ``._-`` only."""
    out = _UNSAFE.sub("_", text).strip("._-")[:60]
    return out or default


#: ``path`` is ``root`` or below it (both as given: resolve links first where it matters)
inside = under
