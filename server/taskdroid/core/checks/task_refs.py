"""Checks that look beyond one file: dependencies (TD010–TD012), droids (TD020, TD026), files
(TD031).

Results are computed per chunk in chunk-relative positions and cached by the workspace (keyed by
the chunk's parse and the workspace's droid / file-system / dependency versions), so that an edit
re-checks only the chunks it touched. Related locations point at other tasks whose lines can move
without changing any of those versions, so they are kept symbolic (path, task ID) and resolved when
the diagnostics are emitted.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from taskdroid.core.checks.task_local import file_entries
from taskdroid.core.depgraph import DependencyGraph
from taskdroid.core.diagnostics import Diagnostic, Related, diag
from taskdroid.core.document import Located, PlacedChunk, TaskDocument, normalize_id
from taskdroid.core.droid_rank import Capabilities
from taskdroid.core.model import Ref, Status, droid_name
from taskdroid.core.suggest import closest
from taskdroid.core.text import Range


@dataclass(frozen=True, slots=True)
class Proto:
    """A diagnostic in chunk-relative positions whose related locations are still symbolic."""

    diag: Diagnostic
    #: (path, task id, label or "" to describe the task) for each related location
    related: tuple[tuple[str, str, str], ...] = ()


class Workspace(Protocol):
    """What these checks ask of the workspace (:class:`taskdroid.core.workspace.Workspace`, which
    calls them; a protocol so that this module need not import it)."""

    @property
    def root(self) -> str | None: ...

    def chunk_ref_protos(self, doc: TaskDocument, chunk: PlacedChunk) -> Sequence[Proto]: ...

    def task_doc(self, path: str) -> TaskDocument | None: ...

    def lookup_id(self, doc: TaskDocument, task_id: str) -> Located | None: ...

    def dependency_graph(self) -> DependencyGraph: ...

    def resolve_ref(
        self, doc: TaskDocument, ref: Ref
    ) -> tuple[tuple[TaskDocument, Located] | None, str | None]: ...

    def nearby_task_files(self, path: str) -> list[str]: ...

    def resolve_droid(self, name: str) -> object | None: ...

    def droid_names(self) -> list[str]: ...

    def droid_capabilities(self, name: str) -> Capabilities | None: ...

    def relpath(self, path: str) -> str | None: ...

    def project_root(self, doc_path: str) -> str | None: ...

    def path_exists(self, doc_path: str | None, rel: str) -> bool: ...

    def name_exists(self, name: str) -> bool: ...


def check_refs(ws: Workspace, doc: TaskDocument) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for c in doc.chunks:
        for proto in ws.chunk_ref_protos(doc, c):
            out.append(materialize(ws, doc, proto, c.line))
    return out


def materialize(ws: Workspace, doc: TaskDocument, proto: Proto, base: int) -> Diagnostic:
    d = proto.diag.shifted(base)
    if not proto.related:
        return d
    related = []
    for path, task_id, label in proto.related:
        tdoc = ws.task_doc(path)
        loc = ws.lookup_id(tdoc, task_id) if tdoc is not None else None
        if loc is None:
            continue
        t = loc.task
        rng = t.id_span.range.shifted(loc.chunk.line) if t.id_span else Range.of(loc.line, 0, 0)
        msg = label or f"`{t.id}` {t.title[:60]}".rstrip()
        related.append(Related(None if path == doc.path else path, rng, msg))
    return replace(d, related=tuple(related))


def check_chunk_refs(ws: Workspace, doc: TaskDocument, c: PlacedChunk, part: str) -> list[Proto]:
    """One family of cross-file checks for one chunk, in chunk-relative positions.

    ``part`` is ``deps`` (TD010/TD011/TD012), ``droids`` (TD020, TD026) or ``files`` (TD031): each
    depends on a different part of the workspace, so each is cached separately.
    """
    out: list[Proto] = []
    if part == "deps":
        graph = None
        for t in c.parse.tasks:
            refs = t.refs
            if not refs:
                continue
            if graph is None:
                graph = ws.dependency_graph()
            loc = Located(t, c)
            src = (doc.path, normalize_id(t.id)) if t.id else None
            comp = graph.scc_of.get(src) if src else None
            for ref, end, text in _with_ranges(c, refs):
                if end is not None and _range_problem(ws, doc, ref, end, text, out):
                    continue
                _check_ref(ws, doc, loc, ref, out, graph, comp)
                if end is not None:
                    _check_ref(ws, doc, loc, end, out, graph, comp)
    elif part == "droids":
        for t in c.parse.tasks:
            droid_field = t.field("Droid")
            if droid_field is not None and droid_field.value.strip():
                if _check_droid(ws, droid_field, out):
                    _check_fit(ws, t, droid_field, out)
    elif part == "files" and _files_checkable(ws, doc):
        for t in c.parse.tasks:
            if t.status is Status.COMPLETED:
                for f in t.fields:
                    if f.canonical == "Files":
                        _check_files(ws, doc, f, out)
    return out


_RANGE_DASHES = "-–~"


def _with_ranges(c: PlacedChunk, refs) -> list[tuple[Any, Any, str]]:
    """Pair the two endpoints of a range ``1.5.1-1.5.6`` (docs/language.md §A3): ``(ref, end,
    range text)``, with ``end`` None for a single reference."""
    out: list[tuple[Any, Any, str]] = []
    lines: list[str] | None = None
    i = 0
    while i < len(refs):
        a = refs[i]
        b = refs[i + 1] if i + 1 < len(refs) else None
        if (
            b is not None
            and a.path is None
            and b.path is None
            and a.task_id
            and b.task_id
            and a.span.line == b.span.line
            and b.span.start == a.span.end + 1
        ):
            if lines is None:
                lines = c.text.split("\n")
            line = lines[a.span.line] if a.span.line < len(lines) else ""
            if line[a.span.end : a.span.end + 1] in tuple(_RANGE_DASHES):
                out.append((a, b, line[a.span.start : b.span.end]))
                i += 2
                continue
        out.append((a, None, ""))
        i += 1
    return out


def _range_problem(ws, doc: TaskDocument, a, b, text: str, out: list[Proto]) -> bool:
    """One TD010 for a range with an endpoint that does not exist — unless a task's own ID is
    written as that range. True when the range was dealt with (reported or matched)."""
    missing = [r for r in (a, b) if ws.resolve_ref(doc, r)[0] is None]
    if not missing:
        return False
    for other in [doc, *(ws.task_doc(p) for p in ws.nearby_task_files(doc.path))]:
        if other is None:
            continue
        for c in other.chunks:
            for t in c.parse.tasks:
                if t.id is None and t.title.lstrip("*~").startswith(text):
                    return True
    names = " and ".join(f"`{r.task_id}`" for r in missing)
    rng = Range(a.span.range.start, b.span.range.end)
    out.append(
        Proto(
            diag(
                "TD010",
                rng,
                f"range `{text}`: no task {names} in this file or the task files beside it",
            )
        )
    )
    return True


def _check_ref(ws, doc, loc: Located, ref, out: list[Proto], graph, comp) -> None:
    rng = ref.span.range
    target, problem = ws.resolve_ref(doc, ref)
    if problem is not None:
        out.append(Proto(diag("TD010", rng, problem)))
        return
    if target is None:
        return  # a reference to a whole file that exists
    tdoc, tloc = target
    tid = normalize_id(tloc.task.id) if tloc.task.id else None
    on_cycle = comp is not None and tid is not None and graph.scc_of.get((tdoc.path, tid)) == comp
    if on_cycle and tid is not None and loc.task.id:
        src = (doc.path, normalize_id(loc.task.id))
        cycle = _cycle(ws, set(graph.members[comp]), src, (tdoc.path, tid))
        labels = [_label(doc.path, p, i) for p, i in cycle]
        if len(cycle) == 1:
            msg = f"task `{labels[0]}` depends on itself — remove this reference"
        else:
            msg = (
                "dependency cycle: "
                + " → ".join(f"`{m}`" for m in [*labels, labels[0]])
                + " (each waits for the next, so none can start) — remove one of these dependencies"
            )
        out.append(
            Proto(
                diag("TD011", rng, msg),
                tuple((p, i, f"`{_label(doc.path, p, i)}` is on the cycle") for p, i in cycle),
            )
        )
    status = loc.task.status
    if status in (Status.IN_PROGRESS, Status.COMPLETED):
        dep_status = tloc.task.status
        if dep_status is not Status.COMPLETED:
            label = dep_status.label if dep_status else "of unknown status"
            out.append(
                Proto(
                    diag(
                        "TD012",
                        rng,
                        f"this task is {status.label} but its dependency `{tloc.task.id}` is {label}",
                    ),
                    ((tdoc.path, tid, ""),) if tid else (),
                )
            )


def _cycle(
    ws: Workspace, members: set[tuple[str, str]], src: tuple[str, str], dst: tuple[str, str]
) -> list[tuple[str, str]]:
    """The tasks of a shortest cycle through the edge ``src`` → ``dst`` (``src`` first): a
    shortest dependency path from ``dst`` back to ``src`` inside their strongly connected
    component."""
    if src == dst:
        return [src]
    prev: dict[tuple[str, str], tuple[str, str] | None] = {dst: None}
    queue = [dst]
    k = 0
    while k < len(queue):
        v = queue[k]
        k += 1
        if v == src:
            break
        vdoc = ws.task_doc(v[0])
        vloc = ws.lookup_id(vdoc, v[1]) if vdoc is not None else None
        if vdoc is None or vloc is None:
            continue
        for ref in vloc.task.refs:
            target, _ = ws.resolve_ref(vdoc, ref)
            if target is None or not target[1].task.id:
                continue
            w = (target[0].path, normalize_id(target[1].task.id))
            if w in members and w not in prev:
                prev[w] = v
                queue.append(w)
    if src not in prev:
        return sorted(members)  # cannot happen for an edge inside a component; be safe
    path: list[tuple[str, str]] = []
    node: tuple[str, str] | None = src
    while node is not None:
        path.append(node)
        node = prev[node]
    # path runs src ← … ← dst; the cycle is src → dst → … → src
    return [src, *reversed(path[1:])]


def _label(here: str, path: str, task_id: str) -> str:
    if path == here:
        return task_id
    return f"{os.path.basename(path)}#{task_id}"


def _check_droid(ws, f, out: list[Proto]) -> bool:
    """TD020; True when the field names a droid of the index."""
    name = droid_name(f.value)
    if not name:
        return False
    if ws.resolve_droid(name) is not None:
        return True
    idx = f.value.find(name)
    start = f.value_span.start + max(idx, 0)
    rng = Range.of(f.line, start, start + len(name))
    names = ws.droid_names()
    sugg = closest(name, names)
    if sugg:
        msg = f"no droid named `{name}` — did you mean `{sugg}`?"
    elif names:
        msg = f"no droid named `{name}` in .factory/droids, .claude/agents or your personal droid folders"
    else:
        msg = f"no droid named `{name}`: no droid files were found (.factory/droids/*.md, .claude/agents/*.md)"
    out.append(Proto(diag("TD020", rng, msg, data={"name": name, "suggestion": sugg})))
    return False


def _check_fit(ws, t, f, out: list[Proto]) -> None:
    """TD026: a task whose Files must change (neither completed nor cancelled) assigned a droid
    whose tools cannot edit files (docs/language.md §11)."""
    if t.status not in (Status.PENDING, Status.IN_PROGRESS, Status.BLOCKED):
        return
    files = [p for ff in t.fields if ff.canonical == "Files" for p, _span in file_entries(ff)]
    if not files:
        return
    name = droid_name(f.value)
    if not name:
        return
    droid = ws.resolve_droid(name)
    caps = ws.droid_capabilities(name)
    if droid is None or caps is None or caps.can_edit is not False:
        return
    idx = f.value.find(name)
    start = f.value_span.start + max(idx, 0)
    rng = Range.of(f.line, start, start + len(name))
    shown = ", ".join(f"`{p}`" for p in files[:3]) + (" …" if len(files) > 3 else "")
    msg = (
        f"droid `{name}` cannot edit files — {caps.why_not} — but this task's Files "
        f"({shown}) must change: assign a droid that can edit, or give `{name}` an edit tool"
    )
    key = "permissionMode" if caps.why_not.startswith("`permissionMode") else "tools"
    if key == "tools" and "tools" not in droid.key_ranges:
        key = "disallowedTools"
    where = droid.key_ranges.get(key)
    related = (Related(droid.path, where, f"the tools of `{name}`"),) if where else ()
    out.append(
        Proto(diag("TD026", rng, msg, related=related, data={"name": name, "reason": caps.why_not}))
    )


_NOT_A_PATH = re.compile(r"^(?:https?://|n/?a$|none$|tbd$|-+$)|[*?{}<>|]", re.I)
_LINE_SUFFIX = re.compile(r"(?::\d+(?:[-:]\d+)?|#L\d+(?:-L?\d+)?)$")


def _files_checkable(ws: Workspace, doc: TaskDocument) -> bool:
    """TD031 needs to know the project a task file belongs to: the workspace root when the file
    is inside it, else a project folder above the file (.git, .factory …). A task file checked
    from outside any project cannot say which files should exist."""
    if ws.root is None:
        return False
    return ws.relpath(doc.path) is not None or ws.project_root(doc.path) is not None


def _check_files(ws, doc: TaskDocument, f, out: list[Proto]) -> None:
    for path, span in file_entries(f):
        p = _LINE_SUFFIX.sub("", path.strip())
        if not p or _NOT_A_PATH.search(p) or ("/" not in p and "." not in p):
            continue
        if ws.path_exists(doc.path, p):
            continue
        if "/" not in p and "\\" not in p and ws.name_exists(p):
            continue  # a bare file name that exists in some folder (docs/language.md §A8)
        out.append(
            Proto(
                diag(
                    "TD031",
                    span.range,
                    f"`{path}` is listed in Files of a completed task but does not exist in the "
                    "workspace — was it renamed, removed or never created?",
                    data={"path": path},
                )
            )
        )
