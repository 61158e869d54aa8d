"""Commands (docs/language.md §6, ``workspace/executeCommand``): ``taskdroid.setStatus``,
``taskdroid.nextTasks`` and ``taskdroid.createDroid``.

Each command takes **one JSON object** and validates it with a pydantic model (pygls cannot
structure pydantic models, so the handlers take the raw arguments and validate them here). A
wrong argument is answered with an ``InvalidParams`` error that says what was wrong and what the
command expects; nothing is raised past the handler.

* ``taskdroid.setStatus`` ``{uri, taskId, status, note?}`` — the status edit of docs/language.md §5, sent
  with ``workspace/applyEdit`` through :func:`taskdroid.lsp.editing.apply_status` (versioned,
  recomputed and retried once when the document changed in between). Returns ``{"applied"}``.
* ``taskdroid.nextTasks`` ``{uri?}`` — ready tasks of a task file or folder (default: the whole
  workspace) as ``[{uri, taskId, title, droid, priority, line}]`` (``line`` 0-based).
* ``taskdroid.planTasks`` ``{uri?}`` — the plan of docs/language.md §11 (waves, running, unplannable,
  conflicts, critical path, implicit edges) of a task file or folder (default: the whole
  workspace), exactly as ``taskdroid plan --format json`` prints it but with ``uri`` for ``path``
  (tasks are named ``<uri>#<taskId>``; ``line`` stays 1-based as in the CLI's JSON; paths inside
  reasons are relative to the workspace folder).
* ``taskdroid.outline`` ``{uri?}`` — the task view of docs/language.md §15 (core/taskview.py) of a task file
  or folder (default: the whole workspace): ``{"files": [{uri, path, done, total, counts,
  sections: [{title, level, line, priority, done, total, tasks: [{id, title, status, marker,
  optional, droid, droidResolves, dependency: {state, on, text} | null, line, range, runId,
  children}]}], requirements: [REQFILE…]}]}`` (lines 0-based, ranges in the client's position
  encoding, ``runId`` of the run holding the task or null); ``requirements`` lists, under the first
  task file of a spec folder, the requirements files beside it with their coverage (REQFILE of
  :func:`taskdroid.core.requirement_views.outline_requirements_json`; docs/language.md §13). A client that declares the experimental client capability
  ``taskdroidOutline: true`` gets the notification ``taskdroid/outlineChanged {uris}`` after
  each analysis that may have changed the outline of those task files (coalesced per event loop
  turn), to ask again — a requirements file's analysis names the task files of its folder.
* ``taskdroid.openLog`` ``{uri, taskId}`` — the log of the task's last run (its ``**Last Run**``,
  docs/language.md §11), shown with ``window/showDocument`` when the client can; returns ``{uri,
  path, shown, lines}`` (see :mod:`taskdroid.lsp.runrecord`).
* ``taskdroid.createDroid`` ``{name, folder?}`` — a droid file stub with valid front matter and a
  body, ``<folder>/<name>.md`` (default folder: the project's ``.factory/droids``, or
  ``.claude/agents`` / ``droids`` when only that exists); created with a ``CreateFile`` resource
  operation when the client supports one, else written on disk. Shown to the user when the client
  can show documents. Returns ``{"uri"}``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.uris import from_fs_path

from taskdroid.lsp import runready, runrecord
from taskdroid.lsp.deferred import arguments, taskview
from taskdroid.lsp.deferred import edits as core_edits
from taskdroid.lsp.deferred import plan as core_plan
from taskdroid.lsp.deferred import ready as core_ready
from taskdroid.lsp.deferred import requirement_views as rv
from taskdroid.lsp.deferred import requirements as rq
from taskdroid.lsp.documents import CREATED, apply_file_events
from taskdroid.lsp.editing import apply_status
from taskdroid.lsp.navigation import RequestFailed
from taskdroid.lsp.runs import runs_of
from taskdroid.lsp.server import Project, TaskdroidServer

if TYPE_CHECKING:
    from pydantic import BaseModel

log = logging.getLogger("taskdroid.lsp.commands")

SET_STATUS = "taskdroid.setStatus"
NEXT_TASKS = "taskdroid.nextTasks"
PLAN_TASKS = "taskdroid.planTasks"
CREATE_DROID = "taskdroid.createDroid"
OUTLINE = "taskdroid.outline"
OPEN_LOG = runrecord.OPEN_LOG
#: notification to clients that opted in (experimental capability ``taskdroidOutline``)
OUTLINE_CHANGED = "taskdroid/outlineChanged"
RUN_TASK = "taskdroid.runTask"  #: implemented in lsp/runs.py
RUN_READY = (
    "taskdroid.runReady"  #: implemented in lsp/runready.py (docs/language.md §7, queued runs)
)

_USAGE = {
    SET_STATUS: "{uri, taskId, status, note?}",
    NEXT_TASKS: "{uri?}",
    PLAN_TASKS: "{uri?}",
    OUTLINE: "{uri?}",
    CREATE_DROID: "{name, folder?}",
    OPEN_LOG: "{uri, taskId}",
}

#: a URI (a scheme of two or more characters: not a Windows drive letter)
_URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")
#: droid folders, in the order a new droid goes into the first that exists (else the first)
DROID_FOLDERS = (".factory/droids", ".claude/agents", "droids")


def register(server: TaskdroidServer) -> None:
    server.hooks.files_analyzed.append(outline_changed)

    @server.command(SET_STATUS)
    async def set_status(ls: TaskdroidServer, *args: Any) -> dict[str, Any]:
        return await _set_status(ls, args)

    @server.command(NEXT_TASKS)
    async def next_tasks(ls: TaskdroidServer, *args: Any) -> list[dict[str, Any]]:
        return await _next_tasks(ls, args)

    @server.command(PLAN_TASKS)
    async def plan_tasks(ls: TaskdroidServer, *args: Any) -> dict[str, Any]:
        return await _plan_tasks(ls, args)

    @server.command(OUTLINE)
    async def outline(ls: TaskdroidServer, *args: Any) -> dict[str, Any]:
        return await _outline(ls, args)

    @server.command(CREATE_DROID)
    async def create_droid(ls: TaskdroidServer, *args: Any) -> dict[str, Any]:
        return await _create_droid(ls, args)

    @server.command(OPEN_LOG)
    async def open_log(ls: TaskdroidServer, *args: Any) -> dict[str, Any]:
        a = validate(OPEN_LOG, args)
        return await runrecord.open_log(ls, a.uri, a.taskId, OPEN_LOG)

    @server.command(RUN_READY)
    async def run_ready(ls: TaskdroidServer, *args: Any) -> dict[str, Any]:
        return await runready.run_ready(ls, args)


# -- arguments (their pydantic models are in lsp/arguments.py, loaded after start-up) ---------------

#: the model (in lsp/arguments.py) of each command's argument object
_MODELS = {
    SET_STATUS: "SetStatusArgs",
    NEXT_TASKS: "NextTasksArgs",
    PLAN_TASKS: "NextTasksArgs",
    OUTLINE: "NextTasksArgs",
    CREATE_DROID: "CreateDroidArgs",
    OPEN_LOG: "OpenLogArgs",
}


def invalid(command: str, message: str) -> JsonRpcInvalidParams:
    return JsonRpcInvalidParams(f"{command}: {message}")


def validate(command: str, args: tuple[Any, ...], *, optional: bool = False) -> Any:
    """The single object argument of ``command`` as its model, or an InvalidParams error."""
    usage = _USAGE[command]
    model: type[BaseModel] = getattr(arguments, _MODELS[command])
    if not args and optional:
        return model()
    if len(args) != 1 or not isinstance(args[0], dict):
        got = "no arguments" if not args else f"{len(args)} arguments"
        if len(args) == 1:
            got = f"a {_json_type(args[0])}"
        raise invalid(command, f"expected one JSON object argument {usage}, got {got}")
    try:
        return model.model_validate(args[0])
    except arguments.ValidationError as e:
        problems = []
        for err in e.errors(include_url=False):
            where = ".".join(str(p) for p in err.get("loc") or ()) or "argument"
            kind = err.get("type")
            if kind == "missing":
                problems.append(f"`{where}` is required")
            elif kind == "extra_forbidden":
                problems.append(f"unknown argument `{where}`")
            else:
                msg = str(err.get("msg", "invalid"))
                if msg.startswith("Value error, "):
                    msg = msg[len("Value error, ") :]
                problems.append(f"`{where}`: {msg}")
        raise invalid(command, "; ".join(problems) + f" (expected {usage})") from None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return type(value).__name__


def _file_path(ls: TaskdroidServer, command: str, uri: str, what: str = "uri") -> str:
    path = ls.path_of(uri)
    if path is None:
        raise invalid(command, f"`{what}` must be a file: URI, got `{uri}`")
    return path


# -- taskdroid.setStatus ---------------------------------------------------------------------------


async def _set_status(ls: TaskdroidServer, args: tuple[Any, ...]) -> dict[str, Any]:
    a = validate(SET_STATUS, args)
    path = _file_path(ls, SET_STATUS, a.uri)
    await ls.wait_ready()
    uri = a.uri if a.uri in ls.docs else ls.open_paths.get(path, a.uri)
    if uri not in ls.docs and not os.path.isfile(path):
        raise invalid(SET_STATUS, f"no such file: {path}")
    if uri not in ls.docs and not ls.inside_workspace(path):
        raise invalid(SET_STATUS, f"{path} is outside the workspace folders: not edited")
    try:
        applied = await apply_status(ls, uri, a.taskId, a.status, note=a.note)
    except core_edits.EditError as e:
        raise invalid(SET_STATUS, str(e)) from None
    if not applied:
        _warn(
            ls,
            f"taskdroid: the status of {a.taskId} was not changed — the editor did not apply the edit",
        )
    return {"applied": applied}


def _warn(ls: TaskdroidServer, message: str) -> None:
    log.warning("%s", message)
    try:
        ls.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Warning, message=message)
        )
    except Exception:
        log.exception("cannot show a message")


# -- taskdroid.nextTasks ---------------------------------------------------------------------------


async def _next_tasks(ls: TaskdroidServer, args: tuple[Any, ...]) -> list[dict[str, Any]]:
    a = validate(NEXT_TASKS, args, optional=True)
    path = _file_path(ls, NEXT_TASKS, a.uri) if a.uri else None
    await ls.wait_ready()
    for uri in list(ls.docs):  # open documents as the client sees them
        ls.sync(uri)
    ready = []
    if path is not None:
        project = ls.project_for(path)
        if project is None:
            raise invalid(NEXT_TASKS, f"{a.uri} is not in the workspace")
        ws = project.ws
        if path not in ws.task_docs and not os.path.exists(path):
            raise invalid(NEXT_TASKS, f"no such file or folder: {path}")
        ready = core_ready.next_tasks(ws, [path])
    else:
        for project in ls.all_projects():
            if project.ws.task_docs:
                ready.extend(core_ready.next_tasks(project.ws))
    return [
        {
            "uri": ls.uri_of(r.path),
            "taskId": r.task_id,
            "title": r.title,
            "droid": r.droid,
            "priority": r.priority,
            "line": r.line,
        }
        for r in ready
    ]


# -- taskdroid.planTasks ---------------------------------------------------------------------------


async def _scope(
    ls: TaskdroidServer, command: str, uri: str | None
) -> tuple[str | None, Project | None]:
    """The file or folder a workspace-wide command is limited to (``uri``), and its project —
    (None, None) for the whole workspace — once the index is ready and open documents are as the
    client sees them. Raises InvalidParams for a URI outside the workspace or that names nothing."""
    path = _file_path(ls, command, uri) if uri else None
    await ls.wait_ready()
    for open_uri in list(ls.docs):
        ls.sync(open_uri)
    if path is None:
        return None, None
    project = ls.project_for(path)
    if project is None:
        raise invalid(command, f"{uri} is not in the workspace")
    if path not in project.ws.task_docs and not os.path.exists(path):
        raise invalid(command, f"no such file or folder: {path}")
    return path, project


async def _plan_tasks(ls: TaskdroidServer, args: tuple[Any, ...]) -> dict[str, Any]:
    a = validate(PLAN_TASKS, args, optional=True)
    path, project = await _scope(ls, PLAN_TASKS, a.uri)
    if path is not None and project is not None:
        projects = [project]
        plan = core_plan.compute_plan(project.ws, [path])
    else:
        projects = [p for p in ls.all_projects() if p.ws.task_docs]
        plan = core_plan.merge_plans([core_plan.compute_plan(p.ws) for p in projects])

    def shown(p: str) -> str:
        for project in projects:
            rel = project.ws.relpath(p)
            if rel is not None:
                return rel
        return p

    return plan.to_json(ls.uri_of, key="uri", show_text=shown)


# -- taskdroid.outline (the task view) --------------------------------------------------------------


async def _outline(ls: TaskdroidServer, args: tuple[Any, ...]) -> dict[str, Any]:
    a = validate(OUTLINE, args, optional=True)
    path, project = await _scope(ls, OUTLINE, a.uri)
    if path is not None and project is not None:
        views = [(project, v) for v in taskview.task_views(project.ws, [path])]
    else:
        views = [(p, v) for p in ls.all_projects() for v in taskview.task_views(p.ws)]
    runs = runs_of(ls)
    files = []
    for project, view in views:
        lines = ls.core_lines(project, view.path)

        def run_id(task: Any, path: str = view.path) -> str | None:
            run = runs.running(path, task.task_id) if runs and task.task_id else None
            return run.id if run is not None else None

        def show(rng: Any, lines: Any = lines) -> Any:
            return ls.conv.range_json(lines, rng)

        def shown(p: str, ws: Any = project.ws) -> str:
            return ws.relpath(p) or p

        files.append(
            {
                "uri": ls.uri_of(view.path),
                "path": project.ws.relpath(view.path) or view.path,
                "done": view.done,
                "total": view.total,
                "counts": view.counts,
                "sections": [s.to_json(show, run_id) for s in view.sections],
                "requirements": [
                    rv.outline_requirements_json(req, rows, ls.uri_of, shown(req.path))
                    for req, rows in rv.outline_requirements(project.ws, view.path)
                ],
            }
        )
    return {"files": files}


class _OutlineChanges:
    """The uris of the ``taskdroid/outlineChanged`` notification on its way (None: none is)."""

    def __init__(self) -> None:
        self.pending: set[str] | None = None


def outline_changed(ls: TaskdroidServer, project: Project, paths: set[str]) -> None:
    """After an analysis of ``paths``: tell a client that asked for it (experimental capability
    ``taskdroidOutline``) which task files' outline may have changed — coalesced, one
    ``taskdroid/outlineChanged {uris}`` per event loop turn."""
    if not paths or not ls.client.outline_changes:
        return
    ws = project.ws
    # a requirements file's coverage is shown under a task file of its folder (docs/language.md §15)
    reqs = {p for p in paths if rq.requirements_flavor(p) is not None and p not in ws.task_docs}
    shown = (paths - reqs) | rq.neighbours(ws, reqs) if reqs else paths
    uris = {ls.uri_of(p) for p in shown if p in ws.task_docs or p not in ws.droid_docs}
    if not uris:
        return
    state = ls.get_feature(_OutlineChanges) or ls.add_feature(_OutlineChanges())
    if state.pending is not None:
        state.pending |= uris
        return
    state.pending = pending = set(uris)

    def send() -> None:
        state.pending = None
        try:
            ls.protocol.notify(OUTLINE_CHANGED, {"uris": sorted(pending)})
        except Exception:
            log.exception("cannot send %s", OUTLINE_CHANGED)

    try:
        asyncio.get_running_loop().call_soon(send)
    except RuntimeError:
        send()


# -- taskdroid.createDroid -------------------------------------------------------------------------


def default_droid_folder(root: str) -> str:
    """Where a new droid goes: the first of :data:`DROID_FOLDERS` that exists under ``root``,
    else ``.factory/droids``."""
    for rel in DROID_FOLDERS:
        p = os.path.join(root, *rel.split("/"))
        if os.path.isdir(p):
            return p
    return os.path.join(root, *DROID_FOLDERS[0].split("/"))


def leaves_workspace(folder: str, roots: list[str]) -> bool:
    """A folder inside a workspace root as written that a symbolic link (in the repository)
    takes outside it: a new droid file must not be created through it. A folder outside every
    root as written (one the user named) is not refused here."""
    folder = os.path.normpath(os.path.abspath(folder))
    for root in roots:
        root = os.path.normpath(os.path.abspath(root))
        if folder != root and not folder.startswith(root.rstrip(os.sep) + os.sep):
            continue
        real_root = os.path.realpath(root)
        real = os.path.realpath(folder)
        return real != real_root and not real.startswith(real_root.rstrip(os.sep) + os.sep)
    return False


def droid_stub(name: str, eol: str = "\n") -> str:
    """A new droid file: valid front matter (no diagnostics) and a prompt body to fill in."""
    lines = [
        "---",
        f"name: {name}",
        f"description: Describe what {name} does and when to use it.",
        "model: inherit",
        "---",
        "",
        f"You are {name}. Describe here what this droid does and how it works.",
        "",
        "When you work on a task from a task file:",
        "",
        "- mark it `[~]` when you start, and `[x]` with a `**Completed**` timestamp when done;",
        "- when you cannot finish it, mark it `[!]` and say why in an `**Issue**` field.",
        "",
    ]
    return eol.join(lines)


def create_file_edit(uri: str, text: str) -> types.WorkspaceEdit:
    """A WorkspaceEdit that creates ``uri`` (failing when it exists) holding ``text``."""
    return types.WorkspaceEdit(
        document_changes=[
            types.CreateFile(
                uri=uri,
                options=types.CreateFileOptions(overwrite=False, ignore_if_exists=False),
            ),
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None),
                edits=[
                    types.TextEdit(
                        range=types.Range(
                            start=types.Position(line=0, character=0),
                            end=types.Position(line=0, character=0),
                        ),
                        new_text=text,
                    )
                ],
            ),
        ]
    )


def _droid_folder(ls: TaskdroidServer, folder: str | None) -> str:
    roots = [p.root for p in ls.projects if p.root is not None]
    if folder is None:
        if not roots:
            raise invalid(CREATE_DROID, "no workspace folder is open — give `folder`")
        return default_droid_folder(roots[0])
    if _URI_SCHEME.match(folder):
        return _file_path(ls, CREATE_DROID, folder, "folder")
    if os.path.isabs(folder):
        return os.path.normpath(folder)
    if not roots:
        raise invalid(
            CREATE_DROID, f"`folder` `{folder}` is relative but no workspace folder is open"
        )
    return os.path.normpath(os.path.join(roots[0], folder))


async def _create_droid(ls: TaskdroidServer, args: tuple[Any, ...]) -> dict[str, Any]:
    a = validate(CREATE_DROID, args)
    await ls.wait_ready()
    folder = _droid_folder(ls, a.folder)
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise invalid(CREATE_DROID, f"`folder` is a file, not a folder: {folder}")
    if leaves_workspace(folder, [p.root for p in ls.projects if p.root is not None]):
        raise invalid(
            CREATE_DROID,
            f"`folder` {folder} leads outside the workspace through a symbolic link; "
            "droid files are not created through it",
        )
    path = os.path.join(folder, a.name + ".md")
    if os.path.lexists(path) or path in ls.open_paths:  # a dangling link "exists" too
        raise invalid(CREATE_DROID, f"{path} already exists")
    uri = from_fs_path(path) or ("file://" + path)
    text = droid_stub(a.name)
    if ls.client.resource_create and ls.client.apply_edit:
        params = types.ApplyWorkspaceEditParams(
            edit=create_file_edit(uri, text), label=f"taskdroid: create droid {a.name}"
        )
        try:
            result = await asyncio.wait_for(ls.workspace_apply_edit_async(params), 60)
        except TimeoutError:
            raise RequestFailed(f"the editor did not answer; {path} may not exist") from None
        if not result.applied:
            reason = f": {result.failure_reason}" if result.failure_reason else ""
            raise RequestFailed(f"the editor did not create {path}{reason}")
    else:
        try:
            await asyncio.get_running_loop().run_in_executor(None, _write_new, path, text)
        except FileExistsError:
            raise invalid(CREATE_DROID, f"{path} already exists") from None
        except OSError as e:
            raise RequestFailed(f"cannot create {path}: {e.strerror or e}") from None
        await apply_file_events(ls, [(path, CREATED)])
    await _show(ls, uri)
    return {"uri": uri}


def _write_new(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "x", encoding="utf-8", newline="") as fh:
        fh.write(text)


async def _show(ls: TaskdroidServer, uri: str) -> None:
    if not ls.client.show_document:
        return
    try:
        await asyncio.wait_for(
            ls.window_show_document_async(types.ShowDocumentParams(uri=uri, take_focus=True)), 5
        )
    except Exception as e:
        log.info("cannot show %s: %s", uri, e)
