"""Code lens: run and next-status lenses on tasks, done/total on sections, kept current as the
document changes (with ``workspace/codeLens/refresh`` for clients that support it)."""

from __future__ import annotations

import asyncio

import pytest
from editutil import Doc, apply_workspace_edit
from lsprotocol import types
from lsputil import diagnostics_for, range_of
from pytest_lsp import LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="session")

TASKS = (
    "# Lens 🚀\n"
    "\n"
    "## 1. Core 🚀 (HIGH)\n"
    "\n"
    "- [ ] 1.1 Build 🚀 the 日本語 API\n"
    "  - **Droid**: backend-dev\n"
    "- [~] 1.2 Wire it\n"
    "  - **Droid**: test-writer\n"
    "  - [x] 1.2.1 Sub ✅\n"
    "- [x] 1.3 Done ✅\n"
    "  - **Droid**: reviewer\n"
    "- [!] 1.4 Stuck ⚠️\n"
    "  - **Issue**: waiting\n"
    "- [ ] Untitled task without ID\n"
    "\n"
    "## 2. Empty section\n"
)


async def lenses(client: LanguageClient, uri: str) -> list[tuple[int, str, str, list | None]]:
    result = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    out = []
    for lens in result or []:
        assert lens.command is not None
        out.append(
            (
                lens.range.start.line,
                lens.command.title,
                lens.command.command,
                list(lens.command.arguments) if lens.command.arguments is not None else None,
            )
        )
    return sorted(out, key=lambda lens: lens[0])  # (stable: a line's lenses keep their order)


async def test_code_lens(client, session):
    doc = Doc.open(client, session.uri("tasks/tasks-lens.md"), TASKS)
    uri = doc.uri
    try:
        await diagnostics_for(client, session, uri)
        got = await lenses(client, uri)
        # no runner is configured in this session: "Configure runner…" where a run would be
        # (tests/lsp/test_runlens.py has the run lenses with a runner)
        run, status = "taskdroid.configureRunner", "taskdroid.setStatus"
        assert got == [
            (2, "2/6 done, 1 blocked", "", None),
            (2, "Configure runner…", run, [{"uri": uri}]),
            (4, "Configure runner…", run, [{"uri": uri}]),
            (
                4,
                "Start (→ in progress)",
                status,
                [{"uri": uri, "taskId": "1.1", "status": "in_progress"}],
            ),
            (6, "Configure runner…", run, [{"uri": uri}]),
            (
                6,
                "Complete (→ completed)",
                status,
                [{"uri": uri, "taskId": "1.2", "status": "completed"}],
            ),
            (
                11,
                "Resume (→ in progress)",
                status,
                [{"uri": uri, "taskId": "1.4", "status": "in_progress"}],
            ),
        ]
        # a section lens sits on the heading's title (after an emoji: exact in every encoding)
        result = await client.text_document_code_lens_async(
            types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        ranges = {lens.command.title: lens.range for lens in result}
        assert ranges["2/6 done, 1 blocked"] == range_of(
            doc.text, "1. Core 🚀 (HIGH)", session.encoding
        )
        assert ranges["Start (→ in progress)"] == range_of(doc.text, "[ ]", session.encoding)

        # a lens's command does what it says
        _, _, command, arguments = got[3]
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=command, arguments=arguments)
        )
        new = apply_workspace_edit({uri: doc.text}, session.applied[-1].edit, session.encoding)[uri]
        assert "- [~] 1.1 Build 🚀 the 日本語 API 🔄\n" in new
    finally:
        doc.close()


async def test_code_lens_follows_changes(client, session):
    doc = Doc.open(client, session.uri("tasks/tasks-lens-change.md"), TASKS)
    try:
        await diagnostics_for(client, session, doc.uri)
        assert len(await lenses(client, doc.uri)) == 7
        refreshes = client.code_lens_refreshes  # type: ignore[attr-defined]
        doc.change(TASKS.replace("- [ ] 1.1", "- [x] 1.1").replace("- [~] 1.2", "- [x] 1.2"))
        got = await lenses(client, doc.uri)
        assert [title for _, title, _, _ in got] == [
            "4/6 done, 1 blocked",
            "Resume (→ in progress)",
        ]
        if session.name == "vscode":  # refreshSupport: asked to re-request after the analysis
            for _ in range(200):
                if client.code_lens_refreshes > refreshes:  # type: ignore[attr-defined]
                    break
                await asyncio.sleep(0.01)
            assert client.code_lens_refreshes > refreshes  # type: ignore[attr-defined]
        else:
            await diagnostics_for(client, session, doc.uri)
            assert client.code_lens_refreshes == refreshes  # type: ignore[attr-defined]
    finally:
        doc.close()


async def test_code_lens_only_in_task_files(client, session):
    assert await lenses(client, session.uri(".factory/droids/backend-dev.md")) == []


async def test_code_lens_advertised(session):
    assert session.result.capabilities.code_lens_provider is not None
    provider = session.result.capabilities.code_action_provider
    assert isinstance(provider, types.CodeActionOptions) and provider.resolve_provider
