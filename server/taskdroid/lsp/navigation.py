"""Go to definition, references, rename and prepareRename (docs/language.md §8).

* definition: droid reference → the droid file (its ``name``); dependency reference → the task;
* references: droid (a reference or the ``name`` in its file) → every task using it; task (its
  ID, title or a reference to it) → every task depending on it;
* rename: a droid name across its front matter and all task files (and the file, when it is
  named after the droid and the client can rename files); a task ID across its dependents.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.exceptions import JsonRpcException

from taskdroid.core.text import Position, Range
from taskdroid.lsp.deferred import query
from taskdroid.lsp.deferred import requirements as rq
from taskdroid.lsp.server import DocContext, TaskdroidServer, safe

if TYPE_CHECKING:
    from taskdroid.core.document import Located, TaskDocument
    from taskdroid.core.droids import DroidDocument
    from taskdroid.core.query import RenamePlan, Token

log = logging.getLogger("taskdroid.lsp.navigation")

REQUEST_FAILED = -32803


class RequestFailed(JsonRpcException):
    CODE = REQUEST_FAILED
    MESSAGE = "Request failed"


def register(server: TaskdroidServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    @safe()
    async def definition(
        ls: TaskdroidServer, params: types.DefinitionParams
    ) -> list[types.Location] | None:
        await ls.wait_ready()
        req = requirement_definition(ls, params.text_document.uri, params.position)
        if req is not None:
            return req or None
        found = _token(ls, params.text_document.uri, params.position)
        if found is None:
            return None
        ctx, tok = found
        loc = _definition(ls, ctx, tok)
        return [loc] if loc is not None else None

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    @safe()
    async def references(
        ls: TaskdroidServer, params: types.ReferenceParams
    ) -> list[types.Location] | None:
        await ls.wait_ready()
        include = bool(params.context and params.context.include_declaration)
        req = requirement_references(ls, params.text_document.uri, params.position, include)
        if req is not None:
            return req
        found = _token(ls, params.text_document.uri, params.position)
        if found is None:
            return None
        ctx, tok = found
        return _references(ls, ctx, tok, include)

    @server.feature(types.TEXT_DOCUMENT_PREPARE_RENAME)
    @safe()
    async def prepare_rename(
        ls: TaskdroidServer, params: types.PrepareRenameParams
    ) -> types.PrepareRenamePlaceholder | None:
        await ls.wait_ready()
        found = _token(ls, params.text_document.uri, params.position)
        if found is None:
            return None
        ctx, tok = found
        target = _rename_target(ls, ctx, tok)
        if target is None:
            return None
        rng, placeholder = target[0], target[1]
        return types.PrepareRenamePlaceholder(
            range=ls.conv.range(ctx.lines, rng), placeholder=placeholder
        )

    @server.feature(types.TEXT_DOCUMENT_RENAME, types.RenameOptions(prepare_provider=True))
    @safe()
    async def rename(ls: TaskdroidServer, params: types.RenameParams) -> types.WorkspaceEdit | None:
        await ls.wait_ready()
        for uri in list(ls.docs):  # every open document as the client sees it
            ls.sync(uri)
        found = _token(ls, params.text_document.uri, params.position)
        if found is None:
            return None
        ctx, tok = found
        target = _rename_target(ls, ctx, tok)
        if target is None:
            raise RequestFailed("nothing to rename here — rename a droid name or a task ID")
        _rng, _placeholder, make_plan = target
        try:
            plan = make_plan(params.new_name.strip())
        except ValueError as e:
            raise RequestFailed(str(e)) from None
        return workspace_edit(ls, ctx, plan)


def _token(
    server: TaskdroidServer, uri: str, position: types.Position
) -> tuple[DocContext, Token] | None:
    ctx = server.context(uri)
    if ctx is None or ctx.kind is None:
        return None
    pos = server.conv.to_core(ctx.lines, position)
    if ctx.task_doc is not None:
        tok = query.task_token_at(ctx.task_doc, pos)
    elif ctx.droid_doc is not None:
        tok = query.droid_token_at(ctx.droid_doc, ctx.lines.lines(), pos)
    else:
        tok = None
    return (ctx, tok) if tok is not None else None


def _location(server: TaskdroidServer, ctx: DocContext, path: str, rng: Range) -> types.Location:
    lines = server.core_lines(ctx.project, path)
    return server.conv.location(server.uri_of(path), lines, rng)


def _droid_decl_range(droid: DroidDocument, server: TaskdroidServer, ctx: DocContext) -> Range:
    if droid.name_range is None:
        return Range(Position(0, 0), Position(0, 0))
    lines = server.core_lines(ctx.project, droid.path).lines()
    return query.unquoted_range(lines, droid.name_range)


def _task_of(ctx: DocContext, tok: Token) -> tuple[TaskDocument, Located] | None:
    """The task a token stands for: the task itself (ID, title) or the target of a reference."""
    if ctx.task_doc is None:
        return None
    if tok.kind in (query.TASK_ID, query.TASK_TITLE) and tok.task is not None:
        return ctx.task_doc, tok.task
    if tok.kind == query.DEP_REF and tok.ref is not None:
        target, _ = ctx.project.ws.resolve_ref(ctx.task_doc, tok.ref)
        return target
    return None


def _droid_of(ctx: DocContext, tok: Token) -> DroidDocument | None:
    if tok.kind == query.DROID_REF:
        return ctx.project.ws.resolve_droid(tok.text)
    if tok.kind == query.FM_NAME:
        return ctx.droid_doc
    return None


def _definition(server: TaskdroidServer, ctx: DocContext, tok: Token) -> types.Location | None:
    if tok.kind == query.DROID_REF:
        droid = ctx.project.ws.resolve_droid(tok.text)
        if droid is None:
            return None
        return _location(server, ctx, droid.path, _droid_decl_range(droid, server, ctx))
    if tok.kind == query.DEP_REF:
        target = _task_of(ctx, tok)
        if target is None:
            if tok.ref is not None and tok.ref.path and tok.ref.task_id is None:
                path = ctx.project.ws.ref_path(ctx.path, tok.ref.path)
                return _location(server, ctx, path, Range(Position(0, 0), Position(0, 0)))
            return None
        tdoc, tloc = target
        return _location(server, ctx, tdoc.path, query.task_id_range(tloc))
    return None


def _references(
    server: TaskdroidServer, ctx: DocContext, tok: Token, include_declaration: bool
) -> list[types.Location] | None:
    ws = ctx.project.ws
    droid = _droid_of(ctx, tok)
    if droid is not None and droid.name:
        out = []
        if include_declaration:
            out.append(_location(server, ctx, droid.path, _droid_decl_range(droid, server, ctx)))
        for use in query.droid_users(ws, droid.name, droid):
            out.append(_location(server, ctx, use.doc.path, use.range))
        return out
    if tok.kind == query.DROID_REF:
        # an unknown droid: every task naming it
        return [
            _location(server, ctx, u.doc.path, u.range) for u in query.droid_users(ws, tok.text)
        ]
    target = _task_of(ctx, tok)
    if target is None:
        return None
    tdoc, tloc = target
    out = []
    if include_declaration:
        out.append(_location(server, ctx, tdoc.path, query.task_id_range(tloc)))
    for hit in query.dependents_of(ws, tdoc, tloc):
        out.append(_location(server, ctx, hit.doc.path, hit.range))
    return out


def _rename_target(server: TaskdroidServer, ctx: DocContext, tok: Token):
    """(range under the cursor, placeholder, plan(new_name)) or None."""
    ws = ctx.project.ws
    droid = _droid_of(ctx, tok)
    if droid is not None and droid.name:
        lines = server.core_lines(ctx.project, droid.path).lines()
        rename_files = server.client.resource_rename

        def droid_plan(new: str) -> RenamePlan:
            return query.rename_droid(ws, droid, new, lines, rename_file=rename_files)

        return tok.range, droid.name, droid_plan
    target = _task_of(ctx, tok)
    if target is None or not target[1].task.id:
        return None
    tdoc, tloc = target
    rng = tok.range
    if tok.kind == query.DEP_REF and tok.ref is not None and tok.ref.task_id:
        rng = Range.of(rng.end.line, rng.end.character - len(tok.ref.task_id), rng.end.character)
    elif tok.kind == query.TASK_TITLE:
        rng = query.task_id_range(tloc)

    def task_plan(new: str) -> RenamePlan:
        return query.rename_task_id(ws, tdoc, tloc, new)

    return rng, tloc.task.id, task_plan


def workspace_edit(
    server: TaskdroidServer, ctx: DocContext, plan: RenamePlan
) -> types.WorkspaceEdit:
    """A rename plan as a WorkspaceEdit: versioned document changes (and file renames) when the
    client supports them, else a plain ``changes`` map."""
    by_uri: dict[str, tuple[str, list[types.TextEdit]]] = {}
    for path, core_edits in plan.edits.items():
        project = server.project_for(path) or ctx.project
        lines = server.core_lines(project, path)
        uri = server.uri_of(path)
        by_uri[uri] = (
            path,
            [server.conv.text_edit(lines, e.range, e.new_text) for e in core_edits],
        )
    if not server.client.document_changes:
        return types.WorkspaceEdit(changes={uri: edits for uri, (_p, edits) in by_uri.items()})
    changes: list[types.TextDocumentEdit | types.RenameFile] = []
    for uri, (path, edits) in by_uri.items():
        doc_uri = server.open_paths.get(path)
        version = server.docs[doc_uri].version if doc_uri in server.docs else None
        changes.append(
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(
                    uri=uri, version=version
                ),
                edits=edits,
            )
        )
    for old, new in plan.file_renames:
        changes.append(
            types.RenameFile(
                old_uri=server.uri_of(old),
                new_uri=server.uri_of(new),
                options=types.RenameFileOptions(overwrite=False, ignore_if_exists=True),
            )
        )
    return types.WorkspaceEdit(document_changes=changes)


# -- requirement references (docs/language.md §13) -------------------------------------------------------------


def _requirement_target(server: TaskdroidServer, uri: str, position: types.Position):
    """``(ctx, requirements document, item)`` for a position on a requirement reference in a
    task file or on a requirement, story, FR or criterion in a requirements file; or None."""
    ctx = server.context(uri)
    if ctx is None:
        return None
    ws = ctx.project.ws
    pos = server.conv.to_core(ctx.lines, position)
    req = ws.req_docs.get(ctx.path)
    if req is not None:
        item = req.item_at(pos.line)
        return (ctx, req, item) if item is not None else None
    if ctx.task_doc is None:
        return None
    tr = rq.ref_at(ctx.task_doc, pos.line, pos.character)
    if tr is None:
        return None
    req = rq.sibling_docs(ws, ctx.path).get(tr.ref.flavor)
    items = rq.resolve(req, tr.ref) if req is not None else None
    return (ctx, req, items[0] if items else None)


def requirement_definition(
    server: TaskdroidServer, uri: str, position: types.Position
) -> list[types.Location] | None:
    """Reference → the requirement (criterion, story, FR). None: not on a reference; an empty
    list: a reference to nothing."""
    found = _requirement_target(server, uri, position)
    if found is None or found[0].task_doc is None:
        return None
    ctx, req, item = found
    if item is None or req is None:
        return []
    return [_location(server, ctx, req.path, item.span.range)]


def requirement_references(
    server: TaskdroidServer, uri: str, position: types.Position, include_declaration: bool
) -> list[types.Location] | None:
    """A requirement (or a reference to it) → every task reference naming it."""
    found = _requirement_target(server, uri, position)
    if found is None:
        return None
    ctx, req, item = found
    if item is None or req is None:
        return []
    out = []
    if include_declaration:
        out.append(_location(server, ctx, req.path, item.span.range))
    for row in rq.requirement_rows(ctx.project.ws, req):
        if row.item is item:
            for tr in row.refs:
                out.append(_location(server, ctx, tr.doc.path, tr.range))
    return out
