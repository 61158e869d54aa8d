"""Verified completion (docs/language.md §11): what a run checks after its droid exits 0 without
blocking the task — even when the droid marked it ``[x]`` itself.

:class:`Verifier` (one per run) does, in order:

* ``runner.requireChanges``: :meth:`Verifier.snapshot` hashes the content of the task's Files
  entries before the droid starts; after it, a run where none changed ends blocked with
  ``**Error**: no file listed in Files changed``;
* ``runner.verify``: the task's Verify command (read when the run was prepared, so the droid
  cannot change what verifies it) is started like the droid — no shell, in the workspace, its own
  process group, marked with the run ID, supervised by the run's
  :class:`~taskdroid.run.supervise.Supervisor` (cancel and timeout stop it as they stop a droid) —
  with the time left of ``runner.timeoutSeconds``; its output (stderr merged into stdout) goes to
  the run's log and progress. Exit 0 ⇒ the task completes; else it ends blocked with
  ``**Error**: verify failed: exit N: <last line of its output>``;
* a task with a Verify field and ``runner.verify`` off: the run says
  :data:`~taskdroid.core.verification.VERIFY_OFF_NOTE` (progress and the outcome message) and the
  outcome is decided as in §7.

The program of a Verify command is found by :func:`resolve_verify_program`: unlike the runner's
(``run/spec.py``), it comes from the repository, which the user trusts by enabling
``runner.verify``; so a program inside the workspace is allowed (``./scripts/check.sh``, ``pytest``
from the project's virtual environment on ``PATH``), but only as the command says: a name is
looked up on the absolute entries of ``PATH`` (never the current directory), a relative path
(with a ``/``) is taken from the workspace folder and must stay inside it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import shutil
import stat
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from taskdroid.core.model import Status
from taskdroid.core.verification import VERIFY_OFF_NOTE, VerifyCommand
from taskdroid.run.errors import RunError, inside
from taskdroid.run.hooks import RunHooks
from taskdroid.run.logfile import LogWriter
from taskdroid.run.output import ProgressReporter, clean_line, drain, short
from taskdroid.run.record import OutcomeRecorder, format_duration
from taskdroid.run.runspec import RunSpec
from taskdroid.run.spec import search_path
from taskdroid.run.supervise import Supervisor

__all__ = ["NO_CHANGE_ERROR", "Verdict", "Verifier", "resolve_verify_program", "snapshot_files"]

log = logging.getLogger("taskdroid.runner")

NO_CHANGE_ERROR = "no file listed in Files changed"
#: a file larger than this is compared by size and modification time, not content
MAX_HASH_BYTES = 256 * 1024 * 1024
#: files looked at below a folder named in Files
MAX_FOLDER_FILES = 2000
_READ_CHUNK = 64 * 1024
#: a line of the Verify command's output longer than this (bytes) is cut in the log
_MAX_LINE = 64 * 1024


@dataclass(slots=True)
class Verdict:
    """What the checks after the droid decided."""

    #: the **Error** of a failed check (None: passed, or nothing to check)
    error: str | None = None
    #: the Verify command timed out (the run's outcome is ``timeout``)
    timed_out: bool = False
    #: the run was cancelled during the Verify command
    cancelled: bool = False
    #: said after the outcome (``Verify not run: …``, ``verify passed: …``)
    note: str | None = None

    @property
    def unverified(self) -> bool:
        """A completed status the droid set is not final."""
        return self.error is not None or self.cancelled


class VerifiedRun(Protocol):
    """What the verifier uses of its run (a :class:`taskdroid.run.job.Run`)."""

    @property
    def spec(self) -> RunSpec: ...

    @property
    def hooks(self) -> RunHooks[Any]: ...

    @property
    def recorder(self) -> OutcomeRecorder: ...

    @property
    def processes(self) -> Supervisor: ...

    @property
    def log(self) -> LogWriter: ...

    @property
    def progress(self) -> ProgressReporter: ...

    @property
    def cancel_event(self) -> asyncio.Event: ...

    @property
    def started(self) -> float | None: ...

    state: str

    def emit(self, kind: str, message: str) -> None: ...


# -- the program -----------------------------------------------------------------------------------


def resolve_verify_program(program: str, env: Mapping[str, str] | None, workspace: str) -> str:
    """The absolute path of a Verify command's program (see the module doc). Raises
    :class:`RunError`."""
    root = os.path.abspath(workspace)
    if os.sep in program or (os.altsep and os.altsep in program):
        path = program if os.path.isabs(program) else os.path.join(root, program)
        path = os.path.normpath(path)
        if not os.path.isabs(program):
            real_root = os.path.realpath(root)
            if not inside(path, root) or not inside(os.path.realpath(path), real_root):
                raise RunError(f"`{program}` leads outside the workspace", "verify")
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise RunError(f"`{program}` is not an executable file", "verify")
        return path
    search = search_path((env if env is not None else os.environ).get("PATH") or "")
    found = shutil.which(program, path=search) if search else None
    if found is None:
        raise RunError(
            f"`{program}` was not found on PATH (empty and relative PATH entries are not "
            "searched; name a script in the workspace as `./path/to/it`)",
            "verify",
        )
    return os.path.abspath(found)


# -- Files snapshots -------------------------------------------------------------------------------

Signature = tuple[Any, ...] | None


def _file_signature(path: str) -> Signature:
    """A regular file's content hash (size and mtime when huge); what else is there, by kind;
    None when nothing is. Never blocks on a FIFO or device."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return None
    except OSError as e:
        return ("unreadable", e.errno)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return ("other", stat.S_IFMT(st.st_mode))
        if st.st_size > MAX_HASH_BYTES:
            return ("big", st.st_size, st.st_mtime_ns)
        h = hashlib.sha256()
        while chunk := os.read(fd, _READ_CHUNK):
            h.update(chunk)
        return ("file", h.hexdigest())
    except OSError as e:
        return ("unreadable", e.errno)
    finally:
        os.close(fd)


