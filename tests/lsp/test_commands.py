"""Commands: setStatus (versioned edit, the race with the user's typing), nextTasks,
createDroid, and the InvalidParams errors of each."""

from __future__ import annotations

import asyncio
import os

import pytest
from editutil import Doc, apply_workspace_edit, edits_of
from lsprotocol import types
from lsputil import change_doc, diagnostics_for
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="session")

INVALID_PARAMS = -32602

TASKS = (
    "# Cmd 🚀\n"
    "\n"
    "## 1. Core (HIGH)\n"
    "\n"
    "- [ ] 1.1 Build 🚀 the 日本語 API\n"
    "  - **Droid**: backend-dev\n"
    "- [ ] 1.2 Test it\n"
    "  - **Dependencies**: 1.1\n"
    "\n"
    "## 2. Later (LOW)\n"
    "\n"
    "- [ ] 2.1 Polish\n"
    "- [x] 2.2 Old ✅\n"
)


async def execute(client: LanguageClient, command: str, *arguments):
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=list(arguments))
    )


def _versioned(session) -> bool:
    we = session.caps.workspace.workspace_edit if session.caps.workspace else None
    return bool(we and (we.document_changes or we.resource_operations))


async def test_set_status(client, session):
    doc = Doc.open(client, session.uri("tasks/tasks-cmd-status.md"), TASKS)
    try:
        await diagnostics_for(client, session, doc.uri)
        before = len(session.applied)
        result = await execute(
            client, "taskdroid.setStatus", {"uri": doc.uri, "taskId": "1.1", "status": "completed"}
        )
        assert result == {"applied": True}
        assert len(session.applied) == before + 1
        edit = session.applied[-1].edit
        version, _ = edits_of(edit)[doc.uri]
        assert version == (doc.version if _versioned(session) else None)
        new = apply_workspace_edit({doc.uri: doc.text}, edit, session.encoding)[doc.uri]
        assert (
            "- [x] 1.1 Build 🚀 the 日本語 API ✅\n"
            "  - **Droid**: backend-dev\n"
            "  - **Completed**: 20"
        ) in new
        doc.change(new)

        # blocked with a note; `in-progress` spelling
        await execute(
            client,
            "taskdroid.setStatus",
            {"uri": doc.uri, "taskId": "1.2", "status": "blocked", "note": "waiting 🚧"},
        )
        new = apply_workspace_edit({doc.uri: doc.text}, session.applied[-1].edit, session.encoding)
        assert (
            "- [!] 1.2 Test it ⚠️\n  - **Dependencies**: 1.1\n  - **Issue**: waiting 🚧\n"
            in new[doc.uri]
        )
        # nothing to change: no edit sent
        before = len(session.applied)
        result = await execute(
            client, "taskdroid.setStatus", {"uri": doc.uri, "taskId": "2.1", "status": "pending"}
        )
        assert result == {"applied": True} and len(session.applied) == before
    finally:
        doc.close()


async def test_set_status_closed_file(client, session):
    """A document that is not open is edited from the file on disk, unversioned."""
    rel = "tasks/tasks-other.md"
    uri = session.uri(rel)
    text = session.text(rel)
    await execute(
        client, "taskdroid.setStatus", {"uri": uri, "taskId": "2.2", "status": "in_progress"}
    )
    edit = session.applied[-1].edit
    version, _ = edits_of(edit)[uri]
    assert version is None
    new = apply_workspace_edit({uri: text}, edit, session.encoding)[uri]
    assert "- [~] 2.2 Review 📝 the guide 🔄\n" in new
    assert "  - **In Progress**: Started 20" in new


