"""Which folder is a file's project (docs/language.md §10), for the command line and the server.

A project root is the nearest folder upward from a file (or the current folder) that holds one of
:data:`ROOT_MARKERS`. The filesystem root, the home folder and the folders above it are never
project roots found this way: ``~/.claude`` and ``~/.factory`` are the personal configuration
folders, and a ``.git`` in the home folder is a dotfiles repository, not a project — taking any of
them as a root would mean indexing the whole disk or home folder.

A file without a project (no marker up to the home folder) is *loose*: the server indexes a small
folder around it (:func:`loose_root`) with a bounded walk.
"""

from __future__ import annotations

import os
from pathlib import Path

from taskdroid.core.paths import under

__all__ = ["ROOT_MARKERS", "has_marker", "home_folder", "is_broad", "loose_root", "marker_root"]

#: a folder holding one of these is a project root
ROOT_MARKERS = (".taskdroid.toml", ".git", ".factory", ".claude")

#: how many folders up :func:`loose_root` looks for a ``tasks`` folder
_LOOSE_LEVELS = 3


def home_folder() -> str | None:
    """The user's home folder (absolute, normalised), or None when it cannot be told."""
    try:
        return os.path.normpath(os.path.abspath(Path.home()))
    except (RuntimeError, KeyError):
        return None


def _home(home: str | os.PathLike[str] | None) -> str | None:
    if home is None:
        return home_folder()
    return os.path.normpath(os.path.abspath(home))


def is_broad(folder: str | os.PathLike[str], home: str | os.PathLike[str] | None = None) -> bool:
    """The filesystem root (or a drive), the home folder (``home``, default the user's), or a
    folder above it: never a project, never indexed whole."""
    f = os.path.normpath(os.path.abspath(folder))
    if os.path.dirname(f) == f:
        return True
    h = _home(home)
    if h is None:
        return False
    return under(h, f)


def has_marker(folder: str | os.PathLike[str]) -> bool:
    return any(os.path.lexists(os.path.join(folder, m)) for m in ROOT_MARKERS)


def marker_root(
    start: str | os.PathLike[str], home: str | os.PathLike[str] | None = None
) -> str | None:
    """The nearest folder from ``start`` (a folder, included) upward that holds a root marker and
    is not broad (:func:`is_broad`); None when there is none."""
    h = _home(home)
    cur = os.path.normpath(os.path.abspath(start))
    while True:
        if not is_broad(cur, h) and has_marker(cur):
            return cur
        parent = os.path.dirname(cur)
        if parent == cur:
            return None
        cur = parent


def loose_root(
    path: str | os.PathLike[str], home: str | os.PathLike[str] | None = None
) -> str | None:
    """The folder indexed around a file that belongs to no project: the folder holding the
    nearest ``tasks`` folder above the file (at most a few levels up), else the file's folder;
    None when that folder is broad (the file is then analysed on its own)."""
    h = _home(home)
    folder = os.path.dirname(os.path.normpath(os.path.abspath(path)))
    cur = folder
    for _ in range(_LOOSE_LEVELS):
        parent = os.path.dirname(cur)
        if parent == cur:
            break
        if os.path.basename(cur).lower() == "tasks" and not is_broad(parent, h):
            return parent
        cur = parent
    return None if is_broad(folder, h) else folder
