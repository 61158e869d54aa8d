"""Plans (docs/language.md §11 "Plan"): the pending tasks of the given task files placed in waves — pure, over
a :class:`~taskdroid.core.workspace.Workspace` (no LSP, no CLI).

* A task's **wave** is 1 + the highest wave among its dependencies; a completed or in-progress
  dependency counts 0 (in progress: it is running already).
* **Files conflicts**: two tasks whose Files share an entry (compared after normalising the path:
  ``./a//b.ts:12`` is ``a/b.ts``) are never in one wave. Tasks are placed wave by wave in
  section-priority-then-ID order; a task that shares an entry with a task already placed in its
  wave moves to the next wave (one conflict ``{a, b, file}`` per move, ``a`` keeping its wave),
  and its dependents move with it.
* **Implicit edges** (spec-kit): in a file where some task carries the ``[P]`` label, a task
  without ``[P]`` depends on the task before it (its previous sibling: the previous top-level
  task, or the previous subtask of the same parent), and every task under a ``Phase …`` heading
  depends on every task of the previous phase that has tasks. Cancelled tasks never give an
  implicit edge (they will not be done; the task before them is used instead). Implicit edges
  count for ``ready`` and for waves like written ones; they are listed when they lead into a
  pending or in-progress task and no written dependency says the same.
* **Unplannable**: a pending task on a dependency cycle, with an unknown dependency, or depending
  (directly or not) on a blocked, malformed-marker, cancelled or otherwise unplannable task — or
  on a pending task of a file outside the plan (it cannot run in this plan) — with the reason.
* **Critical path**: the longest chain of planned tasks along dependency edges (implicit ones
  included, conflicts not), from the first task to run to the last.

Dependencies resolve as everywhere else (:meth:`Workspace.resolve_ref`), so split task lists
resolve as the workspace does. A task is named by a *ref* ``path#taskId`` (``path#L<line>`` for a
task without an ID).
"""

from __future__ import annotations

import functools
import heapq
import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from taskdroid.core.checks.task_local import file_entries
from taskdroid.core.checks.task_refs import _LINE_SUFFIX, _NOT_A_PATH
from taskdroid.core.depgraph import strongly_connected
from taskdroid.core.document import Located, TaskDocument
from taskdroid.core.graph import mermaid_quote
from taskdroid.core.inline import plain_title
from taskdroid.core.model import Status
from taskdroid.core.ready import order_key, section_priorities, select_task_docs, task_priority
from taskdroid.core.speckit import implicit_edges

if TYPE_CHECKING:
    from taskdroid.core.workspace import Workspace

__all__ = [
    "Conflict",
    "EdgeKind",
    "Plan",
    "PlanTask",
    "Unplannable",
    "compute_plan",
    "merge_plans",
    "normalise_file_entry",
]

EdgeKind = Literal["explicit", "sequence", "phase"]
ShowPath = Callable[[str], str]

_IMPLICIT_NOTE = {
    "sequence": " (implicit: spec-kit order, the task has no [P])",
    "phase": " (implicit: spec-kit phase order)",
}


def normalise_file_entry(entry: str) -> str | None:
    """A Files entry as compared for conflicts: a line suffix (``:12``, ``#L3``) and ``./``
    dropped, ``\\`` read as ``/``, ``a/../b`` and ``//`` collapsed, a leading ``/`` (workspace
    root) and a trailing ``/`` dropped. None for an entry that names no file (``none``, ``n/a``,
    ``TBD``, a URL, a glob)."""
    p = _LINE_SUFFIX.sub("", entry.strip()).replace("\\", "/")
    if not p or _NOT_A_PATH.search(p):
        return None
    p = posixpath.normpath(p).lstrip("/")
    return p if p and p != "." else None


