"""Log files of runs: the log folder (``runner.logDir``), one new log file per run
``<logDir>/<task-file-stem>-<id>-<timestamp>.log`` (never an existing file or a planted link),
and :class:`LogWriter`, which writes a run's header, the droid's output (bounded by
:data:`MAX_LOG_BYTES`) and taskdroid's own footer lines."""

from __future__ import annotations

import contextlib
import json
import os
from datetime import datetime
from pathlib import Path
from typing import IO

from taskdroid.run.errors import RunError, inside, safe_name
from taskdroid.run.runspec import RunSpec

__all__ = ["MAX_LOG_BYTES", "LogWriter", "find_log", "open_log", "resolve_log_dir"]

#: the log file stops growing here (the output is still read, so the droid never blocks)
MAX_LOG_BYTES = 64 * 1024 * 1024


def resolve_log_dir(workspace: str, log_dir: str) -> Path:
    """``runner.logDir``: relative to the workspace (and then it must stay inside it, symbolic
    links resolved) or absolute (``~`` expanded). Created when missing; a folder created inside
    the workspace gets a ``.gitignore`` so logs are not committed."""
    p = Path(os.path.expanduser(log_dir))
    relative = not p.is_absolute()
    if relative:
        p = Path(workspace) / p
        if not inside(os.path.realpath(p), os.path.realpath(workspace)):
            raise RunError(
                f"runner.logDir `{log_dir}` leads outside the workspace (through `..` or a "
                "symbolic link); use a folder inside it or an absolute path",
                "path",
            )
    existed = p.is_dir()
    try:
        p.mkdir(parents=True, exist_ok=True)
        if relative and not existed:
            with contextlib.suppress(OSError):
                (p / ".gitignore").write_text("*\n", encoding="utf-8")
    except OSError as e:
        raise RunError(f"runner.logDir: cannot create {p}: {e.strerror or e}", "path") from None
    return p


def find_log(workspace: str, shown: str, log_dir: str | None = None) -> Path:
    """The log file a ``**Last Run**`` names (docs/language.md §11): a path relative to the
    workspace, which must stay inside it (symbolic links resolved), or an absolute path inside
    an absolute ``runner.logDir`` (a user setting, never the project's). Raises
    :class:`RunError` saying why not (outside, missing, not a file); nothing is read here."""
    root = os.path.realpath(workspace)
    shown = shown.strip()
    if not shown:
        raise RunError("the run record names no log file", "path")
    p = Path(shown)
    if p.is_absolute():
        allowed = os.path.expanduser(log_dir) if log_dir else ""
        if not allowed or not os.path.isabs(allowed):
            raise RunError(f"the log `{shown}` is outside the workspace", "path")
        base = os.path.realpath(allowed)
        real = os.path.realpath(p)
    else:
        base = root
        real = os.path.realpath(os.path.join(root, p))
    if not inside(real, base) or real == base:
        raise RunError(f"the log `{shown}` is outside the workspace", "path")
    if not os.path.exists(real):
        raise RunError(f"the log file `{shown}` does not exist (any more)", "path")
    if not os.path.isfile(real):
        raise RunError(f"the log `{shown}` is not a file", "path")
    return Path(real)


def open_log(folder: Path, stem: str, task_id: str, when: datetime) -> tuple[Path, IO[bytes]]:
    """A new log file ``<stem>-<id>-<timestamp>.log`` (never an existing file or link)."""
    base = f"{safe_name(stem, 'tasks')}-{safe_name(task_id, 'task')}-{when:%Y%m%d-%H%M%S}"
    for n in range(1, 1000):
        path = folder / (f"{base}.log" if n == 1 else f"{base}-{n}.log")
        try:
            return path, open(path, "xb")  # closed by the run
        except FileExistsError:
            continue
    raise OSError(f"too many log files named {base}*.log")


def size_text(n: int) -> str:
    mib = 1024 * 1024
    return f"{n // mib} MiB" if n % mib == 0 else f"{n // 1024} KiB"


class LogWriter:
    """The log file of one run (none until :meth:`open`; a run goes on without a log when it
    cannot be created or the disk fills up)."""

    def __init__(self) -> None:
        self.path: Path | None = None
        self._fh: IO[bytes] | None = None
        self._bytes = 0
        self._full = False

    @property
    def accepting(self) -> bool:
        """Output written now would reach the file."""
        return self._fh is not None and not self._full

    def open(self, spec: RunSpec) -> None:
        """Create the log file and write the run's header. Raises ``OSError``."""
        when = datetime.now()
        self.path, self._fh = open_log(spec.log_dir, Path(spec.task_path).stem, spec.task_id, when)
        shown = [a if a != spec.prompt else "<prompt>" for a in spec.argv]
        head = [
            f"# taskdroid run {spec.run_id}",
            f"# task: {spec.task_file} {spec.task_id} {spec.title}",
            f"# droid: {spec.droid}",
            *(
                [f"# model: {spec.model or '(default)'}, effort: {spec.effort or '(default)'}"]
                if spec.model or spec.effort
                else []
            ),
            f"# command: {json.dumps(shown, ensure_ascii=False)}",
            f"# cwd: {spec.workspace}",
            f"# started: {when.isoformat(timespec='seconds')}",
            "# prompt:",
            *(f"#   {line}" for line in spec.prompt.splitlines()),
            "",
        ]
        self.text("\n".join(head))

    def text(self, text: str) -> None:
        self.write(text.encode("utf-8", "replace"))

    def write(self, data: bytes) -> None:
        """Append to the log; past :data:`MAX_LOG_BYTES` the log ends (at a line end) with a
        note, and the output is still read."""
        fh = self._fh
        if fh is None or self._full:
            return
        try:
            room = MAX_LOG_BYTES - self._bytes
            if len(data) > room:
                head = data[:room]
                head = head[: head.rfind(b"\n") + 1]
                fh.write(head)
                self._bytes += len(head)
                fh.write(
                    b"\n# taskdroid: log cut at %s; the output was still read\n"
                    % size_text(MAX_LOG_BYTES).encode()
                )
                self._full = True
                return
            fh.write(data)
            self._bytes += len(data)
        except OSError:  # the disk is full, say: the run goes on without its log
            self._full = True

    def footer(self, text: str) -> None:
        """A line of taskdroid's own, written even after the log was cut."""
        if self._fh is not None:
            with contextlib.suppress(OSError):
                self._fh.write(text.encode("utf-8", "replace"))
                self._fh.flush()  # complete on disk before the run record names it

    def flush(self) -> None:
        if self.accepting:
            with contextlib.suppress(OSError):
                self._fh.flush()  # type: ignore[union-attr]

    def close(self) -> None:
        if self._fh is not None:
            with contextlib.suppress(OSError):
                self._fh.close()
            self._fh = None

    def display(self, workspace: str) -> str:
        """The log's path for people: relative to the workspace when inside it."""
        if self.path is None:
            return ""
        p = str(self.path)
        if inside(p, workspace):
            return os.path.relpath(p, workspace).replace(os.sep, "/")
        return p
