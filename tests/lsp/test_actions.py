"""Code actions: every quick fix is applied (in the client's position encoding) and its
diagnostic goes away; set-status and run-droid actions on tasks; resolve on the current text."""

from __future__ import annotations

import argparse
import os
import shutil

import pytest
from editutil import (
    Doc,
    _line_starts,
    _offset,
    apply_text_edits,
    apply_workspace_edit,
    code_actions,
    edit_of,
    edits_of,
    titled,
    wait_code,
    wait_gone,
)
from lsprotocol import types
from lsputil import diagnostics_for, position_of, units

pytestmark = pytest.mark.asyncio(loop_scope="session")

# (case, file, text, code, action title, text expected after the fix)
TASK_CASES = [
    (
        "td001",
        "- [ ] 1.1 Start 🚀 here\n- [v] 1.2 Done 🚀 thing\n",
        "TD001",
        "Change marker to `[x]` (completed)",
        "- [x] 1.2 Done",
    ),
    (
        "td005",
        "- [X] 1.1 Café 🚀 done\n- [x] 1.2 Canonical\n",  # TD005 only where the file mixes
        "TD005",
        "Change marker to `[x]`",
        "- [x] 1.1 Café",
    ),
    (
        "td021-marker",
        "- [x] 1.1 Ship 日本語 🔄\n",
        "TD021",
        "Change marker to `[~]` (as `🔄` says)",
        "- [~] 1.1 Ship 日本語 🔄",
    ),
    (
        "td021-emoji",
        "- [x] 1.1 Ship 日本語 🔄\n",
        "TD021",
        "Replace `🔄` with `✅`",
        "- [x] 1.1 Ship 日本語 ✅\n",
    ),
    (
        "td021-remove",
        "- [ ] 1.1 Ship 日本語 ❌\n",
        "TD021",
        "Remove `❌`",
        "- [ ] 1.1 Ship 日本語\n",
    ),
    (
        "td020",
        "- [ ] 1.1 Build 🚀\n  - **Droid**: backend-devv\n",
        "TD020",
        "Change to `backend-dev`",
        "**Droid**: backend-dev\n",
    ),
    (
        "td040",
        "- [ ] 1.1 A 🚀\n- [ ] 1.2 B\n  - **Dependancies**: 1.1\n",
        "TD040",
        "Rename field to `Dependencies`",
        "  - **Dependencies**: 1.1\n",
    ),
    (
        "td022",
        "- [x] 1.1 A ✅\n  - **Completed**: 2025-01-10 10:00\n- [x] 1.2 B 🚀\n- [ ] 1.3 C\n",
        "TD022",
        "Add a `**Completed**` timestamp",
        "- [x] 1.2 B 🚀\n  - **Completed**: 20",
    ),
    (
        "td023",
        "- [!] 1.1 Stuck 🚀 ⚠️\n  - **Droid**: reviewer\n",
        "TD023",
        "Add an `**Issue**` field saying why",
        "  - **Droid**: reviewer\n  - **Issue**: ",
    ),
    (
        "td002",
        "- [ ] 1.1 A\n- [ ] 1.2 B\n- [ ] Ship 🚀 it\n",
        "TD002",
        "Add ID `1.3`",
        "- [ ] 1.3 Ship 🚀 it\n",
    ),
    (
        "td003",
        "- [ ] 1.1 A\n- [ ] 1.1 B 🚀\n",
        "TD003",
        "Change ID to `1.2`",
        "- [ ] 1.2 B 🚀\n",
    ),
    (
        "td030",
        "## 1. Core 🚀 (HIHG)\n\n- [ ] 1.1 A\n\n## 2. Docs (LOW)\n\n- [ ] 2.1 B\n",
        "TD030",
        "Change priority to `HIGH`",
        "## 1. Core 🚀 (HIGH)\n",
    ),
    (
        "td032",
        "- [ ] 1.1 Config 🚀\n  - **Files**: `src/app.ts`, `.env` (secrets), README.md\n",
        "TD032",
        "Remove `.env` from Files",
        "  - **Files**: `src/app.ts`, README.md\n",
    ),
    (
        "td032-only",
        "- [ ] 1.1 Config 🚀\n  - **Files**: .env\n  - **Droid**: reviewer\n",
        "TD032",
        "Remove `.env` from Files",
        "- [ ] 1.1 Config 🚀\n  - **Droid**: reviewer\n",
    ),
]