def _signature(path: str) -> Signature:
    if not os.path.isdir(path):
        return _file_signature(path)
    files: list[tuple[str, Signature]] = []
    for folder, dirs, names in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        for name in sorted(names):
            full = os.path.join(folder, name)
            if len(files) >= MAX_FOLDER_FILES:
                return ("folder", tuple(files), "cut")
            files.append((os.path.relpath(full, path), _file_signature(full)))
    return ("folder", tuple(files))


def snapshot_files(workspace: str, task_path: str, entries: Sequence[str]) -> dict[str, Signature]:
    """The signature of each place a Files entry may name — under the workspace root and next to
    the task file — that lies inside the workspace (links resolved)."""
    root = os.path.abspath(workspace)
    real_root = os.path.realpath(root)
    bases = dict.fromkeys([root, os.path.dirname(os.path.abspath(task_path))])
    out: dict[str, Signature] = {}
    for entry in entries:
        for base in bases:
            path = os.path.normpath(os.path.join(base, entry))
            if path in out or not inside(path, root):
                continue
            if not inside(os.path.realpath(path), real_root):
                continue
            out[path] = _signature(path)
    return out


# -- the Verify command's output -------------------------------------------------------------------


class _CombinedOutput:
    """The Verify command's output (stderr merged into stdout): lines to the log (marked
    ``[verify]``), the latest to progress, the last non-blank one kept for the ``**Error**``."""

    def __init__(self, log: LogWriter, progress: ProgressReporter) -> None:
        self.log = log
        self.progress = progress
        self.last = ""

    async def pump(self, stream: asyncio.StreamReader | None) -> None:
        if stream is None:
            return
        buf = b""
        while chunk := await stream.read(_READ_CHUNK):
            *lines, buf = (buf + chunk).split(b"\n")
            for line in lines:
                self._line(line)
            if len(buf) > _MAX_LINE:
                self._line(buf[:_MAX_LINE])
                buf = b""
            await asyncio.sleep(0)
        if buf:
            self._line(buf)

    def _line(self, data: bytes) -> None:
        self.log.write(b"[verify] " + data.rstrip(b"\r") + b"\n")
        shown = clean_line(data.decode("utf-8", "replace"), 4096)
        if shown:
            self.last = short(shown, 300)
            self.progress.update(short(shown))


# -- the checks ------------------------------------------------------------------------------------


