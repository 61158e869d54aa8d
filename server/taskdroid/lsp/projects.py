"""Which project a file belongs to, whatever root the client sent (docs/language.md §10).

The client's root is a hint, often a poor one: none, the current directory, ``/``, the home folder,
or a folder inside the project (Neovim started next to the task file; Emacs without ``.git`` takes
the file's folder). The server decides by itself:

* **A workspace folder** that is a project (holds ``.taskdroid.toml``, ``.git``, ``.factory`` or
  ``.claude``) is indexed at start-up, as is the project above a folder without a marker. A
  folder that is broad (``/``, the home folder or above it) is never indexed: its files are
  handled one by one as they are opened. A folder in no project is indexed with a bounded walk.
* **An opened file** outside every project gets its own: the nearest folder upward with a marker
  (:func:`taskdroid.core.roots.marker_root`, never ``/`` nor the home folder), indexed before its
  first analysis; a file in no project at all gets a small loose project around it
  (:func:`taskdroid.core.roots.loose_root`, a bounded walk). Several projects live side by side.

This module plans; :mod:`taskdroid.lsp.documents` creates and indexes the projects it names.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pygls.uris import from_fs_path

from taskdroid.core import roots
from taskdroid.core.paths import under
from taskdroid.lsp.server import TaskdroidServer

log = logging.getLogger("taskdroid.lsp.projects")

#: folders the walk of a folder without a project marker visits at most
MAX_LOOSE_DIRS = 300


@dataclass(frozen=True, slots=True)
class Planned:
    """A project to create: its root, the uri to ask the client's settings for, and whether
    its walk is bounded (no project marker: :data:`MAX_LOOSE_DIRS`)."""

    root: str
    uri: str
    bounded: bool


def plan_folder(path: str, uri: str | None = None, home: str | None = None) -> Planned | None:
    """The project a workspace folder stands for (None: a broad folder, indexed lazily)."""
    if roots.is_broad(path, home):
        log.info("%s is not indexed as a whole: its files are handled as they are opened", path)
        return None
    found = roots.marker_root(path, home)
    if found is None:
        return Planned(path, uri or _uri(path), bounded=True)
    return Planned(found, uri if uri and found == path else _uri(found), bounded=False)


def plan_folders(folders: list[tuple[str, str]], home: str | None = None) -> list[Planned]:
    """The projects of the client's workspace folders ``(uri, path)``, each root once."""
    out: dict[str, Planned] = {}
    for uri, path in folders:
        planned = plan_folder(path, uri, home)
        if planned is not None and planned.root not in out:
            out[planned.root] = planned
    return list(out.values())


def plan_file(server: TaskdroidServer, path: str, home: str | None = None) -> Planned | None:
    """The project to create for an opened file: None when the file is inside a project already,
    or in no project and in a broad folder (it is then analysed on its own)."""
    if any(p.root is not None and p.contains(path) for p in server.projects):
        return None
    folder = os.path.dirname(path)
    found = roots.marker_root(folder, home)
    if found is not None:
        return Planned(found, _uri(found), bounded=False)
    loose = roots.loose_root(path, home)
    if loose is None:
        return None
    return Planned(loose, _uri(loose), bounded=True)


Creator = Callable[[Planned], Awaitable[None]]


class Openings:
    """Projects being created for opened files, by root: a second file of the same project
    waits for the first one's indexing instead of starting another."""

    def __init__(self) -> None:
        self.pending: dict[str, asyncio.Future[None]] = {}

    async def ensure(self, server: TaskdroidServer, path: str, create: Creator) -> None:
        """Make sure the project of ``path`` exists and is indexed."""
        for root, fut in list(self.pending.items()):
            if under(path, root):
                with contextlib.suppress(Exception):  # (logged by _done)
                    await asyncio.shield(fut)  # then the file is usually inside it
        planned = plan_file(server, path)
        if planned is None:
            return
        started = self.pending.get(planned.root)
        if started is None:
            started = asyncio.ensure_future(create(planned))
            self.pending[planned.root] = started
            started.add_done_callback(functools.partial(self._done, planned.root))
        await asyncio.shield(started)

    def covers(self, path: str) -> bool:
        """Is the project of ``path`` being created (its analysis must wait)?"""
        return any(under(path, root) for root in self.pending)

    def _done(self, root: str, fut: asyncio.Future[None]) -> None:
        if self.pending.get(root) is fut:
            del self.pending[root]
        if not fut.cancelled() and fut.exception() is not None:
            log.error("cannot open the project %s", root, exc_info=fut.exception())


def _uri(path: str) -> str:
    return from_fs_path(path) or ("file://" + path)
