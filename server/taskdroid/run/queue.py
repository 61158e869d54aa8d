"""Queued runs (docs/language.md §7, queued runs): :class:`TaskQueue` runs the ready tasks of some task
files, each as a §7 run of a :class:`~taskdroid.run.manager.RunManager`. Pure orchestration: it
reads the workspace through its :class:`QueueScope`\\ s and never imports the server or the CLI.

* **Candidates**: ready tasks (pending, every dependency completed — :mod:`taskdroid.core.ready`)
  with an ID and a droid; with ``droid`` (``--droid NAME``) the tasks that name none get that
  one. Tasks without a droid are otherwise not candidates (and do not count anywhere).
* At most ``runner.maxParallel`` of the queue's runs at once (the manager's slots still cap all
  runs of the process), and never two tasks that share a Files entry (compared after
  :func:`normalise_file_entry`) at the same time: a candidate whose files are busy waits, later
  candidates may start before it.
* ``follow`` (``--all``): as tasks complete, tasks that become ready start, until nothing is ready
  or running. Without it (``--ready``) only the tasks ready at the start run.
* A task runs at most once per queue: one that ends blocked (or cancelled, or failing to start) is
  not retried, and the pending tasks of the scope that depend on it, directly or not, are not
  started — reported as *skipped* with the reason.
* :meth:`TaskQueue.cancel` cancels every running task (each restored as for a cancel) and starts
  no more; the candidates still waiting are reported as not started.
* :meth:`TaskQueue.run` returns a :class:`QueueSummary`: each task with its outcome and duration.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from taskdroid.core.checks.task_local import file_entries
from taskdroid.core.document import Located, TaskDocument, normalize_id
from taskdroid.core.edits import find_task
from taskdroid.core.inline import plain_title
from taskdroid.core.model import Status
from taskdroid.core.plan import normalise_file_entry
from taskdroid.core.ready import next_tasks, select_task_docs
from taskdroid.core.speckit import implicit_edges
from taskdroid.run.errors import RunError
from taskdroid.run.record import format_duration
from taskdroid.run.spec import (
    check_droid_name,
    not_configured_message,
    prepare_run,
    resolve_program,
)

if TYPE_CHECKING:
    from taskdroid.core.model import Task
    from taskdroid.core.workspace import Workspace
    from taskdroid.run.hooks import RunHooks
    from taskdroid.run.job import Run
    from taskdroid.run.manager import RunManager
    from taskdroid.run.spec import RunSpec

__all__ = [
    "QueueEntry",
    "QueueScope",
    "QueueSummary",
    "TaskQueue",
    "normalise_file_entry",
    "task_files",
]

log = logging.getLogger("taskdroid.runner")

Key = tuple[str, str]  #: (absolute task file path, normalised task ID)

_queue_ids = itertools.count(1)


def task_files(task: Task) -> frozenset[str]:
    """The normalised entries of a task's Files fields."""

    out: set[str] = set()
    for f in task.fields_named("Files"):
        for entry, _span in file_entries(f):
            p = normalise_file_entry(entry)
            if p is not None:
                out.add(p)
    return frozenset(out)


@dataclass
class QueueScope:
    """Where a queue finds its tasks: one workspace (a project) and, optionally, some of its task
    files (``paths``: files or folders; None: every task file of the workspace).

    ``refresh(changed)`` brings the workspace up to date — ``changed`` holds the task files of the
    runs that ended since the last call — and returns it; ``read_text(path)`` gives a task file's
    current text (an editor's buffer, or the disk). ``within(path, line)`` may narrow the
    candidates further (a section of one file)."""

    root: str
    paths: list[str] | None
    refresh: Callable[[Sequence[str]], Awaitable[Workspace]]
    read_text: Callable[[str], str | None]
    within: Callable[[str, int], bool] | None = None