class Verifier:
    """The checks of one run after its droid exits 0 (see the module doc)."""

    def __init__(self, run: VerifiedRun) -> None:
        self.run = run
        self._before: dict[str, Signature] | None = None
        #: the checks are under way: a completed status the droid set is not final yet
        self.checking = False

    @property
    def active(self) -> bool:
        checks = self.run.spec.checks
        return bool(checks.verify or checks.verify_off or checks.require_changes is not None)

    async def snapshot(self) -> None:
        """Before the droid starts: the Files entries' content (``runner.requireChanges``)."""
        spec = self.run.spec
        entries = spec.checks.require_changes
        if entries:
            self._before = await asyncio.to_thread(
                snapshot_files, spec.workspace, spec.task_path, entries
            )

    async def after_droid(self) -> Verdict | None:
        """The droid exited 0: run the checks; None when there is nothing to check, or the droid
        did not leave the task in progress or completed (§7 decides then)."""
        if not self.active or not await self._task_still_open():
            return None
        self.checking = True
        verdict = await self._check()  # interrupted: still checking when the cancel is recorded
        self.checking = False
        return verdict

    async def _check(self) -> Verdict | None:
        run, checks = self.run, self.run.spec.checks
        if checks.require_changes is not None:
            verdict = await self._changes()
            if verdict is not None:
                return verdict
        if checks.verify is not None:
            return await self._verify(checks.verify)
        if checks.verify_off:
            run.log.footer(f"# {VERIFY_OFF_NOTE}\n")
            run.emit("output", VERIFY_OFF_NOTE)
            return Verdict(note=VERIFY_OFF_NOTE)
        return None

    async def _task_still_open(self) -> bool:
        run = self.run
        try:
            loc = run.recorder.locate(await run.hooks.read_text(run))
        except Exception:
            log.exception("run %s: cannot read the task before verifying", run.spec.run_id)
            return False
        return loc is not None and loc.task.status in (Status.IN_PROGRESS, Status.COMPLETED)

    async def _changes(self) -> Verdict | None:
        run = self.run
        spec = run.spec
        if not spec.checks.require_changes:
            note = "runner.requireChanges: the task names no Files; not checked"
            run.emit("output", note)
            return None
        after = await asyncio.to_thread(
            snapshot_files, spec.workspace, spec.task_path, spec.checks.require_changes
        )
        before = self._before or {}
        if all(after.get(p) == before.get(p) for p in set(after) | set(before)):
            run.log.footer(f"# runner.requireChanges: {NO_CHANGE_ERROR}\n")
            return Verdict(error=NO_CHANGE_ERROR)
        return None

    async def _verify(self, command: VerifyCommand) -> Verdict:
        run = self.run
        spec = run.spec
        started = run.started if run.started is not None else time.monotonic()
        left = spec.timeout - (time.monotonic() - started)
        run.emit("output", f"verifying: {short(command.text)}")
        shown = json.dumps(list(command.argv), ensure_ascii=False)
        run.log.footer(f"# verify: {shown} (time left: {format_duration(max(left, 0))})\n")
        try:
            program = resolve_verify_program(command.argv[0], spec.env, spec.workspace)
        except RunError as e:
            run.log.footer(f"# verify: {e}\n")
            return Verdict(error=f"verify failed: {e}")
        if left <= 0:
            return Verdict(
                error="verify failed: no time left of runner.timeoutSeconds", timed_out=True
            )
        try:
            proc = await run.processes.start(spec, argv=(program, *command.argv[1:]), combined=True)
        except (OSError, ValueError) as e:
            why = getattr(e, "strerror", None) or e
            return Verdict(error=f"verify failed: could not start `{command.argv[0]}`: {why}")
        output = _CombinedOutput(run.log, run.progress)
        pump = asyncio.ensure_future(output.pump(proc.stdout))
        try:
            kind = await run.processes.wait(proc, run.cancel_event, left)
            if kind == "exited":
                await run.processes.sweep_group(proc)
            else:
                run.state = "stopping"
                run.emit("output", "stopping the verify command…")
                await run.processes.stop(proc)
            await drain([pump], getattr(proc, "_transport", None))
            run.progress.flush()
        finally:
            pump.cancel()
            run.processes.release(proc)
        rc = proc.returncode
        run.log.footer(f"# verify exit code {rc} ({kind})\n")
        if kind == "cancelled":
            return Verdict(cancelled=True)
        if kind == "timeout":
            return Verdict(
                error=f"verify failed: timed out after {format_duration(left)} (the time left of "
                "runner.timeoutSeconds); it was stopped",
                timed_out=True,
            )
        if rc == 0:
            return Verdict(note=f"verify passed: `{short(command.text, 80)}`")
        head = f"exit {rc}" if rc is None or rc >= 0 else f"killed by signal {-rc}"
        return Verdict(error=f"verify failed: {head}: {output.last}" if output.last else (
            f"verify failed: {head}"
        ))  # fmt: skip