@dataclass(eq=False, slots=True)
class PlanTask:
    """One task as the plan sees it. Tasks compare by identity."""

    path: str  #: absolute, normalised path of the task file
    line: int  #: 0-based absolute line of the task
    task_id: str | None
    title: str
    droid: str | None
    status: Status | None  #: None for a malformed marker
    files: list[str] = field(default_factory=list)  #: Files entries as written (paths only)
    norm_files: list[str] = field(default_factory=list)  #: the same, normalised, de-duplicated
    order: tuple = ()  #: section priority, then ID, then path and line
    #: dependencies in the order written, then the implicit ones
    deps: list[tuple[PlanTask, EdgeKind]] = field(default_factory=list)
    wave: int = 0  #: 1-based wave once planned, else 0
    ready: bool = False  #: every dependency is completed

    def ref(self, show: ShowPath) -> str:
        return f"{show(self.path)}#{self.task_id if self.task_id else f'L{self.line + 1}'}"

    def to_json(self, show: ShowPath, key: str = "path") -> dict:
        return {
            key: show(self.path),
            "line": self.line + 1,
            "taskId": self.task_id,
            "title": self.title,
            "droid": self.droid,
            "ready": self.ready,
            "files": list(self.files),
            "dependencies": [d.ref(show) for d, _kind in self.deps],
        }


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a task cannot be planned: a template whose ``{0}``, ``{1}`` … are tasks (shown as refs)
    or text."""

    template: str
    args: tuple = ()

    def render(self, show: ShowPath) -> str:
        return self.template.format(*(a.ref(show) if isinstance(a, PlanTask) else a for a in self.args))


@dataclass(frozen=True, slots=True)
class Unplannable:
    task: PlanTask
    reasons: tuple[Reason, ...]

    def reason(self, show: ShowPath) -> str:
        return "; ".join(r.render(show) for r in self.reasons)


@dataclass(frozen=True, slots=True)
class Conflict:
    a: PlanTask  #: keeps its wave
    b: PlanTask  #: moved to the next wave
    file: str  #: the shared entry, normalised


@dataclass(slots=True)
class Plan:
    waves: list[list[PlanTask]] = field(default_factory=list)
    running: list[PlanTask] = field(default_factory=list)
    unplannable: list[Unplannable] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    critical_path: list[PlanTask] = field(default_factory=list)
    implicit_edges: list[tuple[PlanTask, PlanTask]] = field(default_factory=list)  #: (from, to)

    @property
    def planned(self) -> int:
        return sum(len(w) for w in self.waves)

    def to_json(
        self, show: ShowPath, *, key: str = "path", show_text: ShowPath | None = None
    ) -> dict:
        """docs/language.md §11's JSON. ``show`` turns a file path into the ``path`` (or, with ``key="uri"``,
        the ``uri``) of tasks and refs; ``show_text`` the paths inside reasons (default ``show``)."""
        show = functools.lru_cache(maxsize=None)(show)
        text = functools.lru_cache(maxsize=None)(show_text) if show_text else show
        return {
            "waves": [[t.to_json(show, key) for t in wave] for wave in self.waves],
            "running": [t.to_json(show, key) for t in self.running],
            "unplannable": [
                {
                    key: show(u.task.path),
                    "line": u.task.line + 1,
                    "taskId": u.task.task_id,
                    "reason": u.reason(text),
                }
                for u in self.unplannable
            ],
            "conflicts": [
                {"a": c.a.ref(show), "b": c.b.ref(show), "file": c.file} for c in self.conflicts
            ],
            "criticalPath": [t.ref(show) for t in self.critical_path],
            "implicitEdges": [{"from": a.ref(show), "to": b.ref(show)} for a, b in self.implicit_edges],
        }


def merge_plans(plans: list[Plan]) -> Plan:
    """Independent plans (one per workspace folder) as one: wave n holds every plan's wave n."""
    if len(plans) == 1:
        return plans[0]
    out = Plan()
    for p in plans:
        for i, wave in enumerate(p.waves):
            if i == len(out.waves):
                out.waves.append([])
            out.waves[i].extend(wave)
        out.running.extend(p.running)
        out.unplannable.extend(p.unplannable)
        out.conflicts.extend(p.conflicts)
        out.implicit_edges.extend(p.implicit_edges)
        if len(p.critical_path) > len(out.critical_path):
            out.critical_path = p.critical_path
    for wave in out.waves:
        wave.sort(key=lambda t: t.order)
    out.running.sort(key=lambda t: t.order)
    return out


