"""Hover, completion, definition, references, rename, symbols, folding and inlay hints, in each
client's position encoding, on lines with emoji, CJK and combining characters."""

from __future__ import annotations

import pytest
from lsprotocol import types
from lsputil import close_doc, open_doc, position_of, range_of
from pytest_lsp import LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="session")

MAIN = "tasks/tasks-main.md"
OTHER = "tasks/tasks-other.md"
BACKEND = ".factory/droids/backend-dev.md"


def _ident(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=uri)


async def hover(client: LanguageClient, uri: str, pos: types.Position) -> types.Hover | None:
    return await client.text_document_hover_async(
        types.HoverParams(text_document=_ident(uri), position=pos)
    )


def _value(h: types.Hover) -> str:
    c = h.contents
    return c.value if isinstance(c, types.MarkupContent) else str(c)


# -- hover -----------------------------------------------------------------------------------------


async def test_hover_dependency_after_emoji(client, session):
    text = session.text(MAIN)
    enc = session.encoding
    pos = position_of(text, "1.2, 9.9", enc, offset=1)
    h = await hover(client, session.uri(MAIN), pos)
    assert h is not None
    v = _value(h)
    assert "Build the 🚀 API for 日本語 users" in v and "in progress" in v
    expected = range_of(text, "1.2, 9.9", enc)
    expected.end = types.Position(line=expected.start.line, character=expected.start.character + 3)
    assert h.range == expected


async def test_hover_task_summary(client, session):
    text = session.text(MAIN)
    pos = position_of(text, "1.2 Build", session.encoding)
    h = await hover(client, session.uri(MAIN), pos)
    assert h is not None
    v = _value(h)
    assert "in progress" in v
    assert "backend-dev" in v
    assert "1.1" in v and "completed" in v  # depends on 1.1 (completed)
    assert "tasks-other.md#2.2" in v  # needed by the other file's task
    if session.name == "push":
        assert h.contents.kind == types.MarkupKind.PlainText
        assert "`" not in v and "**" not in v
    else:
        assert h.contents.kind == types.MarkupKind.Markdown


async def test_hover_ready(client, session):
    text = session.text(OTHER)
    h = await hover(client, session.uri(OTHER), position_of(text, "2.2 Review", session.encoding))
    assert h is not None and "Not ready" in _value(h) and "1.2" in _value(h)


async def test_hover_droid_marker_key(client, session):
    text = session.text(MAIN)
    enc = session.encoding
    h = await hover(client, session.uri(MAIN), position_of(text, "backend-dev", enc, offset=3))
    assert h is not None
    v = _value(h)
    assert "Builds the API and the database layer." in v
    assert "inherit" in v and "Read, Edit, Execute" in v and "1.0.0" in v
    assert ".factory/droids/backend-dev.md" in v
    assert h.range == range_of(text, "backend-dev", enc)

    h = await hover(client, session.uri(MAIN), position_of(text, "[~]", enc, offset=1))
    assert h is not None and "in progress" in _value(h)
    assert h.range == range_of(text, "[~]", enc)

    h = await hover(client, session.uri(MAIN), position_of(text, "Dependencies", enc))
    assert h is not None and "must be completed first" in _value(h)

    droid = session.text(BACKEND)
    h = await hover(client, session.uri(BACKEND), position_of(droid, "tools", enc))
    assert h is not None and "Tools the droid may use" in _value(h)

    # nothing under the cursor: no hover
    assert await hover(client, session.uri(MAIN), types.Position(line=1, character=0)) is None


# -- completion ------------------------------------------------------------------------------------


async def complete(client, uri: str, pos: types.Position, trigger: str | None = None):
    ctx = None
    if trigger:
        ctx = types.CompletionContext(
            trigger_kind=types.CompletionTriggerKind.TriggerCharacter, trigger_character=trigger
        )
    result = await client.text_document_completion_async(
        types.CompletionParams(text_document=_ident(uri), position=pos, context=ctx)
    )
    if result is None:
        return []
    return result.items if isinstance(result, types.CompletionList) else result


COMP = "tasks/tasks-comp.md"
COMP_TEXT = (
    "# Comp\n"
    "\n"
    "## 3. Things\n"
    "\n"
    "- [x] 3.1 First 🚀 日本\n"
    "  - **Droid**: \n"
    "- [ ] 3.2 Second\n"
    "  - **Dependencies**: 日本 3.\n"
    "- [ ] \n"
    "- [\n"
)


