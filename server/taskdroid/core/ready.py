"""Ready tasks (docs/language.md §6 ``taskdroid.nextTasks``, §9 ``taskdroid next``) — pure, over a Workspace.

A task is *ready* when it is pending and every dependency it names resolves to a completed task
(a cancelled, blocked or unresolvable dependency keeps it waiting). Ready tasks are ordered by
section priority (the order of ``settings.priorities``; tasks without a known priority last), then
by task ID in natural order (``1.2`` < ``1.10``, ``T009`` < ``T010``; tasks without an ID after
those with one), then by file and line.

A task's priority is that of its section — the nearest heading above it, or, when that heading
names none, the nearest enclosing heading that does (``#### 2.1 …`` under ``### 2. … (HIGH)``) —
else the first word of its own ``**Priority**`` field when that is a known priority.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from taskdroid.core.document import Located, TaskDocument
from taskdroid.core.inline import plain_title
from taskdroid.core.model import Status
from taskdroid.core.paths import norm
from taskdroid.core.speckit import implicit_predecessors

if TYPE_CHECKING:
    from taskdroid.core.workspace import Workspace

__all__ = [
    "ReadyTask",
    "id_sort_key",
    "next_tasks",
    "order_key",
    "section_priorities",
    "select_task_docs",
    "task_priority",
]

_ID_PARTS = re.compile(r"\d+|[^\d.]+")


@dataclass(frozen=True, slots=True)
class ReadyTask:
    path: str  #: absolute, normalised path of the task file
    line: int  #: 0-based absolute line of the task
    task_id: str | None
    title: str
    droid: str | None  #: the droid name in the task's Droid field
    priority: str | None  #: a known priority word (upper case), or None

    def to_json(self, path: str | None = None) -> dict:
        """The CLI's JSON object: ``path`` (as given, default the absolute path), 1-based ``line``."""
        return {
            "path": self.path if path is None else path,
            "line": self.line + 1,
            "taskId": self.task_id,
            "title": self.title,
            "droid": self.droid,
            "priority": self.priority,
        }


def id_sort_key(task_id: str | None) -> tuple:
    """Natural order of task IDs: ``1.2`` < ``1.10``, ``T009`` < ``T010``, ``3.2`` < ``3.2B``;
    dotted IDs before spec-kit IDs, and no ID after every ID."""
    if not task_id:
        return (1, ())
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in _ID_PARTS.findall(task_id))
    return (0, parts)


def section_priorities(doc: TaskDocument, known: list[str]) -> dict[tuple[int, int], str]:
    """(chunk index, section index) → the section's effective known priority."""
    out: dict[tuple[int, int], str] = {}
    known_set = set(known)
    stack: list[tuple[int, str | None]] = []  # (level, effective priority) of enclosing sections
    for ci, chunk in enumerate(doc.chunks):
        index = {sec.line: si for si, sec in enumerate(chunk.parse.sections)}
        for line, level, _text in chunk.parse.headings:
            si = index.get(line)
            if si is None:
                if level == 1:  # a document title closes every section
                    stack.clear()
                continue
            sec = chunk.parse.sections[si]
            while stack and stack[-1][0] >= sec.level:
                stack.pop()
            own = sec.priority if sec.priority in known_set else None
            eff = own if own is not None else (stack[-1][1] if stack else None)
            stack.append((sec.level, eff))
            if eff is not None:
                out[(ci, si)] = eff
    return out


def _field_priority(loc: Located, known: set[str]) -> str | None:
    f = loc.task.field("Priority")
    if f is None or not f.value.strip():
        return None
    word = re.split(r"[\s(),;:—-]+", f.value.strip().strip("*`").strip())[0].upper()
    return word if word in known else None


def task_priority(
    prios: dict[tuple[int, int], str], ci: int, loc: Located, known: set[str]
) -> str | None:
    """The effective priority of the task ``loc`` of chunk ``ci``: its section's (from
    :func:`section_priorities`), else the first word of its own Priority field when known."""
    task = loc.task
    prio = prios.get((ci, task.section)) if task.section >= 0 else None
    return prio if prio is not None else _field_priority(loc, known)


def order_key(prio: str | None, task_id: str | None, rank: dict[str, int]) -> tuple:
    """Section priority (in the order of ``rank``; none or unknown last), then natural ID order."""
    n = len(rank)
    return (rank.get(prio, n) if prio else n, id_sort_key(task_id))


def _dependencies_done(ws: Workspace, doc: TaskDocument, loc: Located) -> bool:
    for ref in loc.task.refs:
        target, problem = ws.resolve_ref(doc, ref)
        if target is None:
            if problem:  # names a task or file that does not exist
                return False
            continue  # a reference to a whole (existing) file
        if target[1].task.status is not Status.COMPLETED:
            return False
    return True


def select_task_docs(ws: Workspace, paths: list[str] | None) -> list[TaskDocument]:
    """The task documents of ``paths`` (files or folders; None: every indexed task file), sorted by
    path. A file outside the index is read through :meth:`Workspace.task_doc`."""
    if paths is None:
        return [ws.task_docs[p] for p in sorted(ws.task_docs)]
    out: dict[str, TaskDocument] = {}
    for raw in paths:
        p = norm(raw)
        doc = ws.task_docs.get(p)
        if doc is not None:
            out[p] = doc
            continue
        if os.path.isdir(p):
            prefix = p.rstrip(os.sep) + os.sep
            for q, d in ws.task_docs.items():
                if q.startswith(prefix):
                    out[q] = d
            continue
        found = ws.task_doc(p)
        if found is not None:
            out[p] = found
    return [out[p] for p in sorted(out)]


def next_tasks(ws: Workspace, paths: list[str] | None = None) -> list[ReadyTask]:
    """Ready tasks of the task files under ``paths`` (files or folders; default: every indexed
    task file), in the order of docs/language.md §6. Dependencies resolve across the whole workspace."""
    known = list(ws.settings.priorities)
    known_set = set(known)
    rank = {p: i for i, p in enumerate(known)}
    found: list[tuple[tuple, ReadyTask]] = []
    for doc in select_task_docs(ws, paths):
        prios = section_priorities(doc, known)
        waits_for = implicit_predecessors(doc)  # spec-kit order (core/speckit.py)
        for ci, chunk in enumerate(doc.chunks):
            for task in chunk.parse.tasks:
                if task.status is not Status.PENDING:
                    continue
                loc = Located(task, chunk)
                if not _dependencies_done(ws, doc, loc):
                    continue
                if any(p.task.status is not Status.COMPLETED for p in waits_for.get(loc.line, ())):
                    continue
                prio = task_priority(prios, ci, loc, known_set)
                title = plain_title(task.title)
                ready = ReadyTask(doc.path, loc.line, task.id, title, task.droid, prio)
                key = order_key(prio, task.id, rank)
                found.append(((*key, doc.path, loc.line), ready))
    found.sort(key=lambda x: x[0])
    return [r for _, r in found]
