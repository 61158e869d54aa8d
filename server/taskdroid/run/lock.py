"""Run locks: one run per task across taskdroid processes (the editor's server and a
terminal), and status edits of one task file one at a time (:func:`edit_lock`). Both are lock
files in the log folder, created exclusively; a lock whose process is gone is stale and taken
over."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import socket
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

from taskdroid.core.document import normalize_id
from taskdroid.run.errors import RunError, safe_name
from taskdroid.run.runspec import RunSpec

__all__ = ["EDIT_LOCK_WAIT", "TaskLock", "edit_lock", "hold_edit_lock", "pid_alive"]

log = logging.getLogger("taskdroid.runner")

#: seconds a run waits for another to finish editing the same task file
EDIT_LOCK_WAIT = 10.0


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


class TaskLock:
    """A lock file per task (``<stem>-<id>-<hash>.lock`` in the log folder), so that two
    processes — the editor's server and a terminal — never run the same task at once. A lock
    whose process is gone (same host) is stale and taken over."""

    def __init__(self, path: Path, run_id: str) -> None:
        self.path = path
        self.run_id = run_id

    @staticmethod
    def path_for(folder: Path, task_path: str, task_id: str) -> Path:
        digest = hashlib.sha1(
            f"{os.path.realpath(task_path)}#{normalize_id(task_id)}".encode()
        ).hexdigest()[:10]
        stem = safe_name(Path(task_path).stem, "tasks")
        return folder / f"{stem}-{safe_name(task_id, 'task')}-{digest}.lock"

    @classmethod
    def acquire(cls, folder: Path, task_path: str, task_id: str, run_id: str) -> TaskLock:
        path = cls.path_for(folder, task_path, task_id)
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "runId": run_id,
            "started": datetime.now().isoformat(timespec="seconds"),
        }
        for _ in range(3):
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                holder = cls._holder(path)
                if holder is None:
                    with contextlib.suppress(OSError):
                        path.unlink()
                    continue
                raise RunError(
                    f"task {task_id} is already running in another taskdroid process (pid "
                    f"{holder.get('pid')}, since {holder.get('started', '?')}); wait for it or "
                    "cancel it there",
                    "busy",
                ) from None
            except OSError as e:
                raise RunError(
                    f"cannot create the run lock {path}: {e.strerror or e}", "path"
                ) from None
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(info, fh)
            return cls(path, run_id)
        raise RunError(f"cannot take the run lock {path}", "busy")

    @staticmethod
    def _holder(path: Path) -> dict | None:
        """The live holder of an existing lock, or None when the lock is stale."""
        if path.is_symlink() or not path.is_file():
            return None  # not a lock taskdroid wrote (a link or pipe planted there): replaced
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            age = time.time() - path.stat().st_mtime
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {"pid": "?"} if _young(path) else None
        if not isinstance(data, dict):
            return None
        pid = data.get("pid")
        if data.get("host") == socket.gethostname():
            return data if isinstance(pid, int) and pid_alive(pid) else None
        return data if age < 24 * 3600 else None

    @classmethod
    def holder(cls, folder: Path, task_path: str, task_id: str) -> dict | None:
        """The live holder of the run lock of ``task_id`` in ``task_path`` (whatever name the run
        gave the file: a link and its target share the lock's hash), or None."""
        digest = cls.path_for(folder, task_path, task_id).name.rsplit("-", 1)[-1]
        with contextlib.suppress(OSError):
            for lock in folder.glob(f"*-{digest}"):
                found = cls._holder(lock)
                if found is not None:
                    return found
        return None

    def release(self) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(data, dict) and data.get("runId") == self.run_id:
            with contextlib.suppress(OSError):
                self.path.unlink()


def _young(path: Path) -> bool:
    """A lock file being written right now (unreadable for a moment) is young."""
    try:
        return time.time() - path.stat().st_mtime < 10
    except OSError:
        return False


#: the key of the lock file that serialises status edits of one task file (never a task ID)
_EDIT_KEY = "edits"


@contextlib.asynccontextmanager
async def edit_lock(spec: RunSpec, run_id: str) -> AsyncIterator[None]:
    """Status edits of one task file, one at a time among taskdroid processes and the runs of one
    process: a lock file next to the logs (a :class:`TaskLock` on the file rather than on a
    task), waited for without blocking the event loop. Best effort: when it cannot be had (a
    folder that cannot be written, :data:`EDIT_LOCK_WAIT` seconds passed) the edit goes ahead
    without it — the writers still refuse to replace a file that changed since they read it."""
    lock = None
    deadline = time.monotonic() + EDIT_LOCK_WAIT
    while True:
        try:
            lock = TaskLock.acquire(spec.log_dir, spec.task_path, _EDIT_KEY, run_id)
            break
        except RunError as e:
            if e.kind != "busy" or time.monotonic() > deadline:
                log.warning("%s: status edit without the edit lock (%s)", spec.label, e)
                break
            await asyncio.sleep(0.01)
    try:
        yield
    finally:
        if lock is not None:
            lock.release()


@contextlib.contextmanager
def hold_edit_lock(folder: Path, task_path: str, owner: str, wait: float = EDIT_LOCK_WAIT):
    """:func:`edit_lock` for a caller without an event loop (the MCP server's worker thread):
    the same lock file, waited for up to ``wait`` seconds. Yields True when it is held, False
    when it could not be had (the edit goes ahead: the writers still refuse to replace a file
    that changed since they read it)."""
    lock = None
    deadline = time.monotonic() + wait
    while True:
        try:
            lock = TaskLock.acquire(folder, task_path, _EDIT_KEY, owner)
            break
        except RunError as e:
            if e.kind != "busy" or time.monotonic() > deadline:
                log.warning("%s: status edit without the edit lock (%s)", task_path, e)
                break
            time.sleep(0.01)
    try:
        yield lock is not None
    finally:
        if lock is not None:
            lock.release()
