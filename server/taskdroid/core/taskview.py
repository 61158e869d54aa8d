"""The task view's data (docs/language.md §15): per task file, its sections and their tasks, with each task's
status, droid and dependency state — pure, over a :class:`~taskdroid.core.workspace.Workspace`.

The editor's **Tasks** view and the ``taskdroid.outline`` command are filled from this, so an
editor never parses task lines itself.

* A **section** is a heading that directly holds tasks (headings without tasks are left out; a
  task before any heading is in a section without title). Its priority is the section priority
  ``taskdroid next`` orders by (:func:`~taskdroid.core.ready.section_priorities`).
* A **task** carries its ID, its title as plain text (:func:`~taskdroid.core.inline.plain_title`),
  its status (``malformed`` for a marker that is none), the droid its Droid field names and whether
  that name resolves to a droid, its 0-based line and block range (code points), and its subtasks.
* The **dependency state** of a pending task: ``ready`` (every dependency completed, spec-kit's
  implicit order included, as ``taskdroid next`` counts it), ``waiting`` (on the dependencies not
  completed yet, named in ``on``), or ``blocked`` (a dependency is blocked, cancelled, has a
  malformed marker or does not resolve, or the task is on a dependency cycle: it will not become
  ready by waiting). Tasks that are not pending have none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from taskdroid.core.document import Located, PlacedChunk, TaskDocument
from taskdroid.core.inline import plain_title
from taskdroid.core.model import Status
from taskdroid.core.ready import section_priorities, select_task_docs
from taskdroid.core.speckit import implicit_predecessors
from taskdroid.core.text import Position, Range, split_lines

if TYPE_CHECKING:
    from taskdroid.core.workspace import Workspace

__all__ = [
    "MALFORMED",
    "DependencyState",
    "FileView",
    "SectionView",
    "TaskView",
    "file_view",
    "task_views",
]

#: the status of a task whose marker is malformed
MALFORMED = "malformed"

READY = "ready"
WAITING = "waiting"
BLOCKED = "blocked"


@dataclass(frozen=True, slots=True)
class DependencyState:
    state: str  #: ``ready``, ``waiting`` or ``blocked``
    on: tuple[str, ...] = ()  #: the dependencies waited on / blocking (IDs or references)
    text: str = ""  #: one line for people: ``ready``, ``waiting on 1.2, 1.3``, ``blocked: …``

    def to_json(self) -> dict[str, Any]:
        return {"state": self.state, "on": list(self.on), "text": self.text}


@dataclass(slots=True)
class TaskView:
    task_id: str | None
    title: str  #: plain text (markdown emphasis, code and links removed)
    status: str  #: a :class:`Status` value, or :data:`MALFORMED`
    marker: str  #: the marker as written, with brackets
    optional: bool
    droid: str | None
    droid_resolves: bool | None  #: None when the task names no droid
    dependency: DependencyState | None  #: None unless the task is pending
    line: int  #: 0-based absolute line of the task
    range: Range  #: the task's block (its line to its last line), code points
    children: list[TaskView] = field(default_factory=list)

    def to_json(self, show_range: Any = None, run_id: Any = None) -> dict[str, Any]:
        """JSON; ``show_range`` converts the range (default: code points), ``run_id`` gives the
        ID of the run holding a task (a ``runId`` key, only with it)."""
        out = {
            "id": self.task_id,
            "title": self.title,
            "status": self.status,
            "marker": self.marker,
            "optional": self.optional,
            "droid": self.droid,
            "droidResolves": self.droid_resolves,
            "dependency": self.dependency.to_json() if self.dependency else None,
            "line": self.line,
            "range": show_range(self.range) if show_range else _range_json(self.range),
            "children": [c.to_json(show_range, run_id) for c in self.children],
        }
        if run_id is not None:
            out["runId"] = run_id(self)
        return out


@dataclass(slots=True)
class SectionView:
    title: str | None  #: the heading's text as plain text; None for tasks before any heading
    level: int  #: heading level (0 without a heading)
    line: int | None  #: 0-based line of the heading
    priority: str | None  #: the effective known priority (upper case), if any
    tasks: list[TaskView] = field(default_factory=list)
    done: int = 0
    total: int = 0

    def to_json(self, show_range: Any = None, run_id: Any = None) -> dict[str, Any]:
        return {
            "title": self.title,
            "level": self.level,
            "line": self.line,
            "priority": self.priority,
            "done": self.done,
            "total": self.total,
            "tasks": [t.to_json(show_range, run_id) for t in self.tasks],
        }


@dataclass(slots=True)
class FileView:
    path: str
    sections: list[SectionView] = field(default_factory=list)
    done: int = 0
    total: int = 0
    #: tasks per status (every status key present, ``malformed`` included)
    counts: dict[str, int] = field(default_factory=dict)


def _range_json(r: Range) -> dict[str, dict[str, int]]:
    return {
        "start": {"line": r.start.line, "character": r.start.character},
        "end": {"line": r.end.line, "character": r.end.character},
    }


class _Deps:
    """Dependency states, resolving references across the workspace."""

    def __init__(self, ws: Workspace, doc: TaskDocument) -> None:
        self.ws = ws
        self.doc = doc
        self.implicit = implicit_predecessors(doc)
        self.cycles = ws.dependency_graph().scc_of

    def state(self, loc: Located) -> DependencyState | None:
        if loc.task.status is not Status.PENDING:
            return None
        waiting: list[str] = []
        blocked: list[str] = []
        reasons: list[str] = []
        for ref in loc.task.refs:
            target, problem = self.ws.resolve_ref(self.doc, ref)
            if target is None:
                if problem:
                    blocked.append(ref.text)
                    reasons.append(f"{ref.text} does not resolve")
                continue
            self._judge(target[1], ref.text, waiting, blocked, reasons)
        for pred in self.implicit.get(loc.line, ()):
            name = pred.task.id or f"line {pred.line + 1}"
            if name not in waiting and name not in blocked:
                self._judge(pred, name, waiting, blocked, reasons)
        tid = loc.task.id
        if tid and (self.doc.path, tid) in self.cycles:
            blocked.insert(0, tid)
            reasons.insert(0, f"{tid} is on a dependency cycle")
        if blocked:
            text = "blocked dependency: " + "; ".join(reasons)
            return DependencyState(BLOCKED, tuple(blocked), text)
        if waiting:
            return DependencyState(WAITING, tuple(waiting), "waiting on " + ", ".join(waiting))
        return DependencyState(READY, (), "ready")

    @staticmethod
    def _judge(
        target: Located, name: str, waiting: list[str], blocked: list[str], reasons: list[str]
    ) -> None:
        status = target.task.status
        if status is Status.COMPLETED:
            return
        if status in (Status.PENDING, Status.IN_PROGRESS):
            if name not in waiting:
                waiting.append(name)
            return
        blocked.append(name)
        reasons.append(f"{name} is {status.label if status else 'malformed'}")


#: a task of a chunk as a tree: (task, block range, children)
_Tree = tuple[Located, Range, list["_Tree"]]


def _trees(chunk: PlacedChunk) -> list[_Tree]:
    """The tasks of a chunk as trees ``(task, block range, children)`` in line order."""
    lines: list[str] | None = None
    nodes: dict[int, _Tree] = {}
    out: list[_Tree] = []
    base = chunk.line
    for i, t in enumerate(chunk.parse.tasks):
        end_rel = max(t.end_line, t.line)
        if lines is None:
            lines = split_lines(chunk.text)
        end_len = len(lines[end_rel]) if end_rel < len(lines) else 0
        node: _Tree = (
            Located(t, chunk),
            Range(Position(base + t.line, 0), Position(base + end_rel, end_len)),
            [],
        )
        nodes[i] = node
        if t.parent >= 0 and t.parent in nodes:
            nodes[t.parent][2].append(node)
        else:
            out.append(node)
    return out


def _task(node: tuple[Located, Range, list], deps: _Deps, ws: Workspace, counts: dict[str, int]) -> TaskView:
    loc, rng, children = node
    t = loc.task
    status = t.status.value if t.status is not None else MALFORMED
    counts[status] = counts.get(status, 0) + 1
    droid = t.droid
    view = TaskView(
        task_id=t.id,
        title=plain_title(t.title) if t.title else "",
        status=status,
        marker=f"[{t.marker_text}]",
        optional=t.optional,
        droid=droid,
        droid_resolves=(ws.resolve_droid(droid) is not None) if droid else None,
        dependency=deps.state(loc),
        line=loc.line,
        range=rng,
    )
    view.children = [_task(c, deps, ws, counts) for c in children]
    return view


def _tally(tasks: list[TaskView]) -> tuple[int, int]:
    done = total = 0
    for t in tasks:
        total += 1
        done += t.status == Status.COMPLETED.value
        d, n = _tally(t.children)
        done += d
        total += n
    return done, total


def file_view(ws: Workspace, doc: TaskDocument) -> FileView:
    """The view of one task file; dependencies resolve across ``ws``."""
    known = list(ws.settings.priorities)
    prios = section_priorities(doc, known)
    deps = _Deps(ws, doc)
    counts = {s.value: 0 for s in Status} | {MALFORMED: 0}
    out = FileView(doc.path, counts=counts)
    current: SectionView | None = None
    # the nearest heading above each top-level task: headings and task trees merged by line
    for ci, chunk in enumerate(doc.chunks):
        sec_index = {s.line: si for si, s in enumerate(chunk.parse.sections)}
        heads = [
            (chunk.line + hl, lvl, text, sec_index.get(hl)) for hl, lvl, text in chunk.parse.headings
        ]
        trees = _trees(chunk)
        hi = 0
        for node in trees:
            start = node[1].start.line
            last = None
            while hi < len(heads) and heads[hi][0] <= start:
                last = heads[hi]
                hi += 1
            if last is not None:
                line, level, text, si = last
                current = SectionView(
                    plain_title(text) if text else "(untitled)",
                    level,
                    line,
                    prios.get((ci, si)) if si is not None else None,
                )
                out.sections.append(current)
            elif current is None:
                current = SectionView(None, 0, None, None)
                out.sections.append(current)
            current.tasks.append(_task(node, deps, ws, counts))
        # headings after the last task of a chunk close the section
        if hi < len(heads):
            line, level, text, si = heads[-1]
            current = SectionView(
                plain_title(text) if text else "(untitled)",
                level,
                line,
                prios.get((ci, si)) if si is not None else None,
            )
            # added only when a task follows (next chunk)
            out.sections.append(current)
    out.sections = [s for s in out.sections if s.tasks]
    for s in out.sections:
        s.done, s.total = _tally(s.tasks)
        out.done += s.done
        out.total += s.total
    return out


def task_views(ws: Workspace, paths: list[str] | None = None) -> list[FileView]:
    """The views of the task files under ``paths`` (files or folders; default every indexed task
    file), sorted by path."""
    return [file_view(ws, doc) for doc in select_task_docs(ws, paths)]
