"""Inlay hints (docs/language.md §8): the status of each dependency reference's target, after the reference
(``1.2`` *completed*). References that do not resolve get no hint (TD010 reports them)."""

from __future__ import annotations

from lsprotocol import types

from taskdroid.core.inline import plain_title
from taskdroid.core.text import Position
from taskdroid.lsp.server import DocContext, TaskdroidServer, safe


def register(server: TaskdroidServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_INLAY_HINT)
    @safe()
    async def inlay_hint(
        ls: TaskdroidServer, params: types.InlayHintParams
    ) -> list[types.InlayHint] | None:
        await ls.wait_ready()
        ctx = ls.context(params.text_document.uri)
        if ctx is None or ctx.task_doc is None:
            return None
        start = ls.conv.to_core(ctx.lines, params.range.start)
        end = ls.conv.to_core(ctx.lines, params.range.end)
        return inlay_hints(ls, ctx, start, end)


def inlay_hints(
    server: TaskdroidServer, ctx: DocContext, start: Position, end: Position
) -> list[types.InlayHint]:
    doc = ctx.task_doc
    assert doc is not None
    ws = ctx.project.ws
    out: list[types.InlayHint] = []
    for chunk in doc.chunks:
        if chunk.line > end.line or chunk.line + chunk.breaks < start.line:
            continue
        for t in chunk.parse.tasks:
            for ref in t.refs:
                line = chunk.line + ref.span.line
                if line < start.line or line > end.line:
                    continue
                target, _problem = ws.resolve_ref(doc, ref)
                if target is None:
                    continue
                tt = target[1].task
                status = tt.status.label if tt.status else "unknown status"
                title = plain_title(f"{tt.id} {tt.title}".strip() if tt.id else tt.title)
                out.append(
                    types.InlayHint(
                        position=server.conv.position(ctx.lines, Position(line, ref.span.end)),
                        label=status,
                        padding_left=True,
                        tooltip=f"{title} — {status}",
                    )
                )
    return out
