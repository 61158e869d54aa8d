"""Code actions (docs/language.md §8): a quick fix for every diagnostic with an obvious fix, and set-status /
run-droid actions on any task.

Quick fixes (kind ``quickfix``) come from the core (``core/fixes.py``, the one source shared
with ``taskdroid check --fix``): this module converts them to the client's position encoding. A
fix is ``isPreferred`` exactly when ``check --fix`` applies it (docs/language.md §14; the table is in
core/fixes.py). Two quick fixes change files rather than text and stay here, because they depend
on what the client can do: TD020 *create the missing droid* (a ``CreateFile`` edit, or the
``taskdroid.createDroid`` command when the client cannot create files) and DR006 *rename the file
to the droid's name* (a ``RenameFile`` edit, for clients that rename files). Neither is
preferred; the command line never applies them.

On a task (the innermost task around the start of the range): "Mark as pending / in progress /
completed / blocked" (kind ``refactor.rewrite``, the edit of docs/language.md §5); when it has a
droid and an ID, "Run droid <name> on task <id>" (the ``taskdroid.runTask`` command, kind ``""``)
when the droid is in the index and a runner is configured ("Configure runner…" when none is,
nothing for an unknown droid: :mod:`taskdroid.lsp.runlens`); on a task without a droid, "Assign
droid <name>" quick fixes (:mod:`taskdroid.lsp.droidfit`); and on a task that is not done and has
no ``**Verify**`` field, "Add Verify command" (kind ``refactor.rewrite``: an empty ``**Verify**``
field, two backticks to write the command between, in the task's style; docs/language.md §11).

Quick fixes are computed from the server's own diagnostics of the current text (clients do not
all send diagnostics back with their ``data``), for the diagnostics that overlap the range. Edits
are versioned (``documentChanges``) where the client takes them, so a stale action is rejected.
Actions whose edit costs a parse of the file (status changes, added fields, droid renames) are
listed without an edit and filled in by ``codeAction/resolve`` when the client can resolve
``edit``; the task is then found again (by ID) in the document as it is at that moment.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import from_fs_path

from taskdroid.core.diagnostics import Diagnostic, Severity
from taskdroid.core.text import Range
from taskdroid.lsp import droidfit, runlens
from taskdroid.lsp.commands import (
    CREATE_DROID,
    create_file_edit,
    default_droid_folder,
    droid_stub,
    leaves_workspace,
)
from taskdroid.lsp.deferred import edits as core_edits
from taskdroid.lsp.deferred import fixes, model, query
from taskdroid.lsp.diagnostics import settle
from taskdroid.lsp.editing import to_workspace_edit
from taskdroid.lsp.navigation import RequestFailed, workspace_edit
from taskdroid.lsp.server import DocContext, TaskdroidServer, safe

if TYPE_CHECKING:
    from taskdroid.core.edits import TextEdit
    from taskdroid.core.fixes import Fix

log = logging.getLogger("taskdroid.lsp.actions")

QUICKFIX = types.CodeActionKind.QuickFix.value
REWRITE = types.CodeActionKind.RefactorRewrite.value
RUN_KIND = types.CodeActionKind.Empty.value
RUN_TASK = "taskdroid.runTask"

#: the statuses offered on a task ("Mark as …")
_MARKABLE = ("pending", "in_progress", "completed", "blocked")


@dataclass(slots=True)
class Action:
    title: str
    kind: str
    diag: Diagnostic | None = None
    preferred: bool = False
    #: core edits in this document (cheap: sent with the action)
    edits: list[TextEdit] | None = None
    #: an edit computed when resolved (or right away for clients that cannot resolve)
    lazy: dict[str, Any] | None = None
    #: a prebuilt edit (resource operations)
    edit: types.WorkspaceEdit | None = None
    command: types.Command | None = None


def register(server: TaskdroidServer) -> None:
    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[
                types.CodeActionKind.QuickFix,
                types.CodeActionKind.RefactorRewrite,
                types.CodeActionKind.Empty,
            ],
            resolve_provider=True,
        ),
    )
    @safe()
    async def code_action(
        ls: TaskdroidServer, params: types.CodeActionParams
    ) -> list[types.CodeAction | types.Command] | None:
        await ls.wait_ready()
        uri = params.text_document.uri
        if uri in ls.docs:
            await settle(ls, uri)  # the diagnostics of the current version, cached
        ctx = ls.context(uri)
        if ctx is None or ctx.kind is None:
            return None
        rng = ls.conv.to_core_range(ctx.lines, params.range)
        originals: dict[int, types.Diagnostic] = {}
        actions = collect(ls, ctx, rng, cached_diagnostics(ls, ctx, params.range, originals))
        only = params.context.only if params.context else None
        if only:
            actions = [a for a in actions if _wanted(a.kind, only)]
        client_diags = list(params.context.diagnostics or []) if params.context else []
        return to_lsp(ls, ctx, actions, client_diags, originals)

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def code_action_resolve(
        ls: TaskdroidServer, params: types.CodeAction
    ) -> types.CodeAction:
        data = params.data
        if params.edit is not None or not isinstance(data, dict) or "op" not in data:
            return params
        await ls.wait_ready()
        params.edit = lazy_edit(ls, data)
        return params


def _wanted(kind: str, only: Sequence[types.CodeActionKind | str]) -> bool:
    for wanted in only:
        k = str(getattr(wanted, "value", wanted))
        if kind == k or (k and kind.startswith(k + ".")):
            return True
    return False


def _overlaps(a: Range, b: Range) -> bool:
    return a.start <= b.end and b.start <= a.end


# -- to LSP ----------------------------------------------------------------------------------------


def to_lsp(
    server: TaskdroidServer,
    ctx: DocContext,
    actions: list[Action],
    client_diags: list[types.Diagnostic],
    originals: dict[int, types.Diagnostic] | None = None,
) -> list[types.CodeAction | types.Command]:
    if not server.client.code_action_literals:
        return [a.command for a in actions if a.command is not None]
    resolve = server.client.resolve_edit
    version = _version(server, ctx)
    out: list[types.CodeAction | types.Command] = []
    converted: dict[int, types.Diagnostic] = {}
    for a in actions:
        ca = types.CodeAction(title=a.title, kind=a.kind)
        if a.diag is not None:
            key = id(a.diag)
            if key not in converted:
                converted[key] = _client_diag(
                    server, ctx, a.diag, client_diags, (originals or {}).get(key)
                )
            ca.diagnostics = [converted[key]]
        if a.preferred:
            ca.is_preferred = True
        if a.edits is not None:
            ca.edit = to_workspace_edit(server, ctx.uri, ctx.lines, version, a.edits)
        elif a.edit is not None:
            ca.edit = a.edit
        elif a.lazy is not None:
            data = {"uri": ctx.uri, **a.lazy}
            if resolve:
                ca.data = data
            else:
                try:
                    ca.edit = lazy_edit(server, data, ctx)
                except (core_edits.EditError, ValueError) as e:
                    log.info("no edit for %r: %s", a.title, e)
                    continue
                except Exception:
                    log.exception("no edit for %r", a.title)
                    continue
        if a.command is not None:
            ca.command = a.command
        out.append(ca)
    return out


def _version(server: TaskdroidServer, ctx: DocContext) -> int | None:
    doc = server.docs.get(ctx.uri)
    return doc.version if doc is not None else None


def _client_diag(
    server: TaskdroidServer,
    ctx: DocContext,
    d: Diagnostic,
    client_diags: list[types.Diagnostic],
    original: types.Diagnostic | None = None,
) -> types.Diagnostic:
    """The client's own copy of a diagnostic when it sent one, else ours (as published)."""
    mine = original or server.conv.diagnostic(d, ctx.lines, ctx.uri, server.other_file)
    for c in client_diags:
        if str(c.code) == d.code and c.range == mine.range:
            return c
    return mine


