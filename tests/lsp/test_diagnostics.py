"""Diagnostics end to end: closed files, ranges per encoding, open documents, cross-file effects
(through open documents and through watched-file events), push versions and pull result ids."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types
from lsputil import (
    change_doc,
    close_doc,
    codes,
    diagnostics_for,
    file_event,
    open_doc,
    range_of,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

DROID = """---
name: {name}
description: A droid made in a test.
model: inherit
tools: [Read]
---

Body.
"""


async def test_mode_matches_client(client, session):
    if session.name == "vscode":
        assert session.pulls
        opts = session.result.capabilities.diagnostic_provider
        assert opts.inter_file_dependencies and opts.workspace_diagnostics
    else:
        assert not session.pulls  # neovim: can pull but not be told to re-pull → push


async def test_closed_files_get_diagnostics(client, session):
    main = session.uri("tasks/tasks-main.md")
    other = session.uri("tasks/tasks-other.md")
    diags = await diagnostics_for(client, session, main, lambda d: "TD010" in codes(d))
    assert codes(diags) == ["TD010"]
    diags = await diagnostics_for(client, session, other, lambda d: "TD020" in codes(d))
    assert codes(diags) == ["TD020"]
    d = diags[0]
    assert d.source == "taskdroid"
    assert d.code_description is not None
    assert d.code_description.href.endswith("#td020-unknown-droid")
    assert d.severity == types.DiagnosticSeverity.Warning
    assert "ghost-droid" in d.message


async def test_range_exact_after_emoji_cjk_combining(client, session):
    """TD010 on `9.9`, after 🚀, 日本語 and a combining accent on the same line."""
    uri = session.uri("tasks/tasks-main.md")
    text = session.text("tasks/tasks-main.md")
    diags = await diagnostics_for(client, session, uri, lambda d: "TD010" in codes(d))
    (d,) = [x for x in diags if x.code == "TD010"]
    assert d.range == range_of(text, "9.9", session.encoding)


async def test_related_information_points_to_other_file(client, session):
    rel = "tasks/tasks-cycle.md"
    text = "# Cycle\n\n## 1. A\n\n- [ ] 1.1 First 🚀\n  - **Dependencies**: tasks-cycle2.md#1.1\n"
    text2 = (
        "# Cycle 2\n\n## 1. B\n\n- [ ] 1.1 日本 second\n  - **Dependencies**: tasks-cycle.md#1.1\n"
    )
    session.path(rel).write_text(text, encoding="utf-8")
    session.path("tasks/tasks-cycle2.md").write_text(text2, encoding="utf-8")
    file_event(client, session.uri(rel), types.FileChangeType.Created)
    file_event(client, session.uri("tasks/tasks-cycle2.md"), types.FileChangeType.Created)
    diags = await diagnostics_for(client, session, session.uri(rel), lambda d: "TD011" in codes(d))
    (d,) = [x for x in diags if x.code == "TD011"]
    assert d.related_information
    other = [
        r for r in d.related_information if r.location.uri == session.uri("tasks/tasks-cycle2.md")
    ]
    assert other and other[0].location.range == range_of(text2, "1.1", session.encoding)
    # clean up: delete both, diagnostics go away
    session.path(rel).unlink()
    session.path("tasks/tasks-cycle2.md").unlink()
    file_event(client, session.uri(rel), types.FileChangeType.Deleted)
    file_event(client, session.uri("tasks/tasks-cycle2.md"), types.FileChangeType.Deleted)
    await diagnostics_for(client, session, session.uri(rel), lambda d: d == [])


async def test_open_document_wins_and_updates(client, session):
    rel = "tasks/tasks-open.md"
    text = "# Open\n\n## 1. A\n\n- [ ] 1.1 Start 🚀\n  - **Dependencies**: 1.2.9\n"
    session.path(rel).write_text(text, encoding="utf-8")
    file_event(client, session.uri(rel), types.FileChangeType.Created)
    uri = session.uri(rel)
    await diagnostics_for(client, session, uri, lambda d: codes(d) == ["TD010"])
    # the buffer adds the missing task: TD010 clears although the disk still lacks it
    open_doc(client, uri, text, 1)
    fixed = text + "- [ ] 1.2.9 The dependency\n"
    change_doc(client, uri, 2, fixed)
    await diagnostics_for(client, session, uri, lambda d: d == [])
    if not session.pulls:
        assert not client.diagnostics[uri]
    # a disk change of an open document is ignored (open wins)
    session.path(rel).write_text(text + "- [ ] 1.1 Duplicate\n", encoding="utf-8")
    file_event(client, uri, types.FileChangeType.Changed)
    await asyncio.sleep(0.2)
    assert await diagnostics_for(client, session, uri) == []
    # closing falls back to the disk: TD010 and TD003 now
    close_doc(client, uri)
    await diagnostics_for(client, session, uri, lambda d: codes(d) == ["TD003", "TD010"])
    session.path(rel).unlink()
    file_event(client, uri, types.FileChangeType.Deleted)
    await diagnostics_for(client, session, uri, lambda d: d == [])


async def test_cross_file_through_open_document(client, session):
    """Adding the missing dependency target in one (open) file clears TD010 in another."""
    a, b = "tasks/tasks-xa.md", "tasks/tasks-xb.md"
    ta = "# A\n\n## 1. A\n\n- [ ] 1.1 Needs b\n  - **Dependencies**: tasks-xb.md#3.1\n"
    tb = "# B\n\n## 3. B\n\n- [ ] 3.2 Something else\n"
    session.path(a).write_text(ta, encoding="utf-8")
    session.path(b).write_text(tb, encoding="utf-8")
    file_event(client, session.uri(a), types.FileChangeType.Created)
    file_event(client, session.uri(b), types.FileChangeType.Created)
    await diagnostics_for(client, session, session.uri(a), lambda d: codes(d) == ["TD010"])
    open_doc(client, session.uri(b), tb, 1)
    change_doc(client, session.uri(b), 2, tb + "- [x] 3.1 The target ✅\n")
    await diagnostics_for(client, session, session.uri(a), lambda d: d == [])
    # and back: the target becomes pending → no error but the reference still resolves
    change_doc(client, session.uri(b), 3, tb)
    await diagnostics_for(client, session, session.uri(a), lambda d: codes(d) == ["TD010"])
    close_doc(client, session.uri(b))
    for rel in (a, b):
        session.path(rel).unlink()
        file_event(client, session.uri(rel), types.FileChangeType.Deleted)


async def test_droid_deleted_and_created_on_disk(client, session):
    """Deleting a droid file → TD020 in every task file naming it; a new droid file clears it."""
    main = session.uri("tasks/tasks-main.md")
    rel = ".factory/droids/test-writer.md"
    saved = session.text(rel)
    session.path(rel).unlink()
    file_event(client, session.uri(rel), types.FileChangeType.Deleted)
    diags = await diagnostics_for(client, session, main, lambda d: codes(d).count("TD020") == 2)
    assert codes(diags) == ["TD010", "TD020", "TD020"]
    session.path(rel).write_text(saved, encoding="utf-8")
    file_event(client, session.uri(rel), types.FileChangeType.Created)
    await diagnostics_for(client, session, main, lambda d: codes(d) == ["TD010"])

    # a brand-new droid file fixes TD020 in the other file
    other = session.uri("tasks/tasks-other.md")
    new = ".factory/droids/ghost-droid.md"
    session.path(new).write_text(DROID.format(name="ghost-droid"), encoding="utf-8")
    file_event(client, session.uri(new), types.FileChangeType.Created)
    await diagnostics_for(client, session, other, lambda d: d == [])
    session.path(new).unlink()
    file_event(client, session.uri(new), types.FileChangeType.Deleted)
    await diagnostics_for(client, session, other, lambda d: codes(d) == ["TD020"])


async def test_droid_file_diagnostics_and_dr007(client, session):
    rel = "droids/backend-dev.md"  # a second Factory-group droid with the same name
    session.path("droids").mkdir(exist_ok=True)
    session.path(rel).write_text(DROID.format(name="backend-dev"), encoding="utf-8")
    file_event(client, session.uri(rel), types.FileChangeType.Created)
    orig = session.uri(".factory/droids/backend-dev.md")
    diags = await diagnostics_for(client, session, orig, lambda d: "DR007" in codes(d))
    (d,) = [x for x in diags if x.code == "DR007"]
    assert d.related_information and d.related_information[0].location.uri == session.uri(rel)
    session.path(rel).unlink()
    file_event(client, session.uri(rel), types.FileChangeType.Deleted)
    await diagnostics_for(client, session, orig, lambda d: d == [])


async def test_missing_file_appears(client, session):
    """TD031 clears when the file a completed task names is created."""
    rel = "tasks/tasks-files.md"
    text = "# F\n\n## 1. A\n\n- [x] 1.1 Done ✅\n  - **Files**: src/new-file.ts\n"
    session.path(rel).write_text(text, encoding="utf-8")
    uri = session.uri(rel)
    file_event(client, uri, types.FileChangeType.Created)
    await diagnostics_for(client, session, uri, lambda d: codes(d) == ["TD031"])
    session.path("src/new-file.ts").write_text("x\n", encoding="utf-8")
    file_event(client, session.uri("src/new-file.ts"), types.FileChangeType.Created)
    await diagnostics_for(client, session, uri, lambda d: d == [])
    session.path(rel).unlink()
    file_event(client, uri, types.FileChangeType.Deleted)


async def test_push_versions(client, session):
    if session.pulls:
        pytest.skip("push clients only")
    rel = "tasks/tasks-version.md"
    uri = session.uri(rel)
    text = "# V\n\n## 1. A\n\n- [/] 1.1 Bad marker\n"

    async def next_publish(start: int) -> types.PublishDiagnosticsParams:
        for _ in range(200):
            for p in client.published[start:]:
                if p.uri == uri:
                    return p
            await asyncio.sleep(0.02)
        raise AssertionError("no publishDiagnostics")

    n = len(client.published)
    open_doc(client, uri, text, 7)
    p = await next_publish(n)
    assert p.version == 7 and codes(p.diagnostics) == ["TD001"]
    n = len(client.published)
    change_doc(client, uri, 8, text.replace("[/]", "[x]"))
    p = await next_publish(n)
    assert p.version == 8 and not p.diagnostics
    n = len(client.published)
    change_doc(client, uri, 9, text.replace("[/]", "[?]"))
    p = await next_publish(n)
    assert p.version == 9 and codes(p.diagnostics) == ["TD001"]
    n = len(client.published)
    close_doc(client, uri)  # not a file on disk: cleared
    p = await next_publish(n)
    assert p.version is None and not p.diagnostics


async def test_pull_result_ids_and_unchanged(client, session):
    if not session.pulls:
        pytest.skip("pull clients only")
    uri = session.uri("tasks/tasks-main.md")
    ident = types.TextDocumentIdentifier(uri=uri)
    first = await client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(text_document=ident)
    )
    assert first.kind == "full" and first.result_id
    again = await client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(text_document=ident, previous_result_id=first.result_id)
    )
    assert again.kind == "unchanged" and again.result_id == first.result_id
    # an edit that changes the diagnostics gives a new result id
    text = session.text("tasks/tasks-main.md")
    open_doc(client, uri, text, 1)
    change_doc(client, uri, 2, text.replace(", 9.9)", ")"))
    new = await client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(text_document=ident, previous_result_id=first.result_id)
    )
    assert new.kind == "full" and new.result_id != first.result_id and not new.items
    close_doc(client, uri)
    back = await diagnostics_for(client, session, uri, lambda d: codes(d) == ["TD010"])
    assert back


async def test_workspace_diagnostic(client, session):
    if not session.pulls:
        pytest.skip("pull clients only")
    report = await client.workspace_diagnostic_async(
        types.WorkspaceDiagnosticParams(previous_result_ids=[])
    )
    by_uri = {r.uri: r for r in report.items}
    main = by_uri[session.uri("tasks/tasks-main.md")]
    assert main.kind == "full" and codes(main.items) == ["TD010"]
    assert codes(by_uri[session.uri("tasks/tasks-other.md")].items) == ["TD020"]
    assert not by_uri[session.uri(".factory/droids/backend-dev.md")].items
    prev = [types.PreviousResultId(uri=r.uri, value=r.result_id) for r in report.items]
    again = await client.workspace_diagnostic_async(
        types.WorkspaceDiagnosticParams(previous_result_ids=prev)
    )
    assert {r.kind for r in again.items} == {"unchanged"}


async def test_refresh_requested_on_cross_file_change(client, session):
    if not session.pulls:
        pytest.skip("pull clients only")
    before = client.diagnostic_refresh_count
    rel = ".factory/droids/reviewer2.md"
    session.path(rel).write_text(DROID.format(name="reviewer2"), encoding="utf-8")
    file_event(client, session.uri(rel), types.FileChangeType.Created)
    for _ in range(100):
        if client.diagnostic_refresh_count > before:
            break
        await asyncio.sleep(0.03)
    # a new droid changes no task's diagnostics here, but the droid file itself is new
    assert client.diagnostic_refresh_count > before
    session.path(rel).unlink()
    file_event(client, session.uri(rel), types.FileChangeType.Deleted)
