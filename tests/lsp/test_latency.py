"""Latency as users get it (docs/architecture.md), with the server options a user gets by default.

Behaviour, not timings: a pull right after an edit reflects the edit (it never waits for the push
debounce); the first ``workspace/diagnostic`` answer covers every file even when the analysis is
slow (``TASKDROID_TEST_SLOW_ANALYSIS_MS``, a test-only knob that burns CPU in every file
analysis); refresh requests are coalesced; a push client gets a cross-file result that depends on
a file that arrived later.
"""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types
from lsputil import change_doc, codes, custom_session, diagnostics_for, file_event, open_doc

from taskdroid.lsp.diagnostics import SLOW_ANALYSIS_ENV

pytestmark = pytest.mark.e2e

TASKS = "# T\n\n## 1. A\n\n- [ ] 1.1 A\n  - **Dependencies**: {dep}\n- [ ] 1.2 B\n"
DROID = "---\nname: {name}\ndescription: A droid.\nmodel: inherit\n---\n\nDo the work.\n"


def _generated(n: int) -> dict[str, str]:
    """``n`` task files, each with one unknown dependency (TD010)."""
    return {f"tasks/tasks-gen-{i:03}.md": TASKS.format(dep="9.9") for i in range(n)}


async def _pull(client, uri: str) -> types.DocumentDiagnosticReport:
    return await asyncio.wait_for(
        client.text_document_diagnostic_async(
            types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri))
        ),
        5,
    )


async def test_pull_right_after_an_edit_reflects_it(tmp_path_factory):
    async with custom_session(tmp_path_factory, "vscode", defaults=True) as (client, session):
        assert session.pulls
        uri = session.uri("tasks/tasks-new.md")
        open_doc(client, uri, TASKS.format(dep="1.2"), 1)
        assert not (await _pull(client, uri)).items
        for v in range(2, 5):
            # 8.3, 8.33, …: IDs no task file of the workspace has (a sibling file's `1.3` would
            # resolve, §A3)
            change_doc(client, uri, v, TASKS.format(dep="8." + "3" * (v - 1)))
            report = await _pull(client, uri)  # no sleep: the pull comes right after the edit
            assert [d.code for d in report.items] == ["TD010"]
            assert "8." + "3" * (v - 1) in report.items[0].message
        change_doc(client, uri, 5, TASKS.format(dep="1.2"))
        assert not (await _pull(client, uri)).items


async def test_pull_never_waits_for_the_push_debounce(tmp_path_factory):
    """An expensive analysis during a burst of edits is debounced for pushing (here 60 s); a
    pull is still answered at once, with the last edit."""
    async with custom_session(
        tmp_path_factory,
        "vscode",
        defaults=True,
        options={"debounceMs": 60_000},
        env={SLOW_ANALYSIS_ENV: "30"},
    ) as (client, session):
        uri = session.uri("tasks/tasks-new.md")
        open_doc(client, uri, TASKS.format(dep="1.2"), 1)
        assert not (await _pull(client, uri)).items
        for v in range(2, 8):
            change_doc(client, uri, v, TASKS.format(dep="7." + str(v)))
        report = await _pull(client, uri)  # wait_for(5 s): far below the 60 s debounce
        assert [d.code for d in report.items] == ["TD010"]
        assert "7.7" in report.items[0].message


async def test_first_workspace_pull_is_complete(tmp_path_factory):
    """Pulled right after ``initialized``, while the (slowed) first analysis is still running:
    the answer holds every file of the workspace."""
    files = _generated(40)
    async with custom_session(
        tmp_path_factory,
        "vscode",
        defaults=True,
        files=files,
        wait=False,
        env={SLOW_ANALYSIS_ENV: "25"},
    ) as (client, session):
        token = "ws-pull"
        report = await asyncio.wait_for(
            client.workspace_diagnostic_async(
                types.WorkspaceDiagnosticParams(previous_result_ids=[], work_done_token=token)
            ),
            60,
        )
        by_uri = {item.uri: item for item in report.items}
        for rel in files:
            item = by_uri.get(session.uri(rel))
            assert item is not None, f"{rel} missing from the first workspace pull"
            assert codes(item.items) == ["TD010"]
        main = by_uri[session.uri("tasks/tasks-main.md")]
        assert codes(main.items) == ["TD010"]  # the fixture's own files too
        # later answers are incremental: nothing changed, so every report is "unchanged"
        previous = [
            types.PreviousResultId(uri=i.uri, value=i.result_id)
            for i in report.items
            if i.result_id is not None
        ]
        again = await client.workspace_diagnostic_async(
            types.WorkspaceDiagnosticParams(previous_result_ids=previous)
        )
        assert again.items and all(i.kind == "unchanged" for i in again.items)


async def test_refresh_requests_are_coalesced(tmp_path_factory):
    """Start-up of a workspace of 200 files, analysed slowly in many slices: the client is asked
    to re-pull a handful of times, not once per slice."""
    async with custom_session(
        tmp_path_factory,
        "vscode",
        defaults=True,
        files=_generated(200),
        wait=False,
        env={SLOW_ANALYSIS_ENV: "5"},
    ) as (client, _session):
        report = await asyncio.wait_for(
            client.workspace_diagnostic_async(types.WorkspaceDiagnosticParams(previous_result_ids=[])),
            120,
        )
        assert len(report.items) >= 200
        # a round trip after the answer: any refresh sent with it has arrived by now
        await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="zzz"))
        assert 1 <= client.diagnostic_refresh_count <= 3


async def test_push_client_gets_a_result_that_depends_on_a_later_file(tmp_path_factory):
    """DR007 on the first of two droid files with the same name, when the second arrives while
    the first analysis of the workspace is still running."""
    first = ".factory/droids/twin.md"
    files = {first: DROID.format(name="twin"), **_generated(30)}
    async with custom_session(
        tmp_path_factory,
        "push",
        defaults=True,
        files=files,
        wait=False,
        env={SLOW_ANALYSIS_ENV: "20"},
    ) as (client, session):
        second = "droids/twin.md"
        session.path(second).parent.mkdir(parents=True, exist_ok=True)
        session.path(second).write_text(DROID.format(name="twin"), encoding="utf-8")
        file_event(client, session.uri(second), types.FileChangeType.Created)
        diags = await diagnostics_for(
            client, session, session.uri(first), lambda d: "DR007" in codes(d), timeout=30
        )
        assert any(d.code == "DR007" for d in diags)