async def test_set_status_race(client, session):
    """The user types between the command and the edit: the client rejects the versioned edit,
    and the server recomputes it from the new text and sends it once more."""
    if not _versioned(session):
        pytest.skip("clients that take versioned document changes")
    doc = Doc.open(client, session.uri("tasks/tasks-cmd-race.md"), TASKS)
    calls: list[types.ApplyWorkspaceEditParams] = []
    typed = "# Typed 🚀 meanwhile\n\n" + TASKS

    def hook(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        calls.append(params)
        if len(calls) == 1:
            (version, _) = edits_of(params.edit)[doc.uri]
            assert version == doc.version
            doc.version += 1
            doc.text = typed
            change_doc(client, doc.uri, doc.version, typed)  # arrives before the answer
            return types.ApplyWorkspaceEditResult(applied=False, failure_reason="version")
        return types.ApplyWorkspaceEditResult(applied=True)

    try:
        await diagnostics_for(client, session, doc.uri)
        client.apply_hook = hook  # type: ignore[attr-defined]
        result = await execute(
            client, "taskdroid.setStatus", {"uri": doc.uri, "taskId": "1.2", "status": "completed"}
        )
        assert result == {"applied": True}
        assert len(calls) == 2
        version, _ = edits_of(calls[1].edit)[doc.uri]
        assert version == doc.version
        new = apply_workspace_edit({doc.uri: typed}, calls[1].edit, session.encoding)[doc.uri]
        assert new.startswith("# Typed 🚀 meanwhile\n\n# Cmd 🚀\n")
        assert "- [x] 1.2 Test it ✅\n  - **Dependencies**: 1.1\n  - **Completed**: 20" in new

        # refused for another reason (the document did not change): not sent again
        calls.clear()
        client.apply_hook = lambda p: (  # type: ignore[attr-defined]
            calls.append(p) or types.ApplyWorkspaceEditResult(applied=False)
        )
        result = await execute(
            client, "taskdroid.setStatus", {"uri": doc.uri, "taskId": "2.1", "status": "blocked"}
        )
        assert result == {"applied": False} and len(calls) == 1
    finally:
        client.apply_hook = None  # type: ignore[attr-defined]
        doc.close()


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ([], "expected one JSON object argument {uri, taskId, status, note?}, got no arguments"),
        (["tasks.md", "1.1"], "got 2 arguments"),
        (["x"], "got a string"),
        ([{"uri": "URI", "status": "completed"}], "`taskId` is required"),
        ([{"uri": "URI", "taskId": "1.1", "status": "done"}], "unknown status `done`"),
        (
            [{"uri": "URI", "taskId": "1.1", "status": "completed", "force": True}],
            "unknown argument `force`",
        ),
        ([{"uri": "URI", "taskId": "9.9", "status": "completed"}], "no task `9.9` in this file"),
        ([{"uri": "URI", "taskId": "11", "status": "completed"}], "did you mean `1.1`"),
        ([{"uri": "untitled:Untitled-1", "taskId": "1.1", "status": "x"}], "unknown status"),
        (
            [{"uri": "untitled:Untitled-1", "taskId": "1.1", "status": "pending"}],
            "must be a file: URI",
        ),
        ([{"uri": "MISSING", "taskId": "1.1", "status": "pending"}], "no such file"),
    ],
)
async def test_set_status_invalid(client, session, arguments, expected):
    uri = session.uri("tasks/tasks-main.md")
    missing = session.uri("tasks/nope.md")
    args = [
        {k: (uri if v == "URI" else missing if v == "MISSING" else v) for k, v in a.items()}
        if isinstance(a, dict)
        else a
        for a in arguments
    ]
    with pytest.raises(JsonRpcException) as info:
        await execute(client, "taskdroid.setStatus", *args)
    assert info.value.code == INVALID_PARAMS
    assert expected in info.value.message
    assert info.value.message.startswith("taskdroid.setStatus: ")


async def test_next_tasks(client, session):
    doc = Doc.open(client, session.uri("tasks/tasks-cmd-next.md"), TASKS)
    try:
        await diagnostics_for(client, session, doc.uri)
        ready = await execute(client, "taskdroid.nextTasks", {"uri": doc.uri})
        assert ready == [
            {
                "uri": doc.uri,
                "taskId": "1.1",
                "title": "Build 🚀 the 日本語 API",
                "droid": "backend-dev",
                "priority": "HIGH",
                "line": 4,
            },
            {
                "uri": doc.uri,
                "taskId": "2.1",
                "title": "Polish",
                "droid": None,
                "priority": "LOW",
                "line": 11,
            },
        ]
        # the open document's text wins over the disk, and a change shows at once
        doc.change(TASKS.replace("- [ ] 1.1", "- [x] 1.1"))
        ready = await execute(client, "taskdroid.nextTasks", {"uri": doc.uri})
        assert [r["taskId"] for r in ready] == ["1.2", "2.1"]
        # the whole workspace (no argument, or an empty object), and a folder
        for args in ([], [{}]):
            everywhere = await execute(client, "taskdroid.nextTasks", *args)
            assert [(r["uri"], r["taskId"]) for r in everywhere] == [
                (doc.uri, "1.2"),  # HIGH
                (doc.uri, "2.1"),  # LOW, then by ID
                (session.uri("tasks/tasks-main.md"), "2.1.1"),
            ]
        folder = await execute(client, "taskdroid.nextTasks", {"uri": session.uri("tasks")})
        assert len(folder) == 3
        with pytest.raises(JsonRpcException) as info:
            await execute(client, "taskdroid.nextTasks", {"uri": 7})
        assert info.value.code == INVALID_PARAMS and "`uri`" in info.value.message
        with pytest.raises(JsonRpcException) as info:
            await execute(client, "taskdroid.nextTasks", {"uri": session.uri("nope")})
        assert "no such file or folder" in info.value.message
    finally:
        doc.close()