# -- building the graph ----------------------------------------------------------------------------


class _Builder:
    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.nodes: dict[tuple[str, int], PlanTask] = {}
        known = list(ws.settings.priorities)
        self.known = known
        self.known_set = set(known)
        self.rank = {p: i for i, p in enumerate(known)}

    def node(self, doc: TaskDocument, loc: Located) -> PlanTask:
        key = (doc.path, loc.line)
        hit = self.nodes.get(key)
        if hit is None:
            t = loc.task
            hit = PlanTask(doc.path, loc.line, t.id, plain_title(t.title), t.droid, t.status)
            self.nodes[key] = hit
        return hit

    def add_doc(
        self, doc: TaskDocument, pending: list[PlanTask], running: list[PlanTask],
        problems: dict[PlanTask, list[Reason]], implicit: list[tuple[PlanTask, PlanTask]],
    ) -> None:  # fmt: skip
        prios = section_priorities(doc, self.known)
        active: list[tuple[int, Located, PlanTask]] = []
        for ci, chunk in enumerate(doc.chunks):
            for task in chunk.parse.tasks:
                if task.status is not Status.PENDING and task.status is not Status.IN_PROGRESS:
                    continue
                loc = Located(task, chunk)
                n = self.node(doc, loc)
                n.order = (
                    *order_key(task_priority(prios, ci, loc, self.known_set), task.id, self.rank),
                    doc.path,
                    loc.line,
                )
                seen: set[str] = set()
                for f in task.fields_named("Files"):
                    for entry, _span in file_entries(f):
                        norm = normalise_file_entry(entry)
                        if norm is None:
                            continue
                        n.files.append(entry)
                        if norm not in seen:
                            seen.add(norm)
                            n.norm_files.append(norm)
                (pending if task.status is Status.PENDING else running).append(n)
                active.append((ci, loc, n))
        for _ci, loc, n in active:
            have: set[int] = set()
            for ref in loc.task.refs:
                target, problem = self.ws.resolve_ref(doc, ref)
                if target is None:
                    if problem:
                        problems.setdefault(n, []).append(
                            Reason("unknown dependency `{0}`: {1}", (ref.text, problem))
                        )
                    continue
                dep = self.node(*target)
                if id(dep) not in have:
                    have.add(id(dep))
                    n.deps.append((dep, "explicit"))
        # spec-kit's order (none in a file without [P] labels: core/speckit.py)
        have_of: dict[int, set[int]] = {}
        for a, b, kind in self._implicit(doc):
            have_b = have_of.get(id(b))
            if have_b is None:
                have_b = have_of[id(b)] = {id(d) for d, _k in b.deps}
            if id(a) in have_b or a is b:
                continue
            have_b.add(id(a))
            b.deps.append((a, kind))
            implicit.append((a, b))

    def _implicit(self, doc: TaskDocument) -> Iterator[tuple[PlanTask, PlanTask, EdgeKind]]:
        """spec-kit's implicit edges of one file as plan nodes (core/speckit.py)."""
        for a, b, kind in implicit_edges(doc):
            yield self.node(doc, a), self.node(doc, b), kind


# -- planning --------------------------------------------------------------------------------------