# -- collecting ------------------------------------------------------------------------------------


def cached_diagnostics(
    server: TaskdroidServer,
    ctx: DocContext,
    rng: types.Range,
    originals: dict[int, types.Diagnostic],
) -> list[Diagnostic] | None:
    """The diagnostics overlapping ``rng`` (client units) from the cache of the document's
    current version (what was published or pulled), back in code points; None when the cache
    is not current. ``originals`` receives the cached LSP diagnostic of each (by ``id``)."""
    entry = server.diag.entries.get(ctx.path)
    doc = server.docs.get(ctx.uri)
    if entry is None or doc is None or entry.uri != ctx.uri or entry.version != doc.version:
        return None
    if doc.synced != doc.version:
        return None
    out = []
    for item in entry.items:
        r = item.range
        if not (_before(r.start, rng.end) and _before(rng.start, r.end)):
            continue
        d = Diagnostic(
            code=str(item.code),
            range=server.conv.to_core_range(ctx.lines, r),
            message=item.message,
            severity=Severity(int(item.severity or 1)),
            data=item.data if isinstance(item.data, dict) else None,
        )
        originals[id(d)] = item
        out.append(d)
    return out


def _before(a: types.Position, b: types.Position) -> bool:
    """a <= b"""
    return (a.line, a.character) <= (b.line, b.character)


