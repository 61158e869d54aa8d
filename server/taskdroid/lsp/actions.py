"""Code actions (SPEC §8): a quick fix for every diagnostic with an obvious fix, and set-status /
run-droid actions on any task.

Quick fixes (kind ``quickfix``; the best one of each diagnostic ``isPreferred``):

========  =======================================================================================
TD001     the canonical marker — the likely status first (preferred), the others offered
TD002     add the next free ID of the task's list
TD003     give the task a free ID
TD005     the canonical marker
TD020     the droid it most likely means; create the missing droid (a ``CreateFile`` edit, or the
          ``taskdroid.createDroid`` command when the client cannot create files)
TD021     the marker the emoji says (preferred), or the emoji the marker says / remove the emoji
TD022     add a ``**Completed**`` timestamp
TD023     add an ``**Issue**`` field
TD030     the known priority it most likely means
TD032     remove the entry from Files
TD040     the known field key it most likely means
DR001     add front matter; DR003 add ``name``
DR002     quote the value (the warning case: an unquoted ``: `` inside a one-line value)
DR004     a valid name (invalid ``name``)
DR005     the tool it most likely means; DR008 the key it most likely means
DR006     rename the droid to match the file (and its references), or rename the file
DR012     remove the duplicate tool
========  =======================================================================================

On a task (the innermost task around the start of the range): "Mark as pending / in progress /
completed / blocked" (kind ``refactor.rewrite``, the edit of SPEC §5) and, when it has a droid
and an ID, "Run droid <name> on task <id>" (the ``taskdroid.runTask`` command, kind ``""``).

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
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from taskdroid.core.text import Position, Range
from taskdroid.lsp.server import DocContext, TaskdroidServer, safe

if TYPE_CHECKING:
    from taskdroid.core.diagnostics import Diagnostic
    from taskdroid.core.document import Located, TaskDocument
    from taskdroid.core.edits import TextEdit

log = logging.getLogger("taskdroid.lsp.actions")

QUICKFIX = types.CodeActionKind.QuickFix.value
REWRITE = types.CodeActionKind.RefactorRewrite.value
RUN_KIND = types.CodeActionKind.Empty.value
RUN_TASK = "taskdroid.runTask"

#: the field a "field" action adds → the status the task must have (its status field)
_FIELD_STATUS = {"Completed": "completed", "Issue": "blocked"}
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
            from taskdroid.lsp.diagnostics import settle

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


def _wanted(kind: str, only: list[str]) -> bool:
    for k in only:
        k = getattr(k, "value", k)
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
    from taskdroid.core.edits import EditError
    from taskdroid.lsp.editing import to_workspace_edit

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
                except (EditError, ValueError) as e:
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
    from taskdroid.core.diagnostics import Diagnostic, Severity

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
    """Every action for ``rng`` (code points): quick fixes, then task actions. ``diags`` are the
    document's diagnostics (default: computed by the core)."""
    out: list[Action] = []
    fx = _Fixer(server, ctx)
    if diags is None:
        try:
            diags = ctx.project.ws.diagnostics(ctx.path)
        except Exception:
            log.exception("diagnostics of %s failed", ctx.path)
            diags = []
    for d in diags:
        if not _overlaps(d.range, rng):
            continue
        method = _FIXES.get(d.code)
        if method is None:
            continue
        try:
            out.extend(method(fx, d))
        except Exception:
            log.exception("quick fix for %s failed", d.code)
    if ctx.task_doc is not None:
        out.extend(task_actions(ctx, rng))
    return out


