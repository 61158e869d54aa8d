"""No run offered that must fail (docs/language.md §7, §8): a task naming an unknown droid gets no
run lens and no run action (its TD020 quick fixes stay); with no runner configured, "Configure
runner…" replaces the runs and ``taskdroid.configureRunner`` says where ``runner.command`` goes;
with a runner and a known droid, the run lens and action are as before. Lenses follow droid
changes with a ``workspace/codeLens/refresh``."""

from __future__ import annotations

import asyncio
import sys

import pytest
from editutil import Doc, code_actions, titled
from lsprotocol import types
from lsputil import custom_session, diagnostics_for, file_event, position_of
from pytest_lsp import LanguageClient
from test_codelens import lenses

pytestmark = pytest.mark.asyncio(loop_scope="session")

TASKS = (
    "# Gate\n"
    "\n"
    "## 8. Runs\n"
    "\n"
    "- [ ] 8.1 Build the API\n"
    "  - **Droid**: backend-dev\n"
    "- [ ] 8.2 Ghostly work\n"
    "  - **Droid**: ghost\n"
    "- [x] 8.3 Done ✅\n"
    "  - **Droid**: backend-dev\n"
)
RUNNER = {"runner": {"command": [sys.executable, "-c", "pass"]}}
CLIENTS = ["vscode", "neovim"]


async def actions_at(client: LanguageClient, session, doc: Doc, needle: str):
    pos = position_of(doc.text, needle, session.encoding)
    return await code_actions(client, doc, types.Range(start=pos, end=pos))


@pytest.mark.parametrize("name", CLIENTS)
async def test_runner_configured_known_droid_runs_unknown_droid_does_not(tmp_path_factory, name):
    async with custom_session(tmp_path_factory, name, options=RUNNER) as (
        client,
        session,
    ):
        doc = Doc.open(client, session.uri("tasks/tasks-gate.md"), TASKS)
        await diagnostics_for(client, session, doc.uri, lambda ds: len(ds) == 1)
        got = await lenses(client, doc.uri)
        uri = doc.uri
        assert got == [
            (2, "1/3 done, 0 blocked", "", None),
            (2, "▶ Run ready (1)", "taskdroid.runReady", [{"uri": uri, "section": 2}]),
            (4, "▶ Run backend-dev", "taskdroid.runTask", [{"uri": uri, "taskId": "8.1"}]),
            (
                4,
                "Start (→ in progress)",
                "taskdroid.setStatus",
                [{"uri": uri, "taskId": "8.1", "status": "in_progress"}],
            ),
            # 8.2 names no droid of the index: its status lens only
            (
                6,
                "Start (→ in progress)",
                "taskdroid.setStatus",
                [{"uri": uri, "taskId": "8.2", "status": "in_progress"}],
            ),
        ]
        known = await actions_at(client, session, doc, "Build")
        run = titled(known, "Run droid backend-dev on task 8.1")
        assert "taskdroid.runTask" in str(run.command)
        ghost = await actions_at(client, session, doc, "ghost")
        titles = [a.title for a in ghost]
        assert not any(t.startswith("Run droid") for t in titles), titles
        assert "Configure runner…" not in titles
        assert any(t.startswith("Create droid `ghost`") for t in titles), titles  # TD020's fix
        doc.close()