def collect(
    server: TaskdroidServer,
    ctx: DocContext,
    rng: Range,
    diags: list[Diagnostic] | None = None,
) -> list[Action]:
    """Every action for ``rng`` (code points): quick fixes (core/fixes.py, plus the file
    operations only the server can offer), then task actions. ``diags`` are the document's
    diagnostics (default: computed by the core)."""
    out: list[Action] = []
    if diags is None:
        try:
            diags = ctx.project.ws.diagnostics(ctx.path)
        except Exception:
            log.exception("diagnostics of %s failed", ctx.path)
            diags = []
    fx = fixes.Fixer(
        ctx.lines.text, task_doc=ctx.task_doc, droid_doc=ctx.droid_doc, lines=ctx.lines
    )
    for d in diags:
        if not _overlaps(d.range, rng):
            continue
        try:
            out.extend(_action(f) for f in fx.fixes_for(d))
            extra = _FILE_FIXES.get(d.code)
            if extra is not None:
                out.extend(extra(server, ctx, d))
        except Exception:
            log.exception("quick fix for %s failed", d.code)
    if ctx.task_doc is not None:
        loc = ctx.task_doc.task_at_line(rng.start.line)
        for title, lazy in droidfit.assign_actions(ctx.project.ws, loc):
            out.append(Action(title, QUICKFIX, lazy=lazy))
        out.extend(task_actions(ctx, rng))
    return out


def _action(f: Fix) -> Action:
    """A core fix as an action: its edits, or the deferred edit to compute when resolved."""
    if f.deferred is not None:
        return Action(f.title, QUICKFIX, f.diagnostic, f.preferred, lazy=dict(f.deferred))
    return Action(f.title, QUICKFIX, f.diagnostic, f.preferred, edits=list(f.edits))


def task_actions(ctx: DocContext, rng: Range) -> list[Action]:
    """Set-status ("Mark as …") and run-droid actions for the task around the start of
    ``rng``."""
    doc = ctx.task_doc
    assert doc is not None
    loc = doc.task_at_line(rng.start.line)
    if loc is None:
        return []
    t = loc.task
    key = fixes.task_key(loc)
    out = []
    for value in _MARKABLE:
        st = model.Status(value)
        if t.status is st:
            continue
        out.append(
            Action(
                f"Mark as {st.label}",
                REWRITE,
                lazy={"op": "status", "status": value, **key},
            )
        )
    if t.droid and t.id and ctx.project.ws.resolve_droid(t.droid) is not None:
        # an unknown droid (TD020) gets its quick fixes, not a run that must fail
        if ctx.project.ws.settings.runner.command:
            title, command, args = (
                f"Run droid {t.droid} on task {t.id}",
                RUN_TASK,
                [{"uri": ctx.uri, "taskId": t.id}],
            )
        else:
            title, command, args = (
                runlens.CONFIGURE_TITLE,
                runlens.CONFIGURE_RUNNER,
                [{"uri": ctx.uri}],
            )
        out.append(
            Action(
                title, RUN_KIND, command=types.Command(title=title, command=command, arguments=args)
            )
        )
    done = t.status in (model.Status.COMPLETED, model.Status.CANCELLED)
    if not done and not t.fields_named("Verify"):  # docs/language.md §11
        out.append(
            Action("Add Verify command", REWRITE, lazy={"op": "field", "key": "Verify", **key})
        )
    return out