def task_actions(ctx: DocContext, rng: Range) -> list[Action]:
    """Set-status ("Mark as …") and run-droid actions for the task around the start of
    ``rng``."""
    from taskdroid.core.model import Status

    doc = ctx.task_doc
    assert doc is not None
    loc = doc.task_at_line(rng.start.line)
    if loc is None:
        return []
    t = loc.task
    out = []
    for value in _MARKABLE:
        st = Status(value)
        if t.status is st:
            continue
        out.append(
            Action(
                f"Mark as {st.label}",
                REWRITE,
                lazy={"op": "status", "status": value, **_task_key(loc)},
            )
        )
    if t.droid and t.id:
        out.append(
            Action(
                f"Run droid {t.droid} on task {t.id}",
                RUN_KIND,
                command=types.Command(
                    title=f"Run droid {t.droid} on task {t.id}",
                    command=RUN_TASK,
                    arguments=[{"uri": ctx.uri, "taskId": t.id}],
                ),
            )
        )
    return out


def _task_key(loc: Located) -> dict[str, Any]:
    return {"taskId": loc.task.id, "line": loc.line, "title": loc.task.title}


# -- resolving -------------------------------------------------------------------------------------


def lazy_edit(
    server: TaskdroidServer, data: dict[str, Any], ctx: DocContext | None = None
) -> types.WorkspaceEdit:
    """The edit of a deferred action, computed from the document as it is now."""
    from taskdroid.core import query
    from taskdroid.core.edits import EditError, status_edits
    from taskdroid.core.model import Status
    from taskdroid.lsp.editing import to_workspace_edit
    from taskdroid.lsp.navigation import RequestFailed, workspace_edit

    uri = str(data.get("uri", ""))
    if ctx is None:
        ctx = server.context(uri)
    if ctx is None:
        raise RequestFailed(f"{uri} is not available")
    op = data.get("op")
    try:
        if op == "rename-droid":
            if ctx.droid_doc is None:
                raise EditError("this is no longer a droid file")
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
            raise EditError("this is no longer a task file")
        loc = find_task_again(doc, data)
        text = ctx.lines.text
        if op == "status":
            edits = status_edits(text, doc, loc, Status(str(data.get("status"))))
        elif op == "field":
            wanted = _FIELD_STATUS.get(str(data.get("key")))
            if wanted is None or loc.task.status is not Status(wanted):
                raise EditError(f"the task is no longer {Status(wanted).label if wanted else '?'}")
            edits = _field_only(status_edits(text, doc, loc, loc.task.status), loc, ctx)
        else:
            raise EditError(f"unknown action {op!r}")
    except (EditError, ValueError) as e:
        raise RequestFailed(str(e)) from None
    return to_workspace_edit(server, ctx.uri, ctx.lines, _version(server, ctx), edits)


def find_task_again(doc: TaskDocument, data: dict[str, Any]) -> Located:
    """The task an action was listed for, in the current parse: by ID (the one nearest its old
    line when the ID is used twice), else by title near its old line."""
    from taskdroid.core.document import normalize_id
    from taskdroid.core.edits import EditError

    task_id = data.get("taskId")
    line = int(data.get("line") or 0)
    title = data.get("title")
    if task_id:
        want = normalize_id(str(task_id))
        found = [
            loc for loc in doc.located_tasks() if loc.task.id and normalize_id(loc.task.id) == want
        ]
        if not found:
            raise EditError(f"task `{task_id}` is no longer in the file")
    else:
        found = [loc for loc in doc.located_tasks() if not loc.task.id and loc.task.title == title]
        if not found:
            raise EditError(f"the task “{title}” is no longer in the file")
    return min(found, key=lambda loc: abs(loc.line - line))


def _field_only(edits: list[TextEdit], loc: Located, ctx: DocContext) -> list[TextEdit]:
    """Of a status edit that re-applies a task's own status, only the added field (not the marker
    or the trailing emoji, which may have been merged with an insert on the task line)."""
    from taskdroid.core.edits import TextEdit

    tline = loc.line
    end = len(ctx.lines.line(tline))
    out = []
    for e in edits:
        if e.range.start.line != tline and e.range.end.line != tline:
            out.append(e)
            continue
        breaks = [i for i in (e.new_text.find("\n"), e.new_text.find("\r")) if i >= 0]
        if breaks and e.range.end == Position(tline, end):
            out.append(TextEdit(Range.of(tline, end, end), e.new_text[min(breaks) :]))
    return out