@pytest.mark.parametrize("name", CLIENTS)
async def test_no_runner_configure_instead_of_run(tmp_path_factory, tmp_path, name):
    xdg = tmp_path / "xdg"
    async with custom_session(tmp_path_factory, name, env={"XDG_CONFIG_HOME": str(xdg)}) as (
        client,
        session,
    ):
        doc = Doc.open(client, session.uri("tasks/tasks-gate.md"), TASKS)
        await diagnostics_for(client, session, doc.uri, lambda ds: len(ds) == 1)
        got = await lenses(client, doc.uri)
        uri = doc.uri
        configure = ("Configure runner…", "taskdroid.configureRunner", [{"uri": uri}])
        assert [g for g in got if g[2] != "taskdroid.setStatus"] == [
            (2, "1/3 done, 0 blocked", "", None),
            (2, *configure),
            (4, *configure),
        ]
        titles = [a.title for a in await actions_at(client, session, doc, "Build")]
        assert "Configure runner…" in titles
        assert not any(t.startswith("Run droid") for t in titles)
        ghost = [a.title for a in await actions_at(client, session, doc, "ghost")]
        assert "Configure runner…" not in ghost  # an unknown droid is fixed first

        result = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command="taskdroid.configureRunner", arguments=[{"uri": uri}]
            )
        )
        config = xdg / "taskdroid" / "config.toml"
        assert result["path"] == str(config)
        message = client.messages[-1].message
        assert "runner.command" in message and str(config) in message
        assert "initializationOptions" in message and "taskdroid.runner.command" in message
        shows = bool(session.caps.window and session.caps.window.show_document)
        assert result["created"] is shows and config.exists() is shows
        if shows:
            assert client.shown_documents[-1].uri.endswith("/taskdroid/config.toml")
            text = config.read_text()
            assert "# [runner]" in text and "\n[runner]" not in text  # nothing set yet
            again = await client.workspace_execute_command_async(
                types.ExecuteCommandParams(command="taskdroid.configureRunner", arguments=[])
            )
            assert again["created"] is False and config.read_text() == text
        doc.close()


async def test_lenses_follow_a_new_droid(tmp_path_factory):
    async with custom_session(tmp_path_factory, "vscode", options=RUNNER) as (
        client,
        session,
    ):
        doc = Doc.open(client, session.uri("tasks/tasks-gate.md"), TASKS)
        await diagnostics_for(client, session, doc.uri, lambda ds: len(ds) == 1)
        assert not any("ghost" in g[1] for g in await lenses(client, doc.uri))
        refreshes = client.code_lens_refreshes  # type: ignore[attr-defined]
        path = session.path(".factory/droids/ghost.md")
        path.write_text("---\nname: ghost\ndescription: Haunts.\n---\nBoo.\n", encoding="utf-8")
        file_event(client, session.uri(".factory/droids/ghost.md"), types.FileChangeType.Created)
        await diagnostics_for(client, session, doc.uri, lambda ds: len(ds) == 0)
        for _ in range(300):
            if client.code_lens_refreshes > refreshes:  # type: ignore[attr-defined]
                break
            await asyncio.sleep(0.01)
        assert client.code_lens_refreshes > refreshes  # type: ignore[attr-defined]
        got = await lenses(client, doc.uri)
        assert (6, "▶ Run ghost", "taskdroid.runTask", [{"uri": doc.uri, "taskId": "8.2"}]) in got
        assert (2, "▶ Run ready (2)", "taskdroid.runReady", [{"uri": doc.uri, "section": 2}]) in got
        doc.close()


async def test_lenses_follow_the_runner_setting(tmp_path_factory):
    async with custom_session(tmp_path_factory, "vscode", configuration={}) as (client, session):
        doc = Doc.open(client, session.uri("tasks/tasks-gate.md"), TASKS)
        await diagnostics_for(client, session, doc.uri, lambda ds: len(ds) == 1)
        assert (4, "Configure runner…") in [g[:2] for g in await lenses(client, doc.uri)]
        refreshes = client.code_lens_refreshes  # type: ignore[attr-defined]
        client.set_configuration(RUNNER, section="taskdroid")
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
        for _ in range(500):
            if client.code_lens_refreshes > refreshes:  # type: ignore[attr-defined]
                break
            await asyncio.sleep(0.01)
        assert client.code_lens_refreshes > refreshes  # type: ignore[attr-defined]
        got = [g[:2] for g in await lenses(client, doc.uri)]
        assert (4, "▶ Run backend-dev") in got and (4, "Configure runner…") not in got
        doc.close()
