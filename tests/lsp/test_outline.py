"""``taskdroid.outline {uri?}`` over stdio (docs/language.md §15, the VS Code task view's data): task files →
sections → tasks with status, droid, dependency state and ranges in the client's encoding; and
the ``taskdroid/outlineChanged {uris}`` notification for clients that ask for it."""

from __future__ import annotations

import asyncio

import pytest
from editutil import Doc
from lsprotocol import types
from lsputil import CONFIG, capabilities, copy_workspace, diagnostics_for, range_of, start_session
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="session")

INVALID_PARAMS = -32602

TASKS = (
    "# View 🚀\n"
    "\n"
    "## 1. Core (HIGH)\n"
    "\n"
    "- [x] 1.1 **Build** the 🚀 `日本語` API ✅\n"
    "  - **Droid**: backend-dev\n"
    "- [ ] 1.2 Test 🚀 it\n"
    "  - **Droid**: nobody-knows\n"
    "  - **Dependencies**: 1.1\n"
    "- [ ] 1.3 After the test\n"
    "  - **Dependencies**: 1.2\n"
    "  - [~] 1.3.1 Part\n"
    "\n"
    "## 2. Later\n"
    "\n"
    "- [ ] 2.1 Waits on a blocked task\n"
    "  - **Dependencies**: tasks-main.md#2.1\n"
    "- [/] 2.2 Malformed\n"
)


async def execute(client: LanguageClient, command: str, *arguments):
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=list(arguments))
    )


def flat(tasks: list[dict]) -> dict[str, dict]:
    out = {}
    for t in tasks:
        out[t["id"]] = t
        out.update(flat(t["children"]))
    return out


async def test_outline_of_a_file(client, session):
    doc = Doc.open(client, session.uri("tasks/tasks-view.md"), TASKS)
    u = doc.uri
    try:
        await diagnostics_for(client, session, u)
        result = await execute(client, "taskdroid.outline", {"uri": u})
        assert [f["uri"] for f in result["files"]] == [u]
        f = result["files"][0]
        assert f["path"] == "tasks/tasks-view.md"
        assert (f["done"], f["total"]) == (1, 6)
        assert f["counts"] == {"pending": 3, "in_progress": 1, "completed": 1, "blocked": 0,
                               "cancelled": 0, "malformed": 1}  # fmt: skip
        assert [(s["title"], s["priority"], s["line"], s["done"], s["total"]) for s in f["sections"]] == [
            ("1. Core (HIGH)", "HIGH", 2, 1, 4),
            ("2. Later", None, 13, 0, 2),
        ]
        tasks = flat([t for s in f["sections"] for t in s["tasks"]])
        t11 = tasks["1.1"]
        assert t11["title"] == "Build the 🚀 日本語 API"  # plain text
        assert (t11["status"], t11["droid"], t11["droidResolves"]) == ("completed", "backend-dev", True)
        assert t11["dependency"] is None and t11["runId"] is None
        # the range covers the task's block, in the client's position encoding
        assert t11["line"] == 4
        end = range_of(TASKS, "  - **Droid**: backend-dev", session.encoding).end
        assert t11["range"] == {
            "start": {"line": 4, "character": 0},
            "end": {"line": end.line, "character": end.character},
        }
        t12 = tasks["1.2"]
        assert (t12["droid"], t12["droidResolves"]) == ("nobody-knows", False)
        assert t12["dependency"] == {"state": "ready", "on": [], "text": "ready"}
        assert tasks["1.3"]["dependency"] == {"state": "waiting", "on": ["1.2"], "text": "waiting on 1.2"}
        assert tasks["1.3.1"]["status"] == "in_progress"
        dep = tasks["2.1"]["dependency"]
        assert dep["state"] == "blocked" and dep["on"] == ["tasks-main.md#2.1"]
        assert "is blocked" in dep["text"]
        assert tasks["2.2"]["status"] == "malformed" and tasks["2.2"]["marker"] == "[/]"

        # the open document's text wins over the disk, and a change shows at once
        doc.change(TASKS.replace("- [ ] 1.2 Test", "- [x] 1.2 Test"))
        result = await execute(client, "taskdroid.outline", {"uri": u})
        tasks = flat([t for s in result["files"][0]["sections"] for t in s["tasks"]])
        assert tasks["1.2"]["status"] == "completed"
        assert tasks["1.3"]["dependency"]["state"] == "ready"
        assert result["files"][0]["done"] == 2

        # the whole workspace (no argument, or an empty object), and a folder
        main = session.uri("tasks/tasks-main.md")
        for args in ([], [{}], [{"uri": session.uri("tasks")}]):
            everywhere = await execute(client, "taskdroid.outline", *args)
            uris = [x["uri"] for x in everywhere["files"]]
            assert main in uris and u in uris and uris == sorted(uris)
    finally:
        doc.close()


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ([{"uri": 7}], "`uri`"),
        ([{"uri": "URI:nope"}], "no such file or folder"),
        ([{"uri": "https://example.com/tasks.md"}], "must be a file: URI"),
        ([{"all": True}], "unknown argument `all`"),
        (["tasks.md"], "expected one JSON object argument {uri?}, got a string"),
    ],
)
async def test_outline_invalid(client, session, arguments, expected):
    args = [{"uri": session.uri("nope")} if a == {"uri": "URI:nope"} else a for a in arguments]
    with pytest.raises(JsonRpcException) as info:
        await execute(client, "taskdroid.outline", *args)
    assert info.value.code == INVALID_PARAMS
    assert expected in info.value.message
    assert info.value.message.startswith("taskdroid.outline: ")


