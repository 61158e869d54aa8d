"""``taskdroid.planTasks {uri?}`` over stdio (docs/language.md §11): the JSON of ``taskdroid plan --format
json`` with ``uri`` for ``path``, from the documents as the client sees them."""

from __future__ import annotations

import pytest
from editutil import Doc
from lsprotocol import types
from lsputil import diagnostics_for
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="session")

INVALID_PARAMS = -32602

PLAN = (
    "# Plan 🚀\n"
    "\n"
    "## 1. Core (HIGH)\n"
    "\n"
    "- [ ] 1.1 Build 🚀 the 日本語 API\n"
    "  - **Droid**: backend-dev\n"
    "  - **Files**: src/app.ts\n"
    "- [ ] 1.2 Test it\n"
    "  - **Dependencies**: 1.1\n"
    "- [ ] 1.3 Also touches the app\n"
    "  - **Files**: ./src/app.ts\n"
    "- [ ] 1.4 Waits on the docs\n"
    "  - **Dependencies**: tasks-main.md#2.1\n"
)


async def execute(client: LanguageClient, command: str, *arguments):
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=list(arguments))
    )


def task(uri: str, line: int, task_id: str, title: str, **extra) -> dict:
    return {
        "uri": uri,
        "line": line,
        "taskId": task_id,
        "title": title,
        "droid": extra.get("droid"),
        "ready": extra.get("ready", True),
        "files": extra.get("files", []),
        "dependencies": extra.get("dependencies", []),
    }


async def test_plan_tasks(client, session):
    doc = Doc.open(client, session.uri("tasks/tasks-cmd-plan.md"), PLAN)
    u = doc.uri
    try:
        await diagnostics_for(client, session, u)
        plan = await execute(client, "taskdroid.planTasks", {"uri": u})
        assert plan == {
            "waves": [
                [task(u, 5, "1.1", "Build 🚀 the 日本語 API", droid="backend-dev", files=["src/app.ts"])],
                [
                    task(u, 8, "1.2", "Test it", ready=False, dependencies=[f"{u}#1.1"]),
                    task(u, 10, "1.3", "Also touches the app", files=["./src/app.ts"]),
                ],
            ],
            "running": [],
            "unplannable": [
                {
                    "uri": u,
                    "line": 12,
                    "taskId": "1.4",
                    "reason": "depends on blocked task tasks/tasks-main.md#2.1",
                }
            ],
            "conflicts": [{"a": f"{u}#1.1", "b": f"{u}#1.3", "file": "src/app.ts"}],
            "criticalPath": [f"{u}#1.1", f"{u}#1.2"],
            "implicitEdges": [],
        }
        # the open document's text wins over the disk, and a change shows at once
        doc.change(PLAN.replace("- [ ] 1.1", "- [~] 1.1"))
        plan = await execute(client, "taskdroid.planTasks", {"uri": u})
        assert [t["taskId"] for t in plan["running"]] == ["1.1"]
        assert [[t["taskId"] for t in w] for w in plan["waves"]] == [["1.2", "1.3"]]
        assert plan["conflicts"] == []
        # the whole workspace (no argument, or an empty object), and a folder
        main = session.uri("tasks/tasks-main.md")
        for args in ([], [{}], [{"uri": session.uri("tasks")}]):
            everywhere = await execute(client, "taskdroid.planTasks", *args)
            planned = [(t["uri"], t["taskId"]) for w in everywhere["waves"] for t in w]
            assert (main, "1.3") in planned and (u, "1.2") in planned
            assert (main, "1.2") in [(t["uri"], t["taskId"]) for t in everywhere["running"]]
            assert {"uri": main, "line": 18, "taskId": "1.4",
                    "reason": "unknown dependency `9.9`: no task `9.9` in this file or the task files beside it"} \
                in everywhere["unplannable"]  # fmt: skip
    finally:
        doc.close()


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ([{"uri": 7}], "`uri`"),
        ([{"uri": "URI:nope"}], "no such file or folder"),
        ([{"uri": "https://example.com/tasks.md"}], "must be a file: URI"),
        ([{"folder": "x"}], "unknown argument `folder`"),
        (["tasks.md"], "expected one JSON object argument {uri?}, got a string"),
    ],
)
async def test_plan_tasks_invalid(client, session, arguments, expected):
    args = [{"uri": session.uri("nope")} if a == {"uri": "URI:nope"} else a for a in arguments]
    with pytest.raises(JsonRpcException) as info:
        await execute(client, "taskdroid.planTasks", *args)
    assert info.value.code == INVALID_PARAMS
    assert expected in info.value.message
    assert info.value.message.startswith("taskdroid.planTasks: ")


async def test_plan_tasks_advertised(session):
    provider = session.result.capabilities.execute_command_provider
    assert provider is not None and "taskdroid.planTasks" in provider.commands