# -- quick fixes -----------------------------------------------------------------------------------


class _Fixer:
    def __init__(self, server: TaskdroidServer, ctx: DocContext) -> None:
        self.server = server
        self.ctx = ctx
        self.lines = ctx.lines

    def line(self, n: int) -> str:
        return self.lines.line(n)

    def text(self, rng: Range) -> str:
        if rng.start.line != rng.end.line:
            return ""
        return self.line(rng.start.line)[rng.start.character : rng.end.character]

    def replace(
        self, title: str, d: Diagnostic, rng: Range, new: str, preferred: bool = True
    ) -> Action:
        from taskdroid.core.edits import TextEdit

        return Action(title, QUICKFIX, d, preferred, edits=[TextEdit(rng, new)])

    def remove(self, title: str, d: Diagnostic, rng: Range, preferred: bool = True) -> Action:
        return self.replace(title, d, rng, "", preferred)

    def task_on_line(self, line: int) -> Located | None:
        doc = self.ctx.task_doc
        if doc is None:
            return None
        loc = doc.task_at_line(line)
        return loc if loc is not None and loc.line == line else None

    def unquoted(self, rng: Range) -> Range:
        from taskdroid.core.query import unquoted_range

        if rng.start.line != rng.end.line:
            return rng
        return unquoted_range([self.line(i) for i in range(rng.start.line + 1)], rng)

    def eol(self) -> str:
        from taskdroid.core.text import dominant_eol

        return dominant_eol(self.lines.text) or "\n"

    def whole_line(self, n: int) -> Range:
        """Line ``n`` with its line break (the one before it for the last line)."""
        if n + 1 < len(self.lines):
            return Range(Position(n, 0), Position(n + 1, 0))
        if n > 0:
            return Range(Position(n - 1, len(self.line(n - 1))), Position(n, len(self.line(n))))
        return Range.of(n, 0, len(self.line(n)))

    # -- task files ---------------------------------------------------------------------------------
    def td001(self, d: Diagnostic) -> list[Action]:
        from taskdroid.core.model import CANONICAL_MARKERS

        data = d.data or {}
        by_marker = {m: s for s, m in CANONICAL_MARKERS.items()}
        likely = data.get("likely")
        out = []
        for marker in data.get("suggestions") or []:
            st = by_marker.get(marker)
            if st is None:
                continue
            out.append(
                self.replace(
                    f"Change marker to `{marker}` ({st.label})",
                    d,
                    d.range,
                    marker,
                    preferred=likely is not None and st.value == likely,
                )
            )
        return out

    def td005(self, d: Diagnostic) -> list[Action]:
        rep = (d.data or {}).get("replacement")
        if not rep:
            return []
        return [self.replace(f"Change marker to `{rep}`", d, d.range, rep)]

    def td002(self, d: Diagnostic) -> list[Action]:
        sugg = (d.data or {}).get("suggestion")
        loc = self.task_on_line(d.range.start.line)
        if not sugg or loc is None:
            return []
        t = loc.task
        line = self.line(loc.line)
        at = t.title_span.start
        if t.title_span.end > t.title_span.start:
            new = f"{sugg} "
        else:
            at = len(line.rstrip(" \t"))
            new = f" {sugg}"
        return [self.replace(f"Add ID `{sugg}`", d, Range.of(loc.line, at, at), new)]

    def td003(self, d: Diagnostic) -> list[Action]:
        from taskdroid.core.query import next_task_id

        doc = self.ctx.task_doc
        if doc is None:
            return []
        new = next_task_id(doc, d.range.start.line)
        if not new:
            return []
        return [self.replace(f"Change ID to `{new}`", d, d.range, new)]

    def td020(self, d: Diagnostic) -> list[Action]:
        data = d.data or {}
        out = []
        sugg = data.get("suggestion")
        if sugg:
            out.append(self.replace(f"Change to `{sugg}`", d, d.range, sugg))
        name = data.get("name")
        if name:
            create = self.create_droid(d, str(name))
            if create is not None:
                out.append(create)
        return out

    def create_droid(self, d: Diagnostic, name: str) -> Action | None:
        from pygls.uris import from_fs_path

        from taskdroid.core.query import valid_droid_name
        from taskdroid.lsp.commands import (
            CREATE_DROID,
            create_file_edit,
            default_droid_folder,
            droid_stub,
            leaves_workspace,
        )

        root = self.ctx.project.root
        if root is None or not valid_droid_name(name):
            return None
        folder = default_droid_folder(root)
        if leaves_workspace(folder, [root]):  # e.g. .factory/droids linked elsewhere
            return None
        path = os.path.join(folder, name + ".md")
        if os.path.lexists(path) or path in self.server.open_paths:
            return None
        rel = os.path.relpath(folder, root).replace(os.sep, "/")
        title = f"Create droid `{name}` in {rel}"
        if self.server.client.resource_create and self.server.client.apply_edit:
            uri = from_fs_path(path) or ("file://" + path)
            return Action(title, QUICKFIX, d, edit=create_file_edit(uri, droid_stub(name)))
        return Action(
            title,
            QUICKFIX,
            d,
            command=types.Command(
                title=title, command=CREATE_DROID, arguments=[{"name": name, "folder": folder}]
            ),
        )

    def td021(self, d: Diagnostic) -> list[Action]:
        from taskdroid.core.checks.task_local import _EMOJI_OK
        from taskdroid.core.edits import STATUS_EMOJI_OUT
        from taskdroid.core.model import Status

        data = d.data or {}
        loc = self.task_on_line(d.range.start.line)
        if loc is None or loc.task.status is None:
            return []
        t = loc.task
        token = str(data.get("token", self.text(d.range)))
        try:
            implied = Status(str(data.get("implied")))
        except ValueError:
            return []
        out = []
        marker = t.marker_span
        out.append(
            self.replace(
                f"Change marker to `{implied.marker}` (as `{token}` says)",
                d,
                Range.of(loc.line, marker.start, marker.end),
                implied.marker,
            )
        )
        want = STATUS_EMOJI_OUT.get(t.status)
        others = [tok for tok, span in t.trailing if span.start != d.range.start.character]
        agreeing = [tok for tok in others if t.status in _EMOJI_OK.get(tok, frozenset())]
        if want and not agreeing:
            out.append(
                self.replace(f"Replace `{token}` with `{want}`", d, d.range, want, preferred=False)
            )
        else:
            line = self.line(loc.line)
            start = len(line[: d.range.start.character].rstrip(" \t"))
            out.append(
                self.remove(
                    f"Remove `{token}`",
                    d,
                    Range.of(loc.line, start, d.range.end.character),
                    preferred=False,
                )
            )
        return out

    def td022(self, d: Diagnostic) -> list[Action]:
        loc = self.task_on_line(d.range.start.line)
        if loc is None:
            return []
        return [
            Action(
                "Add a `**Completed**` timestamp",
                QUICKFIX,
                d,
                True,
                lazy={"op": "field", "key": "Completed", **_task_key(loc)},
            )
        ]

    def td023(self, d: Diagnostic) -> list[Action]:
        loc = self.task_on_line(d.range.start.line)
        if loc is None:
            return []
        return [
            Action(
                "Add an `**Issue**` field saying why",
                QUICKFIX,
                d,
                True,
                lazy={"op": "field", "key": "Issue", **_task_key(loc)},
            )
        ]

    def td030(self, d: Diagnostic) -> list[Action]:
        sugg = (d.data or {}).get("suggestion")
        if not sugg:
            return []
        return [self.replace(f"Change priority to `{sugg}`", d, d.range, sugg)]

    def td040(self, d: Diagnostic) -> list[Action]:
        sugg = (d.data or {}).get("suggestion")
        if not sugg:
            return []
        return [self.replace(f"Rename field to `{sugg}`", d, d.range, sugg)]

    def td032(self, d: Diagnostic) -> list[Action]:
        path = (d.data or {}).get("path") or self.text(d.range)
        doc = self.ctx.task_doc
        if doc is None:
            return []
        n = d.range.start.line
        loc = doc.task_at_line(n)
        if loc is None:
            return []
        base = loc.chunk.line
        line = self.line(n)
        title = f"Remove `{path}` from Files"
        for f in loc.task.fields:
            if f.canonical != "Files":
                continue
            if base + f.line == n:
                cols = list_removal(line, d.range.start.character, f.value_span.start, len(line))
                if cols is not None:
                    return [self.remove(title, d, Range.of(n, *cols))]
                if f.has_children:
                    start = len(line[: f.value_span.start].rstrip(" \t"))
                    return [self.remove(title, d, Range.of(n, start, len(line)))]
                return [self.remove(title, d, self.whole_line(n))]
            for _text, span in f.items:
                if base + span.line == n:
                    cols = list_removal(line, d.range.start.character, span.start, len(line))
                    if cols is not None:
                        return [self.remove(title, d, Range.of(n, *cols))]
                    return [self.remove(title, d, self.whole_line(n))]
        return []

    # -- droid files --------------------------------------------------------------------------------
    def dr001(self, d: Diagnostic) -> list[Action]:
        data = d.data or {}
        name = data.get("name")
        if data.get("fix") != "add-front-matter" or not name:
            return []
        eol = self.eol()
        head = eol.join(
            [
                "---",
                f"name: {name}",
                f"description: Describe what {name} does and when to use it.",
                "---",
                "",
                "",
            ]
        )
        return [self.replace("Add front matter", d, Range.of(0, 0, 0), head)]

    def dr002(self, d: Diagnostic) -> list[Action]:
        data = d.data or {}
        if data.get("fix") != "quote" or not data.get("replacement"):
            return []
        rng = d.range
        raw = data.get("range")
        if isinstance(raw, list) and len(raw) == 4:
            rng = Range(Position(raw[0], raw[1]), Position(raw[2], raw[3]))
        return [self.replace("Quote the value", d, rng, str(data["replacement"]))]

    def dr003(self, d: Diagnostic) -> list[Action]:
        data = d.data or {}
        name = data.get("name")
        if data.get("fix") != "add-name" or not name:
            return []
        n = d.range.start.line
        end = len(self.line(n))
        return [
            self.replace(
                f"Add `name: {name}`", d, Range.of(n, end, end), f"{self.eol()}name: {name}"
            )
        ]

    def dr004(self, d: Diagnostic) -> list[Action]:
        sugg = (d.data or {}).get("suggestion")
        if not sugg:
            return []
        return [self.replace(f"Change name to `{sugg}`", d, self.unquoted(d.range), sugg)]

    def dr005(self, d: Diagnostic) -> list[Action]:
        from taskdroid.core.droids import tool_base_name

        sugg = (d.data or {}).get("suggestion")
        if not sugg:
            return []
        rng = self.unquoted(d.range)
        entry = self.text(rng)
        base = tool_base_name(entry)
        if entry and base and entry.startswith(base):
            rng = Range.of(rng.start.line, rng.start.character, rng.start.character + len(base))
        return [self.replace(f"Change to `{sugg}`", d, rng, sugg)]

    def dr006(self, d: Diagnostic) -> list[Action]:
        from taskdroid.core.query import valid_droid_name

        data = d.data or {}
        expected = data.get("expected")
        name = data.get("name")
        droid = self.ctx.droid_doc
        out = []
        if expected and valid_droid_name(expected) and droid is not None:
            out.append(
                Action(
                    f"Rename droid to `{expected}` (the file name)",
                    QUICKFIX,
                    d,
                    True,
                    lazy={"op": "rename-droid", "name": expected},
                )
            )
        if (
            name
            and valid_droid_name(name)
            and droid is not None
            and self.server.client.resource_rename
        ):
            folder, base = os.path.split(self.ctx.path)
            ext = os.path.splitext(base)[1] or ".md"
            target = os.path.join(folder, name + ext)
            if not os.path.exists(target):
                edit = types.WorkspaceEdit(
                    document_changes=[
                        types.RenameFile(
                            old_uri=self.ctx.uri,
                            new_uri=self.server.uri_of(target),
                            options=types.RenameFileOptions(
                                overwrite=False, ignore_if_exists=False
                            ),
                        )
                    ]
                )
                out.append(Action(f"Rename file to `{name}{ext}`", QUICKFIX, d, edit=edit))
        return out

    def dr008(self, d: Diagnostic) -> list[Action]:
        sugg = (d.data or {}).get("suggestion")
        if not sugg:
            return []
        return [self.replace(f"Rename key to `{sugg}`", d, self.unquoted(d.range), sugg)]

    def dr012(self, d: Diagnostic) -> list[Action]:
        if (d.data or {}).get("fix") != "remove-duplicate":
            return []
        rng = d.range
        if rng.start.line != rng.end.line:
            return []
        n = rng.start.line
        line = self.line(n)
        tool = self.text(rng)
        title = f"Remove the duplicate `{tool}`"
        if _BLOCK_ITEM.match(line) and not line[rng.end.character :].strip(" \t\"'"):
            return [self.remove(title, d, self.whole_line(n))]
        s = rng.start.character
        open_at = line.rfind("[", 0, s)
        close_at = line.find("]", rng.end.character)
        if open_at >= 0 and close_at >= 0:
            lo, hi = open_at + 1, close_at
        else:
            colon = line.find(":")
            lo, hi = (colon + 1 if 0 <= colon < s else 0), len(line)
        cols = list_removal(line, s, lo, hi)
        if cols is None:
            return []
        return [self.remove(title, d, Range.of(n, *cols))]