DROID_CASES = [
    (
        "dr002",
        "---\nname: {name}\ndescription: Use it: for 🚀 things\n---\n\nBody.\n",
        "DR002",
        "Quote the value",
        'description: "Use it: for 🚀 things"\n',
    ),
    (
        "dr005",
        "---\nname: {name}\ndescription: Röntgen 🚀\ntools: [Read, Grpe]\n---\n\nBody.\n",
        "DR005",
        "Change to `Grep`",
        "tools: [Read, Grep]\n",
    ),
    (
        "dr008",
        "---\nname: {name}\ndescription: Röntgen 🚀\nmodle: inherit\n---\n\nBody.\n",
        "DR008",
        "Rename key to `model`",
        "\nmodel: inherit\n",
    ),
    (
        "dr012",
        "---\nname: {name}\ndescription: d\ntools:\n  - Read\n  - Grep\n  - Read\n---\n\nBody.\n",
        "DR012",
        "Remove the duplicate `Read`",
        "tools:\n  - Read\n  - Grep\n---",
    ),
    (
        "dr012-flow",
        "---\nname: {name}\ndescription: d\ntools: Read, Grep, Read\n---\n\nBody.\n",
        "DR012",
        "Remove the duplicate `Read`",
        "tools: Read, Grep\n",
    ),
    (
        "dr001",
        "You are a droid without front matter 🚀.\n",
        "DR001",
        "Add front matter",
        "---\nname: {name}\n",
    ),
    (
        "dr003",
        "---\ndescription: d 🚀\n---\n\nBody.\n",
        "DR003",
        "Add `name: {name}`",
        "---\nname: {name}\ndescription",
    ),
    (
        "dr004",
        "---\nname: Bad Name\ndescription: d\n---\n\nBody.\n",
        "DR004",
        "Change name to `bad-name`",
        "name: bad-name\n",
    ),
]


async def _fix(client, session, doc: Doc, code: str, title: str) -> str:
    d = await wait_code(client, session, doc, code)
    actions = await code_actions(client, doc, d.range, [d])
    action = titled(actions, title)
    assert action.kind == types.CodeActionKind.QuickFix
    assert action.diagnostics and str(action.diagnostics[0].code) == code
    edit = await edit_of(client, session, action)
    (version, _edits) = edits_of(edit)[doc.uri]
    if session.caps.workspace and (
        session.caps.workspace.workspace_edit
        and (
            session.caps.workspace.workspace_edit.document_changes
            or session.caps.workspace.workspace_edit.resource_operations
        )
    ):
        assert version == doc.version  # versioned
    new = apply_workspace_edit({doc.uri: doc.text}, edit, session.encoding)[doc.uri]
    doc.change(new)
    await wait_gone(client, session, doc, code)
    return new


@pytest.mark.parametrize(
    ("case", "text", "code", "title", "expected"), TASK_CASES, ids=[c[0] for c in TASK_CASES]
)
async def test_task_quick_fix(client, session, case, text, code, title, expected):
    doc = Doc.open(client, session.uri(f"tasks/tasks-fix-{case}.md"), text)
    try:
        new = await _fix(client, session, doc, code, title)
        assert expected in new, new
    finally:
        doc.close()


@pytest.mark.parametrize(
    ("case", "text", "code", "title", "expected"), DROID_CASES, ids=[c[0] for c in DROID_CASES]
)
async def test_droid_quick_fix(client, session, case, text, code, title, expected):
    name = f"fix-{case}"
    doc = Doc.open(client, session.uri(f".factory/droids/{name}.md"), text.format(name=name))
    try:
        new = await _fix(client, session, doc, code, title.format(name=name))
        assert expected.format(name=name) in new, new
    finally:
        doc.close()


async def test_malformed_marker_offers_every_status(client, session):
    doc = Doc.open(client, session.uri("tasks/tasks-fix-td001-all.md"), "- [v] 1.1 🚀 A\n")
    try:
        d = await wait_code(client, session, doc, "TD001")
        actions = await code_actions(
            client, doc, d.range, [d], only=[types.CodeActionKind.QuickFix]
        )
        titles = [a.title for a in actions]
        assert titles == [
            "Change marker to `[x]` (completed)",
            "Change marker to `[ ]` (pending)",
            "Change marker to `[~]` (in progress)",
            "Change marker to `[!]` (blocked)",
            "Change marker to `[cancelled]` (cancelled)",
        ]
        assert [bool(a.is_preferred) for a in actions] == [True, False, False, False, False]
    finally:
        doc.close()