async def test_completion(client, session):
    enc = session.encoding
    uri = session.uri(COMP)
    session.path(COMP).write_text(COMP_TEXT, encoding="utf-8")
    open_doc(client, uri, COMP_TEXT)
    try:
        # droid names after **Droid**:
        pos = position_of(COMP_TEXT, "**Droid**: ", enc, offset=len("**Droid**: "))
        items = await complete(client, uri, pos, " ")
        by_label = {i.label: i for i in items}
        assert {"backend-dev", "test-writer", "reviewer"} <= set(by_label)
        assert "Builds the API" in (by_label["backend-dev"].detail or "")
        # task IDs in Dependencies, after CJK: the edit replaces exactly the typed `3.`
        pos = position_of(COMP_TEXT, "3.\n", enc, offset=2)
        items = await complete(client, uri, pos, ",")
        ids = {i.label: i for i in items}
        assert "3.2" not in ids  # not the task itself
        assert "3.1" in ids and "First" in (ids["3.1"].detail or "")
        edit = ids["3.1"].text_edit
        exp_start = position_of(COMP_TEXT, "3.\n", enc)
        assert edit.range.start == exp_start
        assert edit.range.end.character == exp_start.character + 2
        # next free ID after a marker
        pos = position_of(COMP_TEXT, "- [ ] \n", enc, offset=6)
        items = await complete(client, uri, pos, " ")
        assert [i.label for i in items] == ["3.3"]
        # markers after `- [`
        pos = position_of(COMP_TEXT, "- [\n", enc, offset=3)
        items = await complete(client, uri, pos, "[")
        labels = [i.label for i in items]
        assert labels[:4] == ["[ ]", "[~]", "[x]", "[!]"] and "[cancelled]" in labels
        # no completion in plain text
        assert await complete(client, uri, types.Position(line=0, character=3)) == []
    finally:
        close_doc(client, uri)
        session.path(COMP).unlink()


async def test_completion_droid_file(client, session):
    enc = session.encoding
    rel = ".factory/droids/new-one.md"
    text = "---\nname: new-one\nmod\ntools: [Read, \nlocation: \n---\n\nBody.\n"
    uri = session.uri(rel)
    session.path(rel).write_text(text, encoding="utf-8")
    open_doc(client, uri, text)
    try:
        items = await complete(client, uri, position_of(text, "mod\n", enc, offset=3))
        labels = [i.label for i in items]
        assert "model" in labels and "name" not in labels  # name is already there
        model = next(i for i in items if i.label == "model")
        assert model.text_edit.new_text == "model: "
        items = await complete(client, uri, position_of(text, "Read, \n", enc, offset=6), " ")
        labels = [i.label for i in items]
        assert "Edit" in labels and "Read" not in labels and "Bash" not in labels
        items = await complete(client, uri, position_of(text, "location: ", enc, offset=10), " ")
        assert [i.label for i in items] == ["project", "personal"]
    finally:
        close_doc(client, uri)
        session.path(rel).unlink()


async def test_completion_and_hover_offer_current_values(client, session):
    """docs/language.md §B: completion offers the current values of each enumerated key, from the
    same constants the checker validates with; hover on a value lists them."""
    from taskdroid.core.droids import (
        CLAUDE_CODE_MORE_TOOLS,
        COLORS,
        EFFORT_LEVELS,
        PERMISSION_MODES,
    )

    enc = session.encoding
    rel = ".claude/agents/values-one.md"
    text = (
        "---\nname: values-one\ndescription: d\npermissionMode: \neffort: \ncolor: \n"
        "memory: \nmodel: \ntools: Read, \n---\n\nBody.\n"
    )
    uri = session.uri(rel)
    session.path(rel).parent.mkdir(parents=True, exist_ok=True)
    session.path(rel).write_text(text, encoding="utf-8")
    open_doc(client, uri, text)
    try:
        for key, want in (
            ("permissionMode", list(PERMISSION_MODES)),
            ("effort", list(EFFORT_LEVELS)),
            ("color", list(COLORS)),
            ("memory", ["user", "project", "local"]),
            ("model", ["inherit", "sonnet", "opus", "haiku"]),
        ):
            pos = position_of(text, f"{key}: ", enc, offset=len(key) + 2)
            items = await complete(client, uri, pos, " ")
            assert [i.label for i in items] == want, key
        assert "auto" in PERMISSION_MODES and "manual" in PERMISSION_MODES
        pos = position_of(text, "Read, \n", enc, offset=6)
        labels = {i.label for i in await complete(client, uri, pos, " ")}
        assert {"Agent", "Skill", "PowerShell", "Monitor", "SendMessage", "Workflow"} <= labels
        assert set(CLAUDE_CODE_MORE_TOOLS) <= labels
    finally:
        close_doc(client, uri)
    filled = text.replace("permissionMode: \n", "permissionMode: auto\n")
    open_doc(client, uri, filled)
    try:
        h = await hover(client, uri, position_of(filled, "auto", enc, offset=1))
        assert h is not None
        assert "Values: " + ", ".join(PERMISSION_MODES) in _value(h).replace("`", "")
    finally:
        close_doc(client, uri)
        session.path(rel).unlink()


