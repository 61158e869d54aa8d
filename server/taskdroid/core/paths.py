"""Path helpers shared by the command line, the language server and the runner."""

from __future__ import annotations

import os

__all__ = ["display_path", "is_inside", "norm"]


def display_path(path: str) -> str:
    """``path`` relative to the current directory when inside it, with POSIX separators."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        rel = path
    if rel.startswith(".."):
        rel = path
    return rel.replace(os.sep, "/")


def is_inside(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> bool:
    """True when ``path`` is ``root`` or lies below it, after resolving symbolic links and
    ``..`` on both (so ``root/../x`` and a link pointing out of ``root`` are outside)."""
    real = os.path.realpath(path)
    top = os.path.realpath(root)
    try:
        return os.path.commonpath([real, top]) == top
    except ValueError:  # different drives, or one relative and one absolute
        return False


def under(path: str, root: str) -> bool:
    """``path`` is ``root`` or below it, compared as written (no links resolved: use
    :func:`is_inside` where a link could lead out)."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def norm(path: str | os.PathLike[str]) -> str:
    """An absolute, normalised path (``..`` and ``.`` folded, links kept): the index's keys."""
    return os.path.normpath(os.path.abspath(os.fspath(path)))