async def test_emoji_mismatch_prefers_the_emoji_the_marker_says(client, session):
    """docs/language.md §14: the emoji is made to agree with the marker (what `check --fix` applies); the
    marker the emoji says is offered, not preferred."""
    doc = Doc.open(client, session.uri("tasks/tasks-fix-td021-both.md"), "- [ ] 1.1 A ✅\n")
    try:
        d = await wait_code(client, session, doc, "TD021")
        actions = await code_actions(
            client, doc, d.range, [d], only=[types.CodeActionKind.QuickFix]
        )
        assert [(a.title, bool(a.is_preferred)) for a in actions] == [
            ("Remove `✅`", True),
            ("Change marker to `[x]` (as `✅` says)", False),
        ]
    finally:
        doc.close()


async def test_rename_droid_to_file_name_updates_references(client, session):
    """DR006: the droid takes its file's name, and the tasks naming it follow."""
    droid = Doc.open(
        client,
        session.uri(".factory/droids/fix-dr006.md"),
        "---\nname: old-dr006-name\ndescription: d 🚀\n---\n\nBody.\n",
    )
    tasks = Doc.open(
        client,
        session.uri("tasks/tasks-fix-dr006.md"),
        "- [ ] 1.1 Use 🚀 it\n  - **Droid**: old-dr006-name\n",
    )
    try:
        d = await wait_code(client, session, droid, "DR006")
        actions = await code_actions(client, droid, d.range, [d])
        action = titled(actions, "Rename droid to `fix-dr006` (the file name)")
        assert not action.is_preferred  # a rename: offered, never applied by `check --fix`
        edit = await edit_of(client, session, action)
        texts = apply_workspace_edit(
            {droid.uri: droid.text, tasks.uri: tasks.text}, edit, session.encoding
        )
        assert "name: fix-dr006\n" in texts[droid.uri]
        assert "**Droid**: fix-dr006\n" in texts[tasks.uri]
        droid.change(texts[droid.uri])
        tasks.change(texts[tasks.uri])
        await wait_gone(client, session, droid, "DR006")
        await wait_gone(client, session, tasks, "TD020")
    finally:
        tasks.close()
        droid.close()


async def test_create_missing_droid(client, session):
    """TD020: create the droid — a CreateFile edit where the client can, else the command."""
    name = f"made-by-fix-{session.name}"
    doc = Doc.open(
        client,
        session.uri("tasks/tasks-fix-create.md"),
        f"- [ ] 1.1 Build 🚀\n  - **Droid**: {name}\n",
    )
    path = session.path(f".factory/droids/{name}.md")
    droid_uri = session.uri(f".factory/droids/{name}.md")
    try:
        d = await wait_code(client, session, doc, "TD020")
        actions = await code_actions(client, doc, d.range, [d])
        action = titled(actions, f"Create droid `{name}` in .factory/droids")
        if isinstance(action, types.CodeAction) and action.edit is not None:
            assert session.name in ("vscode", "neovim")
            assert isinstance(action.edit.document_changes[0], types.CreateFile)
            text = apply_workspace_edit({}, action.edit, session.encoding)[droid_uri]
            path.write_text(text, encoding="utf-8")  # what the editor does
        else:  # a command (pytest-lsp decodes a CodeAction with a command as a Command)
            assert session.name in ("emacs", "push")
            result = await client.workspace_execute_command_async(
                types.ExecuteCommandParams(
                    command="taskdroid.createDroid",
                    arguments=[{"name": name, "folder": str(path.parent)}],
                )
            )
            assert result["uri"] == droid_uri
            text = path.read_text(encoding="utf-8")
        droid = Doc.open(client, droid_uri, text)  # the editor shows the new file
        await wait_gone(client, session, doc, "TD020")
        assert await diagnostics_for(client, session, droid_uri) == []  # a valid stub
        os.remove(path)
        droid.close()
    finally:
        doc.close()
        if path.exists():
            os.remove(path)


# -- task actions ----------------------------------------------------------------------------------

