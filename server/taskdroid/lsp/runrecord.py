"""The run record in the editor (docs/language.md §11, run record): what the server shows of a
task's ``**Last Run**``.

* hover on a ``**Last Run**`` field: the record spelled out and the last lines of the run's log
  (read from the end, at most 64 KiB; stream-json events shown as their message);
* ``taskdroid.openLog {uri, taskId}``: the log of the task's last run — shown with
  ``window/showDocument`` when the client can show documents; returns ``{uri, path, shown,
  lines}`` (``lines``: its last lines, for clients that cannot show it);
* code lenses on a task with a Last Run (see :mod:`taskdroid.lsp.codelens`): ``Open log``, and
  ``↻ Re-run <droid>`` (``taskdroid.runTask`` with ``force``) when the task is completed.

The log path comes from the task file, so it is confined: relative to the workspace and inside
it (symbolic links resolved), or absolute inside an absolute ``runner.logDir`` (a user setting).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import from_fs_path

from taskdroid.core.files import ReadError
from taskdroid.core.text import Range
from taskdroid.lsp.deferred import discovery, runfields
from taskdroid.lsp.deferred import edits as core_edits
from taskdroid.lsp.deferred import run as droid_runs
from taskdroid.lsp.navigation import RequestFailed
from taskdroid.lsp.server import DocContext, Project, TaskdroidServer

if TYPE_CHECKING:
    from taskdroid.core.document import Located
    from taskdroid.core.model import Field, Task
    from taskdroid.core.text import Position

log = logging.getLogger("taskdroid.lsp.runrecord")

OPEN_LOG = "taskdroid.openLog"
RUN_TASK = "taskdroid.runTask"
#: lines of the log a hover shows
TAIL_LINES = 10


def last_run_field(task: Task) -> Field | None:
    return task.field("Last Run")


def record_lenses(rng: dict, uri: str, task: Task, can_run: bool) -> list[dict[str, Any]]:
    """``Open log`` on a task with a Last Run that names a log, and ``↻ Re-run <droid>`` on a
    completed one that names a droid, when ``can_run`` (a runner is configured and the droid is
    known: a re-run that can only fail is not offered). Computed from the task and the run gate:
    cached with its chunk."""
    f = last_run_field(task)
    if f is None or not task.id:
        return []
    out: list[dict[str, Any]] = []
    record = runfields.parse_last_run(f.value)
    if record is not None and record.log:
        out.append(_lens(rng, "Open log", OPEN_LOG, {"uri": uri, "taskId": task.id}))
    droid = task.droid
    if can_run and droid and task.status is not None and task.status.value == "completed":
        args = {"uri": uri, "taskId": task.id, "force": True}
        out.append(_lens(rng, f"↻ Re-run {droid}", RUN_TASK, args))
    return out


def _lens(rng: dict, title: str, command: str, argument: dict[str, Any]) -> dict[str, Any]:
    return {"range": rng, "command": {"title": title, "command": command, "arguments": [argument]}}


# -- hover -------------------------------------------------------------------------------------------


def last_run_hover(ctx: DocContext, pos: Position) -> tuple[str, Range] | None:
    """Hover on a ``**Last Run**`` field (its key or value): the record and the log's last
    lines."""
    doc = ctx.task_doc
    if doc is None:
        return None
    loc = doc.task_at_line(pos.line)
    if loc is None:
        return None
    f = last_run_field(loc.task)
    if f is None or loc.chunk.line + f.line != pos.line:
        return None
    line = loc.chunk.line + f.line
    if not f.key_span.start <= pos.character <= max(f.value_span.end, f.key_span.end):
        return None
    rng = Range.of(line, f.key_span.start, max(f.value_span.end, f.key_span.end))
    return _hover_text(ctx.project, ctx.path, f.value), rng


def _hover_text(project: Project, path: str, value: str) -> str:
    out = [f"**Last Run** — {runfields.RUN_FIELD_HELP['Last Run']}"]
    record = runfields.parse_last_run(value)
    if record is None:
        out.append("This value is not a run record (`start · duration · outcome · log: path`).")
        return "\n\n".join(out)
    facts = [f"{record.outcome} after {record.duration}, started {record.start}"]
    if record.session:
        facts.append(f"session `{record.session}`")
    if record.cost is not None:
        facts.append(f"${runfields.format_cost(record.cost)}")
    if record.turns is not None:
        facts.append(f"{record.turns} turns")
    out.append(" · ".join(facts))
    if not record.log:
        out.append("No log file is named.")
        return "\n\n".join(out)
    try:
        lines = droid_runs.log_tail(_find(project, path, record.log), TAIL_LINES)
    except droid_runs.RunError as e:
        out.append(f"Log: {e}.")
        return "\n\n".join(out)
    except ReadError as e:
        out.append(f"Log `{record.log}`: {e}.")
        return "\n\n".join(out)
    if not lines:
        out.append(f"Log `{record.log}`: nothing to show.")
        return "\n\n".join(out)
    body = "\n".join(line.replace("```", "ˋˋˋ") for line in lines)
    out.append(f"Log `{record.log}`, last lines:\n\n```text\n{body}\n```")
    return "\n\n".join(out)


def _root(project: Project, path: str) -> str:
    return project.root or str(discovery.find_root(Path(path)))


def _find(project: Project, path: str, shown: str) -> Path:
    log_dir = project.loaded.settings.runner.logDir if project.loaded is not None else None
    return droid_runs.find_log(_root(project, path), shown, log_dir)


# -- taskdroid.openLog -------------------------------------------------------------------------------


async def open_log(ls: TaskdroidServer, uri: str, task_id: str, command: str) -> dict[str, Any]:
    """``taskdroid.openLog``: the log of the task's last run, shown when the client can."""
    await ls.wait_ready()
    ctx = ls.context(uri)
    if ctx is None or ctx.task_doc is None:
        raise RequestFailed(f"{command}: {uri} is not a task file of the workspace")
    loc: Located | None = core_edits.find_task(ctx.task_doc, task_id)
    if loc is None:
        raise RequestFailed(f"{command}: {core_edits.unknown_task_message(ctx.task_doc, task_id)}")
    f = last_run_field(loc.task)
    record = runfields.parse_last_run(f.value) if f is not None else None
    if record is None or not record.log:
        raise RequestFailed(f"{command}: task {task_id} has no **Last Run** naming a log file")
    try:
        found = _find(ctx.project, ctx.path, record.log)
        lines = await asyncio.get_running_loop().run_in_executor(
            None, droid_runs.log_tail, found, TAIL_LINES
        )
    except droid_runs.RunError as e:
        raise RequestFailed(f"{command}: {e}") from None
    except ReadError as e:
        raise RequestFailed(f"{command}: {record.log}: {e}") from None
    log_uri = from_fs_path(str(found)) or found.as_uri()
    shown = False
    if ls.client.show_document:
        try:
            result = await asyncio.wait_for(
                ls.window_show_document_async(
                    types.ShowDocumentParams(uri=log_uri, take_focus=True)
                ),
                5,
            )
            shown = bool(getattr(result, "success", False))
        except Exception as e:
            log.info("cannot show %s: %s", log_uri, e)
    return {"uri": log_uri, "path": record.log, "shown": shown, "lines": lines}
