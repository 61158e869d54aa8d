"""The outcome of a run, written back into the task file (docs/language.md §7).

The task is looked up again by ID in the current text; a status the droid changed itself stands;
else exit 0 ⇒ completed, non-zero ⇒ blocked with ``**Error**`` (exit code or signal, and last
stderr line) and ``**Attempted**``, timeout ⇒ blocked with a timeout error, cancel ⇒ the previous
status with ``**Status**: Run cancelled``; a task (or file) that is gone or unreadable is
reported, never written. Status edits of one task file are made one at a time, across taskdroid
processes too (:func:`taskdroid.run.lock.edit_lock`), so two runs finishing together both record.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from taskdroid.core.document import Located
from taskdroid.core.edits import format_timestamp
from taskdroid.core.files import ReadError, read_text
from taskdroid.core.model import Status
from taskdroid.core.runfields import LAST_RUN, RunRecord, run_outcome
from taskdroid.run.hooks import RunHooks
from taskdroid.run.lock import edit_lock
from taskdroid.run.output import StreamMeta
from taskdroid.run.runspec import RunSpec
from taskdroid.run.spec import locate_task

__all__ = ["EndKind", "Outcome", "OutcomeRecorder", "RecordedRun", "RunResult", "format_duration"]

log = logging.getLogger("taskdroid.runner")


#: how a run ended, as the recorder is told: the droid exited, was stopped (cancelled, timed
#: out), or could not start (``error``)
EndKind = Literal["exited", "cancelled", "timeout", "error"]
#: ``completed``, ``blocked`` (non-zero exit), ``timeout``, ``cancelled``, ``error`` (could not
#: start), ``kept`` (the droid set the status itself) or ``gone`` (the task disappeared)
Outcome = Literal["completed", "blocked", "timeout", "cancelled", "error", "kept", "gone"]


@dataclass(slots=True)
class RunResult:
    outcome: Outcome
    message: str
    exit_code: int | None = None
    #: the task's status at the end (None when unknown)
    final_status: Status | None = None
    #: the ``**Error**`` written, if any
    error: str | None = None
    log_path: Path | None = None
    duration: float = 0.0
    #: the outcome could not be written into the task file
    not_recorded: bool = False
    #: said after the outcome: ``Verify not run: runner.verify is off``, ``verify passed: …``
    note: str | None = None


def format_duration(seconds: float) -> str:
    if 0 <= seconds < 10 and seconds != int(seconds):
        return f"{seconds:.1f} s"
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    m, s = divmod(seconds, 60)
    if m < 60:
        return f"{m} min {s} s" if s else f"{m} min"
    h, m = divmod(m, 60)
    return f"{h} h {m} min" if m else f"{h} h"


def _read_problem(path: str) -> str:
    try:
        read_text(path)
    except ReadError as e:
        return str(e)
    return "it changed while being read"


def _signal_name(rc: int) -> str:
    try:
        return signal.Signals(-rc).name
    except ValueError:
        return str(-rc)


class RecordedRun(Protocol):
    """What the recorder reads of its run: a :class:`taskdroid.run.job.Run` (a protocol so that
    this module, which the run imports, need not import it)."""

    @property
    def id(self) -> str: ...

    @property
    def spec(self) -> RunSpec: ...

    @property
    def hooks(self) -> RunHooks[Any]: ...

    @property
    def previous(self) -> Status | None: ...

    @property
    def cancel_note(self) -> str | None: ...

    @property
    def elapsed(self) -> float: ...

    @property
    def last_stderr(self) -> str: ...

    @property
    def log_path(self) -> Path | None: ...

    @property
    def start_time(self) -> datetime: ...

    @property
    def stream_meta(self) -> StreamMeta | None: ...

    def log_display(self) -> str: ...


class OutcomeRecorder:
    """Status edits of one run through its hooks: marking the task in progress, and writing the
    outcome (:meth:`record`)."""

    def __init__(self, run: RecordedRun) -> None:
        self.run = run
        #: the outcome is being written
        self.recording = False

    def locate(self, text: str | None) -> Located | None:
        if text is None:
            return None
        spec = self.run.spec
        _, loc = locate_task(text, spec.task_id, spec.aliases, spec.task_path)
        return loc

    async def set_status(
        self, status: Status, extra_fields: Sequence[tuple[str, str]] = ()
    ) -> str | None:
        """Apply a status edit through the hooks, holding the edit lock of the task file; None
        when done, else what went wrong."""
        async with edit_lock(self.run.spec, self.run.id):
            return await self._apply(status, extra_fields)

    async def _apply(
        self, status: Status, extra_fields: Sequence[tuple[str, str]] = ()
    ) -> str | None:
        run = self.run
        try:
            ok = await run.hooks.set_status(run, status, extra_fields=extra_fields)
        except Exception as e:
            log.warning("run %s: status edit failed: %s", run.id, e)
            return str(e) or type(e).__name__
        return None if ok else "the edit was not applied"

    def error_text(
        self, kind: EndKind, rc: int | None, start_error: str | None, check_error: str | None = None
    ) -> str:
        run = self.run
        where = run.log_display()
        suffix = f" (log: {where})" if where else ""
        if check_error is not None:
            return check_error + suffix
        if start_error is not None:
            return start_error + suffix
        if kind == "timeout":
            return (
                f"timed out after {format_duration(run.spec.timeout)} (runner.timeoutSeconds); "
                f"the droid was stopped{suffix}"
            )
        head = f"killed by signal {_signal_name(rc)}" if rc is not None and rc < 0 else (
            f"exit code {rc}"
        )  # fmt: skip
        if run.last_stderr:
            head += f": {run.last_stderr}"
        return head + suffix

    def last_run(self, outcome: str) -> tuple[str, str]:
        """The ``**Last Run**`` field of this run (docs/language.md §11, run record)."""
        run = self.run
        meta = run.stream_meta or StreamMeta()
        record = RunRecord(
            start=format_timestamp(run.start_time),
            duration=format_duration(run.elapsed),
            outcome=run_outcome(outcome),
            log=run.log_display() or None,
            session=meta.session,
            cost=meta.cost,
            turns=meta.turns,
        )
        return LAST_RUN, record.format()

    async def record(
        self,
        kind: EndKind,
        rc: int | None,
        start_error: str | None,
        *,
        check_error: str | None = None,
        unverified: bool = False,
    ) -> RunResult:
        """Write the outcome into the task (docs/language.md §7): the task is looked up again, its status
        decided and the edit written while holding the task file's edit lock.

        ``check_error``: a check after the droid exited 0 failed (docs/language.md §11, verified
        completion) — the task ends blocked (``kind`` ``timeout`` when the check timed out) with
        it as ``**Error**``. ``unverified``: the task's completed status is not final (a check
        failed or the run was cancelled during one), so a ``[x]`` the droid set is replaced too."""
        self.recording = True
        async with edit_lock(self.run.spec, self.run.id):
            return await self._record_locked(kind, rc, start_error, check_error, unverified)

    async def _record_locked(
        self,
        kind: EndKind,
        rc: int | None,
        start_error: str | None,
        check_error: str | None = None,
        unverified: bool = False,
    ) -> RunResult:
        run, spec = self.run, self.run.spec
        text = await run.hooks.read_text(run)
        loc = self.locate(text)
        duration = format_duration(run.elapsed)
        if kind in ("cancelled", "timeout"):
            exit_text = "stopped" if kind == "cancelled" else "timed out"
        elif rc is not None and rc < 0:
            exit_text = f"killed by signal {_signal_name(rc)}"
        else:
            exit_text = f"exit code {rc}" if rc is not None else "not started"
        if loc is None:
            return await self._gone(text, exit_text, duration, rc)
        current = loc.task.status
        if current is not Status.IN_PROGRESS and not (unverified and current is Status.COMPLETED):
            ended = "cancelled" if kind == "cancelled" else (
                "completed" if kind == "exited" and rc == 0 and check_error is None else "blocked"
            )  # fmt: skip
            return await self._kept(current, exit_text, duration, rc, ended)
        now = format_timestamp(datetime.now())
        outcome: Outcome
        if kind == "exited":
            outcome = "completed" if rc == 0 and check_error is None else "blocked"
        else:
            outcome = kind
        error = None
        if kind == "cancelled":
            target = run.previous if run.previous is not None else Status.PENDING
            note = f" ({run.cancel_note})" if run.cancel_note else ""
            extra: list[tuple[str, str]] = [("Status", f"Run cancelled {now}{note}")]
            message = f"cancelled after {duration}; task {spec.task_id} back to {target.label}"
        elif outcome == "completed":
            target, extra = Status.COMPLETED, []
            message = f"completed: exit code 0 after {duration}; task {spec.task_id} marked done"
        else:
            target = Status.BLOCKED
            error = self.error_text(kind, rc, start_error, check_error)
            extra = [("Error", error), ("Attempted", now)]
            what = "timed out" if kind == "timeout" else "failed"
            message = f"{what} after {duration}: {error}; task {spec.task_id} marked blocked"
        extra.append(self.last_run(outcome))
        problem = await self._apply(target, extra)
        result = RunResult(
            outcome,
            message,
            exit_code=rc,
            final_status=target if problem is None else current,
            error=error,
            log_path=run.log_path,
        )
        if problem is not None:
            result.not_recorded = True
            result.message += f" — but the task file was not updated ({problem})"
        return result

    async def _gone(
        self, text: str | None, exit_text: str, duration: str, rc: int | None
    ) -> RunResult:
        spec = self.run.spec
        if text is None:
            why = await asyncio.get_running_loop().run_in_executor(
                None, _read_problem, spec.task_path
            )
            gone = f"{spec.task_file} cannot be read any more ({why})"
        else:
            gone = f"task {spec.task_id} is no longer in {spec.task_file}"
        return RunResult(
            "gone",
            f"{exit_text} after {duration}; {gone}: the outcome was not recorded",
            exit_code=rc,
            log_path=self.run.log_path,
            not_recorded=True,
        )

    async def _kept(
        self, current: Status | None, exit_text: str, duration: str, rc: int | None, ended: str
    ) -> RunResult:
        """The droid set the status itself: it stands; the run record is written with it (the
        outcome the status says, else how the droid ended)."""
        run = self.run
        shown = current.label if current is not None else "a malformed marker"
        try:
            await run.hooks.kept(run, current)
        except Exception:
            log.exception("run %s: the kept-status hook failed", run.id)
        if current is not None:
            said = {
                Status.COMPLETED: "completed",
                Status.BLOCKED: "blocked",
                Status.CANCELLED: "cancelled",
            }.get(current, ended)
            problem = await self._apply(current, [self.last_run(said)])
            if problem is not None:
                log.warning("run %s: the run record was not written (%s)", run.id, problem)
        return RunResult(
            "kept",
            f"{exit_text} after {duration}; the droid set task {run.spec.task_id} to {shown} "
            "itself — kept",
            exit_code=rc,
            final_status=current,
            log_path=run.log_path,
        )
