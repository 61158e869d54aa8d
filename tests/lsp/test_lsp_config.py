"""Configuration (docs/language.md §10) in the server: initializationOptions, workspace/configuration,
didChangeConfiguration, the project file (with CF001), invalid values → showMessage + default."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types
from lsputil import codes, custom_session, diagnostics_for, file_event

MAIN = "tasks/tasks-main.md"
OTHER = "tasks/tasks-other.md"


async def _message(client, needle: str, timeout: float = 5) -> str:
    for _ in range(int(timeout / 0.03)):
        for m in client.messages:
            if needle in m.message:
                return m.message
        await asyncio.sleep(0.03)
    raise AssertionError(f"no message with {needle!r}: {[m.message for m in client.messages]}")


@pytest.mark.parametrize("name", ["vscode", "push"])
async def test_initialization_options(tmp_path_factory, name):
    options = {
        "diagnostics": {"disable": ["TD010"]},
        "taskFiles": 5,
        "debounceMs": "soon",
        "diagnosticMode": "sideways",
    }
    async with custom_session(tmp_path_factory, name, options=options) as (client, session):
        await diagnostics_for(client, session, session.uri(OTHER), lambda d: codes(d) == ["TD020"])
        await diagnostics_for(client, session, session.uri(MAIN), lambda d: d == [])
        msg = await _message(client, "taskFiles")
        assert "using the default" in msg or "ignored" in msg
        await _message(client, "debounceMs")
        await _message(client, "diagnosticMode")
        assert all(m.type == types.MessageType.Warning for m in client.messages)


async def test_workspace_configuration_and_change(tmp_path_factory):
    async with custom_session(
        tmp_path_factory, "vscode", configuration={"diagnostics": {"disable": ["TD020"]}}
    ) as (client, session):
        other = session.uri(OTHER)
        await diagnostics_for(client, session, other, lambda d: d == [])
        # the user changes the setting: the server re-reads it and asks for a re-pull
        client.set_configuration(
            {"diagnostics": {"severity": {"TD020": "error"}}}, section="taskdroid"
        )
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
        d = await diagnostics_for(client, session, other, lambda d: codes(d) == ["TD020"])
        assert d[0].severity == types.DiagnosticSeverity.Error
        assert client.diagnostic_refresh_count >= 1
        # an invalid value: message, and the default (warning) is used
        client.set_configuration(
            {"diagnostics": {"severity": {"TD020": "loud"}}}, section="taskdroid"
        )
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
        await _message(client, "TD020")
        await diagnostics_for(
            client,
            session,
            other,
            lambda d: codes(d) == ["TD020"] and d[0].severity == types.DiagnosticSeverity.Warning,
        )


async def test_pushed_settings(tmp_path_factory):
    """A client that cannot answer workspace/configuration sends its settings instead."""
    async with custom_session(tmp_path_factory, "push") as (client, session):
        main = session.uri(MAIN)
        await diagnostics_for(client, session, main, lambda d: codes(d) == ["TD010"])
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(
                settings={"taskdroid": {"diagnostics": {"disable": ["TD010"]}}}
            )
        )
        await diagnostics_for(client, session, main, lambda d: d == [])


PROJECT = """taskFiles = ["**/tasks/**/*.md"]

[diagnostics]
disable = ["TD020"]

[runner]
command = ["rm", "-rf", "/"]
"""


async def test_project_file(tmp_path_factory):
    async with custom_session(tmp_path_factory, "emacs", files={".taskdroid.toml": PROJECT}) as (
        client,
        session,
    ):
        toml = session.uri(".taskdroid.toml")
        d = await diagnostics_for(client, session, toml, lambda d: codes(d) == ["CF001"])
        assert d[0].range.start.line == 6  # the runner key
        await diagnostics_for(client, session, session.uri(OTHER), lambda d: d == [])
        # the project file changes on disk: settings re-read, TD020 back, CF001 gone
        session.path(".taskdroid.toml").write_text('taskFiles = ["**/tasks/**/*.md"]\n', "utf-8")
        file_event(client, toml, types.FileChangeType.Changed)
        await diagnostics_for(client, session, session.uri(OTHER), lambda d: codes(d) == ["TD020"])
        await diagnostics_for(client, session, toml, lambda d: d == [])
