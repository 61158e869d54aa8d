"""The seven tools of the MCP server (docs/language.md §12), without the SDK: argument checking, path
confinement, the results, and the writes. Each call reads the workspace afresh from disk (agents
and editors change the files between calls); a write goes through
:mod:`taskdroid.core.writes` (atomic, appends by other programs kept in their order, a concurrent
rewrite never lost) under the run package's edit lock, so claims and status changes of one task
file are serialised with §7 runs and with other taskdroid processes.

Every failure is a :class:`ToolError` with a one-line message; the server turns it into a tool
result with ``isError: true``. Nothing here starts a process.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from taskdroid.core.config import load_settings
from taskdroid.core.discovery import discover
from taskdroid.core.document import Located, TaskDocument
from taskdroid.core.edits import EditError, apply_edits, find_task, parse_status, status_edits
from taskdroid.core.files import ReadError, read_text
from taskdroid.core.fsio import ReadOnlyFile
from taskdroid.core.inline import plain_title
from taskdroid.core.model import Status
from taskdroid.core.paths import is_inside, norm
from taskdroid.core.plan import compute_plan
from taskdroid.core.query import dependents_of
from taskdroid.core.ready import next_tasks, select_task_docs
from taskdroid.core.report import to_json_obj
from taskdroid.core.speckit import implicit_predecessors
from taskdroid.core.workspace import Workspace
from taskdroid.core.writes import rewrite_file
from taskdroid.run.errors import RunError
from taskdroid.run.lock import TaskLock, hold_edit_lock
from taskdroid.run.logfile import resolve_log_dir

__all__ = ["STATUSES", "TOOLS", "TaskTools", "ToolError"]

STATUSES = ["pending", "in_progress", "completed", "blocked", "cancelled"]

_PATH = {
    "type": "string",
    "description": "a task file or folder, relative to the workspace root or absolute (it must "
    "lie inside the root)",
}
_FILE = {
    "type": "string",
    "description": "the task file, relative to the workspace root or absolute (inside the root)",
}
_TASK_ID = {"type": "string", "description": "the task's ID, e.g. 1.3 or T012"}


def _schema(properties: dict, required: list[str] | None = None) -> dict:
    out: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        out["required"] = required
    return out


#: name → (description, input schema)
TOOLS: dict[str, tuple[str, dict]] = {
    "list_tasks": (
        "List the tasks of the task files under `path` (default: the whole workspace), optionally "
        "only those with one `status`. Each: path, line, taskId, title, status, droid, "
        "dependencies (path#taskId), ready (every dependency completed).",
        _schema({"path": _PATH, "status": {"type": "string", "enum": STATUSES}}),
    ),
    "next_tasks": (
        "The ready tasks (pending, every dependency completed) under `path` (default: the whole "
        "workspace), by section priority then ID — the tasks to pick from.",
        _schema({"path": _PATH}),
    ),
    "show_task": (
        "One task in full: its fields, each dependency with its status, the tasks that depend on "
        "it, and its diagnostics.",
        _schema({"path": _FILE, "taskId": _TASK_ID}, ["path", "taskId"]),
    ),
    "claim_task": (
        "Claim a task before working on it: atomically sets a pending, ready task in progress "
        "(`[~]`, `**In Progress**: Started <now>`) and returns it. Fails when the task is not "
        "pending (already claimed), not ready, or held by a taskdroid run. Of concurrent claims "
        "of one task exactly one succeeds.",
        _schema({"path": _FILE, "taskId": _TASK_ID}, ["path", "taskId"]),
    ),
    "set_status": (
        "Set a task's status (marker, status emoji and status field, written atomically; nothing "
        "else in the file changes). Use `completed` when done, `blocked` with a `note` saying "
        "why when stuck. Returns {from, to}.",
        _schema(
            {
                "path": _FILE,
                "taskId": _TASK_ID,
                "status": {"type": "string", "enum": STATUSES},
                "note": {
                    "type": "string",
                    "description": "why: the Issue of a blocked task, the reason of a cancel",
                },
            },
            ["path", "taskId", "status"],
        ),
    ),
    "check": (
        "Diagnostics (as `taskdroid check --format json`) of the task and droid files under "
        "`path` (default: the whole workspace).",
        _schema({"path": _PATH}),
    ),
    "plan": (
        "The plan of the pending tasks under `path` (default: the whole workspace): waves of "
        "tasks that can run together, running tasks, unplannable tasks with the reason, Files "
        "conflicts, the critical path.",
        _schema({"path": _PATH}),
    ),
}


class ToolError(Exception):
    """A tool call that cannot be answered; ``str()`` is the one-line message."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