@dataclass
class QueueEntry:
    """A task of the queue: waiting, running, finished or skipped."""

    key: Key
    path: str
    task_id: str
    title: str
    droid: str
    files: frozenset[str]
    scope: QueueScope | None = None
    #: the droid comes from ``--droid`` (the task names none)
    assigned: bool = False
    #: ``waiting``, ``running``, ``finished`` or ``skipped``
    state: str = "waiting"
    #: ``completed``, ``blocked``, ``cancelled``, ``error``, ``gone``, ``skipped`` … (or a status
    #: label when the droid set one itself)
    outcome: str | None = None
    #: why it was skipped, or the run's outcome message
    reason: str = ""
    run: Run | None = None
    duration: float = 0.0
    #: said after the outcome (``Verify not run: runner.verify is off`` …)
    note: str | None = None
    future: asyncio.Future | None = None

    @property
    def run_id(self) -> str | None:
        return self.run.id if self.run is not None else None

    @property
    def completed(self) -> bool:
        return self.outcome == "completed"

    @property
    def started(self) -> bool:
        return self.run is not None


@dataclass
class QueueSummary:
    """The end of a queue: every task it started or skipped, in the order they were taken."""

    entries: list[QueueEntry] = field(default_factory=list)
    #: the queue was cancelled (Ctrl-C, cancel-all)
    cancelled: bool = False

    @property
    def started(self) -> list[QueueEntry]:
        return [e for e in self.entries if e.started]

    @property
    def skipped(self) -> list[QueueEntry]:
        return [e for e in self.entries if e.state == "skipped"]

    @property
    def ok(self) -> bool:
        """Every started task completed and none was skipped."""
        return not self.cancelled and all(
            e.completed for e in self.entries if e.started
        ) and not self.skipped

    def counts(self) -> str:
        """``2 completed, 1 blocked, 1 skipped`` (or ``nothing to run``)."""
        tally: dict[str, int] = {}
        for e in self.entries:
            tally[e.outcome or "not run"] = tally.get(e.outcome or "not run", 0) + 1
        if not tally:
            return "nothing to run"
        return ", ".join(f"{n} {what}" for what, n in tally.items())

    def lines(self, show_path: Callable[[str], str] = str) -> list[str]:
        """One line per task: ``path ID  outcome  duration  reason``."""
        if not self.entries:
            return []
        labels = [f"{show_path(e.path)} {e.task_id}" for e in self.entries]
        width = max(len(label) for label in labels)
        owidth = max(len(e.outcome or "") for e in self.entries)
        out = []
        for label, e in zip(labels, self.entries, strict=True):
            dur = format_duration(e.duration) if e.started else "—"
            line = f"{label:<{width}}  {e.outcome or '':<{owidth}}  {dur:>8}"
            if e.state == "skipped" or (e.started and not e.completed and e.reason):
                line += f"  {e.reason}"
            elif e.note:
                line += f"  {e.note}"
            out.append(line.rstrip())
        return out


