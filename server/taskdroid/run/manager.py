"""The runs of one process (or one server): :class:`RunManager` — one run per task (a registry
here, and a lock file so that the editor's server and a terminal do not run the same task
either), at most ``runner.maxParallel`` at once (:class:`Slots`; the others say they are queued),
and the per-manager bookkeeping of live droids (their process groups, the guardian process)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import OrderedDict
from collections.abc import Mapping

from taskdroid.core.document import normalize_id
from taskdroid.run import process
from taskdroid.run.errors import RunError
from taskdroid.run.hooks import RunHooks
from taskdroid.run.job import Run, Slots
from taskdroid.run.lock import TaskLock
from taskdroid.run.record import RunResult, format_duration
from taskdroid.run.runspec import RunSpec
from taskdroid.run.supervise import GuardianProcess, LiveGroups

__all__ = ["DEFAULT_GRACE", "GRACE_ENV", "RunManager", "Slots", "grace_from_env"]

log = logging.getLogger("taskdroid.runner")

#: seconds between SIGTERM and SIGKILL
DEFAULT_GRACE = 5.0
#: environment variable: seconds between SIGTERM and SIGKILL when a droid is stopped
GRACE_ENV = "TASKDROID_RUN_GRACE"


def grace_from_env(env: Mapping[str, str] | None = None) -> float:
    """:data:`GRACE_ENV` when it is a number of seconds from 0 to 600, else the default."""
    raw = (os.environ if env is None else env).get(GRACE_ENV, "").strip()
    if raw:
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if 0 <= value <= 600:
            return value
        log.warning(
            "%s=%r is not a number of seconds (0-600); using %s", GRACE_ENV, raw, DEFAULT_GRACE
        )
    return DEFAULT_GRACE


class RunManager:
    """The runs of one process: one per task, at most ``maxParallel`` at once. ``grace`` is the
    time between SIGTERM and SIGKILL (default: :data:`GRACE_ENV`, else 5 s).

    Creating a manager installs nothing; its first run registers it with the process-wide
    handlers (:func:`taskdroid.run.process.register`: droids killed at interpreter exit)."""

    def __init__(self, *, grace: float | None = None) -> None:
        self.grace = grace_from_env() if grace is None else grace
        self.runs: dict[str, Run] = {}
        self._by_task: dict[tuple[str, str], Run] = {}
        self.slots = Slots()
        #: the process groups of this manager's live droids
        self.groups = LiveGroups()
        #: the guardian process of this manager (running while it has runs)
        self.guardian = GuardianProcess()
        #: results of finished runs by run ID (the latest 64)
        self.finished: OrderedDict[str, RunResult] = OrderedDict()
        #: the event loop of the runs (for the termination handler)
        self.loop: asyncio.AbstractEventLoop | None = None

    def running(self, task_path: str, task_id: str) -> Run | None:
        key = (os.path.normpath(os.path.abspath(task_path)), normalize_id(task_id))
        return self._by_task.get(key)

    def submit(self, spec: RunSpec, hooks: RunHooks[Run]) -> Run:
        """Register a run (refusing a task that is already running, here or in another process);
        the caller drives it with :meth:`Run.execute` (or use :meth:`start`)."""
        other = self._by_task.get(spec.key)
        if other is not None:
            raise RunError(
                f"task {spec.task_id} is already running (run {other.id}, {other.state} for "
                f"{format_duration(other.elapsed)}); cancel it first",
                "busy",
            )
        lock = TaskLock.acquire(spec.log_dir, spec.task_path, spec.task_id, spec.run_id)
        with contextlib.suppress(RuntimeError):
            self.loop = asyncio.get_running_loop()
        process.register(self)
        run = Run(spec, hooks, self, lock, grace=self.grace)
        self.runs[run.id] = run
        self._by_task[spec.key] = run
        return run

    def start(self, spec: RunSpec, hooks: RunHooks[Run]) -> Run:
        """:meth:`submit`, then execute the run in a background asyncio task (``run.task``)."""
        run = self.submit(spec, hooks)
        run.task = asyncio.ensure_future(run.execute())
        run.task.add_done_callback(_consume)
        return run

    def forget(self, run: Run) -> None:
        """``run`` is over (called by the run)."""
        self.runs.pop(run.id, None)
        if self._by_task.get(run.spec.key) is run:
            del self._by_task[run.spec.key]
        if run.result is not None:
            self.finished[run.id] = run.result
            while len(self.finished) > 64:
                self.finished.popitem(last=False)

    def get(self, run_id: str) -> Run | None:
        return self.runs.get(run_id)

    async def stop_all(
        self,
        reason: str = "cancelled",
        *,
        kill_after: float | None = None,
        timeout: float | None = None,
    ) -> None:
        """Cancel every run (SIGTERM to each droid), SIGKILL the droids still running after
        ``kill_after`` seconds (default: the grace period), and wait ``timeout`` seconds in all
        (default: a little more) for the runs to record their outcome; runs still going then are
        cancelled."""
        runs = list(self.runs.values())
        for run in runs:
            run.cancel(reason, note=reason)
        tasks = [r.task for r in runs if r.task is not None and not r.task.done()]
        if not tasks:
            return
        loop = asyncio.get_running_loop()
        first = self.grace if kill_after is None else kill_after
        total = first + 2.0 if timeout is None else timeout
        deadline = loop.time() + total
        _, pending = await asyncio.wait(tasks, timeout=min(first, total))
        if pending:
            for run in runs:
                run.kill()
            _, pending = await asyncio.wait(pending, timeout=max(0.1, deadline - loop.time()))
            for t in pending:
                t.cancel()


def _consume(task: asyncio.Future) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("droid run failed", exc_info=task.exception())