def validate_arguments(name: str, arguments: Any) -> dict[str, Any]:
    """The arguments of a call to ``name`` checked against its input schema (object, known keys,
    required keys present, strings, enums). Raises :class:`ToolError`."""
    if name not in TOOLS:
        raise ToolError(f"unknown tool `{name}` (tools: {', '.join(TOOLS)})")
    schema = TOOLS[name][1]
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, Mapping):
        raise ToolError(f"{name}: the arguments must be an object")
    props: dict = schema["properties"]
    out: dict[str, Any] = {}
    for key, value in arguments.items():
        if key not in props:
            raise ToolError(
                f"{name}: unknown argument `{_short(str(key))}` (expected: {', '.join(props)})"
            )
        if value is None and key not in schema.get("required", ()):
            continue  # an optional argument given as null: absent
        if not isinstance(value, str):
            raise ToolError(f"{name}: `{key}` must be a string")
        if "\x00" in value:
            raise ToolError(f"{name}: `{key}` must not contain a NUL character")
        out[key] = value
    for key in schema.get("required", ()):
        if key not in out:
            raise ToolError(f"{name}: missing argument `{key}`")
    return out


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _status_value(status: Status | None) -> str | None:
    return status.value if status is not None else None


class TaskTools:
    """The tools over the workspace at ``root`` (settings as ``taskdroid check`` loads them:
    ``.taskdroid.toml``, the user file, ``config_file``, the environment)."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        config_file: str | os.PathLike[str] | None = None,
        personal: bool = True,
        on_problem: Callable[[str], None] | None = None,
    ) -> None:
        self.root = os.path.realpath(os.fspath(root))
        self.config_file = Path(config_file) if config_file is not None else None
        self.personal = personal
        self.on_problem = on_problem
        self.owner = f"mcp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._reported: set[str] = set()

    # -- dispatch ------------------------------------------------------------------------------
    def call(self, name: str, arguments: Any) -> Any:
        """Run the tool ``name``: its JSON result. Raises :class:`ToolError`."""
        args = validate_arguments(name, arguments)
        try:
            return getattr(self, f"tool_{name}")(**args)
        except ToolError:
            raise
        except ReadError as e:
            raise ToolError(f"cannot read the file: {e}") from None
        except ReadOnlyFile as e:
            raise ToolError(f"not written: {e}") from None
        except RecursionError:
            raise ToolError("the file is nested too deeply to analyse") from None
        except OSError as e:
            raise ToolError(f"{e.strerror or e}") from None

    # -- the workspace ---------------------------------------------------------------------------
    def _workspace(self) -> Workspace:
        """Every task and droid file under the root, read now (as ``taskdroid check`` does)."""
        loaded = load_settings(Path(self.root), config_file=self.config_file)
        for problem in loaded.problems:
            if problem not in self._reported and self.on_problem is not None:
                self._reported.add(problem)
                self.on_problem(problem)
        ws = Workspace(self.root, loaded.settings, personal=self.personal)
        if loaded.project_file is not None and loaded.project_diagnostics:
            ws.extra_diagnostics[norm(loaded.project_file)] = list(loaded.project_diagnostics)
        found = discover(Path(self.root), loaded.settings)
        for kind, files in (("task", found.task_files), ("droid", found.droid_files)):
            for f in files:
                try:
                    ws.set_text(norm(f), read_text(f), kind)
                except ReadError:
                    continue  # unreadable: not indexed (check on the file itself says why)
        return ws

    def _resolve(self, raw: str, *, file: bool) -> str:
        """``raw`` (relative to the root, or absolute) as a real path inside the root."""
        if not raw.strip():
            raise ToolError("`path` is empty")
        joined = raw if os.path.isabs(raw) else os.path.join(self.root, raw)
        try:
            real = os.path.realpath(joined)
        except (OSError, ValueError) as e:
            raise ToolError(f"invalid path `{_short(raw)}`: {e}") from None
        if not is_inside(real, self.root):
            raise ToolError(f"path `{_short(raw)}` is outside the workspace root")
        if not os.path.exists(real):
            raise ToolError(f"unknown file `{_short(raw)}`: no such file or folder")
        if file and not os.path.isfile(real):
            raise ToolError(f"`{_short(raw)}` is not a file; name a task file")
        return norm(real)

    def rel(self, path: str) -> str:
        """``path`` relative to the root, with ``/``."""
        try:
            out = os.path.relpath(path, self.root)
        except ValueError:
            return path
        return out.replace(os.sep, "/")

    def _doc(self, ws: Workspace, path: str, text: str | None = None) -> TaskDocument:
        """The task document of ``path`` (``text`` when given, else the disk), in the index."""
        if text is None:
            doc = ws.task_docs.get(path)
            if doc is not None:
                return doc
            text = read_text(path)
        return ws.set_task_text(path, text)

    def _find(self, doc: TaskDocument, task_id: str) -> Located:
        if not task_id.strip():
            raise ToolError("`taskId` is empty")
        loc = find_task(doc, task_id)
        if loc is None:
            raise ToolError(f"unknown task `{_short(task_id)}` in {self.rel(doc.path)}")
        return loc

    # -- results ---------------------------------------------------------------------------------
    def _ref(self, doc: TaskDocument, target: Located) -> str:
        return f"{self.rel(doc.path)}#{target.task.id}"

    def item(
        self,
        ws: Workspace,
        doc: TaskDocument,
        loc: Located,
        waits_for: dict[int, list[Located]] | None = None,
    ) -> dict:
        """A task as ``list_tasks`` shows it."""
        if waits_for is None:
            waits_for = implicit_predecessors(doc)
        deps: list[str] = []
        ready = True
        for ref in loc.task.refs:
            target, problem = ws.resolve_ref(doc, ref)
            if target is None:
                deps.append(ref.text)
                if problem:
                    ready = False
                continue
            deps.append(self._ref(target[0], target[1]))
            if target[1].task.status is not Status.COMPLETED:
                ready = False
        if any(p.task.status is not Status.COMPLETED for p in waits_for.get(loc.line, ())):
            ready = False
        task = loc.task
        return {
            "path": self.rel(doc.path),
            "line": loc.line + 1,
            "taskId": task.id,
            "title": plain_title(task.title),
            "status": _status_value(task.status),
            "droid": task.droid,
            "dependencies": deps,
            "ready": ready,
        }

    # -- the tools -------------------------------------------------------------------------------
    def tool_list_tasks(self, path: str | None = None, status: str | None = None) -> list[dict]:
        want: Status | None = None
        if status is not None:
            try:
                want = parse_status(status)
            except EditError as e:
                raise ToolError(f"list_tasks: {e}") from None
        target = self._resolve(path, file=False) if path is not None else None
        ws = self._workspace()
        if target is not None and os.path.isfile(target):
            self._doc(ws, target)
        out = []
        for doc in select_task_docs(ws, [target] if target is not None else None):
            waits_for = implicit_predecessors(doc)
            for loc in doc.located_tasks():
                if want is not None and loc.task.status is not want:
                    continue
                out.append(self.item(ws, doc, loc, waits_for))
        return out

    def tool_next_tasks(self, path: str | None = None) -> list[dict]:
        target = self._resolve(path, file=False) if path is not None else None
        ws = self._workspace()
        if target is not None and os.path.isfile(target):
            self._doc(ws, target)
        ready = next_tasks(ws, [target] if target is not None else None)
        return [r.to_json(self.rel(r.path)) for r in ready]

    def tool_show_task(self, path: str, taskId: str) -> dict:
        target = self._resolve(path, file=True)
        ws = self._workspace()
        doc = self._doc(ws, target)
        loc = self._find(doc, taskId)
        return self._show(ws, doc, loc)

    def _show(self, ws: Workspace, doc: TaskDocument, loc: Located) -> dict:
        item = self.item(ws, doc, loc)
        task, base = loc.task, loc.chunk.line
        fields = [{"key": f.key, "value": f.value, "line": base + f.line + 1} for f in task.fields]
        deps: list[dict] = []
        for ref in task.refs:
            target, problem = ws.resolve_ref(doc, ref)
            if target is None:
                if problem:
                    deps.append({"ref": ref.text, "problem": problem})
                else:  # a whole (existing) file
                    p = ws.ref_path(doc.path, ref.path or "")
                    deps.append({"ref": ref.text, "path": self.rel(p), "taskId": None, "status": None})
                continue
            tdoc, tloc = target
            deps.append(
                {
                    "ref": self._ref(tdoc, tloc),
                    "path": self.rel(tdoc.path),
                    "taskId": tloc.task.id,
                    "status": _status_value(tloc.task.status),
                }
            )
        dependents: list[dict] = []
        seen: set[tuple[str, int]] = set()
        for hit in dependents_of(ws, doc, loc):
            key = (hit.doc.path, hit.task.line)
            if key in seen:
                continue
            seen.add(key)
            dependents.append(
                {
                    "path": self.rel(hit.doc.path),
                    "line": hit.task.line + 1,
                    "taskId": hit.task.task.id,
                    "status": _status_value(hit.task.task.status),
                }
            )
        dependents.sort(key=lambda d: (d["path"], d["line"]))
        # the task's own lines: its line and field block, not its subtasks'
        own = set(range(loc.line, base + task.end_line + 1))
        tasks = loc.chunk.parse.tasks
        for ci in task.children:
            child = tasks[ci]
            own -= set(range(base + child.line, base + child.end_line + 1))
        rel = self.rel(doc.path)
        diagnostics = [
            to_json_obj(rel, d) for d in ws.diagnostics(doc.path) if d.range.start.line in own
        ]
        return {
            "path": item["path"],
            "line": item["line"],
            "taskId": item["taskId"],
            "title": item["title"],
            "status": item["status"],
            "droid": item["droid"],
            "ready": item["ready"],
            "fields": fields,
            "dependencies": deps,
            "dependents": dependents,
            "diagnostics": diagnostics,
        }

    def _log_dir(self, ws: Workspace) -> Path | None:
        try:
            return resolve_log_dir(self.root, ws.settings.runner.logDir)
        except RunError:
            return None

    def _edit_locked(self, ws: Workspace, target: str, change) -> None:
        """``change`` (text → new text or None) written to ``target`` as ``taskdroid status``
        writes (core/writes.py: atomic, read again when another program changed the file), under
        the per-file edit lock that runs take too, so claims and status changes never interleave."""
        log_dir = self._log_dir(ws)
        with hold_edit_lock(log_dir, target, self.owner) if log_dir else contextlib.nullcontext(False):
            if not rewrite_file(target, change, attempts=10):
                raise ToolError(f"{self.rel(target)} kept changing while it was written; try again")

    def tool_claim_task(self, path: str, taskId: str) -> dict:
        target = self._resolve(path, file=True)
        ws = self._workspace()
        log_dir = self._log_dir(ws)
        aliases = dict(ws.settings.markerAliases)

        def claim(text: str) -> str:
            doc = self._doc(ws, target, text)
            loc = self._find(doc, taskId)
            shown = loc.task.id or taskId
            holder = TaskLock.holder(log_dir, target, shown) if log_dir else None
            if holder is not None:
                raise ToolError(
                    f"task {shown} is held by a taskdroid run (pid {holder.get('pid')}, since "
                    f"{holder.get('started', '?')}); pick another task"
                )
            status = loc.task.status
            if status is Status.IN_PROGRESS:
                raise ToolError(f"task {shown} is already claimed (it is in progress)")
            if status is not Status.PENDING:
                what = status.value if status is not None else "of unknown status (a malformed marker)"
                raise ToolError(f"task {shown} is {what}, not pending; only a pending task can be claimed")
            waiting = self._waiting(ws, doc, loc)
            if waiting:
                raise ToolError(f"task {shown} is not ready: {'; '.join(waiting)}")
            edits = status_edits(text, doc, taskId, Status.IN_PROGRESS, aliases=aliases)
            return apply_edits(text, edits)

        self._edit_locked(ws, target, claim)
        ws = self._workspace()
        doc = self._doc(ws, target)
        return self.item(ws, doc, self._find(doc, taskId))

    def _waiting(self, ws: Workspace, doc: TaskDocument, loc: Located) -> list[str]:
        """Why a task is not ready (empty: it is)."""
        out = []
        for ref in loc.task.refs:
            target, problem = ws.resolve_ref(doc, ref)
            if target is None:
                if problem:
                    out.append(f"`{ref.text}` does not resolve ({problem})")
                continue
            t = target[1].task
            if t.status is not Status.COMPLETED:
                out.append(f"`{self._ref(target[0], target[1])}` is {_status_value(t.status) or 'of unknown status'}")
        for p in implicit_predecessors(doc).get(loc.line, ()):
            if p.task.status is not Status.COMPLETED:
                label = p.task.id or plain_title(p.task.title)
                out.append(f"`{label}` comes first (spec-kit order) and is {_status_value(p.task.status) or 'of unknown status'}")
        return out

    def tool_set_status(
        self,
        path: str,
        taskId: str,
        status: str,
        note: str | None = None,
    ) -> dict:
        try:
            new = parse_status(status)
        except EditError as e:
            raise ToolError(f"set_status: {e}") from None
        target = self._resolve(path, file=True)
        ws = self._workspace()
        aliases = dict(ws.settings.markerAliases)
        was: str | None = None

        def set_status(text: str) -> str | None:
            nonlocal was
            doc = TaskDocument.parse(target, text, aliases)
            was = _status_value(self._find(doc, taskId).task.status)
            try:
                edits = status_edits(text, doc, taskId, new, note=note, aliases=aliases)
            except EditError as e:
                raise ToolError(str(e)) from None
            return apply_edits(text, edits) if edits else None

        self._edit_locked(ws, target, set_status)
        return {"from": was, "to": new.value}

    def tool_check(self, path: str | None = None) -> list[dict]:
        target = self._resolve(path, file=False) if path is not None else None
        ws = self._workspace()
        if target is None:
            targets = ws.all_paths()
        elif os.path.isdir(target):
            prefix = target.rstrip(os.sep) + os.sep
            targets = [q for q in ws.all_paths() if q == target or q.startswith(prefix)]
        else:
            if target not in ws.task_docs and target not in ws.droid_docs:
                text = read_text(target)
                if ws.set_text(target, text, explicit=True) is None:
                    ws.set_text(target, text, "task")
            targets = [target]
        results = [(self.rel(q), d) for q in targets for d in ws.diagnostics(q)]
        results.sort(
            key=lambda r: (r[0], r[1].range.start.line, r[1].range.start.character, r[1].code)
        )
        return [to_json_obj(p, d) for p, d in results]

    def tool_plan(self, path: str | None = None) -> dict:
        target = self._resolve(path, file=False) if path is not None else None
        ws = self._workspace()
        if target is not None and os.path.isfile(target):
            self._doc(ws, target)
        plan = compute_plan(ws, [target] if target is not None else None)
        return plan.to_json(self.rel)