def compute_plan(ws: Workspace, paths: list[str] | None = None) -> Plan:
    """The plan of the task files under ``paths`` (files or folders; default: every indexed task
    file). Dependencies resolve across the whole workspace."""
    docs = select_task_docs(ws, paths)
    selected = {d.path for d in docs}
    b = _Builder(ws)
    pending: list[PlanTask] = []
    running: list[PlanTask] = []
    problems: dict[PlanTask, list[Reason]] = {}
    implicit: list[tuple[PlanTask, PlanTask]] = []
    for doc in docs:
        b.add_doc(doc, pending, running, problems, implicit)

    for t in (*pending, *running):
        t.ready = all(d.status is Status.COMPLETED for d, _k in t.deps) and t not in problems

    # direct problems, and the graph between pending tasks of the plan
    dependents: dict[PlanTask, list[PlanTask]] = {}
    indeg: dict[PlanTask, int] = {}
    for t in pending:
        count = 0
        for dep, kind in t.deps:
            st = dep.status
            note = _IMPLICIT_NOTE.get(kind, "")
            if st is Status.COMPLETED or st is Status.IN_PROGRESS:
                continue
            if st is Status.PENDING:
                if dep.path in selected:
                    dependents.setdefault(dep, []).append(t)
                    count += 1
                    continue
                r = Reason("depends on pending task {0}, which is not in the planned files" + note, (dep,))
            elif st is Status.BLOCKED:
                r = Reason("depends on blocked task {0}" + note, (dep,))
            elif st is Status.CANCELLED:
                r = Reason("depends on cancelled task {0}" + note, (dep,))
            else:
                r = Reason("depends on {0}, whose status marker is malformed" + note, (dep,))
            problems.setdefault(t, []).append(r)
        indeg[t] = count

    bad = _classify(pending, dependents, indeg, problems)
    plan = Plan(running=sorted(running, key=lambda t: t.order))
    plan.unplannable = sorted(
        (Unplannable(t, tuple(bad[t])) for t in pending if t in bad),
        key=lambda u: (u.task.path, u.task.line),
    )
    plan.implicit_edges = implicit
    _place(plan, [t for t in pending if t not in bad], dependents)
    return plan


def _classify(
    pending: list[PlanTask],
    dependents: dict[PlanTask, list[PlanTask]],
    indeg: dict[PlanTask, int],
    problems: dict[PlanTask, list[Reason]],
) -> dict[PlanTask, list[Reason]]:
    """Which pending tasks cannot be planned, and why (Kahn's algorithm; what is left over is on
    a cycle or waits for one)."""
    bad: dict[PlanTask, list[Reason]] = {}
    left = dict(indeg)
    done: set[PlanTask] = set()

    def settle(queue: list[PlanTask]) -> None:
        while queue:
            t = queue.pop()
            done.add(t)
            if t not in bad:
                own = list(problems.get(t, ()))
                if not own:
                    for dep, kind in t.deps:
                        if dep in bad:
                            own.append(_inherited(dep, kind, bad[dep]))
                            break
                if own:
                    bad[t] = own
            for d in dependents.get(t, ()):
                left[d] -= 1
                if left[d] == 0:
                    queue.append(d)

    settle([t for t in pending if left[t] == 0])
    rest = [t for t in pending if t not in done]
    if rest:
        rest_set = set(rest)
        adj = {t: [d for d, _k in t.deps if d in rest_set] for t in rest}
        for comp in strongly_connected(adj):
            if len(comp) == 1 and comp[0] not in adj[comp[0]]:
                continue
            members = sorted(comp, key=lambda t: (t.path, t.line))
            for t in members:
                others = [m for m in members if m is not t]
                if others:
                    tpl = "on a dependency cycle with " + ", ".join(
                        f"{{{i}}}" for i in range(len(others))
                    )
                    reason = Reason(tpl, tuple(others))
                else:
                    reason = Reason("depends on itself")
                bad[t] = [reason, *problems.get(t, ())]
        queue = []
        for t in rest:
            if t in bad:  # on a cycle: settled now, release what waits for it outside the cycle
                done.add(t)
        for t in rest:
            if t in bad:
                for d in dependents.get(t, ()):
                    if d in done:
                        continue
                    left[d] -= 1
                    if left[d] == 0:
                        queue.append(d)
        settle(queue)
    return bad


def _inherited(dep: PlanTask, kind: EdgeKind, why: list[Reason]) -> Reason:
    first = why[0]
    inner = re.sub(r"\{(\d+)\}", lambda m: f"{{{int(m.group(1)) + 1}}}", first.template)
    return Reason(
        "depends on {0}, which cannot be planned (" + inner + ")" + _IMPLICIT_NOTE.get(kind, ""),
        (dep, *first.args),
    )


