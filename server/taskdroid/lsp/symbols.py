"""Document symbols, workspace symbols and folding ranges (docs/language.md §8).

* document symbols: headings (nested by level, ``done/total`` in ``detail``) holding their tasks
  (subtasks nested, status in ``detail``); in droid files the droid with its front matter keys.
  Flat ``SymbolInformation`` for clients without hierarchical support;
* workspace symbols: every task (``1.2 Title``) and droid, matched by a fuzzy subsequence;
* folding ranges: sections, tasks with fields or subtasks, front matter.
"""

from __future__ import annotations

import os

from lsprotocol import types

from taskdroid.core.inline import plain_title
from taskdroid.core.text import Position, Range
from taskdroid.lsp.convert import ChunkLines, ChunkPieces, RawJSON
from taskdroid.lsp.deferred import query
from taskdroid.lsp.deferred import requirements as rq
from taskdroid.lsp.server import DocContext, Project, TaskdroidServer, safe

_MAX_WORKSPACE_SYMBOLS = 1000
_SECTION_KIND = types.SymbolKind.Namespace
_TASK_KIND = types.SymbolKind.Event
_DROID_KIND = types.SymbolKind.Class
_KEY_KIND = types.SymbolKind.Property


class SymbolsFeature:
    """Per-server caches: per-chunk pieces of the current version of each document (see
    ChunkPieces) and the structure of the last few task file versions."""

    def __init__(self) -> None:
        self.pieces = ChunkPieces()
        self.docs: list[tuple[object, str, tuple[list[dict], list[tuple[int, int, str]]]]] = []


def register(server: TaskdroidServer) -> None:
    server.add_feature(SymbolsFeature())

    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    @safe()
    async def document_symbol(
        ls: TaskdroidServer, params: types.DocumentSymbolParams
    ) -> list[dict] | None:
        await ls.wait_ready()
        ctx = ls.context(params.text_document.uri)
        if ctx is not None and ctx.path in ctx.project.ws.req_docs:
            symbols = requirement_symbols(ls, ctx)
        elif ctx is None or ctx.kind is None:
            return None
        else:
            symbols = document_symbols(ls, ctx)
        if ls.client.hierarchical_symbols:
            return RawJSON(symbols)  # type: ignore[return-value]
        return RawJSON(_flatten(ctx.uri, symbols, None))  # type: ignore[return-value]

    @server.feature(types.WORKSPACE_SYMBOL)
    @safe()
    async def workspace_symbol(
        ls: TaskdroidServer, params: types.WorkspaceSymbolParams
    ) -> list[types.SymbolInformation] | None:
        await ls.wait_ready()
        for uri in list(ls.docs):
            ls.sync(uri)
        return workspace_symbols(ls, params.query or "")

    @server.feature(types.TEXT_DOCUMENT_FOLDING_RANGE)
    @safe()
    async def folding_range(
        ls: TaskdroidServer, params: types.FoldingRangeParams
    ) -> list[dict] | None:
        await ls.wait_ready()
        ctx = ls.context(params.text_document.uri)
        if ctx is None or ctx.kind is None:
            return None
        return RawJSON(folding_ranges(ls, ctx))  # type: ignore[return-value]


# -- document symbols ------------------------------------------------------------------------------
#
# Large task files get symbols and folding ranges after every edit. Both are assembled from
# per-chunk pieces cached by (chunk parse, chunk line, encoding): typing inside a line re-converts
# only the chunk it touched, and the result is plain JSON (no protocol objects to build and
# unstructure for ten thousand tasks).



def _chunk_pieces(server: TaskdroidServer, chunk) -> tuple[list[tuple[int, dict, int, int]], list]:
    """The chunk's task trees as symbol JSON with (line, symbol, done, total), and the folding
    spans of its tasks."""
    lines = ChunkLines(chunk)
    conv = server.conv
    folds: list[tuple[int, int, str]] = []

    def build(node) -> dict:
        s, e = node.range.start.line, node.range.end.line
        if e > s:
            folds.append((s, e, "region"))
        d = {
            "name": node.name,
            "detail": node.detail,
            "kind": int(_TASK_KIND),
            "range": conv.range_json(lines, node.range),  # type: ignore[arg-type]
            "selectionRange": conv.range_json(lines, node.selection),  # type: ignore[arg-type]
        }
        if node.children:
            d["children"] = [build(c) for c in node.children]
        return d

    entries = []
    for tree in query.chunk_task_trees(chunk):
        done, total = query.task_counts(tree)
        entries.append((tree.range.start.line, build(tree), done, total))
    return entries, folds