# -- navigation ------------------------------------------------------------------------------------


async def definition(client, uri, pos):
    result = await client.text_document_definition_async(
        types.DefinitionParams(text_document=_ident(uri), position=pos)
    )
    if result is None:
        return []
    return result if isinstance(result, list) else [result]


async def test_definition(client, session):
    enc = session.encoding
    text = session.text(MAIN)
    uri = session.uri(MAIN)
    (loc,) = await definition(client, uri, position_of(text, "test-writer", enc, offset=2))
    assert loc.uri == session.uri(".factory/droids/test-writer.md")
    droid = session.text(".factory/droids/test-writer.md")
    assert loc.range == range_of(droid, "test-writer", enc)
    (loc,) = await definition(client, uri, position_of(text, "#2.1", enc, offset=2))
    other = session.text(OTHER)
    assert loc.uri == session.uri(OTHER) and loc.range == range_of(other, "2.1", enc)
    (loc,) = await definition(client, uri, position_of(text, "1.2, 9.9", enc))
    assert loc.uri == uri
    assert loc.range.start == position_of(text, "1.2 Build", enc)
    assert await definition(client, uri, position_of(text, "9.9", enc)) == []


async def references(client, uri, pos, include=False):
    return (
        await client.text_document_references_async(
            types.ReferenceParams(
                text_document=_ident(uri),
                position=pos,
                context=types.ReferenceContext(include_declaration=include),
            )
        )
        or []
    )


async def test_references(client, session):
    enc = session.encoding
    text = session.text(MAIN)
    other = session.text(OTHER)
    uri = session.uri(MAIN)
    locs = await references(client, uri, position_of(text, "1.2 Build", enc))
    got = sorted((loc.uri, loc.range.start.line, loc.range.start.character) for loc in locs)
    want = sorted(
        [
            (uri, *_lc(position_of(text, "1.2, tasks-other", enc))),
            (uri, *_lc(position_of(text, "1.2, 9.9", enc))),
            (session.uri(OTHER), *_lc(position_of(other, "tasks-main.md#1.2", enc))),
        ]
    )
    assert got == want
    locs = await references(client, uri, position_of(text, "1.2 Build", enc), include=True)
    assert len(locs) == 4
    # droid: every task using it (from a reference and from the droid file's name)
    locs = await references(client, uri, position_of(text, "test-writer", enc))
    assert sorted(loc.range.start.line for loc in locs) == [15, 18]
    droid = session.text(BACKEND)
    locs = await references(
        client, session.uri(BACKEND), position_of(droid, "backend-dev", enc), True
    )
    assert sorted((loc.uri == uri, loc.range.start.line) for loc in locs) == [
        (False, 1),
        (True, 7),
        (True, 11),
    ]


def _lc(p: types.Position) -> tuple[int, int]:
    return p.line, p.character


def _edits(edit: types.WorkspaceEdit) -> dict[str, list[types.TextEdit]]:
    out: dict[str, list[types.TextEdit]] = {}
    if edit.document_changes:
        for ch in edit.document_changes:
            if isinstance(ch, types.TextDocumentEdit):
                out.setdefault(ch.text_document.uri, []).extend(ch.edits)
    for uri, edits in (edit.changes or {}).items():
        out.setdefault(uri, []).extend(edits)
    return out


async def test_rename_task_id(client, session):
    enc = session.encoding
    text = session.text(MAIN)
    other = session.text(OTHER)
    uri = session.uri(MAIN)
    pos = position_of(text, "1.2, 9.9", enc, offset=1)
    prep = await client.text_document_prepare_rename_async(
        types.PrepareRenameParams(text_document=_ident(uri), position=pos)
    )
    assert prep.placeholder == "1.2"
    assert prep.range.start == position_of(text, "1.2, 9.9", enc)
    edit = await client.text_document_rename_async(
        types.RenameParams(text_document=_ident(uri), position=pos, new_name="1.7")
    )
    edits = _edits(edit)
    main_edits = sorted(_lc(e.range.start) for e in edits[uri])
    assert main_edits == sorted(
        [
            _lc(position_of(text, "1.2 Build", enc)),
            _lc(position_of(text, "1.2, tasks-other", enc)),
            _lc(position_of(text, "1.2, 9.9", enc)),
        ]
    )
    (o,) = edits[session.uri(OTHER)]
    assert o.new_text == "1.7"
    assert o.range.start == position_of(other, "#1.2", enc, offset=1)
    if session.name == "push":
        assert edit.changes and not edit.document_changes
    else:
        assert edit.document_changes