def _place(plan: Plan, tasks: list[PlanTask], dependents: dict[PlanTask, list[PlanTask]]) -> None:
    """Waves, Files conflicts and the critical path of the plannable tasks."""
    plannable = set(tasks)
    tasks = sorted(tasks, key=lambda t: t.order)  # heap entries compare (wave, rank): plain ints
    rank = {t: i for i, t in enumerate(tasks)}
    left: dict[PlanTask, int] = {}
    earliest: dict[PlanTask, int] = {}
    heap: list[tuple[int, int]] = []
    for i, t in enumerate(tasks):
        n = sum(1 for d, _k in t.deps if d in plannable)
        left[t] = n
        earliest[t] = 1
        if n == 0:
            heap.append((1, i))
    heapq.heapify(heap)
    cur_wave = 0
    holders: dict[str, PlanTask] = {}
    placed: list[PlanTask] = []
    while heap:
        w, i = heapq.heappop(heap)
        t = tasks[i]
        if w != cur_wave:
            cur_wave = w
            holders = {}
        clash = next((f for f in t.norm_files if f in holders), None)
        if clash is not None:
            plan.conflicts.append(Conflict(holders[clash], t, clash))
            heapq.heappush(heap, (w + 1, i))
            continue
        t.wave = w
        for f in t.norm_files:
            holders[f] = t
        while len(plan.waves) < w:
            plan.waves.append([])
        plan.waves[w - 1].append(t)
        placed.append(t)
        for d in dependents.get(t, ()):
            if d not in plannable:
                continue
            if earliest[d] < w + 1:
                earliest[d] = w + 1
            left[d] -= 1
            if left[d] == 0:
                heapq.heappush(heap, (earliest[d], rank[d]))
    plan.waves = [w for w in plan.waves if w]
    plan.critical_path = _critical_path(placed, plannable)


def _critical_path(placed: list[PlanTask], plannable: set[PlanTask]) -> list[PlanTask]:
    """The longest chain along dependency edges; ties go to the chain that ends (then runs
    through) the earliest in plan order."""
    length: dict[PlanTask, int] = {}
    prev: dict[PlanTask, PlanTask | None] = {}
    best: PlanTask | None = None
    for t in placed:  # dependencies are placed before their dependents
        n, via = 1, None
        for d, _k in t.deps:
            if d in plannable:
                cand = length[d] + 1
                if cand > n or (cand == n and via is not None and (d.wave, d.order) < (via.wave, via.order)):
                    n, via = cand, d
        length[t] = n
        prev[t] = via
        if best is None or n > length[best]:
            best = t
    out: list[PlanTask] = []
    while best is not None:
        out.append(best)
        best = prev[best]
    out.reverse()
    return out


# -- text and Mermaid ------------------------------------------------------------------------------

_MAX_TITLE = 60


def _short(title: str, limit: int = _MAX_TITLE) -> str:
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    cut = title[: limit - 1].rstrip()
    if cut.count("`") % 2:  # close a code span the cut opened
        cut += "`"
    return cut + "…"


def _cell(text: str) -> str:
    """Text for a markdown table cell."""
    return text.replace("\\", "\\\\").replace("|", "\\|") or " "


def _code(text: str) -> str:
    tick = "``" if "`" in text else "`"
    pad = " " if tick == "``" else ""
    return f"{tick}{pad}{text}{pad}{tick}"


