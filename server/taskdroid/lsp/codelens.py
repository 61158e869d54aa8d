"""Code lens (docs/language.md §8) in task files.

* on each task with an ID: "▶ Run <droid>" (``taskdroid.runTask``) when it names a droid of the
  index and is neither completed nor cancelled — "Configure runner…" instead when no runner is
  configured, nothing for an unknown droid (see :mod:`taskdroid.lsp.runlens`) — and its next
  status (``taskdroid.setStatus``): pending → in progress, in progress → completed, blocked → in
  progress; on a task with a ``**Last Run**``, "Open log" and, when it is completed and its droid
  can run, "↻ Re-run <droid>" (see :mod:`taskdroid.lsp.runrecord`);
* on each section heading (level 2 or deeper) with tasks below it: ``done/total done, n blocked``
  (a label; its command does nothing), and ``▶ Run ready (n)`` when n > 0 ready tasks under it
  name a droid (``taskdroid.runReady`` on that section, see :mod:`taskdroid.lsp.runready`).

Lenses depend on the document's own text and on the project's run gate (its droid names and
whether a runner is configured), and are cheap, so they come complete (no ``codeLens/resolve``).
After each analysis of an open task file whose text changed, and when the gate changes, clients
that support it are asked to re-request them (``workspace/codeLens/refresh``, coalesced).
"""

from __future__ import annotations

import logging
from typing import Any

from lsprotocol import types

from taskdroid.core.text import Range
from taskdroid.lsp import runlens, runready, runrecord
from taskdroid.lsp.convert import ChunkLines, ChunkPieces, RawJSON
from taskdroid.lsp.deferred import query
from taskdroid.lsp.deferred import requirement_views as rv
from taskdroid.lsp.deferred import requirements as rq
from taskdroid.lsp.server import DocContext, TaskdroidServer, safe

log = logging.getLogger("taskdroid.lsp.codelens")

RUN_TASK = "taskdroid.runTask"
SET_STATUS = "taskdroid.setStatus"

#: the status a task's lens moves it to, and the lens title
_NEXT = {
    "pending": ("in_progress", "Start (→ in progress)"),
    "in_progress": ("completed", "Complete (→ completed)"),
    "blocked": ("in_progress", "Resume (→ in progress)"),
}


class CodeLensFeature:
    """The code lens state of one server: per-chunk lenses of each document, and which version of
    each open task file the client was last asked to refresh lenses for."""

    def __init__(self) -> None:
        #: per-chunk lenses of the current version of each document (see ChunkPieces)
        self.pieces = ChunkPieces()
        self.refreshed: dict[str, int | None] = {}


def register(server: TaskdroidServer) -> None:
    server.add_feature(CodeLensFeature())
    server.hooks.after_analysis.append(after_analysis)

    @server.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))
    @safe()
    async def code_lens(ls: TaskdroidServer, params: types.CodeLensParams) -> list[dict] | None:
        await ls.wait_ready()
        ctx = ls.context(params.text_document.uri)
        if ctx is not None and ctx.path in ctx.project.ws.req_docs:
            return RawJSON(requirement_lenses(ls, ctx))  # type: ignore[return-value]
        if ctx is None or ctx.task_doc is None:
            return None
        return RawJSON(code_lenses(ls, ctx))  # type: ignore[return-value]


def code_lenses(server: TaskdroidServer, ctx: DocContext) -> list[dict[str, Any]]:
    """The lenses of a task file as protocol JSON (task lenses cached per chunk)."""
    doc = ctx.task_doc
    assert doc is not None
    conv = server.conv
    lines = ctx.lines
    out: list[dict[str, Any]] = []
    #: open headings: [level, title range, done, total, blocked]
    stack: list[list] = []

    def close() -> None:
        level, sel, done, total, blocked = stack.pop()
        if level >= 2 and total:
            out.append(
                _lens(conv.range_json(lines, sel), f"{done}/{total} done, {blocked} blocked", "")
            )
        if stack:
            parent = stack[-1]
            parent[2] += done
            parent[3] += total
            parent[4] += blocked

    feature = server.get_feature(CodeLensFeature) or CodeLensFeature()
    gate = runlens.gate(server, ctx.project)
    pieces = feature.pieces.get(
        ctx.uri,
        doc.chunks,
        (conv.encoding, gate),
        lambda c: _chunk_lenses(server, ctx.uri, c, gate),
    )
    for chunk, (task_lenses, stats) in zip(doc.chunks, pieces, strict=True):
        out.extend(task_lenses)
        heads = query.chunk_headings(chunk)
        if not heads:
            if stack:
                top = stack[-1]
                for _line, status in stats:
                    top[3] += 1
                    top[2] += status == "completed"
                    top[4] += status == "blocked"
            continue
        events = sorted(
            [(h.range.start.line, 0, h) for h in heads] + [(line, 1, st) for line, st in stats],
            key=lambda ev: (ev[0], ev[1]),
        )
        for _line, kind, obj in events:
            if kind == 0:
                while stack and stack[-1][0] >= obj.level:
                    close()
                stack.append([obj.level, obj.selection, 0, 0, 0])
            elif stack:
                top = stack[-1]
                top[3] += 1
                top[2] += obj == "completed"
                top[4] += obj == "blocked"
    while stack:
        close()
    out.extend(_ready_lenses(server, ctx, gate))
    return out