def _task_file_structure(
    server: TaskdroidServer, ctx: DocContext
) -> tuple[list[dict], list[tuple[int, int, str]]]:
    """(document symbols, folding spans) of a task file, cached per document version."""
    doc = ctx.task_doc
    assert doc is not None
    enc = server.conv.encoding
    feature = server.get_feature(SymbolsFeature) or SymbolsFeature()
    for cached, cenc, result in feature.docs:
        if cached is doc and cenc == enc:
            return result
    conv = server.conv
    lines = ctx.lines
    roots: list[dict] = []
    folds: list[tuple[int, int, str]] = []
    #: open headings: [level, symbol, done, total, start line]
    stack: list[list] = []

    def close(end_line: int) -> None:
        _level, sym, done, total, start = stack.pop()
        end = max(end_line, start)
        while end > start and not lines.line(end).strip():
            end -= 1
        sym["range"] = conv.range_json(
            lines, Range(Position(start, 0), Position(end, len(lines.line(end))))
        )
        if total:
            sym["detail"] = f"{done}/{total} done"
        if end > start:
            folds.append((start, end, "region"))
        if stack:
            stack[-1][2] += done
            stack[-1][3] += total

    pieces = feature.pieces.get(
        ctx.path, doc.chunks, (enc,), lambda chunk: _chunk_pieces(server, chunk)
    )
    for c, (entries, task_folds) in zip(doc.chunks, pieces, strict=True):
        folds.extend(task_folds)
        heads = query.chunk_headings(c)
        events = sorted(
            [(h.range.start.line, 0, h) for h in heads] + [(e[0], 1, e) for e in entries],
            key=lambda ev: (ev[0], ev[1]),
        )
        for line, kind, obj in events:
            if kind == 0:
                while stack and stack[-1][0] >= obj.level:
                    close(line - 1)
                sym = {
                    "name": obj.name,
                    "kind": int(_SECTION_KIND),
                    "selectionRange": conv.range_json(lines, obj.selection),
                    "children": [],
                }
                (stack[-1][1]["children"] if stack else roots).append(sym)
                stack.append([obj.level, sym, 0, 0, line])
            else:
                _line, sym, done, total = obj
                if stack:
                    stack[-1][1]["children"].append(sym)
                    stack[-1][2] += done
                    stack[-1][3] += total
                else:
                    roots.append(sym)
    last = max(len(lines) - 1, 0)
    while stack:
        close(last)
    first = doc.chunks[0] if doc.chunks else None
    if first is not None and first.parse.front_matter is not None:
        fs, fe = first.parse.front_matter
        if fe > fs:
            folds.append((fs, fe, "comment"))
    folds.sort()
    result = (roots, folds)
    feature.docs.insert(0, (doc, enc, result))
    del feature.docs[4:]
    return result


def document_symbols(server: TaskdroidServer, ctx: DocContext) -> list[dict]:
    """DocumentSymbol JSON: task files from the cached structure, droid files directly."""
    if ctx.task_doc is not None:
        return _task_file_structure(server, ctx)[0]
    droid = ctx.droid_doc
    if droid is None or droid.front_matter_range is None:
        return []
    conv = server.conv
    lines = ctx.lines
    children = [
        {
            "name": key,
            "kind": int(_KEY_KIND),
            "range": conv.range_json(lines, _key_block(droid, key, rng)),
            "selectionRange": conv.range_json(lines, rng),
        }
        for key, rng in droid.key_ranges.items()
    ]
    name = droid.name or os.path.splitext(os.path.basename(droid.path))[0]
    desc = (droid.description or "").strip()
    fm = droid.front_matter_range
    sel = droid.name_range or droid.key_ranges.get("name") or fm
    sym: dict = {
        "name": name,
        "kind": int(_DROID_KIND),
        "range": conv.range_json(lines, fm),
        "selectionRange": conv.range_json(lines, sel),
    }
    if desc:
        sym["detail"] = (desc[:60] + "…") if len(desc) > 60 else desc
    if children:
        sym["children"] = children
    return [sym]


def _key_block(droid, key, key_range):
    value = droid.value_ranges.get(key)
    if value is None or value.end < key_range.end:
        return key_range
    return Range(key_range.start, value.end)