def render_text(plan: Plan, show: ShowPath) -> str:
    """The plan as markdown a person pastes into a pull request: a table of the waves, then the
    running tasks, conflicts, unplannable tasks and the critical path. Ends in a newline."""
    show = functools.lru_cache(maxsize=None)(show)
    n = plan.planned
    ready = sum(1 for w in plan.waves for t in w if t.ready)
    head = [
        f"{n} task{'s' if n != 1 else ''} in {len(plan.waves)} wave{'s' if len(plan.waves) != 1 else ''}",
        f"{ready} ready",
        f"{len(plan.running)} running",
        f"{len(plan.unplannable)} unplannable",
        f"{len(plan.conflicts)} conflict{'s' if len(plan.conflicts) != 1 else ''}",
    ]
    out = ["**Plan**: " + " · ".join(head), ""]
    if plan.waves:
        out.append("| Wave | Task | Title | Droid | Files | Ready |")
        out.append("|---:|---|---|---|---|---|")
        for i, wave in enumerate(plan.waves, 1):
            for t in wave:
                files = ", ".join(_code(f) for f in t.files) or "—"
                out.append(
                    f"| {i} | {_cell(_code(t.ref(show)))} | {_cell(_short(t.title))} | "
                    f"{_cell(t.droid or '—')} | {_cell(files)} | {'yes' if t.ready else 'no'} |"
                )
        out.append("")
    else:
        out.extend(["Nothing to plan: no pending task can be placed in a wave.", ""])
    if plan.running:
        out.append(f"**Running** ({len(plan.running)}):")
        for t in plan.running:
            droid = f" ({t.droid})" if t.droid else ""
            out.append(f"- {_code(t.ref(show))} {_short(t.title)}{droid}")
        out.append("")
    if plan.conflicts:
        out.append(f"**Conflicts** ({len(plan.conflicts)}), each moving a task one wave later:")
        for c in plan.conflicts:
            out.append(
                f"- {_code(c.b.ref(show))} after {_code(c.a.ref(show))} (wave {c.a.wave}): "
                f"both change {_code(c.file)}"
            )
        out.append("")
    if plan.unplannable:
        out.append(f"**Unplannable** ({len(plan.unplannable)}):")
        for u in plan.unplannable:
            out.append(f"- {_code(u.task.ref(show))} {_short(u.task.title)} — {u.reason(show)}")
        out.append("")
    if plan.critical_path:
        k = len(plan.critical_path)
        chain = " → ".join(_code(t.ref(show)) for t in plan.critical_path)
        out.append(f"**Critical path** ({k} task{'s' if k != 1 else ''}): {chain}")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def render_mermaid(plan: Plan, show: ShowPath) -> str:
    """The plan as a Mermaid ``flowchart LR`` whose columns are the waves (subgraphs laid out
    top to bottom, running tasks first), with an edge from each dependency to the task that waits
    for it (dashed: implicit). Ends in a newline."""
    show = functools.lru_cache(maxsize=None)(show)
    out = [
        "flowchart LR",
        "    %% taskdroid plan — columns are waves; A --> B means B waits for A; "
        "dashed: implicit (spec-kit order)",
    ]
    ids: dict[PlanTask, str] = {}
    columns: list[tuple[str, str, list[PlanTask]]] = []
    if plan.running:
        columns.append(("running", "Running", plan.running))
    columns.extend((f"w{i}", f"Wave {i}", wave) for i, wave in enumerate(plan.waves, 1))
    for key, title, tasks in columns:
        out.append(f"    subgraph {key}[{mermaid_quote(title)}]")
        out.append("        direction TB")
        for t in tasks:
            nid = ids[t] = f"t{len(ids)}"
            label = f"{t.task_id} {_short(t.title, 40)}" if t.task_id else _short(t.title, 40)
            out.append(f"        {nid}[{mermaid_quote(label.strip() or '(untitled task)')}]")
        out.append("    end")
    if len(columns) > 1:
        out.append("    " + " ~~~ ".join(key for key, _t, _l in columns))
    for t, nid in ids.items():
        for d, kind in t.deps:
            src = ids.get(d)
            if src is not None:
                out.append(f"    {src} {'-->' if kind == 'explicit' else '-.->'} {nid}")
    classes = [
        ("running", "fill:#ddf4ff,stroke:#0969da,color:#0a3069", [ids[t] for t in plan.running]),
        ("ready", "fill:#dafbe1,stroke:#1a7f37,color:#116329",
         [ids[t] for w in plan.waves for t in w if t.ready]),
        ("waiting", "fill:#f6f8fa,stroke:#6e7781,color:#24292f",
         [ids[t] for w in plan.waves for t in w if not t.ready]),
        ("critical", "stroke:#bf3989,stroke-width:3px", [ids[t] for t in plan.critical_path]),
    ]  # fmt: skip
    for name, style, members in classes:
        if members:
            out.append(f"    classDef {name} {style}")
            out.append(f"    class {','.join(members)} {name}")
    if not ids:
        out.append("    %% nothing to plan")
    for c in plan.conflicts:
        out.append(f"    %% conflict: {c.b.ref(show)} after {c.a.ref(show)} (both change {c.file})")
    return "\n".join(out) + "\n"