class TaskQueue:
    """Runs the ready tasks of ``scopes`` on ``manager`` (see the module doc).

    ``make_hooks(spec)`` gives each run its hooks; ``drive(run, hooks)`` executes it (default:
    ``run.execute()``; the server begins its progress first); ``on_update(queue)`` is called when
    a task starts or ends, or when the queue is cancelled."""

    def __init__(
        self,
        manager: RunManager,
        scopes: Sequence[QueueScope],
        *,
        follow: bool = False,
        droid: str | None = None,
        make_hooks: Callable[[RunSpec], RunHooks],
        drive: Callable[[Run, Any], Awaitable[object]] | None = None,
        on_update: Callable[[TaskQueue], None] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.id = f"queue-{next(_queue_ids)}"
        self.manager = manager
        self.scopes = list(scopes)
        self.follow = follow
        self.droid = droid.strip() if droid and droid.strip() else None
        self.make_hooks = make_hooks
        self.drive = drive
        self.on_update = on_update
        self.env = env
        #: every task taken by the queue, in order
        self.entries: list[QueueEntry] = []
        self._by_key: dict[Key, QueueEntry] = {}
        #: candidates found ready, not started yet (in order)
        self.waiting: list[QueueEntry] = []
        self.running: list[QueueEntry] = []
        #: ``--ready``: the keys ready at the start (the only ones that run)
        self._initial: set[Key] | None = None
        #: ``--all``: pending tasks with a droid that may still become ready
        self.later = 0
        self.cancelled = False
        self._stop = asyncio.Event()
        self._changed: list[str] = []
        self._workspaces: dict[int, Workspace] = {}
        self._prepared = False
        self.max_parallel = 1

    # -- what callers show ----------------------------------------------------------------------
    @property
    def finished_count(self) -> int:
        return sum(1 for e in self.entries if e.state == "finished")

    @property
    def total(self) -> int:
        """Tasks run or to run as far as known now (``--all``: grows as tasks become ready, and
        counts the pending tasks that may still become ready)."""
        return (
            sum(1 for e in self.entries if e.started)
            + len(self.waiting)
            + (self.later if self.follow and not self.cancelled else 0)
        )

    def progress_text(self) -> str:
        """``3 of 12 tasks`` (with what runs)."""
        total = self.total
        text = f"{self.finished_count} of {total} task{'s' if total != 1 else ''}"
        if self.running:
            text += " · running " + ", ".join(e.task_id for e in self.running)
        return text

    @property
    def run_ids(self) -> list[str]:
        return [e.run_id for e in self.entries if e.run_id is not None]

    # -- control --------------------------------------------------------------------------------
    def cancel(self, reason: str = "cancelled", *, note: str | None = None) -> None:
        """Cancel every running task and start no more."""
        if not self.cancelled:
            self.cancelled = True
            self._stop.set()
            for e in list(self.running):
                if e.run is not None:
                    e.run.cancel(reason, note=note if note is not None else reason)
            self._update()

    def kill(self) -> None:
        """Stop the running droids without the grace period."""
        self.cancel("killed")
        for e in list(self.running):
            if e.run is not None:
                e.run.kill()

    # -- the queue ------------------------------------------------------------------------------
    async def prepare(self) -> None:
        """Look at the tasks and check the runner; raises :class:`RunError` for what no task can
        get past (no runner configured, a runner program that cannot be found, a bad ``droid``).
        :meth:`start_ready` and :meth:`run` call it when needed."""
        if self._prepared:
            return
        self._prepared = True
        if self.droid is not None:
            check_droid_name(self.droid)
        for scope in self.scopes:
            ws = await scope.refresh(())
            self._workspaces[id(scope)] = ws
            runner = ws.settings.runner
            if not runner.command:
                raise RunError(not_configured_message(), "not-configured")
            resolve_program(runner.command[0], self.env, scope.root)
        if self.scopes:
            first = self._workspaces[id(self.scopes[0])]
            self.max_parallel = max(1, int(first.settings.runner.maxParallel))
        self._find_candidates()
        if not self.follow:
            self._initial = {e.key for e in self.waiting}

    async def start_ready(self) -> list[str]:
        """:meth:`prepare`, then start what may start now; the IDs of the runs started."""
        await self.prepare()
        self._fill()
        self._update()
        return self.run_ids

    async def run(self) -> QueueSummary:
        """Run until nothing is ready or running (or the queue is cancelled)."""
        await self.prepare()
        self._fill()
        self._update()
        while self.running:
            futures = {e.future for e in self.running if e.future is not None}
            stop = asyncio.ensure_future(self._stop.wait())
            try:
                await asyncio.wait({*futures, stop}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stop.cancel()
            for e in [e for e in self.running if e.future is not None and e.future.done()]:
                self._ended(e)
            if not self.cancelled:
                await self._refresh()
                self._find_candidates()
                self._fill()
            self._update()
        return self._conclude()

    # -- inside ---------------------------------------------------------------------------------
    def _update(self) -> None:
        if self.on_update is not None:
            try:
                self.on_update(self)
            except Exception:
                log.exception("queue progress failed")

    async def _refresh(self) -> None:
        changed, self._changed = self._changed, []
        for scope in self.scopes:
            try:
                self._workspaces[id(scope)] = await scope.refresh(changed)
            except Exception:
                log.exception("queue: cannot refresh the workspace of %s", scope.root)

    def _droid_for(self, named: str | None) -> str | None:
        return named or self.droid

    def _find_candidates(self) -> None:
        """Add the tasks ready now (not taken yet) to :attr:`waiting`; count :attr:`later`."""

        for scope in self.scopes:
            ws = self._workspaces[id(scope)]
            for r in next_tasks(ws, scope.paths):
                if not r.task_id:
                    continue
                key = (r.path, normalize_id(r.task_id))
                if key in self._by_key:
                    continue
                if self._initial is not None and key not in self._initial:
                    continue
                droid = self._droid_for(r.droid)
                if droid is None:
                    continue
                if scope.within is not None and not scope.within(r.path, r.line):
                    continue
                doc = ws.task_docs.get(r.path) or ws.task_doc(r.path)
                loc = find_task(doc, r.task_id) if doc is not None else None
                files = task_files(loc.task) if loc is not None else frozenset()
                entry = QueueEntry(
                    key, r.path, r.task_id, r.title, droid, files, scope, assigned=not r.droid
                )
                self._by_key[key] = entry
                self.entries.append(entry)
                self.waiting.append(entry)
        self.later = self._count_later() if self.follow else 0

    def _fill(self) -> None:
        """Start waiting candidates while there is room and their files are free."""
        if self.cancelled:
            return
        busy: set[str] = set()
        for e in self.running:
            busy |= e.files
        for e in list(self.waiting):
            if len(self.running) >= self.max_parallel:
                break
            if e.files & busy:
                continue
            self.waiting.remove(e)
            if self._start(e):
                busy |= e.files

    def _start(self, e: QueueEntry) -> bool:
        scope = e.scope
        assert scope is not None
        ws = self._workspaces[id(scope)]
        text = scope.read_text(e.path)
        try:
            if text is None:
                raise RunError(f"cannot read {e.path}", "path")
            spec = prepare_run(
                workspace=scope.root,
                task_path=e.path,
                text=text,
                task_id=e.task_id,
                runner=ws.settings.runner,
                aliases=dict(ws.settings.markerAliases),
                droid=e.droid if e.assigned else None,
                ws=ws,
                env=self.env,
            )
            hooks = self.make_hooks(spec)
            run = self.manager.submit(spec, hooks)
        except RunError as err:
            self._skip(e, f"not started: {err}")
            return False
        e.run = run
        e.state = "running"
        self.running.append(e)
        coro = self.drive(run, hooks) if self.drive is not None else run.execute()
        run.task = e.future = asyncio.ensure_future(coro)
        return True

    def _ended(self, e: QueueEntry) -> None:
        self.running.remove(e)
        e.state = "finished"
        run = e.run
        assert run is not None
        fut = e.future
        if fut is not None and not fut.cancelled() and fut.exception() is not None:
            log.error("queue: run %s failed", run.id, exc_info=fut.exception())
        result = run.result
        if result is None:
            e.outcome, e.reason = "error", "the run ended without an outcome (see the log)"
        else:
            e.duration = result.duration
            e.reason = result.message
            e.note = result.note
            final = result.final_status
            if final is Status.COMPLETED:
                e.outcome = "completed"
            elif result.outcome == "kept":
                e.outcome = final.value if final is not None else "malformed"
            else:
                e.outcome = result.outcome
            if e.outcome != "completed" and result.error:
                e.reason = result.error
        self._changed.append(e.path)

    def _skip(self, e: QueueEntry, reason: str) -> None:
        e.state = "skipped"
        e.outcome = "skipped"
        e.reason = reason
        if e in self.waiting:
            self.waiting.remove(e)

    def _conclude(self) -> QueueSummary:
        if self.cancelled:
            for e in list(self.waiting):
                self._skip(e, "not started: the queue was cancelled")
        else:
            for e in list(self.waiting):  # --ready: candidates that stopped being ready
                self._skip(e, "not started: no longer ready")
            self._skip_dependents()
        self.later = 0
        self._update()
        return QueueSummary(list(self.entries), self.cancelled)

    # -- the pending tasks of the scopes ----------------------------------------------------------
    def _pending_graph(self) -> list[tuple[QueueScope, Key, str, str, str | None, list[Key | None]]]:
        """Each pending task with an ID in the scopes: (scope, key, task ID, title, droid, the
        keys of its dependencies — None for one that cannot be resolved)."""

        out = []
        for scope in self.scopes:
            ws = self._workspaces[id(scope)]
            for doc in select_task_docs(ws, scope.paths):
                implicit: dict[Key, list[Key]] = {}
                for a, b, _kind in implicit_edges(doc):
                    if a.task.id and b.task.id:
                        implicit.setdefault((doc.path, normalize_id(b.task.id)), []).append(
                            (doc.path, normalize_id(a.task.id))
                        )
                for chunk in doc.chunks:
                    for task in chunk.parse.tasks:
                        if task.status is not Status.PENDING or not task.id:
                            continue
                        loc = Located(task, chunk)
                        if scope.within is not None and not scope.within(doc.path, loc.line):
                            continue
                        key = (doc.path, normalize_id(task.id))
                        deps = _dependency_keys(ws, doc, task) + implicit.get(key, [])
                        out.append((scope, key, task.id, plain_title(task.title), task.droid, deps))
        return out

    def _statuses(self) -> dict[Key, Status | None]:
        out: dict[Key, Status | None] = {}
        for scope in self.scopes:
            ws = self._workspaces[id(scope)]
            for doc in select_docs(ws, scope.paths):
                for chunk in doc.chunks:
                    for task in chunk.parse.tasks:
                        if task.id:
                            out[(doc.path, normalize_id(task.id))] = task.status
        return out

    def _count_later(self) -> int:
        """``--all``: pending tasks with a droid, not taken yet, whose dependencies are all
        completed, taken by the queue (and not failed) or such tasks themselves."""
        graph = [g for g in self._pending_graph() if g[1] not in self._by_key]
        if not graph:
            return 0
        statuses = self._statuses()
        ok: set[Key] = {k for k, e in self._by_key.items() if e.state != "skipped" and (
            e.state in ("waiting", "running") or e.completed)}  # fmt: skip
        later: set[Key] = set()
        changed = True
        while changed:
            changed = False
            for _scope, key, _tid, _title, droid, deps in graph:
                if key in later or self._droid_for(droid) is None:
                    continue
                if all(
                    d is not None
                    and (d in ok or d in later or statuses.get(d) is Status.COMPLETED)
                    for d in deps
                ):
                    later.add(key)
                    changed = True
        return len(later)

    def _skip_dependents(self) -> None:
        """Pending tasks of the scopes that depend, directly or not, on a task of the queue that
        did not complete: skipped, with the reason."""
        failed: dict[Key, str] = {}
        for e in self.entries:
            if e.started and not e.completed:
                failed[e.key] = f"{e.task_id}, which ended {e.outcome}"
            elif e.state == "skipped":
                failed[e.key] = f"{e.task_id}, which was skipped"
        if not failed:
            return
        graph = self._pending_graph()
        changed = True
        while changed:
            changed = False
            for scope, key, task_id, title, droid, deps in graph:
                if key in failed or key in self._by_key:
                    continue
                for d in deps:
                    if d is not None and d in failed:
                        why = failed[d]
                        changed = True
                        if self._droid_for(droid) is None:  # not a candidate: not reported
                            failed[key] = f"{task_id}, which waits on {why}"
                            break
                        failed[key] = f"{task_id}, which was skipped"
                        entry = QueueEntry(
                            key, key[0], task_id, title, self._droid_for(droid) or "",
                            frozenset(), scope,
                        )  # fmt: skip
                        self._by_key[key] = entry
                        self.entries.append(entry)
                        self._skip(entry, f"depends on {why}")
                        break


def select_docs(ws: Workspace, paths: list[str] | None) -> list[TaskDocument]:

    return select_task_docs(ws, paths)


def _dependency_keys(ws: Workspace, doc: TaskDocument, task: Task) -> list[Key | None]:
    out: list[Key | None] = []
    for ref in task.refs:
        target, problem = ws.resolve_ref(doc, ref)
        if target is None:
            if problem:
                out.append(None)
            continue
        tdoc, tloc = target
        if tloc.task.id:
            out.append((tdoc.path, normalize_id(tloc.task.id)))
        else:
            out.append(None)
    return out
