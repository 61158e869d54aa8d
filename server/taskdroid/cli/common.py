"""What every ``taskdroid`` subcommand shares: exit codes, the usage error, the workspace root and
index of a command, and printing that survives any terminal encoding."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from taskdroid.core.files import ReadError, read_text
from taskdroid.core.paths import display_path, norm

if TYPE_CHECKING:
    pass

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    pass


# -- check -----------------------------------------------------------------------------------------


def resolve_root(arg: str | None) -> Path:
    from taskdroid.core.discovery import find_root

    if arg:
        root = Path(arg)
        if not root.is_dir():
            raise UsageError(f"--root {arg}: not a folder")
        return root.resolve()
    return find_root(Path.cwd()).resolve()


def load_workspace_settings(root: Path, args: argparse.Namespace):
    from taskdroid.core.config import load_settings

    cfg = Path(args.config) if getattr(args, "config", None) else None
    if cfg is not None and not cfg.is_file():
        raise UsageError(f"--config {cfg}: no such file")
    loaded = load_settings(root, config_file=cfg, runner_override=getattr(args, "runner", None))
    for problem in loaded.problems:
        print(f"taskdroid: {problem}", file=sys.stderr)
    return loaded


def _found_kinds(found) -> tuple:
    """(kind, files) of a discovery result: task, droid and requirements files (docs/language.md §13)."""
    return (
        ("task", found.task_files),
        ("droid", found.droid_files),
        ("requirements", found.requirement_files),
    )


def build_workspace(root: Path, args: argparse.Namespace, *, personal: bool = True):
    """Index every task and droid file under ``root`` (for cross-file resolution)."""
    from taskdroid.core.discovery import discover
    from taskdroid.core.workspace import Workspace

    loaded = load_workspace_settings(root, args)
    ws = Workspace(root, loaded.settings, personal=personal)
    if loaded.project_file is not None and loaded.project_diagnostics:
        ws.extra_diagnostics[str(Path(loaded.project_file).resolve())] = list(
            loaded.project_diagnostics
        )
    found = discover(root, loaded.settings)
    problems: dict[str, str] = {}
    for kind, files in _found_kinds(found):
        for f in files:
            try:
                ws.set_text(str(f), read_text(f), kind)
            except ReadError as e:
                problems[os.path.normpath(os.path.abspath(f))] = str(e)
    return ws, problems


def _say(line: str) -> None:
    """Print a line even where stdout cannot encode ``→`` or emoji."""
    try:
        print(line)
    except UnicodeEncodeError:
        enc = sys.stdout.encoding or "ascii"
        print(line.encode(enc, "replace").decode(enc))


def _write_out(text: str) -> None:
    """Write ``text`` to stdout as UTF-8 bytes, line endings as they are (a diff of a CRLF file
    keeps its ``\\r``)."""
    buf = getattr(sys.stdout, "buffer", None)
    if buf is None:
        sys.stdout.write(text)
        return
    sys.stdout.flush()
    buf.write(text.encode("utf-8"))
    buf.flush()


def _write_text(text: str) -> None:
    """Write text even where stdout cannot encode ``→`` or emoji."""
    try:
        sys.stdout.write(text)
    except UnicodeEncodeError:
        enc = sys.stdout.encoding or "ascii"
        sys.stdout.write(text.encode(enc, "replace").decode(enc))


def _task_targets(
    ws, raw_paths: list[str], problems: dict[str, str], io_errors: list[str] | None = None
) -> list[str] | None:
    """The task files named by PATH arguments (files, or folders searched with the globs), added
    to the workspace when outside its index; None without arguments (every indexed file).
    Files that cannot be read are reported on stderr (and their paths added to ``io_errors``)."""
    if io_errors is None:
        io_errors = []
    from taskdroid.core.discovery import discover

    if not raw_paths:
        for q, why in sorted(problems.items()):
            print(f"taskdroid: {display_path(q)}: {why}", file=sys.stderr)
            io_errors.append(q)
        return None
    targets: list[str] = []
    missing = []

    def add(q: str, f) -> None:
        if q not in ws.task_docs:
            try:
                ws.set_task_text(q, read_text(f))
            except ReadError as e:
                print(f"taskdroid: {display_path(q)}: {e}", file=sys.stderr)
                io_errors.append(q)
                return
        targets.append(q)

    for raw in raw_paths:
        p = Path(raw)
        if p.is_dir():
            ap = norm(p)
            prefix = ap + os.sep
            targets.extend(q for q in sorted(ws.task_docs) if q.startswith(prefix))
            for q in sorted(problems):
                if q.startswith(prefix):
                    print(f"taskdroid: {display_path(q)}: {problems[q]}", file=sys.stderr)
                    io_errors.append(q)
            for f in discover(p, ws.settings).task_files:
                q = norm(f)
                if q not in problems:
                    add(q, f)
        elif p.is_file():
            q = norm(p)
            if q in problems:
                print(f"taskdroid: {display_path(q)}: {problems[q]}", file=sys.stderr)
                io_errors.append(q)
                continue
            add(q, p)
        else:
            missing.append(raw)
    if missing:
        raise UsageError(f"{missing[0]}: no such file or folder")
    return list(dict.fromkeys(targets))