_BLOCK_ITEM = re.compile(r"^[ \t]*-[ \t]+")

_FIXES: dict[str, Callable[[_Fixer, Diagnostic], list[Action]]] = {
    "TD001": _Fixer.td001,
    "TD002": _Fixer.td002,
    "TD003": _Fixer.td003,
    "TD005": _Fixer.td005,
    "TD020": _Fixer.td020,
    "TD021": _Fixer.td021,
    "TD022": _Fixer.td022,
    "TD023": _Fixer.td023,
    "TD030": _Fixer.td030,
    "TD032": _Fixer.td032,
    "TD040": _Fixer.td040,
    "DR001": _Fixer.dr001,
    "DR002": _Fixer.dr002,
    "DR003": _Fixer.dr003,
    "DR004": _Fixer.dr004,
    "DR005": _Fixer.dr005,
    "DR006": _Fixer.dr006,
    "DR008": _Fixer.dr008,
    "DR012": _Fixer.dr012,
}


def list_removal(line: str, at: int, lo: int, hi: int) -> tuple[int, int] | None:
    """The columns to delete to remove the comma-separated entry around column ``at`` of
    ``line[lo:hi]`` with its separator, or None when it is the only entry. Commas inside
    parentheses, brackets and backticks do not separate entries."""
    seps: list[int] = []
    depth = 0
    code = False
    for i in range(lo, min(hi, len(line))):
        ch = line[i]
        if ch == "`":
            code = not code
        elif code:
            continue
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            seps.append(i)
    if not seps:
        return None
    bounds = [lo - 1, *seps, hi]
    k = 0
    while k + 1 < len(bounds) - 1 and at > bounds[k + 1]:
        k += 1
    if k == 0:
        start = lo
        while start < seps[0] and line[start] in " \t":
            start += 1
        end = seps[0] + 1
        while end < hi and line[end] in " \t":
            end += 1
        return start, end
    seg_end = bounds[k + 1]
    if k + 1 == len(bounds) - 1:  # the last entry: up to the end, without trailing blanks
        while seg_end > bounds[k] + 1 and line[seg_end - 1] in " \t":
            seg_end -= 1
    return bounds[k], seg_end