def _flatten(uri: str, symbols: list[dict], container: str | None) -> list[dict]:
    """SymbolInformation JSON for clients without hierarchical document symbols."""
    out: list[dict] = []
    for s in symbols:
        info = {
            "name": s["name"],
            "kind": s["kind"],
            "location": {"uri": uri, "range": s["selectionRange"]},
        }
        if container is not None:
            info["containerName"] = container
        out.append(info)
        if s.get("children"):
            out.extend(_flatten(uri, s["children"], s["name"]))
    return out


# -- workspace symbols -----------------------------------------------------------------------------


def fuzzy_match(query: str, text: str) -> bool:
    """Case-insensitive subsequence match (``"tref"`` matches ``"token refresh"``)."""
    if not query:
        return True
    t = text.lower()
    i = 0
    for ch in query.lower():
        if ch == " ":
            continue
        i = t.find(ch, i)
        if i < 0:
            return False
        i += 1
    return True


def workspace_symbols(server: TaskdroidServer, query_text: str) -> list[types.SymbolInformation]:
    out: list[types.SymbolInformation] = []
    for project in server.all_projects():
        ws = project.ws
        for path, doc in ws.task_docs.items():
            container = _rel(project, path)
            lines = None
            for loc in doc.located_tasks():
                t = loc.task
                label = plain_title(t.label) if t.label else f"[{t.marker_text}]"
                if not fuzzy_match(query_text, label):
                    continue
                if lines is None:
                    lines = server.core_lines(project, path)
                out.append(
                    types.SymbolInformation(
                        name=label,
                        kind=_TASK_KIND,
                        location=server.conv.location(
                            server.uri_of(path), lines, query.task_id_range(loc)
                        ),
                        container_name=container,
                    )
                )
                if len(out) >= _MAX_WORKSPACE_SYMBOLS:
                    return out
        for path, droid in ws.droid_docs.items():
            if not droid.name or not fuzzy_match(query_text, droid.name):
                continue
            lines = server.core_lines(project, path)
            rng = droid.name_range or droid.front_matter_range
            if rng is None:
                continue
            out.append(
                types.SymbolInformation(
                    name=droid.name,
                    kind=_DROID_KIND,
                    location=server.conv.location(server.uri_of(path), lines, rng),
                    container_name=_rel(project, path),
                )
            )
            if len(out) >= _MAX_WORKSPACE_SYMBOLS:
                return out
    return out


def _rel(project: Project, path: str) -> str:
    rel = project.ws.relpath(path)
    return rel if rel is not None else os.path.basename(path)


# -- folding ---------------------------------------------------------------------------------------


def folding_ranges(server: TaskdroidServer, ctx: DocContext) -> list[dict]:
    spans: list[tuple[int, int, str]] = []
    if ctx.task_doc is not None:
        spans = _task_file_structure(server, ctx)[1]
    elif ctx.droid_doc is not None and ctx.droid_doc.front_matter_range is not None:
        fm = ctx.droid_doc.front_matter_range
        if fm.end.line > fm.start.line:
            spans = [(fm.start.line, fm.end.line, "comment")]
    limit = server.client.folding_range_limit
    if limit:
        spans = spans[:limit]
    return [{"startLine": s, "endLine": e, "kind": k} for s, e, k in spans]


def requirement_symbols(server: TaskdroidServer, ctx: DocContext) -> list[dict]:
    """docs/language.md §13: a requirements file's requirements (criteria nested), user stories and FRs."""
    req = ctx.project.ws.req_docs[ctx.path]
    conv = server.conv
    lines = ctx.lines

    def block(line: int, end: int) -> Range:
        end = max(end, line)
        return Range(Position(line, 0), Position(end, len(lines.line(end))))

    out = []
    for r in req.requirements:
        sym: dict = {
            "name": r.label + (f": {r.title}" if r.title and r.kind != rq.FR else ""),
            "detail": r.title if r.kind == rq.FR else "",
            "kind": int(types.SymbolKind.Interface if r.kind == rq.FR else _SECTION_KIND),
            "range": conv.range_json(lines, block(r.line, r.end_line)),
            "selectionRange": conv.range_json(lines, r.span.range),
        }
        if r.criteria:
            sym["children"] = [
                {
                    "name": c.id,
                    "detail": c.text[:120],
                    "kind": int(types.SymbolKind.Field),
                    "range": conv.range_json(lines, block(c.line, c.end_line)),
                    "selectionRange": conv.range_json(lines, c.span.range),
                }
                for c in r.criteria
            ]
        out.append(sym)
    return out
