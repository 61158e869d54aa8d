"""An open editor and the MCP server writing the same task file (issue #15, point 3): the language
server keeps the editor's text (it never writes over it or edits it because the disk changed),
and picks up the MCP server's write as soon as the editor reloads the unmodified buffer from
disk (what editors do for a file changed on disk and not modified in them)."""

from __future__ import annotations

import sys
from pathlib import Path

from lsprotocol import types

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lsp"))

from lsputil import change_doc, close_doc, custom_session, diagnostics_for, file_event, open_doc

from taskdroid.mcp.tools import TaskTools

REL = "tasks/tasks-mcp.md"
TASKS = "# T\n\n## 1. Work (HIGH)\n\n- [ ] 1.1 First\n- [ ] 1.2 Second\n  - **Dependencies**: 1.1\n"


def td012(diags) -> bool:
    return any(d.code == "TD012" for d in diags)


async def test_a_write_by_the_mcp_server_reaches_an_open_unmodified_document(tmp_path_factory):
    async with custom_session(tmp_path_factory, "vscode", files={REL: TASKS}) as (client, session):
        uri = session.uri(REL)
        open_doc(client, uri, TASKS, version=1)  # open, unmodified
        assert not td012(await diagnostics_for(client, session, uri))
        tools = TaskTools(session.root, personal=False)
        # the MCP server sets 1.2 in progress on disk while 1.1 is pending: TD012 once seen
        assert tools.call("set_status", {"path": REL, "taskId": "1.2", "status": "in_progress"})
        disk = session.text(REL)
        assert "- [~] 1.2 Second 🔄" in disk
        file_event(client, uri, types.FileChangeType.Changed)
        # the language server neither edits the buffer nor writes the file because of it
        diags = await diagnostics_for(client, session, uri)
        assert not td012(diags)  # the buffer (still the old text) wins until the editor reloads
        assert session.applied == []
        assert session.text(REL) == disk
        # the editor reloads the unmodified buffer from disk: the server sees the MCP write
        change_doc(client, uri, 2, disk)
        await diagnostics_for(client, session, uri, td012)
        close_doc(client, uri)


async def test_unsaved_editor_text_is_never_overwritten_by_a_disk_write(tmp_path_factory):
    async with custom_session(tmp_path_factory, "vscode", files={REL: TASKS}) as (client, session):
        uri = session.uri(REL)
        typed = TASKS.replace("# T\n", "# T — typed, unsaved\n")
        open_doc(client, uri, TASKS, version=1)
        change_doc(client, uri, 2, typed)
        tools = TaskTools(session.root, personal=False)
        assert tools.call("set_status", {"path": REL, "taskId": "1.2", "status": "in_progress"})
        disk = session.text(REL)
        file_event(client, uri, types.FileChangeType.Changed)
        diags = await diagnostics_for(client, session, uri)
        assert not td012(diags)  # analysed from the unsaved buffer, not from the disk
        assert session.applied == []  # no edit sent to the buffer
        assert session.text(REL) == disk  # and the disk is left as the MCP server wrote it
        close_doc(client, uri)