TASKS = (
    "## 1. Work 🚀 (HIGH)\n"
    "\n"
    "- [ ] 1.1 Build 🚀 the 日本語 API\n"
    "  - **Droid**: backend-dev\n"
    "- [x] 1.2 Done 🎉 already ✅\n"
    "  - **Completed**: 2025-01-10 10:00\n"
)


async def test_task_actions(client, session):
    doc = Doc.open(client, session.uri("tasks/tasks-act-status.md"), TASKS)
    try:
        await diagnostics_for(client, session, doc.uri)
        pos = position_of(doc.text, "Build", session.encoding)
        actions = await code_actions(client, doc, types.Range(start=pos, end=pos))
        titles = [a.title for a in actions]
        assert titles == [
            "Mark as in progress",
            "Mark as completed",
            "Mark as blocked",
            "Configure runner…",
            "Add Verify command",
        ]
        # no runner is configured in this session: a run could only fail, so the action says
        # what to do instead (tests/lsp/test_runlens.py has the run action with a runner)
        run = titled(actions, "Configure runner…")
        assert "taskdroid.configureRunner" in str(run.command)
        mark = titled(actions, "Mark as completed")
        assert mark.kind == types.CodeActionKind.RefactorRewrite
        edit = await edit_of(client, session, mark)
        new = apply_workspace_edit({doc.uri: doc.text}, edit, session.encoding)[doc.uri]
        assert (
            "- [x] 1.1 Build 🚀 the 日本語 API ✅\n  - **Droid**: backend-dev\n  - **Completed**: 20"
            in new
        )

        # a completed task: no "Mark as completed", no run
        pos = position_of(doc.text, "Done", session.encoding)
        actions = await code_actions(client, doc, types.Range(start=pos, end=pos))
        assert [a.title for a in actions] == [
            "Mark as pending",
            "Mark as in progress",
            "Mark as blocked",
        ]
        # only quick fixes asked for: no task actions
        only = await code_actions(client, doc, types.Range(start=pos, end=pos), only=["quickfix"])
        assert only == []
    finally:
        doc.close()


async def test_resolve_uses_the_current_text(client, session):
    """An action listed before an edit is resolved against the text as it is now."""
    if session.name not in ("vscode", "neovim"):
        pytest.skip("clients that resolve code actions")
    doc = Doc.open(client, session.uri("tasks/tasks-act-resolve.md"), TASKS)
    try:
        await diagnostics_for(client, session, doc.uri)
        pos = position_of(doc.text, "Build", session.encoding)
        actions = await code_actions(client, doc, types.Range(start=pos, end=pos))
        mark = titled(actions, "Mark as blocked")
        assert mark.edit is None and mark.data is not None  # listing stays cheap
        doc.change("# Intro 🚀\n\n" + doc.text)
        edit = await edit_of(client, session, mark)
        version, _ = edits_of(edit)[doc.uri]
        assert version == doc.version
        new = apply_workspace_edit({doc.uri: doc.text}, edit, session.encoding)[doc.uri]
        assert new.startswith("# Intro 🚀\n\n## 1. Work")
        assert (
            "- [!] 1.1 Build 🚀 the 日本語 API ⚠️\n  - **Droid**: backend-dev\n  - **Issue**:" in new
        )
    finally:
        doc.close()


async def test_actions_on_a_closed_file(client, session):
    """A file that is not open: its diagnostics come from the index."""
    text = session.text("tasks/tasks-other.md")
    doc = Doc(client, session.uri("tasks/tasks-other.md"), text)  # not opened
    rng = types.Range(
        start=position_of(text, "ghost-droid", session.encoding),
        end=position_of(text, "ghost-droid", session.encoding),
    )
    actions = await code_actions(client, doc, rng)
    assert actions[0].title == "Create droid `ghost-droid` in .factory/droids"
    assert "Mark as in progress" in [a.title for a in actions]


