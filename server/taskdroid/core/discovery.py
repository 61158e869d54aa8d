"""Finding task and droid files in a workspace (docs/language.md §1) and the workspace root (docs/language.md §10)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from taskdroid.core.globs import compile_globs, normalize_relpath
from taskdroid.core.requirements import requirements_flavor
from taskdroid.core.roots import ROOT_MARKERS, marker_root
from taskdroid.core.settings import Settings

__all__ = [
    "ROOT_MARKERS",
    "SKIPPED_DIRS",
    "DiscoveryResult",
    "FileKind",
    "classify_path",
    "discover",
    "file_names",
    "find_root",
    "is_folder_doc",
    "personal_droid_files",
]

FileKind = Literal["droid", "task", "requirements"]

#: folders never searched, at any depth (virtual environments are also recognised by pyvenv.cfg)
SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "__pycache__",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
    }
)


@dataclass(slots=True)
class DiscoveryResult:
    """Absolute paths (under the root as given, symlinks not resolved), sorted."""

    task_files: list[Path] = field(default_factory=list)
    droid_files: list[Path] = field(default_factory=list)
    #: Kiro ``requirements.md`` / spec-kit ``spec.md`` (docs/language.md §13)
    requirement_files: list[Path] = field(default_factory=list)
    #: the walk stopped at ``max_dirs`` folders: the lists hold what was found until then
    truncated: bool = False


#: documentation files that live in droid folders and are not droids (docs/language.md §A5)
FOLDER_DOCS = frozenset({"readme.md", "agents.md", "claude.md", "index.md"})


def is_folder_doc(path: str) -> bool:
    """``README.md``, ``AGENTS.md``, ``CLAUDE.md`` or ``index.md`` (any case), or a file whose
    name starts with ``_``: a folder's documentation, not a droid file, even inside
    ``.claude/agents``."""
    name = re.split(r"[\\/]", path)[-1]
    # also `_`-prefixed files (`_template.md`, `_Agent.metadata.reference.md`): the usual way
    # to keep a reference page among the agents (docs/diagnostics.md, deliberate deviations)
    return name.lower() in FOLDER_DOCS or name.startswith("_")


def classify_path(relpath: str, settings: Settings) -> FileKind | None:
    """The kind of a file by its path relative to the workspace root (droid globs first).

    ``exclude`` is not consulted: a file the user names explicitly is classified all the same.
    """
    path = normalize_relpath(relpath.replace(os.sep, "/"))
    droid_rx = compile_globs(tuple(settings.droidFiles))
    if droid_rx is not None and droid_rx.match(path) and not is_folder_doc(path):
        return "droid"
    if _is_requirements(path):
        return "requirements"
    task_rx = compile_globs(tuple(settings.taskFiles))
    if task_rx is not None and task_rx.match(path):
        return "task"
    return None


def discover(root: Path, settings: Settings, *, max_dirs: int | None = None) -> DiscoveryResult:
    """Every task and droid file under ``root``, by the globs of ``settings``.

    The walk is iterative; it skips :data:`SKIPPED_DIRS`, virtual environments (any folder with a
    ``pyvenv.cfg``), unreadable folders and whatever ``settings.exclude`` matches (a matched folder
    excludes all below it). Hidden folders are searched. A symlinked folder is followed only when
    it resolves inside the root and that folder has not been walked already (so loops end and
    nothing is listed twice); symlinked files are listed like regular ones.

    ``max_dirs`` bounds the walk (the server's walk around a file outside every project): folders
    are then walked breadth first, nearest first, and the walk stops after that many.
    """
    walker = _Walker(Path(root), settings, max_dirs)
    walker.run()
    return DiscoveryResult(
        sorted(walker.tasks), sorted(walker.droids), sorted(walker.reqs), walker.truncated
    )


class _Walker:
    def __init__(self, root: Path, settings: Settings, max_dirs: int | None = None) -> None:
        self.root = root
        self.max_dirs = max_dirs
        self.truncated = False
        self.droid_rx = compile_globs(tuple(settings.droidFiles))
        self.task_rx = compile_globs(tuple(settings.taskFiles))
        self.exclude_rx = compile_globs(tuple(settings.exclude))
        self.tasks: list[Path] = []
        self.droids: list[Path] = []
        self.reqs: list[Path] = []
        self.visited: set[tuple[int, int]] = set()
        self.real_root: str | None = None
        #: file names seen, when asked for (:func:`file_names`)
        self.names: set[str] | None = None

    def run(self) -> None:
        try:
            self.real_root = os.path.realpath(self.root)
        except OSError:
            return
        stack: list[tuple[str, str]] = [(os.fspath(self.root), "")]
        linked: list[tuple[str, str]] = []  # symlinked folders, walked after all real ones
        walked = 0
        bfs = self.max_dirs is not None
        while stack or linked:
            if not stack:
                stack.append(linked.pop())
            path, rel = stack.pop(0) if bfs else stack.pop()
            if not self._first_visit(path):
                continue
            if self.max_dirs is not None and walked >= self.max_dirs:
                self.truncated = True
                return
            walked += 1
            self._scan(path, rel, stack, linked)

    def _first_visit(self, path: str) -> bool:
        try:
            st = os.stat(path)
        except OSError:
            return False
        key = (st.st_dev, st.st_ino)
        if key in self.visited:
            return False
        self.visited.add(key)
        return True

    def _scan(
        self, path: str, rel: str, stack: list[tuple[str, str]], linked: list[tuple[str, str]]
    ) -> None:
        try:
            with os.scandir(path) as it:
                entries = list(it)
        except OSError:
            return
        if rel and any(e.name == "pyvenv.cfg" for e in entries):
            return  # a virtual environment
        for entry in entries:
            child = f"{rel}/{entry.name}" if rel else entry.name
            if self.exclude_rx is not None and self.exclude_rx.match(child):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in SKIPPED_DIRS:
                        stack.append((entry.path, child))
                elif entry.is_symlink() and entry.is_dir():
                    if entry.name not in SKIPPED_DIRS and self._inside_root(entry.path):
                        linked.append((entry.path, child))
                elif entry.is_file():
                    self._classify(entry.path, child)
            except OSError:
                continue

    def _inside_root(self, path: str) -> bool:
        assert self.real_root is not None
        try:
            target = os.path.realpath(path)
        except OSError:
            return False
        return target == self.real_root or target.startswith(self.real_root.rstrip(os.sep) + os.sep)

    def _classify(self, path: str, rel: str) -> None:
        if self.names is not None:
            self.names.add(rel.rsplit("/", 1)[-1])
        if self.droid_rx is not None and self.droid_rx.match(rel) and not is_folder_doc(rel):
            self.droids.append(Path(path))
        elif _is_requirements(rel) or _is_requirements(path.replace(os.sep, "/")):
            self.reqs.append(Path(path))
        elif self.task_rx is not None and self.task_rx.match(rel):
            self.tasks.append(Path(path))


def _is_requirements(relpath: str) -> bool:
    if not relpath.endswith(("requirements.md", "spec.md")):
        return False
    return requirements_flavor(relpath) is not None


def file_names(root: Path, settings: Settings, *, max_dirs: int | None = None) -> frozenset[str]:
    """The names of every file under ``root`` (outside the skipped and excluded folders): a
    bare file name in a task's Files exists when a file of that name exists anywhere (docs/language.md
    §A8). ``max_dirs`` bounds the walk as in :func:`discover`."""
    walker = _Walker(root, settings, max_dirs)
    walker.names = set()
    walker.run()
    return frozenset(walker.names)


def personal_droid_files(settings: Settings, root: Path | None = None) -> list[tuple[Path, str]]:
    """The ``*.md`` files directly in each of ``settings.droidPaths``, in order.

    Each file is paired with its folder (``~`` and environment variables expanded; a relative
    folder is taken relative to ``root``, else to the current directory). Missing or unreadable
    folders are skipped, and a folder listed twice is read once.
    """
    out: list[tuple[Path, str]] = []
    seen: set[str] = set()
    for configured in settings.droidPaths:
        folder = _expand_folder(configured, root)
        if folder is None:
            continue
        real = os.path.realpath(folder)
        if real in seen:
            continue
        seen.add(real)
        out.extend((f, str(folder)) for f in _md_files(folder))
    return out


def _expand_folder(configured: str, root: Path | None) -> Path | None:
    text = os.path.expandvars(os.path.expanduser(configured.strip()))
    if not text:
        return None
    folder = Path(text)
    if not folder.is_absolute():
        folder = (root or Path.cwd()) / folder
    return folder


def _md_files(folder: Path) -> list[Path]:
    try:
        with os.scandir(folder) as it:
            names = sorted(
                e.name
                for e in it
                if e.name.endswith(".md") and not is_folder_doc(e.name) and _is_file(e)
            )
    except OSError:
        return []
    return [folder / n for n in names]


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


def find_root(start: Path, *, home: Path | None = None) -> Path:
    """The nearest folder from ``start`` upward holding one of :data:`ROOT_MARKERS`, else ``start``
    (:func:`taskdroid.core.roots.marker_root`: the filesystem root, the home folder — ``home``,
    default ``Path.home()`` — and the folders above it never count, so ``~/.claude``, the personal
    configuration, does not make the home folder a project).

    ``start`` may be a file, in which case the search begins at its folder.
    """
    start = Path(os.path.abspath(start))
    if start.is_file():
        start = start.parent
    found = marker_root(start, home)
    return Path(found) if found is not None else start
