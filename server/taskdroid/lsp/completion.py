"""Completion (docs/language.md §8).

Task files: markers after ``- [``, the next free task ID after a marker, field keys on a nested
bullet, droid names after ``**Droid**:`` (those that fit the task best first), task IDs in
Dependencies (``file.md#`` for another file) and in a ``(depends on …)`` group, effort levels
after ``**Effort**:`` and the models the droids name after ``**Model**:`` (docs/language.md §11).
Droid files: front matter keys, tool names, and the values of ``model``, ``location``,
``reasoningEffort`` and a few other keys.

Trigger characters: ``[`` (markers), ``:`` and space (after a field key or a marker), ``,`` (the
next dependency or tool), ``#`` (a task of another file) and ``*`` (a field key).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from taskdroid.core.inline import plain_title
from taskdroid.core.text import Range
from taskdroid.lsp import droidfit
from taskdroid.lsp.convert import markup, plain_text
from taskdroid.lsp.deferred import droids, model, query, runfields
from taskdroid.lsp.deferred import requirement_views as rv
from taskdroid.lsp.deferred import requirements as rq
from taskdroid.lsp.server import DocContext, TaskdroidServer, safe

if TYPE_CHECKING:
    from taskdroid.core.query import CompletionContext
    from taskdroid.core.runfields import ValueContext

TRIGGER_CHARACTERS = ["[", ":", " ", ",", "#", "*"]

#: what a few enumerated values mean (the values themselves come from core/droids.py, the same
#: constants the checker validates with)
_VALUE_NOTES: dict[tuple[str, str], str] = {
    ("location", "project"): "lives in the repository",
    ("location", "personal"): "lives in your home folder",
    ("isolation", "worktree"): "run in a temporary git worktree",
    ("model", "inherit"): "the model of the session that invokes the droid",
    ("model", "sonnet"): "Claude Sonnet (alias)",
    ("model", "opus"): "Claude Opus (alias)",
    ("model", "haiku"): "Claude Haiku (alias)",
    ("permissionMode", "bypassPermissions"): "skip permission prompts",
    ("permissionMode", "plan"): "read-only planning",
    ("effort", "max"): "or an integer",
}


def fm_value_choices(key: str, flavor: str | None) -> list[tuple[str, str]]:
    """The values completion offers for ``key`` (docs/language.md §B), with a short note each."""
    values = droids.ENUMERATED_VALUES.get(key, ())
    if key == "model" and flavor == "factory":
        values = values[:1]  # Factory model ids are not Claude aliases
    return [(v, _VALUE_NOTES.get((key, v), "")) for v in values]


def register(server: TaskdroidServer) -> None:
    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=TRIGGER_CHARACTERS, resolve_provider=False),
    )
    @safe()
    async def completion(
        ls: TaskdroidServer, params: types.CompletionParams
    ) -> types.CompletionList | None:
        await ls.wait_ready()
        ctx = ls.context(params.text_document.uri)
        if ctx is None or ctx.kind is None:
            return None
        pos = ls.conv.to_core(ctx.lines, params.position)
        items = requirement_completion(ls, ctx, pos)
        if items is None:
            items = complete(ls, ctx, pos)
        if items is None:
            return None
        return types.CompletionList(is_incomplete=False, items=items)


def complete(server: TaskdroidServer, ctx: DocContext, pos) -> list[types.CompletionItem] | None:
    if ctx.task_doc is not None:
        line = ctx.lines.line(pos.line)
        vc = runfields.value_context(line, pos.character)
        if vc is not None:
            return run_field_values(server, ctx, pos.line, vc)
        cc = query.task_completion_context(ctx.task_doc, line, pos)
    elif ctx.droid_doc is not None:
        cc = query.droid_completion_context(ctx.droid_doc, ctx.lines.lines(), pos)
    else:
        return None
    if cc is None:
        return None
    return _Builder(server, ctx, cc).build()


def run_field_values(
    server: TaskdroidServer, ctx: DocContext, line: int, vc: ValueContext
) -> list[types.CompletionItem]:
    """Values after ``**Effort**:`` (the effort levels) and ``**Model**:`` (the models the
    workspace's droids name, ``inherit`` left out)."""
    rng = server.conv.range(ctx.lines, Range.of(line, vc.start, vc.end))
    choices: list[tuple[str, str]]
    if vc.key == runfields.EFFORT:
        choices = [(e, "effort level") for e in runfields.EFFORT_VALUES]
    else:
        users: dict[str, list[str]] = {}
        for name, droid in ctx.project.ws.droid_index().items():
            m = (droid.model or "").strip()
            if m and m != "inherit" and runfields.clean_model(m):
                users.setdefault(m, []).append(name)
        choices = [
            (m, "model of " + ", ".join(sorted(names)[:3])) for m, names in sorted(users.items())
        ]
    return [
        types.CompletionItem(
            label=value,
            kind=types.CompletionItemKind.Value,
            detail=detail,
            sort_text=f"{i:02d}",
            text_edit=types.TextEdit(range=rng, new_text=value),
        )
        for i, (value, detail) in enumerate(choices)
    ]


class _Builder:
    def __init__(self, server: TaskdroidServer, ctx: DocContext, cc: CompletionContext) -> None:
        self.server = server
        self.ctx = ctx
        self.cc = cc
        self.md = server.client.markdown_completion_docs
        self.range = server.conv.range(ctx.lines, cc.replace)

    def item(
        self,
        label: str,
        kind: types.CompletionItemKind,
        insert: str,
        *,
        detail: str | None = None,
        doc: str | None = None,
        sort: str | None = None,
        filter_text: str | None = None,
    ) -> types.CompletionItem:
        documentation: str | types.MarkupContent | None = None
        if doc:
            documentation = markup(doc, True) if self.md else plain_text(doc)
        return types.CompletionItem(
            label=label,
            kind=kind,
            detail=detail,
            documentation=documentation,
            sort_text=sort,
            filter_text=filter_text,
            text_edit=types.TextEdit(range=self.range, new_text=insert),
        )

    def build(self) -> list[types.CompletionItem]:
        kind = self.cc.kind
        if kind == query.COMPLETE_MARKER:
            return self.markers()
        if kind == query.COMPLETE_TASK_ID:
            return self.next_id()
        if kind == query.COMPLETE_FIELD_KEY:
            return self.field_keys()
        if kind == query.COMPLETE_DROID:
            return self.droids()
        if kind == query.COMPLETE_DEPENDENCY:
            return self.dependencies()
        if kind == query.COMPLETE_FM_KEY:
            return self.fm_keys()
        if kind == query.COMPLETE_FM_VALUE:
            return self.fm_values()
        if kind == query.COMPLETE_TOOL:
            return self.tools()
        return []

    # -- task files ----------------------------------------------------------------------------
    def markers(self) -> list[types.CompletionItem]:
        out = []
        for i, (status, marker) in enumerate(model.CANONICAL_MARKERS.items()):
            out.append(
                self.item(
                    marker,
                    types.CompletionItemKind.EnumMember,
                    marker,
                    detail=status.label,
                    doc=f"`{marker}` — {model.MARKER_MEANING[status]}",
                    sort=f"{i:02d}",
                )
            )
        return out

    def next_id(self) -> list[types.CompletionItem]:
        doc = self.ctx.task_doc
        assert doc is not None
        nid = query.next_task_id(doc, self.cc.replace.start.line)
        if not nid:
            return []
        return [
            self.item(
                nid,
                types.CompletionItemKind.Value,
                nid + " ",
                detail="next free task ID",
                sort="00",
                filter_text=nid,
            )
        ]

    def field_keys(self) -> list[types.CompletionItem]:
        present = set()
        if self.cc.task is not None:
            present = {f.canonical for f in self.cc.task.task.fields if f.canonical}
        out = []
        for i, key in enumerate(query.known_field_keys()):
            if key in present and key not in ("Notes",):
                continue
            out.append(
                self.item(
                    key,
                    types.CompletionItemKind.Field,
                    f"**{key}**: ",
                    detail="task field",
                    doc=f"**{key}** — "
                    + (runfields.RUN_FIELD_HELP.get(key) or query.field_help(key)),
                    sort=f"{i:02d}",
                    filter_text=f"**{key}",
                )
            )
        return out

    def droids(self) -> list[types.CompletionItem]:
        """Every droid; the three that fit the task best first, with the reason (docs/language.md
        §11, :mod:`taskdroid.lsp.droidfit`), then the others by name."""
        ws = self.ctx.project.ws
        best = droidfit.completion_order(ws, self.cc.task)
        out = []
        for name, droid in sorted(ws.droid_index().items()):
            where = ws.relpath(droid.path) or droid.path
            desc = (droid.description or "").strip()
            doc = f"**{name}**" + (f" — {desc}" if desc else "") + f"\n\n`{where}`"
            detail = (desc[:80] + "…") if len(desc) > 80 else (desc or where)
            sort = f"1{name}"
            if name in best:
                place, why = best[name]
                sort = f"0{place}"
                detail = f"suggested: {why}"
                doc = f"Suggested for this task: {why}\n\n{doc}"
            out.append(
                self.item(
                    name, types.CompletionItemKind.Class, name, detail=detail, doc=doc, sort=sort
                )
            )
        return out

    def dependencies(self) -> list[types.CompletionItem]:
        ws = self.ctx.project.ws
        doc = self.ctx.task_doc
        assert doc is not None
        target = doc
        if self.cc.path:
            target = ws.task_doc(ws.ref_path(doc.path, self.cc.path))  # type: ignore[assignment]
            if target is None:
                return []
        here = self.cc.task
        out = []
        n = 0
        for loc in target.located_tasks():
            t = loc.task
            if not t.id:
                continue
            if target is doc and here is not None and loc.line == here.line:
                continue
            status = t.status.label if t.status else "malformed marker"
            n += 1
            out.append(
                self.item(
                    t.id,
                    types.CompletionItemKind.Reference,
                    t.id,
                    detail=f"{plain_title(t.title)[:60]} — {status}",
                    doc=f"**`{t.id}` {plain_title(t.title)}** — {status}",
                    sort=f"{n:06d}",
                )
            )
        return out

    # -- droid files ---------------------------------------------------------------------------
    def fm_keys(self) -> list[types.CompletionItem]:
        present = set(self.cc.existing)
        line_key = self.cc.prefix
        out = []
        for i, key in enumerate(droids.KNOWN_KEYS):
            if key in present and key != line_key:
                continue
            out.append(
                self.item(
                    key,
                    types.CompletionItemKind.Property,
                    f"{key}: ",
                    detail="droid front matter",
                    doc=f"**{key}** — {droids.KEY_RULES.get(key, '')}",
                    sort=f"{i:02d}",
                    filter_text=key,
                )
            )
        return out

    def fm_values(self) -> list[types.CompletionItem]:
        key = self.cc.key or ""
        droid = self.ctx.droid_doc
        values = fm_value_choices(key, droid.flavor if droid is not None else None)
        return [
            self.item(v, types.CompletionItemKind.Value, v, detail=d or key, sort=f"{i:02d}")
            for i, (v, d) in enumerate(values)
        ]

    def tools(self) -> list[types.CompletionItem]:
        droid = self.ctx.droid_doc
        flavor = droid.flavor if droid is not None else "other"
        if flavor == "factory":
            names = list(droids.FACTORY_TOOLS) + list(droids.TOOL_CATEGORIES)
            source = "Factory tool"
        elif flavor == "claude":
            names = list(droids.CLAUDE_CODE_TOOLS) + list(droids.CLAUDE_CODE_MORE_TOOLS)
            source = "Claude Code tool"
        else:
            names = sorted(set(droids.FACTORY_TOOLS) | set(droids.CLAUDE_CODE_TOOLS))
            source = "tool"
        names += list(self.ctx.project.ws.settings.extraTools)
        existing = set(self.cc.existing)
        out = []
        seen = set()
        for i, name in enumerate(names):
            if name in existing or name in seen:
                continue
            seen.add(name)
            detail = "category" if name in droids.TOOL_CATEGORIES else source
            out.append(
                self.item(
                    name, types.CompletionItemKind.Function, name, detail=detail, sort=f"{i:03d}"
                )
            )
        return out


def requirement_completion(
    server: TaskdroidServer, ctx: DocContext, pos
) -> list[types.CompletionItem] | None:
    """docs/language.md §13: requirement and criterion IDs after ``_Requirements: `` (and after a comma in
    that list), user stories inside ``[US``; None when the position is neither."""
    if ctx.task_doc is None:
        return None
    line = ctx.lines.line(pos.line)
    found = rv.completion_context(line, pos.character)
    if found is None:
        return None
    flavor, start = found
    req = rq.sibling_docs(ctx.project.ws, ctx.path).get(flavor)
    if req is None:
        return []
    rng = server.conv.range(ctx.lines, Range.of(pos.line, start, pos.character))
    close = flavor == rq.SPECKIT and not line[pos.character :].startswith("]")
    md = server.client.markdown_completion_docs
    out = []
    for c in rv.completions(req, flavor):
        doc = c.documentation
        out.append(
            types.CompletionItem(
                label=c.label,
                kind=types.CompletionItemKind.Reference,
                detail=c.detail,
                documentation=(markup(doc, True) if md else plain_text(doc)) if doc else None,
                sort_text=c.sort,
                text_edit=types.TextEdit(range=rng, new_text=c.label + ("]" if close else "")),
            )
        )
    return out