async def test_rename_droid_file_to_its_name(client, session):
    """DR006: or the file takes the droid's name (clients that can rename files)."""
    text = "---\nname: dr006-target\ndescription: d 🚀\n---\n\nBody.\n"
    droid = Doc.open(client, session.uri(".factory/droids/fix-dr006-file.md"), text)
    try:
        d = await wait_code(client, session, droid, "DR006")
        actions = await code_actions(client, droid, d.range, [d])
        titles = [a.title for a in actions]
        if session.name not in ("vscode", "neovim"):
            assert "Rename file to `dr006-target.md`" not in titles
            return
        action = titled(actions, "Rename file to `dr006-target.md`")
        (rename,) = action.edit.document_changes
        assert isinstance(rename, types.RenameFile)
        assert rename.old_uri == droid.uri
        assert rename.new_uri == session.uri(".factory/droids/dr006-target.md")
        droid.close()  # what the editor does: the document now lives under its new name
        droid = Doc.open(client, rename.new_uri, text)
        await wait_gone(client, session, droid, "DR006")
    finally:
        droid.close()


# -- one source: the editor's preferred quick fixes are what `check --fix` applies ---------------

ONE_SOURCE = {
    "tasks/tasks-one-source.md": (
        "## 1. Work 🚀 (HIGH)\n"
        "\n"
        "- [X] 1.1 Café 🚀 done ✅\n"
        "- [v] 1.2 Ship 日本語\n"
        "- [x] 1.3 Both 𝄞 🔄\n"
        "- [ ] 1.4 A ✅ 🔄\n"
        "  - **Dependancies**: 1.1\n"
        "- [ ] 1.5 Lost 𝄞\n"
        "- **Droid**: backend-dev\n"
        "- [ ] 1.1 Dup\n"
        "- [q] 1.6 Unknown\n"
    ),
    ".factory/droids/one-source.md": (
        "---\n"
        "name: one-source\n"
        "description: Use it: for 🚀 things\n"
        "tools: [Read, Grpe, Read]\n"
        "modle: inherit\n"
        "---\n"
        "\n"
        "Body.\n"
    ),
}


async def test_preferred_quick_fixes_are_what_check_fix_applies(client, session, tmp_path, capsys):
    """The quick fixes the server marks preferred for a file are, edit for edit, the fixes the
    core selects for ``check --fix``, and applying them gives the file ``check --fix`` writes."""
    from taskdroid import cli
    from taskdroid.core.fixes import fixes, select_fixes
    from taskdroid.core.text import line_starts, offset_at

    copy = tmp_path / "ws"
    shutil.copytree(session.root, copy, symlinks=True)
    for rel, text in ONE_SOURCE.items():
        doc = Doc.open(client, session.uri(rel), text)
        try:
            await diagnostics_for(client, session, doc.uri)
            lines = text.split("\n")
            end = types.Position(line=len(lines) - 1, character=units(lines[-1], session.encoding))
            whole = types.Range(start=types.Position(line=0, character=0), end=end)
            actions = await code_actions(client, doc, whole, only=[types.CodeActionKind.QuickFix])
        finally:
            doc.close()
        preferred = [a for a in actions if a.is_preferred]
        assert len(preferred) >= 4, [a.title for a in actions]
        if rel.startswith("tasks/"):
            assert len(preferred) < len(actions)  # TD001's other markers, TD003, TD021's marker
        server_edits = [e for a in preferred for e in edits_of(a.edit)[doc.uri][1]]
        starts = _line_starts(text)
        server = sorted(
            (
                _offset(text, starts, e.range.start, session.encoding),
                _offset(text, starts, e.range.end, session.encoding),
                e.new_text,
            )
            for e in server_edits
        )

        # the core, as the command line runs it, on the same text in a copy of the workspace
        f = copy / rel
        f.write_bytes(text.encode("utf-8"))
        ws, _ = cli.build_workspace(copy, argparse.Namespace(config=None), personal=False)
        path = os.path.normpath(str(f))
        ws.set_text(path, text)
        found = fixes(
            text,
            ws.diagnostics(path),
            task_doc=ws.task_docs.get(path),
            droid_doc=ws.droid_docs.get(path),
        )
        chosen = select_fixes(text, found)
        assert len(chosen) == len(preferred)
        cstarts = line_starts(text)
        core = sorted(
            (
                offset_at(text, cstarts, e.range.start),
                offset_at(text, cstarts, e.range.end),
                e.new_text,
            )
            for fx in chosen
            for e in fx.edits
        )
        assert server == core

        capsys.readouterr()
        cli.main(["check", "--fix", "--no-personal", "--root", str(copy), str(f)])
        err = capsys.readouterr().err
        assert f"fixed {len(preferred)} problems in 1 file\n" in err
        assert f.read_bytes().decode("utf-8") == apply_text_edits(
            text, server_edits, session.encoding
        )
