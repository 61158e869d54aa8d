"""One droid run: :class:`Run` drives it through its stages — a slot (``runner.maxParallel``),
the task marked in progress, the droid started and supervised, its output streamed, the outcome
recorded — with three collaborators: the :class:`~taskdroid.run.supervise.Supervisor` (the
processes), the :class:`~taskdroid.run.output.OutputReader` with its
:class:`~taskdroid.run.logfile.LogWriter` and :class:`~taskdroid.run.output.ProgressReporter`
(the output), and the :class:`~taskdroid.run.record.OutcomeRecorder` (the task file)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from datetime import datetime
from pathlib import Path
from typing import Protocol

from taskdroid.core.model import Status
from taskdroid.run.hooks import RunHooks
from taskdroid.run.lock import TaskLock
from taskdroid.run.logfile import LogWriter
from taskdroid.run.output import OutputReader, ProgressReporter, StreamMeta, drain
from taskdroid.run.process import INTERRUPT_RECORD_SECONDS
from taskdroid.run.record import EndKind, OutcomeRecorder, RunResult, format_duration
from taskdroid.run.runspec import RunSpec
from taskdroid.run.supervise import GuardianProcess, LiveGroups, Supervisor
from taskdroid.run.verify import Verifier

__all__ = ["INTERRUPT_RECORD_SECONDS", "Run", "RunHost", "Slots"]

log = logging.getLogger("taskdroid.runner")


class Slots:
    """At most ``limit`` holders at once, first come first served (the limit is per request, so a
    changed ``runner.maxParallel`` applies to the next runs)."""

    def __init__(self) -> None:
        self.active = 0
        self._waiters: deque[tuple[asyncio.Future, int]] = deque()

    @property
    def waiting(self) -> int:
        return sum(1 for f, _ in self._waiters if not f.done())

    def try_acquire(self, limit: int) -> bool:
        if self.active < limit and not self.waiting:
            self.active += 1
            return True
        return False

    def enqueue(self, limit: int) -> asyncio.Future:
        fut = asyncio.get_running_loop().create_future()
        self._waiters.append((fut, limit))
        return fut

    def withdraw(self, fut: asyncio.Future) -> None:
        """Give up a place in the queue (a granted slot is released)."""
        if fut.done() and not fut.cancelled():
            self.release()
        else:
            fut.cancel()

    def release(self) -> None:
        self.active = max(0, self.active - 1)
        self._wake()

    def _wake(self) -> None:
        while self._waiters:
            fut, limit = self._waiters[0]
            if fut.done():
                self._waiters.popleft()
                continue
            if self.active >= limit:
                return
            self._waiters.popleft()
            self.active += 1
            fut.set_result(None)


class RunHost(Protocol):
    """What a run asks of the :class:`~taskdroid.run.manager.RunManager` that made it (a
    protocol so that this module, which the manager imports, need not import it)."""

    @property
    def groups(self) -> LiveGroups: ...

    @property
    def guardian(self) -> GuardianProcess: ...

    @property
    def slots(self) -> Slots: ...

    def forget(self, run: Run) -> None: ...


class Run:
    """One droid run; :meth:`execute` drives it, :meth:`cancel` stops it."""

    def __init__(
        self,
        spec: RunSpec,
        hooks: RunHooks[Run],
        manager: RunHost,
        lock: TaskLock | None,
        *,
        grace: float,
    ) -> None:
        self.spec = spec
        self.id = spec.run_id
        self.hooks = hooks
        self.manager = manager
        self.lock = lock
        self.grace = grace
        #: ``queued``, ``starting``, ``running``, ``stopping``, ``finished``
        self.state = "queued"
        self.previous: Status | None = None
        self.cancel_reason: str | None = None
        self.cancel_note: str | None = None
        self.result: RunResult | None = None
        self.task: asyncio.Future | None = None
        self.created = time.monotonic()
        self.started: float | None = None
        #: wall-clock times for the run record (``**Last Run**``)
        self.created_at = datetime.now()
        self.started_at: datetime | None = None
        self._cancel = asyncio.Event()
        self._slot_held = False
        #: the task was marked in progress (so there is something to restore)
        self._marked = False
        self.log = LogWriter()
        self.progress = ProgressReporter(self._emit)
        self.output = OutputReader(self.log, self.progress)
        self.processes = Supervisor(
            self.id, grace=grace, groups=manager.groups, guardian=manager.guardian, log=self.log
        )
        self.recorder = OutcomeRecorder(self)
        self.verifier = Verifier(self)

    # -- what the hooks and callers see -------------------------------------------------------
    @property
    def elapsed(self) -> float:
        return time.monotonic() - (self.started if self.started is not None else self.created)

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def pid(self) -> int | None:
        return self.processes.pid

    @property
    def latest(self) -> str:
        """The latest meaningful line of the droid's output."""
        return self.progress.latest

    @property
    def last_stderr(self) -> str:
        return self.output.last_stderr

    @property
    def start_time(self) -> datetime:
        """When the droid started (when the run was asked for, if it never started)."""
        return self.started_at if self.started_at is not None else self.created_at

    @property
    def stream_meta(self) -> StreamMeta | None:
        """What the droid's final ``stream-json`` result event said (session, cost, turns)."""
        return self.output.meta

    @property
    def log_path(self) -> Path | None:
        return self.log.path

    def log_display(self) -> str:
        return self.log.display(self.spec.workspace)

    @property
    def cancel_event(self) -> asyncio.Event:
        return self._cancel

    def emit(self, kind: str, message: str) -> None:
        """A progress event through the hooks."""
        self._emit(kind, message)

    # -- control ------------------------------------------------------------------------------
    def cancel(self, reason: str = "cancelled", *, note: str | None = None) -> bool:
        """Stop the run (SIGTERM, SIGKILL after the grace period); False when already over.
        ``note`` is written after the ``Run cancelled`` timestamp in the task."""
        if self.result is not None or self.state == "finished":
            return False
        if self.cancel_reason is None:
            self.cancel_reason = reason
            self.cancel_note = note
        self._cancel.set()
        return True

    def kill(self) -> None:
        """Stop the run without waiting for the grace period."""
        self.cancel("killed")
        self.processes.kill_now.set()

    # -- the run ------------------------------------------------------------------------------
    async def execute(self) -> RunResult:
        try:
            result = await self._execute()
        except asyncio.CancelledError:
            await self._interrupted()
            raise
        except Exception as e:  # a bug: never leave the droid running
            log.exception("run %s failed", self.id)
            self.processes.hard_kill()
            result = RunResult("error", f"internal error: {e}", log_path=self.log_path)
        self._conclude(result)
        await self.manager.guardian.settle()
        return result

    async def _interrupted(self) -> None:
        """The asyncio task driving the run was cancelled (the process is going down): kill the
        droid at once and, when the task was marked in progress and its outcome is not being
        written yet, try for :data:`INTERRUPT_RECORD_SECONDS` to write it back as cancelled."""
        self.processes.hard_kill()
        result = None
        if self._marked and not self.recorder.recording:
            if self.cancel_reason is None:
                self.cancel_reason = "interrupted"
                self.cancel_note = "taskdroid stopped during the run"
            try:
                recording = self.recorder.record(
                    "cancelled", None, None, unverified=self.verifier.checking
                )
                result = await asyncio.wait_for(recording, INTERRUPT_RECORD_SECONDS)
            except BaseException as e:  # the original cancellation is raised below
                log.warning("run %s: the cancel was not recorded (%s)", self.id, type(e).__name__)
        if result is None:
            result = RunResult(
                "cancelled", "stopped: the run was interrupted", log_path=self.log_path,
                not_recorded=self._marked,
            )  # fmt: skip
        self._conclude(result)
        with contextlib.suppress(BaseException):  # the original cancellation is raised after
            await self.manager.guardian.settle()

    def _conclude(self, result: RunResult) -> None:
        result.duration = self.elapsed if self.started is not None else 0.0
        self.result = result
        self._finish()
        self._emit("finished", result.message)

    def _finish(self) -> None:
        """Give back what the run holds: its slot, log, lock and place in the manager."""
        self.state = "finished"
        self.progress.close()
        if self._slot_held:
            self._slot_held = False
            self.manager.slots.release()
        self.log.close()
        if self.lock is not None:
            self.lock.release()
        self.manager.forget(self)

    async def _execute(self) -> RunResult:
        if not await self._acquire_slot():
            return RunResult(
                "cancelled",
                f"cancelled before it started ({self.cancel_reason or 'cancelled'}); the task "
                "was not changed",
            )
        self.state = "starting"
        spec = self.spec
        loc = self.recorder.locate(await self.hooks.read_text(self))
        if loc is None:
            return RunResult("gone", f"task {spec.task_id} is no longer in {spec.task_file}")
        if self.cancelled:
            return RunResult(
                "cancelled", f"cancelled before it started ({self.cancel_reason})",
                final_status=loc.task.status,
            )  # fmt: skip
        self.previous = loc.task.status
        problem = await self.recorder.set_status(Status.IN_PROGRESS)
        if problem is not None:
            return RunResult(
                "error",
                f"could not mark task {spec.task_id} in progress ({problem}); the droid was not "
                "started",
                final_status=loc.task.status,
            )
        self._marked = True
        if self.cancelled:
            return await self.recorder.record("cancelled", None, None)
        return await self._run_droid()

    async def _run_droid(self) -> RunResult:
        """Start the droid, stream its output until it exits (or is stopped), record."""
        spec = self.spec
        self.started = time.monotonic()
        self.started_at = datetime.now()
        try:
            self.log.open(spec)
        except OSError as e:  # run anyway, without a log
            log.warning("run %s: cannot create a log file in %s: %s", self.id, spec.log_dir, e)
        await self.verifier.snapshot()
        try:
            proc = await self.processes.start(spec)
        except (OSError, ValueError) as e:
            start_error = f"could not start `{spec.argv[0]}`: {getattr(e, 'strerror', None) or e}"
            self.log.text(f"# {start_error}\n")
            return await self.recorder.record("error", None, start_error)
        self.state = "running"
        self._emit("started", f"{Path(spec.argv[0]).name}, pid {proc.pid}")
        pumps = [
            asyncio.ensure_future(self.output.pump(proc.stdout, "stdout")),
            asyncio.ensure_future(self.output.pump(proc.stderr, "stderr")),
        ]
        try:
            kind = await self.processes.wait(proc, self._cancel, spec.timeout)
            if kind == "exited":
                await self.processes.sweep_group(proc)
            else:
                self.state = "stopping"
                self._emit("output", "stopping the droid…")
                await self.processes.stop(proc)
            await drain(pumps, getattr(proc, "_transport", None))
            self.progress.flush()
        finally:
            for p in pumps:
                p.cancel()
            self.processes.release(proc)
        rc = proc.returncode
        self.log.footer(f"# exit code {rc} after {format_duration(self.elapsed)} ({kind})\n")
        if kind == "exited" and rc == 0:
            return await self._verified()
        return await self.recorder.record(kind, rc, None)

    async def _verified(self) -> RunResult:
        """The droid exited 0: the checks of docs/language.md §11 (verified completion, in
        run/verify.py) decide with it."""
        verdict = await self.verifier.after_droid()
        if verdict is None:
            return await self.recorder.record("exited", 0, None)
        kind: EndKind = "exited"
        if verdict.cancelled:
            kind = "cancelled"
        elif verdict.timed_out:
            kind = "timeout"
        result = await self.recorder.record(
            kind, 0, None, check_error=verdict.error, unverified=verdict.unverified
        )
        if verdict.note:
            result.note = verdict.note
            result.message += f"; {verdict.note}"
        return result

    async def _acquire_slot(self) -> bool:
        slots = self.manager.slots
        limit = self.spec.max_parallel
        if slots.try_acquire(limit):
            self._slot_held = True
            return True
        busy = slots.active
        self._emit(
            "queued",
            f"queued: {busy} run{'s' if busy != 1 else ''} already running "
            f"(runner.maxParallel = {limit}); waiting for a free slot",
        )
        fut = slots.enqueue(limit)
        cancel = asyncio.ensure_future(self._cancel.wait())
        try:
            await asyncio.wait({fut, cancel}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            slots.withdraw(fut)
            raise
        finally:
            cancel.cancel()
        if self.cancelled:
            slots.withdraw(fut)
            return False
        self._slot_held = True
        return True

    def _emit(self, kind: str, message: str) -> None:
        try:
            self.hooks.progress(self, kind, message)
        except Exception:
            log.exception("progress hook failed")
