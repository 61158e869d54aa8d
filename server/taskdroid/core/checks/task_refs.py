"""Checks that look beyond one file: dependencies (TD010–TD012), droids (TD020), files (TD031)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from taskdroid.core.checks.task_local import file_entries
from taskdroid.core.diagnostics import Diagnostic, Related, diag
from taskdroid.core.document import Located, TaskDocument
from taskdroid.core.model import Status, droid_name
from taskdroid.core.suggest import closest
from taskdroid.core.text import Range

if TYPE_CHECKING:
    from taskdroid.core.workspace import Workspace


def check_refs(ws: Workspace, doc: TaskDocument) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    graph = ws.dependency_graph()
    cycle_edges = graph.cycle_edges.get(doc.path, {})
    for c in doc.chunks:
        base = c.line
        for t in c.parse.tasks:
            refs = t.refs
            if refs:
                loc = Located(t, c)
                for i, ref in enumerate(refs):
                    _check_ref(ws, doc, loc, ref, out, cycle_edges.get((t.line + base, i)))
            droid_field = t.field("Droid")
            if droid_field is not None and droid_field.value.strip():
                _check_droid(ws, droid_field, base, out)
            if t.status is Status.COMPLETED and ws.root is not None:
                for f in t.fields:
                    if f.canonical == "Files":
                        _check_files(ws, doc, f, base, out)
    return out


def _check_ref(ws, doc, loc: Located, ref, out, cycle) -> None:
    rng = ref.span.range.shifted(loc.chunk.line)
    target, problem = ws.resolve_ref(doc, ref)
    if problem is not None:
        out.append(diag("TD010", rng, problem))
        return
    if target is None:
        return  # a reference to a whole file that exists
    tdoc, tloc = target
    tpath = None if tdoc.path == doc.path else tdoc.path
    trange = (
        tloc.task.id_span.range.shifted(tloc.chunk.line)
        if tloc.task.id_span
        else Range.of(tloc.line, 0, 0)
    )
    if cycle is not None:
        out.append(
            diag(
                "TD011",
                rng,
                "dependency cycle: " + " → ".join(m for _, _, m in cycle) + " — one of these "
                "dependencies must go",
                related=[
                    Related(None if p == doc.path else p, r, f"`{m}` is on the cycle")
                    for p, r, m in cycle
                ],
            )
        )
    status = loc.task.status
    if status in (Status.IN_PROGRESS, Status.COMPLETED):
        dep_status = tloc.task.status
        if dep_status is not Status.COMPLETED:
            label = dep_status.label if dep_status else "of unknown status"
            out.append(
                diag(
                    "TD012",
                    rng,
                    f"this task is {status.label} but its dependency `{tloc.task.id}` is {label}",
                    related=[Related(tpath, trange, f"`{tloc.task.id}` {tloc.task.title[:60]}")],
                )
            )


def _check_droid(ws, f, base: int, out) -> None:
    name = droid_name(f.value)
    if not name:
        return
    if ws.resolve_droid(name) is not None:
        return
    idx = f.value.find(name)
    start = f.value_span.start + max(idx, 0)
    rng = Range.of(f.line + base, start, start + len(name))
    names = ws.droid_names()
    sugg = closest(name, names)
    if sugg:
        msg = f"no droid named `{name}` — did you mean `{sugg}`?"
    elif names:
        msg = f"no droid named `{name}` in .factory/droids, .claude/agents or your personal droid folders"
    else:
        msg = f"no droid named `{name}`: no droid files were found (.factory/droids/*.md, .claude/agents/*.md)"
    out.append(diag("TD020", rng, msg, data={"name": name, "suggestion": sugg}))


_NOT_A_PATH = re.compile(r"^(?:https?://|n/?a$|none$|tbd$|-+$)|[*?{}<>|]", re.I)
_LINE_SUFFIX = re.compile(r":\d+(?:[-:]\d+)?$")


def _check_files(ws, doc: TaskDocument, f, base: int, out) -> None:
    for path, span in file_entries(f):
        p = _LINE_SUFFIX.sub("", path.strip())
        if not p or _NOT_A_PATH.search(p) or ("/" not in p and "." not in p):
            continue
        if ws.path_exists(doc.path, p):
            continue
        out.append(
            diag(
                "TD031",
                span.range.shifted(base),
                f"`{path}` does not exist in the workspace (this task is marked completed)",
                data={"path": path},
            )
        )