async def test_outline_advertised(session):
    provider = session.result.capabilities.execute_command_provider
    assert provider is not None and "taskdroid.outline" in provider.commands


async def _session(tmp_path_factory, name: str, opt_in: bool):
    root = copy_workspace(tmp_path_factory, name)
    client = await CONFIG.start()
    seen: list[list[str]] = []

    @client.feature("taskdroid/outlineChanged")
    def changed(params) -> None:
        uris = params["uris"] if isinstance(params, dict) else params.uris
        seen.append(list(uris))

    caps = capabilities("vscode")
    if opt_in:
        caps.experimental = {"taskdroidOutline": True}
    orig = capabilities
    import lsputil

    lsputil.capabilities = lambda _n: caps  # start_session takes the capabilities by name
    try:
        session = await start_session(client, "vscode", root)
    finally:
        lsputil.capabilities = orig
    return client, session, seen


async def _until(cond, seconds: float = 10.0) -> bool:
    for _ in range(int(seconds / 0.02)):
        if cond():
            return True
        await asyncio.sleep(0.02)
    return cond()


async def test_outline_changed_notification(tmp_path_factory):
    """A client that opts in hears which task files changed after an analysis — an edit in one
    file names that file and the files whose dependency state hangs on it."""
    client, session, seen = await _session(tmp_path_factory, "outline-notify", True)
    try:
        main = session.uri("tasks/tasks-main.md")
        other = session.uri("tasks/tasks-other.md")
        await execute(client, "taskdroid.outline", {})
        assert await _until(lambda: any(main in s for s in seen))  # the first analysis
        seen.clear()
        text = session.text("tasks/tasks-other.md")
        doc = Doc.open(client, other, text)
        doc.change(text.replace("- [x] 2.1", "- [ ] 2.1", 1) + "\n- [ ] 2.9 New\n")
        assert await _until(lambda: any(other in s for s in seen))
        # tasks-main.md depends on tasks-other.md#2.1: its dependency state may have changed
        assert await _until(lambda: any(main in s for s in seen))
        result = await execute(client, "taskdroid.outline", {"uri": other})
        ids = [t["id"] for s in result["files"][0]["sections"] for t in s["tasks"]]
        assert "2.9" in ids
        doc.close()
    finally:
        await asyncio.wait_for(client.shutdown_session(), 10)
        await client.stop()

    # a client that did not opt in hears nothing
    client, session, seen = await _session(tmp_path_factory, "outline-quiet", False)
    try:
        other = session.uri("tasks/tasks-other.md")
        text = session.text("tasks/tasks-other.md")
        doc = Doc.open(client, other, text)
        doc.change(text + "\n- [ ] 2.9 New\n")
        await diagnostics_for(client, session, other)
        await execute(client, "taskdroid.outline", {})
        assert seen == []
        doc.close()
    finally:
        await asyncio.wait_for(client.shutdown_session(), 10)
        await client.stop()
