"""Hover (docs/language.md §8): short markdown about the token under the cursor.

* task (its ID or title): status, droid, dependencies with their statuses, dependents, ready or
  not;
* droid reference: description, model, tools, version, file;
* dependency reference: the target task (or why it does not resolve);
* marker: its meaning; field key: what the field is for; section: tasks done;
* ``**Last Run**``: the run record and the last lines of its log (see
  :mod:`taskdroid.lsp.runrecord`);
* droid file: a front matter key's rule, the droid's users on its name.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from lsprotocol import types

from taskdroid.core.inline import plain_title
from taskdroid.core.text import Position, Range
from taskdroid.lsp import runrecord
from taskdroid.lsp.convert import markup
from taskdroid.lsp.deferred import droids, query, runfields
from taskdroid.lsp.deferred import requirement_views as rv
from taskdroid.lsp.deferred import requirements as rq
from taskdroid.lsp.server import DocContext, TaskdroidServer, safe

if TYPE_CHECKING:
    from taskdroid.core.document import Located, TaskDocument
    from taskdroid.core.droids import DroidDocument
    from taskdroid.core.query import Token
    from taskdroid.core.workspace import Workspace

_MAX_LIST = 8


def register(server: TaskdroidServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_HOVER)
    @safe()
    async def hover(ls: TaskdroidServer, params: types.HoverParams) -> types.Hover | None:
        await ls.wait_ready()
        ctx = ls.context(params.text_document.uri)
        req = requirement_hover(ls, ctx, params.position) if ctx is not None else None
        if req is not None:
            return req
        if ctx is None or ctx.kind is None:
            return None
        pos = ls.conv.to_core(ctx.lines, params.position)
        found = hover_text(ls, ctx, pos)
        if found is None:
            return None
        text, rng = found
        md = ls.client.markdown_hover
        return types.Hover(contents=markup(text, md), range=ls.conv.range(ctx.lines, rng))


def hover_text(server: TaskdroidServer, ctx: DocContext, pos: Position) -> tuple[str, Range] | None:
    ws = ctx.project.ws
    if ctx.task_doc is not None:
        record = runrecord.last_run_hover(ctx, pos)
        if record is not None:
            return record
        tok = query.task_token_at(ctx.task_doc, pos)
        if tok is None:
            return None
        text = _task_hover(server, ws, ctx.task_doc, tok)
        return (text, tok.range) if text else None
    if ctx.droid_doc is not None:
        tok = query.droid_token_at(ctx.droid_doc, ctx.lines.lines(), pos)
        if tok is None:
            return None
        text = _droid_file_hover(ws, ctx.droid_doc, tok)
        return (text, tok.range) if text else None
    return None


def _task_hover(
    server: TaskdroidServer, ws: Workspace, doc: TaskDocument, tok: Token
) -> str | None:
    if tok.kind == query.MARKER and tok.task is not None:
        return query.marker_hover_text(tok.task.task)
    if tok.kind in (query.TASK_ID, query.TASK_TITLE) and tok.task is not None:
        return task_summary(ws, doc, tok.task)
    if tok.kind == query.DEP_REF and tok.ref is not None:
        target, problem = ws.resolve_ref(doc, tok.ref)
        if target is None:
            if problem:
                return f"`{tok.ref.text}`: {problem}"
            return f"`{tok.ref.text}`: a dependency on the whole file"
        tdoc, tloc = target
        where = "" if tdoc.path == doc.path else f" in `{_show(ws, tdoc.path)}`"
        return f"→ {_task_line(tloc)}{where}, line {tloc.line + 1}"
    if tok.kind == query.DROID_REF:
        return droid_summary(ws, tok.text)
    if tok.kind == query.FIELD_KEY and tok.field is not None:
        name = tok.field.canonical or tok.field.key
        meaning = runfields.RUN_FIELD_HELP.get(name) or query.field_help(tok.field.key)
        return f"**{name}** — {meaning}"
    if tok.kind == query.SECTION and tok.section is not None:
        return _section_hover(doc, tok)
    return None


def _status(loc: Located) -> str:
    t = loc.task
    if t.status is None:
        return f"malformed marker `[{t.marker_text}]`"
    return t.status.label


def _task_line(loc: Located) -> str:
    t = loc.task
    title = plain_title(t.title)
    name = f"`{t.id}` {title}".strip() if t.id else title
    return f"**{name.strip()}** — {_status(loc)}"


def task_summary(ws: Workspace, doc: TaskDocument, loc: Located) -> str:
    t = loc.task
    out = [_task_line(loc)]
    if t.optional:
        out[0] += " (optional)"
    droid = t.droid
    if droid:
        resolved = ws.resolve_droid(droid)
        out.append(f"Droid: `{droid}`" + ("" if resolved else " (no such droid)"))
    deps = query.dependencies_of(ws, doc, loc)
    if deps:
        parts = []
        for dep in deps[:_MAX_LIST]:
            if dep.target is None:
                parts.append(
                    f"`{dep.ref.text}` (unresolved)" if dep.problem else f"`{dep.ref.text}`"
                )
            else:
                parts.append(f"`{dep.ref.text}` {_status(dep.target[1])}")
        more = f", +{len(deps) - _MAX_LIST} more" if len(deps) > _MAX_LIST else ""
        out.append("Depends on: " + ", ".join(parts) + more)
    dependents = query.dependents_of(ws, doc, loc)
    if dependents:
        parts = []
        for hit in dependents[:_MAX_LIST]:
            label = hit.task.task.id or hit.task.task.title[:30]
            if hit.doc.path != doc.path:
                label = f"{os.path.basename(hit.doc.path)}#{label}"
            parts.append(f"`{label}` {_status(hit.task)}")
        more = f", +{len(dependents) - _MAX_LIST} more" if len(dependents) > _MAX_LIST else ""
        out.append("Needed by: " + ", ".join(parts) + more)
    ready, reasons = query.is_ready(ws, doc, loc)
    if ready:
        out.append("Ready to start.")
    elif t.status is not None and t.status.value == "pending":
        out.append("Not ready: " + "; ".join(reasons[:3]) + ".")
    return "\n\n".join(out)


def droid_summary(ws: Workspace, name: str) -> str:
    droid = ws.resolve_droid(name)
    if droid is None:
        return f"No droid named `{name}` (looked in .factory/droids, .claude/agents and personal folders)."
    return _droid_card(ws, droid)


def _droid_card(ws: Workspace, droid: DroidDocument) -> str:
    out = [f"**{droid.name}**"]
    if droid.description:
        desc = droid.description.strip()
        if len(desc) > 300:
            desc = desc[:299] + "…"
        out.append(desc)
    facts = []
    if droid.model:
        facts.append(f"model `{droid.model}`")
    if droid.tools:
        tools = ", ".join(droid.tools[:12]) + (" …" if len(droid.tools) > 12 else "")
        facts.append(f"tools: {tools}")
    if droid.version:
        facts.append(f"version {droid.version}")
    if facts:
        out.append(" · ".join(facts))
    out.append(f"`{_show(ws, droid.path)}`")
    return "\n\n".join(out)


def _section_hover(doc: TaskDocument, tok: Token) -> str | None:
    for node in _walk(query.outline(doc)):
        if node.kind == "section" and node.selection == tok.range:
            text = f"**{node.name}**"
            if node.detail:
                text += f" — {node.detail}"
            return text
    return None


def _walk(nodes):
    for n in nodes:
        yield n
        yield from _walk(n.children)


def _droid_file_hover(ws: Workspace, droid: DroidDocument, tok: Token) -> str | None:
    if tok.kind == query.FM_KEY and tok.key is not None:
        rule = droids.KEY_RULES.get(tok.key)
        if rule:
            return f"**{tok.key}** — {rule}"
        return f"**{tok.key}** — not a droid front matter key taskdroid knows."
    if tok.kind == query.FM_NAME and droid.name:
        users = query.droid_users(ws, droid.name, droid)
        n = len(users)
        used = f"used by {n} task{'s' if n != 1 else ''}" if n else "not used by any task"
        return f"**{droid.name}** — {used}."
    if tok.kind == query.FM_VALUE and tok.key is not None:
        rule = droids.KEY_RULES.get(tok.key)
        if not rule:
            return None
        values = droids.ENUMERATED_VALUES.get(tok.key)
        if values:
            rule += "\n\nValues: " + ", ".join(f"`{v}`" for v in values)
        return f"**{tok.key}** — {rule}"
    if tok.kind == query.FM_TOOL:
        flavor = droid.flavor
        if flavor == "factory":
            known = [*droids.FACTORY_TOOLS, *droids.TOOL_CATEGORIES]
        elif flavor == "claude":
            known = [*droids.CLAUDE_CODE_TOOLS, *droids.CLAUDE_CODE_MORE_TOOLS]
        else:
            known = sorted({*droids.FACTORY_TOOLS, *droids.CLAUDE_CODE_TOOLS})
        names = ", ".join(f"`{t}`" for t in dict.fromkeys(known))
        return f"**tools** — {droids.KEY_RULES.get('tools', '')}\n\nKnown here: {names}"
    return None


def _show(ws: Workspace, path: str) -> str:
    rel = ws.relpath(path)
    return rel if rel is not None else path


def requirement_hover(
    server: TaskdroidServer, ctx: DocContext, position: types.Position
) -> types.Hover | None:
    """docs/language.md §13: on a reference, the requirement's (criterion's) text; on a requirement in a
    requirements file, the tasks that reference it."""
    ws = ctx.project.ws
    pos = server.conv.to_core(ctx.lines, position)
    md = server.client.markdown_hover
    req = ws.req_docs.get(ctx.path)
    if req is not None:
        item = req.item_at(pos.line)
        if item is None or item.span.line != pos.line:
            return None
        row = next((r for r in rq.requirement_rows(ws, req) if r.item is item), None)
        if row is None:
            return None
        text = f"**{item.label}** — {rv.lens_title(row)} ({row.state})"
        labels = [rv.task_label(tr) for tr in row.task_refs()]
        if labels:
            text += "\n\n" + ", ".join(f"`{x}`" for x in labels[:_MAX_LIST])
            if len(labels) > _MAX_LIST:
                text += f" and {len(labels) - _MAX_LIST} more"
        return types.Hover(
            contents=markup(text, md), range=server.conv.range(ctx.lines, item.span.range)
        )
    if ctx.task_doc is None:
        return None
    tr = rq.ref_at(ctx.task_doc, pos.line, pos.character)
    if tr is None:
        return None
    sib = rq.sibling_docs(ws, ctx.path).get(tr.ref.flavor)
    if sib is None:
        text = f"`{tr.ref.text}`: no {rq.FILE_NAMES[tr.ref.flavor]} beside this file"
    else:
        items = rq.resolve(sib, tr.ref)
        if not items:
            text = f"`{tr.ref.text}`: not in {rq.FILE_NAMES[tr.ref.flavor]}"
        else:
            text = "\n\n---\n\n".join(rv.item_markdown(sib, it) for it in items[:_MAX_LIST])
            if len(items) > _MAX_LIST:
                text += f"\n\n… and {len(items) - _MAX_LIST} more"
    return types.Hover(contents=markup(text, md), range=server.conv.range(ctx.lines, tr.range))