# -- resolving -------------------------------------------------------------------------------------


def lazy_edit(
    server: TaskdroidServer, data: dict[str, Any], ctx: DocContext | None = None
) -> types.WorkspaceEdit:
    """The edit of a deferred action, computed from the document as it is now."""
    uri = str(data.get("uri", ""))
    if ctx is None:
        ctx = server.context(uri)
    if ctx is None:
        raise RequestFailed(f"{uri} is not available")
    op = data.get("op")
    try:
        if op == "rename-droid":
            if ctx.droid_doc is None:
                raise core_edits.EditError("this is no longer a droid file")
            plan = query.rename_droid(
                ctx.project.ws,
                ctx.droid_doc,
                str(data.get("name")),
                ctx.lines.lines(),
                rename_file=False,
            )
            return workspace_edit(server, ctx, plan)
        doc = ctx.task_doc
        if doc is None:
            raise core_edits.EditError("this is no longer a task file")
        text = ctx.lines.text
        if op == "status":
            loc = fixes.find_task_again(doc, data)
            edits = core_edits.status_edits(text, doc, loc, model.Status(str(data.get("status"))))
        elif op == "field":
            edits = fixes.deferred_edits(text, doc, data)
        elif op == droidfit.ASSIGN_OP:
            edits = droidfit.assign_edits(text, doc, data)
        else:
            raise core_edits.EditError(f"unknown action {op!r}")
    except (core_edits.EditError, ValueError) as e:
        raise RequestFailed(str(e)) from None
    return to_workspace_edit(server, ctx.uri, ctx.lines, _version(server, ctx), edits)


# -- quick fixes that create or rename files (server only) -----------------------------------------


def _create_droid(server: TaskdroidServer, ctx: DocContext, d: Diagnostic) -> list[Action]:
    """TD020: create the missing droid — a ``CreateFile`` edit, or the ``taskdroid.createDroid``
    command when the client cannot create files."""
    name = (d.data or {}).get("name")
    root = ctx.project.root
    if not name or root is None or not query.valid_droid_name(str(name)):
        return []
    name = str(name)
    folder = default_droid_folder(root)
    if leaves_workspace(folder, [root]):  # e.g. .factory/droids linked elsewhere
        return []
    path = os.path.join(folder, name + ".md")
    if os.path.lexists(path) or path in server.open_paths:
        return []
    rel = os.path.relpath(folder, root).replace(os.sep, "/")
    title = f"Create droid `{name}` in {rel}"
    if server.client.resource_create and server.client.apply_edit:
        uri = from_fs_path(path) or ("file://" + path)
        return [Action(title, QUICKFIX, d, edit=create_file_edit(uri, droid_stub(name)))]
    command = types.Command(
        title=title, command=CREATE_DROID, arguments=[{"name": name, "folder": folder}]
    )
    return [Action(title, QUICKFIX, d, command=command)]


def _rename_droid_file(server: TaskdroidServer, ctx: DocContext, d: Diagnostic) -> list[Action]:
    """DR006: the file takes the droid's name (clients that can rename files)."""
    name = (d.data or {}).get("name")
    if not name or not query.valid_droid_name(name) or ctx.droid_doc is None:
        return []
    if not server.client.resource_rename:
        return []
    folder, base = os.path.split(ctx.path)
    ext = os.path.splitext(base)[1] or ".md"
    target = os.path.join(folder, name + ext)
    if os.path.exists(target):
        return []
    edit = types.WorkspaceEdit(
        document_changes=[
            types.RenameFile(
                old_uri=ctx.uri,
                new_uri=server.uri_of(target),
                options=types.RenameFileOptions(overwrite=False, ignore_if_exists=False),
            )
        ]
    )
    return [Action(f"Rename file to `{name}{ext}`", QUICKFIX, d, edit=edit)]


_FILE_FIXES: dict[str, Callable[[TaskdroidServer, DocContext, Diagnostic], list[Action]]] = {
    "TD020": _create_droid,
    "DR006": _rename_droid_file,
}
