"""Queued runs in the server (docs/language.md §7, queued runs): ``taskdroid.runReady`` and the
``▶ Run ready (n)`` code lens of section headings. The queue itself is
:class:`taskdroid.run.queue.TaskQueue`; each of its runs is a run of the server's
:class:`~taskdroid.lsp.runs.RunsState` (per-run progress, cancel, status edits through the
client), as ``taskdroid.runTask`` starts them.

* ``taskdroid.runReady {uri?, all?, droid?, section?}`` — the ready tasks with a droid of a task
  file or folder (``uri``; default: every task file of every workspace folder); ``all``: go on
  with the tasks that become ready; ``droid``: the droid of the tasks that name none;
  ``section``: only the tasks under the section heading on that (0-based) line of ``uri`` (what
  the code lens sends). Answers ``{"runIds": […]}`` — the runs started at once; the others start
  as slots and files free up, each with its own progress — and, when nothing is ready,
  ``{"runIds": [], "message": …}``. No runner configured, a runner program not found or a bad
  ``droid`` are refused like ``taskdroid.runTask`` refuses them.
* One overall work-done progress, ``3 of 12 tasks`` (with what runs), accompanies the per-run
  progress; cancelling it cancels every run of the queue (each task restored as for a cancel)
  and starts no more. It ends with the counts (``2 completed, 1 blocked, 1 skipped``); the summary
  (each task, its outcome and duration) goes to the log (``window/logMessage``). Clients without
  work-done progress get the counts as a ``window/showMessage``.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from taskdroid.lsp import runlens, runs
from taskdroid.lsp.deferred import query, ready
from taskdroid.lsp.deferred import run as droid_runs
from taskdroid.lsp.documents import CHANGED, apply_file_events
from taskdroid.lsp.server import DocContext, TaskdroidServer

if TYPE_CHECKING:
    from taskdroid.core.document import TaskDocument
    from taskdroid.run.queue import QueueScope, QueueSummary, TaskQueue

log = logging.getLogger("taskdroid.lsp.runs")

RUN_READY = "taskdroid.runReady"
_USAGE = "{uri?, all?, droid?, section?}"

# -- taskdroid.runReady ------------------------------------------------------------------------------


async def run_ready(ls: TaskdroidServer, args: Sequence[Any]) -> dict[str, Any]:

    if len(args) == 0 or (len(args) == 1 and args[0] is None):
        arg: dict[str, Any] = {}
    elif len(args) == 1 and isinstance(args[0], dict):
        arg = args[0]
    else:
        raise JsonRpcInvalidParams(f"{RUN_READY} takes one object argument {_USAGE}")
    uri, follow, droid, section = (arg.get(k) for k in ("uri", "all", "droid", "section"))
    if uri is not None and (not isinstance(uri, str) or not uri):
        raise JsonRpcInvalidParams(f"{RUN_READY}: `uri` must be a task file's or folder's URI")
    if follow is None:
        follow = False
    if not isinstance(follow, bool):
        raise JsonRpcInvalidParams(f"{RUN_READY}: `all` must be true or false")
    if droid is not None and not isinstance(droid, str):
        raise JsonRpcInvalidParams(f"{RUN_READY}: `droid` must be a droid name")
    if section is not None and (
        not isinstance(section, int) or isinstance(section, bool) or section < 0 or uri is None
    ):
        raise JsonRpcInvalidParams(
            f"{RUN_READY}: `section` must be the 0-based line of a section heading in `uri`"
        )
    state = runs.runs_of(ls)
    if state is None or state.stopping:
        raise runs._failed("the language server is shutting down", "busy")
    await ls.wait_ready()
    for open_uri in list(ls.docs):
        ls.sync(open_uri)
    progress = _QueueProgress(ls)
    scopes = _scopes(ls, uri, section, progress)
    queue = droid_runs.TaskQueue(
        state.manager,
        scopes,
        follow=follow,
        droid=droid,
        make_hooks=lambda spec: runs.LspRunHooks(ls),
        drive=state._drive,
        on_update=progress.update,
    )
    progress.queue = queue
    try:
        await queue.prepare()
    except droid_runs.RunError as e:
        raise runs._error_for(e) from None
    if not queue.waiting:
        return {"runIds": [], "message": "no ready tasks with a droid"}
    await progress.begin()
    run_ids = await queue.start_ready()
    ls.spawn(_drive_queue(queue, progress), name=queue.id)
    log.info("%s: %d ready task(s), runs %s", queue.id, queue.total, ", ".join(run_ids))
    return {"runIds": run_ids}


async def _drive_queue(queue: TaskQueue, progress: _QueueProgress) -> None:
    try:
        summary = await queue.run()
    except asyncio.CancelledError:
        queue.cancel("the language server is shutting down")
        progress.end(None)
        raise
    except Exception:
        log.exception("%s failed", queue.id)
        queue.cancel("internal error")
        progress.end(None)
        return
    progress.end(summary)


def _scopes(
    ls: TaskdroidServer, uri: str | None, section: int | None, progress: _QueueProgress
) -> list[QueueScope]:

    def read(path: str) -> str | None:
        return runs._current_text(ls, path)

    if uri is None:
        roots = [
            p.root or os.path.dirname(next(iter(p.ws.task_docs)))
            for p in ls.all_projects()
            if p.ws.task_docs
        ]
        return [
            droid_runs.QueueScope(root, None, _refresher(ls, root, None, progress), read)
            for root in roots
        ]
    path = ls.path_of(uri)
    if path is None:
        raise JsonRpcInvalidParams(f"{RUN_READY}: {uri} is not a file or folder")
    project = ls.project_for(path)
    if project is None:
        raise JsonRpcInvalidParams(f"{RUN_READY}: {uri} is not in the workspace")
    if path not in project.ws.task_docs and not os.path.exists(path):
        raise JsonRpcInvalidParams(f"{RUN_READY}: no such file or folder: {path}")

    within = None
    if section is not None:
        doc = project.ws.task_docs.get(path)
        span = _section_span(doc, section) if doc is not None else None
        if span is None:
            raise JsonRpcInvalidParams(
                f"{RUN_READY}: line {section} of {uri} is not a section heading"
            )
        start, end = span

        def within(p: str, line: int) -> bool:
            return p == path and start <= line < end

    root = project.root or runs._fallback_root(path)
    refresh = _refresher(ls, root, [path], progress)
    return [droid_runs.QueueScope(root, [path], refresh, read, within)]


def _project_of(ls: TaskdroidServer, root: str, paths: list[str] | None):
    if paths:
        return ls.project_for(paths[0])
    for p in ls.all_projects():
        if p.root == root:
            return p
    return ls.project_for(os.path.join(root, "x"))


def _refresher(ls: TaskdroidServer, root: str, paths: list[str] | None, progress: _QueueProgress):

    async def refresh(changed: Sequence[str]):
        """Open documents as the editor holds them; task files the runs changed on disk (the
        droid may have edited them itself) read again."""
        state = runs.runs_of(ls)
        if state is not None and state.stopping and progress.queue is not None:
            progress.queue.cancel("the language server shut down")
        for open_uri in list(ls.docs):
            ls.sync(open_uri)
        closed = sorted(
            {p for p in changed if ls.open_paths.get(p) is None or ls.open_paths[p] not in ls.docs}
        )
        if closed:
            await apply_file_events(ls, [(p, CHANGED) for p in closed])
        project = _project_of(ls, root, paths)
        if project is None:
            raise RuntimeError(f"no workspace folder holds {root}")
        return project.ws

    return refresh


class _QueueProgress:
    """The overall work-done progress of a queue."""

    def __init__(self, ls: TaskdroidServer) -> None:
        self.ls = ls
        self.queue: TaskQueue | None = None
        self.token: str | None = None
        self.ended = False
        self._last = ""

    async def begin(self) -> None:
        ls, queue = self.ls, self.queue
        assert queue is not None
        if not ls.client.work_done_progress:
            return
        token = f"taskdroid-{queue.id}-{os.getpid()}"
        if not await runs.open_progress(
            ls, token, queue.id, lambda: queue.cancel("cancelled from the editor")
        ):
            return
        self.token = token
        self._last = queue.progress_text()
        ls.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(
                title="Running all ready tasks" if queue.follow else "Running ready tasks",
                message=self._last,
                cancellable=True,
                percentage=0,
            ),
        )

    def update(self, queue: TaskQueue) -> None:
        if self.token is None or self.ended:
            return
        text = queue.progress_text()
        if text == self._last:
            return
        self._last = text
        total = queue.total
        pct = int(100 * queue.finished_count / total) if total else 100
        self.ls.work_done_progress.report(
            self.token, types.WorkDoneProgressReport(message=text, percentage=min(pct, 100))
        )

    def end(self, summary: QueueSummary | None) -> None:
        if self.ended:
            return
        self.ended = True
        ls, queue = self.ls, self.queue
        assert queue is not None
        if summary is None:
            message = "stopped"
        else:
            done = sum(1 for e in summary.entries if e.state == "finished")
            message = f"{done} of {len(summary.started)} tasks run: {summary.counts()}"
            if summary.cancelled:
                message = "cancelled — " + message
        lines = summary.lines(lambda p: ls.uri_of(p)) if summary is not None else []
        try:
            ls.window_log_message(
                types.LogMessageParams(
                    type=types.MessageType.Info
                    if summary and summary.ok
                    else types.MessageType.Warning,
                    message="\n".join([f"{queue.id}: {message}", *lines]),
                )
            )
        except Exception:
            log.debug("cannot log to the client", exc_info=True)
        if self.token is not None:
            try:
                ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
            except Exception:
                log.exception("cannot end the progress of %s", queue.id)
            ls.work_done_progress.tokens.pop(self.token, None)
            return
        try:
            ls.window_show_message(
                types.ShowMessageParams(
                    type=types.MessageType.Info
                    if summary and summary.ok
                    else types.MessageType.Warning,
                    message=f"taskdroid: ready tasks: {message}",
                )
            )
        except Exception:
            log.exception("cannot show the outcome of %s", queue.id)


# -- the code lens -----------------------------------------------------------------------------------


def _headings(doc: TaskDocument) -> list[tuple[int, int, Any]]:
    """(absolute line, level, selection range) of each heading of ``doc``."""

    out = []
    for chunk in doc.chunks:
        for h in query.chunk_headings(chunk):
            out.append((h.range.start.line, h.level, h.selection))
    return out


def _spans(doc: TaskDocument) -> list[tuple[int, int, int, Any]]:
    """(line, end, level, selection) of each heading: its section is lines [line, end)."""
    heads = _headings(doc)
    ends = [1 << 62] * len(heads)
    open_: list[int] = []  # indexes of headings whose section is still open
    for i, (hline, level, _sel) in enumerate(heads):
        while open_ and heads[open_[-1]][1] >= level:
            ends[open_.pop()] = hline
        open_.append(i)
    return [(h[0], ends[i], h[1], h[2]) for i, h in enumerate(heads)]


def _section_span(doc: TaskDocument, line: int) -> tuple[int, int] | None:
    """Lines [start, end) of the section whose heading is on ``line`` (None: no heading there)."""
    for hline, end, _level, _sel in _spans(doc):
        if hline == line:
            return hline, end
    return None


def ready_lenses(
    server: TaskdroidServer, ctx: DocContext, gate: runlens.RunGate
) -> list[dict[str, Any]]:
    """``▶ Run ready (n)`` on each section heading (level 2 or deeper) with n > 0 ready tasks
    that name a droid of the index under it (subsections included); the lens runs
    ``taskdroid.runReady`` on that section. With no runner configured, ``Configure runner…``
    instead (``taskdroid.configureRunner``, see :mod:`taskdroid.lsp.runlens`)."""

    doc = ctx.task_doc
    if doc is None or ctx.path not in ctx.project.ws.task_docs:
        return []
    lines = sorted(
        r.line
        for r in ready.next_tasks(ctx.project.ws, [ctx.path])
        if r.droid and r.task_id and r.droid in gate.droids
    )
    if not lines:
        return []

    out: list[dict[str, Any]] = []
    for hline, end, level, sel in _spans(doc):
        if level < 2:
            continue
        n = bisect.bisect_left(lines, end) - bisect.bisect_left(lines, hline)
        if n > 0:
            command: dict[str, Any] = {
                "title": f"▶ Run ready ({n})",
                "command": RUN_READY,
                "arguments": [{"uri": ctx.uri, "section": hline}],
            }
            if not gate.configured:
                command = {
                    "title": runlens.CONFIGURE_TITLE,
                    "command": runlens.CONFIGURE_RUNNER,
                    "arguments": [{"uri": ctx.uri}],
                }
            out.append({"range": server.conv.range_json(ctx.lines, sel), "command": command})
    return out
