"""The requirements of the Tasks view over stdio (docs/language.md §15, §13): ``taskdroid.outline``
lists, under the task file of a Kiro or spec-kit spec folder, its requirements file with each
requirement's state and tasks (the coverage ``taskdroid coverage`` prints), and
``taskdroid/outlineChanged`` names that task file when requirements.md changes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import lsputil
import pytest
from lsprotocol import types
from lsputil import change_doc, custom_session, diagnostics_for, open_doc
from pytest_lsp import LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="session")

SRC = Path(__file__).parent.parent / "fixtures" / "requirements"
KIRO = "kiro/.kiro/specs/user-auth/"
SK = "speckit/specs/001-photo-albums/"
BILL = "kiro/.kiro/specs/billing/"


async def execute(client: LanguageClient, command: str, *arguments):
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=list(arguments))
    )


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.split("\n")) if needle in line)


async def _until(cond, seconds: float = 10.0) -> bool:
    for _ in range(int(seconds / 0.02)):
        if cond():
            return True
        await asyncio.sleep(0.02)
    return cond()


async def test_outline_lists_the_requirements_of_a_spec_folder(tmp_path_factory, monkeypatch):
    caps = lsputil.capabilities("vscode")
    caps.experimental = {"taskdroidOutline": True}
    monkeypatch.setattr(lsputil, "capabilities", lambda _name: caps)
    files = {
        "tasks/tasks-plain.md": "# Plain\n\n- [ ] 8.1 Outside any spec folder\n",
        # a spec folder with two task files: its requirements show under the first (path order)
        BILL
        + "requirements.md": "# Requirements\n\n### Requirement 1: Invoices\n\n1. WHEN x THEN y\n",
        BILL + "tasks.md": "# Plan\n\n- [ ] 8.1 Invoice model\n  - _Requirements: 1.1_\n",
        BILL + "tasks-extra.md": "# Extra\n\n- [ ] 8.2 Nothing required\n",
    }
    async with custom_session(tmp_path_factory, "outline-req", src=SRC, files=files) as (
        client,
        session,
    ):
        seen: list[list[str]] = []

        @client.feature("taskdroid/outlineChanged")
        def changed(params) -> None:
            seen.append(list(params["uris"] if isinstance(params, dict) else params.uris))

        tasks_uri, req_uri = session.uri(KIRO + "tasks.md"), session.uri(KIRO + "requirements.md")
        tasks, req = session.text(KIRO + "tasks.md"), session.text(KIRO + "requirements.md")

        result = await execute(client, "taskdroid.outline", {"uri": tasks_uri})
        (f,) = result["files"]
        (rf,) = f["requirements"]
        assert rf["uri"] == req_uri
        assert rf["path"] == KIRO + "requirements.md"
        assert (rf["flavor"], rf["total"], rf["covered"], rf["done"]) == ("kiro", 4, 3, 0)
        items = {i["requirement"]: i for i in rf["items"]}
        assert [(i["requirement"], i["state"]) for i in rf["items"]] == [
            ("1", "covered"), ("2", "covered"), ("3", "covered"), ("4", "uncovered"),
        ]  # fmt: skip
        r1 = items["1"]
        assert (r1["kind"], r1["label"], r1["line"]) == (
            "requirement",
            "Requirement 1",
            line_of(req, "### Requirement 1"),
        )
        # the tasks naming it or one of its criteria, with status and line in tasks.md (0-based)
        assert [(t["ref"], t["id"], t["status"], t["uri"]) for t in r1["tasks"]] == [
            ("1", "1", "completed", tasks_uri),
            ("2.1", "2.1", "completed", tasks_uri),
            ("2.2", "2.2", "pending", tasks_uri),
        ]
        assert r1["done"] == 2
        assert r1["tasks"][1]["line"] == line_of(tasks, "2.1 (P) Registration endpoint")
        assert r1["tasks"][1]["title"] == "(P) Registration endpoint"  # as the task view shows it
        assert [(c["requirement"], c["state"]) for c in r1["criteria"]] == [
            ("1.1", "done"), ("1.2", "covered"), ("1.3", "covered"),
        ]  # fmt: skip
        assert items["2"]["title"] == "Sign in"
        assert items["4"]["tasks"] == [] and items["4"]["criteria"][0]["state"] == "uncovered"

        # the same rows as `taskdroid coverage`: the whole workspace's outline carries them too,
        # spec-kit's spec.md included; a task file outside a spec folder has none
        everything = {
            x["uri"]: x for x in (await execute(client, "taskdroid.outline", {}))["files"]
        }
        assert everything[tasks_uri]["requirements"] == f["requirements"]
        assert everything[session.uri("tasks/tasks-plain.md")]["requirements"] == []
        (sk,) = everything[session.uri(SK + "tasks.md")]["requirements"]
        assert sk["uri"] == session.uri(SK + "spec.md") and sk["flavor"] == "speckit"
        assert [(i["requirement"], i["state"]) for i in sk["items"]] == [
            ("US1", "done"), ("US2", "covered"), ("US3", "uncovered"),
            ("FR-001", "done"), ("FR-002", "uncovered"), ("FR-003", "covered"), ("FR-004", "done"),
        ]  # fmt: skip
        assert (sk["total"], sk["covered"], sk["done"]) == (7, 5, 3)

        # a task completed in the open tasks.md: Requirement 1 is done, at once
        open_doc(client, tasks_uri, tasks)
        change_doc(client, tasks_uri, 2, tasks.replace("- [ ] 2.2 (P)", "- [x] 2.2 (P)"))
        result = await execute(client, "taskdroid.outline", {"uri": tasks_uri})
        rf = result["files"][0]["requirements"][0]
        assert rf["items"][0]["state"] == "done" and rf["done"] == 1

        # a new requirement in requirements.md: the notification names the task file (whose
        # outline shows the requirements), and the outline lists it, uncovered
        await diagnostics_for(client, session, tasks_uri)
        seen.clear()
        open_doc(client, req_uri, req)
        change_doc(client, req_uri, 2, req + "\n### Requirement 5: Export\n\n1. WHEN x THEN y\n")
        assert await _until(lambda: any(tasks_uri in s for s in seen)), seen
        assert not any(req_uri in s for s in seen)  # not a task file: its task file stands for it
        result = await execute(client, "taskdroid.outline", {"uri": tasks_uri})
        rf = result["files"][0]["requirements"][0]
        assert (rf["total"], rf["items"][-1]["requirement"], rf["items"][-1]["state"]) == (
            5,
            "5",
            "uncovered",
        )

        # two task files in one spec folder: the requirements are listed once, under the first;
        # an edit of the other one names the first in the notification (its coverage changed)
        bill, extra = session.uri(BILL + "tasks.md"), session.uri(BILL + "tasks-extra.md")
        result = await execute(client, "taskdroid.outline", {"uri": session.uri(BILL[:-1])})
        by_uri = {x["uri"]: x for x in result["files"]}
        assert by_uri[bill]["requirements"] == []
        assert [i["state"] for i in by_uri[extra]["requirements"][0]["items"]] == ["covered"]
        seen.clear()
        text = session.text(BILL + "tasks.md")
        open_doc(client, bill, text)
        change_doc(client, bill, 2, text.replace("- [ ] 8.1", "- [x] 8.1"))
        assert await _until(lambda: any(extra in s for s in seen)), seen
        result = await execute(client, "taskdroid.outline", {"uri": extra})
        assert [i["state"] for i in result["files"][0]["requirements"][0]["items"]] == ["done"]