async def test_create_droid(client, session):
    name = f"created-{session.name}"
    path = session.path(f".factory/droids/{name}.md")
    uri = session.uri(f".factory/droids/{name}.md")
    tasks = Doc.open(
        client, session.uri("tasks/tasks-cmd-create.md"), f"- [ ] 1.1 A 🚀\n  - **Droid**: {name}\n"
    )
    try:
        await diagnostics_for(client, session, tasks.uri, lambda ds: len(ds) == 1)
        before = len(session.applied)
        result = await execute(client, "taskdroid.createDroid", {"name": name})
        assert result == {"uri": uri}
        if session.name in ("vscode", "neovim"):  # CreateFile through the client
            assert len(session.applied) == before + 1
            edit = session.applied[-1].edit
            create = edit.document_changes[0]
            assert isinstance(create, types.CreateFile) and create.uri == uri
            assert create.options is not None and not create.options.overwrite
            text = apply_workspace_edit({}, edit, session.encoding)[uri]
            assert not path.exists()
            path.write_text(text, encoding="utf-8")  # what the editor does
            assert client.shown_documents[-1].uri == uri
        else:  # on disk
            assert len(session.applied) == before
            text = path.read_text(encoding="utf-8")
        assert text.startswith(f"---\nname: {name}\ndescription: ")
        droid = Doc.open(client, uri, text)
        assert await diagnostics_for(client, session, uri) == []  # valid front matter, a body
        await diagnostics_for(client, session, tasks.uri, lambda ds: ds == [])  # TD020 is gone
        with pytest.raises(JsonRpcException) as info:
            await execute(client, "taskdroid.createDroid", {"name": name})
        assert info.value.code == INVALID_PARAMS and "already exists" in info.value.message
        os.remove(path)
        droid.close()
    finally:
        tasks.close()
        if path.exists():
            os.remove(path)


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ([{"name": "Bad Name"}], "`name`: `Bad Name` is not a valid droid name"),
        ([{"name": "good.md"}], "without `.md`: `good`"),
        ([{}], "`name` is required"),
        ([{"name": "ok", "folder": 3}], "`folder`: Input should be a valid string"),
        ([{"name": "ok", "folder": "untitled:x"}], "`folder` must be a file: URI"),
        (["ok"], "expected one JSON object argument {name, folder?}, got a string"),
    ],
)
async def test_create_droid_invalid(client, session, arguments, expected):
    with pytest.raises(JsonRpcException) as info:
        await execute(client, "taskdroid.createDroid", *arguments)
    assert info.value.code == INVALID_PARAMS
    assert expected in info.value.message


async def test_commands_advertised(session):
    provider = session.result.capabilities.execute_command_provider
    assert provider is not None
    assert {"taskdroid.setStatus", "taskdroid.nextTasks", "taskdroid.createDroid"} <= set(
        provider.commands
    )


@pytest.fixture
def no_apply_caps():
    return types.ClientCapabilities(
        workspace=types.WorkspaceClientCapabilities(apply_edit=False),
    )


async def test_write_on_disk_without_apply_edit(tmp_path_factory, no_apply_caps):
    from lsputil import BASE_OPTIONS, CONFIG, copy_workspace
    from pygls.uris import from_fs_path

    root = copy_workspace(tmp_path_factory, "noapply")
    client = await CONFIG.start()
    try:
        await client.initialize_session(
            types.InitializeParams(
                capabilities=no_apply_caps,
                workspace_folders=[types.WorkspaceFolder(uri=from_fs_path(str(root)), name="ws")],
                initialization_options=BASE_OPTIONS,
            )
        )
        uri = from_fs_path(str(root / "tasks/tasks-other.md"))
        result = await asyncio.wait_for(
            execute(
                client, "taskdroid.setStatus", {"uri": uri, "taskId": "2.2", "status": "blocked"}
            ),
            20,
        )
        assert result == {"applied": True}
        text = (root / "tasks/tasks-other.md").read_text(encoding="utf-8")
        assert "- [!] 2.2 Review 📝 the guide ⚠️\n" in text
        assert "  - **Issue**: (describe what blocks this task)" in text
        ready = await execute(client, "taskdroid.nextTasks", {})
        assert [r["taskId"] for r in ready] == ["2.1.1"]  # re-indexed
    finally:
        await asyncio.wait_for(client.shutdown_session(), 10)
        await client.stop()
