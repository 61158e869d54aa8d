"""What the editor and ``taskdroid coverage`` show of requirement references (docs/language.md §13):
completion, hover text, lens titles, the coverage report and the Tasks view's requirements
(docs/language.md §15). The model is in :mod:`taskdroid.core.requirements`."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from taskdroid.core.discovery import discover
from taskdroid.core.files import ReadError, read_text
from taskdroid.core.inline import plain_title
from taskdroid.core.paths import norm
from taskdroid.core.requirements import (
    FR,
    KIRO,
    SPECKIT,
    STORY,
    CoverageRow,
    Criterion,
    Requirement,
    RequirementsDocument,
    TaskRef,
    Workspace,
    requirement_rows,
    requirements_flavor,
    sibling_docs,
    sibling_requirement_paths,
)

# -- completion ------------------------------------------------------------------------------------

_KIRO_COMPLETE = re.compile(
    r"(?:(?<![\w*])(?:\*\*|__|\*|_)(?:Requirements?)(?:\*\*|__|\*|_)?:(?:\*\*|__|\*|_)?"
    r"|\*\*Validates:[ \t]*Requirements?)[ \t]*(?:[^_*]*?[,;][ \t]*)?([\d.]*)$",
    re.I,
)
_US_COMPLETE = re.compile(r"\[(?:US[ \t]?\d+[ \t]*[,/][ \t]*)*(US?\d*)$", re.I)


def completion_context(line: str, col: int) -> tuple[str, int] | None:
    """``(flavor, start column of the word to replace)`` when ``col`` of a task-file line is where
    a requirement ID is typed: after ``_Requirements: `` (or a comma in that list), or inside
    ``[US``."""
    before = line[:col]
    m = _US_COMPLETE.search(before)
    if m:
        return SPECKIT, m.start(1)
    m = _KIRO_COMPLETE.search(before)
    if m:
        return KIRO, m.start(1)
    return None


@dataclass(frozen=True, slots=True)
class Completion:
    label: str
    detail: str
    documentation: str
    sort: str


def completions(req: RequirementsDocument, flavor: str) -> list[Completion]:
    out: list[Completion] = []
    for k, rid in enumerate(req.order):
        item = req.index[rid]
        if flavor == SPECKIT and getattr(item, "kind", "") != STORY:
            continue
        if isinstance(item, Criterion):
            out.append(
                Completion(item.id, f"Requirement {item.requirement}", item.text, f"{k:06d}")
            )
        else:
            out.append(Completion(item.id, item.label, item.title or item.summary, f"{k:06d}"))
    return out


# -- hover text ------------------------------------------------------------------------------------


def item_markdown(req: RequirementsDocument, item: Requirement | Criterion) -> str:
    """What a hover over a reference to ``item`` shows."""
    name = os.path.basename(req.path)
    if isinstance(item, Criterion):
        parent = req.requirement_of(item)
        head = f"**{parent.label}**" + (f": {parent.title}" if parent.title else "")
        return f"{head} — acceptance criterion {item.id}\n\n{item.text}\n\n_{name}_"
    head = f"**{item.label}**" + (f": {item.title}" if item.title and item.kind != FR else "")
    body = item.summary if item.kind != FR else item.title
    parts = [head]
    if body and (body != item.title or item.kind == FR):
        parts.append(body)
    if item.criteria:
        parts.append(f"{len(item.criteria)} acceptance criteria")
    parts.append(f"_{name}_")
    return "\n\n".join(parts)


def lens_title(row: CoverageRow) -> str:
    n = len(row.tasks)
    return f"{n} task{'s' if n != 1 else ''} · {row.done} done"


# -- the coverage report (``taskdroid coverage``) ----------------------------------------------------


def task_label(tr: TaskRef) -> str:
    """How the coverage report names a task: its ID; ``file.md#ID`` when it is in a task file
    other than ``tasks.md``; ``file.md:LINE`` (1-based) when it has no ID."""
    name = os.path.basename(tr.doc.path)
    tid = tr.task.task.id
    if tid:
        return tid if name == "tasks.md" else f"{name}#{tid}"
    return f"{name}:{tr.task.line + 1}"


def coverage_json(rows: list[CoverageRow], shown_path: str) -> list[dict]:
    """docs/language.md §13: ``{"path", "line", "requirement", "title", "tasks", "state"}`` per requirement,
    criteria right after their requirement; ``line`` is 1-based."""
    out = []
    for row in rows:
        item = row.item
        out.append(
            {
                "path": shown_path,
                "line": item.line + 1,
                "requirement": item.id,
                "title": item.title or getattr(item, "summary", ""),
                "tasks": [task_label(tr) for tr in row.task_refs()],
                "state": row.state,
            }
        )
    return out


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def render_coverage_text(rows: list[CoverageRow], shown_path: str) -> str:
    lines = [shown_path]
    counts = {"covered": 0, "done": 0, "uncovered": 0}
    total = 0
    for row in rows:
        item = row.item
        crit = isinstance(item, Criterion)
        if not crit:
            total += 1
            counts[row.state] += 1
        title = item.title if crit or item.kind == FR or item.title else item.label
        tasks = ", ".join(task_label(tr) for tr in row.task_refs()) or "—"
        ident = ("  " if crit else "") + item.id
        lines.append(f"  {ident:<9} {row.state:<9}  {_clip(title, 48):<48}  {tasks}")
    noun = "requirement" if total == 1 else "requirements"
    lines.append(
        f"  {total} {noun}: {counts['covered'] + counts['done']} covered "
        f"({counts['done']} done), {counts['uncovered']} uncovered"
    )
    return "\n".join(lines) + "\n"


def _requirement_files(ws: Workspace, raw_paths: list[str], problems: dict[str, str]) -> list[str]:
    """The requirements files PATHs name: those found in a folder (its task and requirements
    files indexed on the way), a requirements file, or those beside a task file."""
    targets: list[str] = []
    for raw in raw_paths:
        p = Path(raw)
        if p.is_dir():
            found = discover(p, ws.settings)
            for kind, files in (
                ("task", found.task_files),
                ("requirements", found.requirement_files),
            ):
                for f in files:
                    q = norm(f)
                    if q in problems:
                        continue
                    if q not in ws.task_docs and q not in ws.req_docs:
                        try:
                            ws.set_text(q, read_text(f), kind)
                        except ReadError as e:
                            problems[q] = str(e)
                            continue
                    if kind == "requirements":
                        targets.append(q)
        elif p.is_file():
            q = norm(p)
            if requirements_flavor(q) is not None:
                targets.append(q)
            else:
                sib = sibling_requirement_paths(q).values()
                targets.extend(s for s in sib if os.path.isfile(s))
    return list(dict.fromkeys(targets))


def coverage_of(
    ws: Workspace, raw_paths: list[str], problems: dict[str, str], show: Callable[[str], str]
) -> tuple[list[tuple[str, list[CoverageRow]]], list[tuple[str, str]]]:
    """``taskdroid coverage``: (shown path, rows) of each requirements file the PATHs name, in
    order of the shown path, and (shown path, error) of those that cannot be read."""
    rows_of: list[tuple[str, list[CoverageRow]]] = []
    errors: list[tuple[str, str]] = []
    for q in sorted(_requirement_files(ws, raw_paths, problems), key=show):
        if q in problems:
            errors.append((show(q), problems[q]))
            continue
        req = ws.req_docs.get(q)
        if req is None:
            try:
                req = ws.set_requirements_text(q, read_text(q))
            except ReadError as e:
                errors.append((show(q), str(e)))
                continue
        rows_of.append((show(q), requirement_rows(ws, req)))
    return rows_of, errors


# -- the Tasks view (docs/language.md §15: ``requirements`` of a task file in ``taskdroid.outline``) ---------


def outline_requirements(
    ws: Workspace, task_path: str
) -> list[tuple[RequirementsDocument, list[CoverageRow]]]:
    """The requirements files the Tasks view lists under the task file ``task_path``, with their
    coverage (the rows ``taskdroid coverage`` prints): those beside it in its spec folder, listed
    under the first indexed task file of that folder (in path order) only, so that a folder with
    several task files shows them once."""
    if not sibling_requirement_paths(task_path):
        return []  # not in a spec folder (most task files): no scan of the index
    folder = os.path.dirname(task_path)
    first = min((p for p in ws.task_docs if os.path.dirname(p) == folder), default=None)
    if first != task_path:
        return []
    sibs = sibling_docs(ws, task_path)
    return [(sibs[fl], requirement_rows(ws, sibs[fl])) for fl in (KIRO, SPECKIT) if fl in sibs]


def _outline_task(tr: TaskRef, uri_of: Callable[[str], str]) -> dict:
    t = tr.task.task
    return {
        "ref": task_label(tr),
        "uri": uri_of(tr.doc.path),
        "id": t.id,
        "title": plain_title(t.title) if t.title else "",
        "status": t.status.value if t.status is not None else "malformed",
        "line": tr.task.line,
    }


def _outline_item(row: CoverageRow, uri_of: Callable[[str], str]) -> dict:
    item = row.item
    summary = item.summary if isinstance(item, Requirement) else ""
    return {
        "requirement": item.id,
        "kind": item.kind,
        "label": item.label,
        "title": item.title or summary,  # as `coverage --format json`
        "line": item.line,
        "state": row.state,
        "done": row.done,
        "tasks": [_outline_task(tr, uri_of) for tr in row.task_refs()],
    }


def outline_requirements_json(
    req: RequirementsDocument,
    rows: list[CoverageRow],
    uri_of: Callable[[str], str],
    shown_path: str,
) -> dict:
    """One requirements file of a task file's ``requirements`` in ``taskdroid.outline``:
    ``{uri, path, flavor, total, covered, done, items: [ITEM…]}`` where ITEM is ``{requirement,
    kind, label, title, line, state, done, tasks: [{ref, uri, id, title, status, line}],
    criteria: [ITEM…]}`` (``line`` 0-based; ``covered`` counts the requirements with a task,
    ``done`` included; criteria only in ``criteria``)."""
    items: list[dict] = []
    counts = {"covered": 0, "done": 0, "uncovered": 0}
    for row in rows:
        if isinstance(row.item, Criterion):
            if items:
                items[-1]["criteria"].append(_outline_item(row, uri_of))
            continue
        counts[row.state] += 1
        items.append(_outline_item(row, uri_of) | {"criteria": []})
    return {
        "uri": uri_of(req.path),
        "path": shown_path,
        "flavor": req.flavor,
        "total": len(items),
        "covered": counts["covered"] + counts["done"],
        "done": counts["done"],
        "items": items,
    }