def _ready_lenses(
    server: TaskdroidServer, ctx: DocContext, gate: runlens.RunGate
) -> list[dict[str, Any]]:
    """``▶ Run ready (n)`` on section headings (§7, queued runs): see :mod:`taskdroid.lsp.runready`."""
    return runready.ready_lenses(server, ctx, gate)


def _lens(rng: dict, title: str, command: str, arguments: list | None = None) -> dict[str, Any]:
    cmd: dict[str, Any] = {"title": title, "command": command}
    if arguments is not None:
        cmd["arguments"] = arguments
    return {"range": rng, "command": cmd}


def _chunk_lenses(
    server: TaskdroidServer, uri: str, chunk, gate: runlens.RunGate
) -> tuple[list[dict], list[tuple[int, str | None]]]:
    """The task lenses of one chunk and (line, status) of each of its tasks (cached by the
    chunk's parse, line, the encoding, the run gate and the uri in ``code_lenses``: typing
    re-converts only the chunk touched)."""
    conv = server.conv
    lines = ChunkLines(chunk)
    lenses: list[dict] = []
    stats: list[tuple[int, str | None]] = []
    for task in chunk.parse.tasks:
        line = chunk.line + task.line
        status = task.status.value if task.status is not None else None
        stats.append((line, status))
        if not task.id:
            continue
        droid = task.droid if status not in ("completed", "cancelled") else None
        if droid is not None and droid not in gate.droids:
            droid = None  # TD020: running it can only fail; its quick fixes help instead
        nxt = _NEXT.get(status or "")
        recorded = runrecord.last_run_field(task) is not None
        if droid is None and nxt is None and not recorded:
            continue
        span = task.marker_span
        rng = conv.range_json(lines, Range.of(line, span.start, span.end))  # type: ignore[arg-type]
        if droid:
            lenses.append(_lens(rng, *gate.task_command(uri, task.id, droid)))
        if nxt is not None:
            args = [{"uri": uri, "taskId": task.id, "status": nxt[0]}]
            lenses.append(_lens(rng, nxt[1], SET_STATUS, args))
        if recorded:
            can_run = gate.configured and task.droid in gate.droids
            lenses.extend(runrecord.record_lenses(rng, uri, task, can_run))
    return lenses, stats


# -- refresh -----------------------------------------------------------------------------------------


def after_analysis(server: TaskdroidServer, uri: str) -> None:
    """Ask for a code lens refresh after an analysis of an open task file whose text changed
    (an ``after_analysis`` hook)."""
    feature = server.get_feature(CodeLensFeature)
    if feature is None or not server.client.code_lens_refresh:
        return
    doc = server.docs.get(uri)
    if doc is None or doc.path is None:
        return
    project = server.project_for(doc.path)
    if project is None or doc.path not in project.ws.task_docs:
        return
    refreshed = feature.refreshed
    if uri in refreshed and refreshed[uri] == doc.version:
        return
    first = uri not in refreshed
    refreshed[uri] = doc.version
    if len(refreshed) > 1000:
        refreshed.clear()
    if not first:  # a newly opened document: the client asks for its lenses anyway
        server.request_code_lens_refresh()


def requirement_lenses(server: TaskdroidServer, ctx: DocContext) -> list[dict[str, Any]]:
    """docs/language.md §13: ``n tasks · k done`` on each requirement, user story and FR (a label)."""
    ws = ctx.project.ws
    req = ws.req_docs[ctx.path]
    out = []
    for row in rq.requirement_rows(ws, req):
        if isinstance(row.item, rq.Criterion):
            continue
        rng = server.conv.range_json(ctx.lines, row.item.span.range)
        out.append(_lens(rng, rv.lens_title(row), ""))
    return out