async def test_rename_droid(client, session):
    enc = session.encoding
    text = session.text(MAIN)
    uri = session.uri(MAIN)
    pos = position_of(text, "backend-dev", enc, offset=1)
    edit = await client.text_document_rename_async(
        types.RenameParams(text_document=_ident(uri), position=pos, new_name="api-dev")
    )
    edits = _edits(edit)
    assert len(edits[uri]) == 2 and {e.new_text for e in edits[uri]} == {"api-dev"}
    droid = session.text(BACKEND)
    (d,) = edits[session.uri(BACKEND)]
    assert d.range == range_of(droid, "backend-dev", enc)
    renames = [c for c in edit.document_changes or [] if isinstance(c, types.RenameFile)]
    if session.name in ("vscode", "neovim"):
        assert [r.new_uri for r in renames] == [session.uri(".factory/droids/api-dev.md")]
    else:
        assert renames == []


async def test_rename_invalid(client, session):
    text = session.text(MAIN)
    uri = session.uri(MAIN)
    pos = position_of(text, "backend-dev", session.encoding, offset=1)
    with pytest.raises(Exception, match="not a valid droid name"):
        await client.text_document_rename_async(
            types.RenameParams(text_document=_ident(uri), position=pos, new_name="Bad Name")
        )
    pos = position_of(text, "1.2 Build", session.encoding)
    with pytest.raises(Exception, match="already used"):
        await client.text_document_rename_async(
            types.RenameParams(text_document=_ident(uri), position=pos, new_name="1.3")
        )
    # nothing renameable under the cursor
    prep = await client.text_document_prepare_rename_async(
        types.PrepareRenameParams(
            text_document=_ident(uri), position=types.Position(line=0, character=2)
        )
    )
    assert prep is None


# -- symbols, folding, inlay hints -----------------------------------------------------------------


async def test_document_symbols(client, session):
    uri = session.uri(MAIN)
    text = session.text(MAIN)
    enc = session.encoding
    result = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=_ident(uri))
    )
    assert result
    if isinstance(result[0], types.DocumentSymbol):
        (top,) = result
        assert top.name == "Main tasks"
        core, polish = top.children
        assert core.name == "1. Core (HIGH)" and core.detail == "1/4 done"
        assert [c.name for c in core.children][1] == "1.2 Build the 🚀 API for 日本語 users"
        assert core.children[1].detail == "in progress"
        assert core.children[1].selection_range == range_of(text, "1.2", enc)
        tidy = polish.children[0]
        assert tidy.detail == "blocked" and tidy.children[0].name == "2.1.1 Check the links"
    else:
        names = [s.name for s in result]
        assert "1.4 Ship 🚀 日本語 cafe\u0301 (depends on 1.2, 9.9)" in names
        tidy = next(s for s in result if s.name.startswith("2.1.1"))
        assert tidy.container_name == "2.1 Tidy 🎉 the 漢字 docs"


async def test_workspace_symbols(client, session):
    result = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="ship"))
    names = [s.name for s in result]
    assert names == ["1.4 Ship 🚀 日本語 cafe\u0301 (depends on 1.2, 9.9)"]
    text = session.text(MAIN)
    assert result[0].location.range == range_of(text, "1.4", session.encoding)
    result = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="revwr"))
    assert [s.name for s in result] == ["reviewer"]


async def test_folding(client, session):
    result = await client.text_document_folding_range_async(
        types.FoldingRangeParams(text_document=_ident(session.uri(MAIN)))
    )
    spans = {(r.start_line, r.end_line) for r in result}
    assert (4, 18) in spans  # section 1
    assert (6, 9) in spans  # task 1.1 with its fields
    assert (22, 25) in spans  # task 2.1 with a subtask
    result = await client.text_document_folding_range_async(
        types.FoldingRangeParams(text_document=_ident(session.uri(BACKEND)))
    )
    assert [(r.start_line, r.end_line) for r in result] == [(0, 6)]


async def test_inlay_hints(client, session):
    uri = session.uri(MAIN)
    text = session.text(MAIN)
    enc = session.encoding
    hints = await client.text_document_inlay_hint_async(
        types.InlayHintParams(
            text_document=_ident(uri),
            range=types.Range(
                start=types.Position(line=0, character=0), end=types.Position(line=30, character=0)
            ),
        )
    )
    got = {(h.position.line, h.position.character): h.label for h in hints}
    assert got == {
        _lc(position_of(text, "1.1\n", enc, offset=3)): "completed",
        _lc(position_of(text, "1.2, tasks", enc, offset=3)): "in progress",
        _lc(position_of(text, "#2.1", enc, offset=4)): "completed",
        _lc(position_of(text, "1.2, 9.9", enc, offset=3)): "in progress",
    }
