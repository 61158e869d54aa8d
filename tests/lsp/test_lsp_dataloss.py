"""No data loss in the language server's edits (issue #7).

* a closed file written by the server (a client without ``workspace/applyEdit``) while another
  program writes it: their change survives, the status change is written or refused
  (``{"applied": false}``), never half of each — deterministic races through
  ``core/fsio.race_hook`` (in process), then a real server against appending processes;
* an open document: the edit goes to the buffer (versioned), never to the disk, even when the
  file on disk changed meanwhile; a buffer edit racing the user's typing (``didChange`` between
  the server's computing the edit and the client's applying it) is recomputed, and abandoned —
  the user's text intact — when the user keeps typing.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from editutil import apply_workspace_edit, edits_of
from lsprotocol import types
from lsputil import (
    BASE_OPTIONS,
    CONFIG,
    change_doc,
    close_doc,
    copy_workspace,
    custom_session,
    open_doc,
)
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig

from taskdroid.core import fsio
from taskdroid.lsp.editing import _replace_file

N_TASKS = 8
TASKS = "# Race\n\n## 1. Work (HIGH)\n\n" + "".join(
    f"- [ ] 1.{i} Task number {i} 日本語 🚀\n  - **Droid**: backend-dev\n"
    for i in range(1, N_TASKS + 1)
)
REL = "tasks/tasks-race.md"


def done(i: int) -> str:
    return (
        f"- [x] 1.{i} Task number {i} 日本語 🚀 ✅\n  - **Droid**: backend-dev\n  - **Completed**: "
    )


def pending(i: int) -> str:
    return f"- [ ] 1.{i} Task number {i} 日本語 🚀\n  - **Droid**: backend-dev\n"


async def execute(client, command: str, *arguments):
    return await asyncio.wait_for(
        client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=command, arguments=list(arguments))
        ),
        30,
    )


# -- the disk path, in process: deterministic races ------------------------------------------------


@pytest.fixture
def task_path(tmp_path: Path) -> Path:
    path = tmp_path / "tasks.md"
    path.write_text(TASKS, encoding="utf-8")
    return path


def _hook(stage: str, action):
    fired = []

    def hook(at: str, path: str) -> None:
        if at == stage and not fired:
            fired.append(at)
            action(path)

    return hook


NEW = TASKS.replace("- [ ] 1.2 Task number 2 日本語 🚀", "- [x] 1.2 Task number 2 日本語 🚀 ✅")


def _append_line(path: str) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("- appended\n")


@pytest.mark.parametrize("stage", ["checked", "swapped"])
def test_replace_file_keeps_lines_appended_during_the_write(task_path, stage, monkeypatch):
    handle = {}
    if stage == "checked":
        action = _hook("checked", _append_line)
    else:  # written through a descriptor opened before the swap

        def action(at: str, path: str) -> None:
            if at == "checked":
                handle["fh"] = open(path, "a", encoding="utf-8")  # noqa: SIM115
            else:
                handle["fh"].write("- appended\n")
                handle["fh"].close()

    monkeypatch.setattr(fsio, "race_hook", action)
    assert _replace_file(str(task_path), TASKS, NEW)
    assert task_path.read_text(encoding="utf-8") == NEW + "- appended\n"
    assert [p.name for p in task_path.parent.iterdir()] == ["tasks.md"]


@pytest.mark.parametrize("stage", ["checked", "swapped"])
def test_replace_file_gives_way_to_a_rewrite_during_the_write(task_path, stage, monkeypatch):
    theirs = TASKS.replace("# Race", "# Race (edited in another editor)")
    handle = {}

    def action(at: str, path: str) -> None:
        if at == "checked":
            handle["fh"] = open(path, "r+", encoding="utf-8")  # noqa: SIM115
        if at == stage:
            fh = handle["fh"]
            fh.seek(0)
            fh.write(theirs)
            fh.close()

    monkeypatch.setattr(fsio, "race_hook", action)
    assert not _replace_file(str(task_path), TASKS, NEW)
    assert task_path.read_text(encoding="utf-8") == theirs
    assert [p.name for p in task_path.parent.iterdir()] == ["tasks.md"]


def test_replace_file_reads_again_before_writing(task_path):
    """The text the edit was computed from is compared with the file right before the write:
    text appended since is kept after the edit, anything else refuses the write."""
    task_path.write_text(TASKS + "- appended\n", encoding="utf-8")
    assert _replace_file(str(task_path), TASKS, NEW)
    assert task_path.read_text(encoding="utf-8") == NEW + "- appended\n"
    task_path.write_text("# Rewritten\n" + TASKS, encoding="utf-8")
    assert not _replace_file(str(task_path), TASKS, NEW)
    assert task_path.read_text(encoding="utf-8") == "# Rewritten\n" + TASKS


def test_replace_file_keeps_a_byte_order_mark(task_path):
    task_path.write_bytes(b"\xef\xbb\xbf" + TASKS.encode())
    assert _replace_file(str(task_path), TASKS, NEW)
    assert task_path.read_bytes() == b"\xef\xbb\xbf" + NEW.encode()


# -- a real server without applyEdit, other processes appending ----------------------------------

APPENDER = textwrap.dedent("""
    import os, sys, time
    path, tag, stop = sys.argv[1], sys.argv[2], sys.argv[3]
    i = 0
    while not os.path.exists(stop) or i < 100:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"<!-- {tag} line {i} -->\\n")
        i += 1
        time.sleep(0.001)
    print(i, flush=True)
""")

#: the server with the race windows widened (10 ms after the check and after the swap), so that
#: the appenders surely write into them
WIDENED_SERVER = textwrap.dedent("""
    import sys, time
    from taskdroid.core import fsio
    fsio.race_hook = lambda at, path: time.sleep(0.01)
    from taskdroid.cli import main
    sys.exit(main(["lsp"]))
""")


@contextlib.asynccontextmanager
async def no_apply_edit_server(tmp_path_factory, command: list[str]):
    root = copy_workspace(tmp_path_factory, "dataloss")
    (root / REL).write_text(TASKS, encoding="utf-8")
    config = ClientServerConfig(
        server_command=command,
        server_env=CONFIG.server_env,
        client_factory=CONFIG.client_factory,
    )
    client = await config.start()
    try:
        await client.initialize_session(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(
                    workspace=types.WorkspaceClientCapabilities(apply_edit=False)
                ),
                workspace_folders=[types.WorkspaceFolder(uri=from_fs_path(str(root)), name="ws")],
                initialization_options=BASE_OPTIONS,
            )
        )
        yield client, root
    finally:
        try:
            await asyncio.wait_for(client.shutdown_session(), 10)
        finally:
            await client.stop()


async def test_server_writing_a_closed_file_while_other_processes_append(tmp_path_factory):
    async with no_apply_edit_server(tmp_path_factory, [sys.executable, "-c", WIDENED_SERVER]) as (
        client,
        root,
    ):
        path = root / REL
        uri = from_fs_path(str(path))
        stop = root / "stop-appending"
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", APPENDER, str(path), f"w{k}", str(stop)],
                stdout=subprocess.PIPE,
                text=True,
            )
            for k in range(2)
        ]
        applied = {}
        try:
            await asyncio.sleep(0.2)
            for i in range(1, N_TASKS + 1):
                result = await execute(
                    client,
                    "taskdroid.setStatus",
                    {"uri": uri, "taskId": f"1.{i}", "status": "completed"},
                )
                applied[i] = result["applied"]
        finally:
            stop.touch()
            counts = [int(p.communicate(timeout=60)[0]) for p in procs]
    text = path.read_text(encoding="utf-8")
    for k, count in enumerate(counts):
        for n in range(count):
            assert text.count(f"<!-- w{k} line {n} -->\n") == 1, (k, n)
    assert text.count("<!-- w") == sum(counts)
    for i, ok in applied.items():
        assert (done(i) if ok else pending(i)) in text, (i, ok)
    assert text.count("**Completed**") == sum(applied.values())
    assert any(applied.values())  # appended text does not refuse the edit
    assert sorted(p.name for p in path.parent.iterdir()) == sorted(
        ["tasks-main.md", "tasks-other.md", "tasks-race.md"]
    )


async def test_open_document_is_never_written_on_disk(tmp_path_factory):
    """A client without applyEdit, the document open with unsaved changes, the file on disk
    changed by another program: the server cannot edit the buffer, and leaves the disk alone."""
    async with no_apply_edit_server(tmp_path_factory, CONFIG.server_command) as (client, root):
        path = root / REL
        uri = from_fs_path(str(path))
        open_doc(client, uri, TASKS.replace("# Race", "# Race (unsaved)"))
        path.write_text(TASKS + "- [ ] 9.9 added on disk\n", encoding="utf-8")
        before = path.stat()
        result = await execute(
            client, "taskdroid.setStatus", {"uri": uri, "taskId": "1.1", "status": "completed"}
        )
        assert result == {"applied": False}
        assert path.read_text(encoding="utf-8") == TASKS + "- [ ] 9.9 added on disk\n"
        assert path.stat().st_mtime_ns == before.st_mtime_ns
        close_doc(client, uri)


# -- open documents: the buffer wins ---------------------------------------------------------------


async def test_edit_goes_to_the_buffer_not_to_the_changed_file(tmp_path_factory):
    """The document is open with unsaved typing; the file on disk is rewritten meanwhile (a
    `git checkout`, another editor). The edit is computed from the buffer, sent versioned, and
    the disk is not touched."""
    async with custom_session(tmp_path_factory, "vscode", files={REL: TASKS}) as (client, session):
        uri = session.uri(REL)
        buffer = TASKS.replace("# Race", "# Race — typed, unsaved")
        open_doc(client, uri, buffer, version=3)
        disk = "# Something else entirely\n\n- [ ] 1.1 Other\n"
        session.path(REL).write_text(disk, encoding="utf-8")
        client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[types.FileEvent(uri=uri, type=types.FileChangeType.Changed)]
            )
        )
        result = await execute(
            client, "taskdroid.setStatus", {"uri": uri, "taskId": "1.3", "status": "completed"}
        )
        assert result == {"applied": True}
        edit = session.applied[-1].edit
        version, _ = edits_of(edit)[uri]
        assert version == 3
        new = apply_workspace_edit({uri: buffer}, edit, session.encoding)[uri]
        assert new.startswith("# Race — typed, unsaved\n")
        assert done(3) in new
        assert session.path(REL).read_text(encoding="utf-8") == disk
        close_doc(client, uri)


async def test_buffer_edit_racing_the_users_typing(tmp_path_factory):
    """The user types on the very line of the task between the server's computing the edit and
    the client's applying it: the client rejects the stale (versioned) edit, the server
    recomputes it from the new text — both the typing and the status change are there. When the
    user types again before the second edit arrives, the server gives up: the user's text is
    intact and the command answers applied: false."""
    async with custom_session(tmp_path_factory, "vscode", files={REL: TASKS}) as (client, session):
        uri = session.uri(REL)
        doc = {"text": TASKS, "version": 1}
        open_doc(client, uri, TASKS)
        typed = [
            TASKS.replace("Task number 4 日本語", "Task number 4 (renamed) 日本語"),
            TASKS.replace("Task number 4 日本語", "Task number 4 (renamed twice) 日本語"),
        ]
        calls: list[types.ApplyWorkspaceEditParams] = []
        keep_typing = {"times": 1}

        def hook(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
            calls.append(params)
            version, _ = edits_of(params.edit)[uri]
            if version != doc["version"]:
                return types.ApplyWorkspaceEditResult(applied=False, failure_reason="version")
            if keep_typing["times"] > 0:  # the user's keystroke arrives first
                keep_typing["times"] -= 1
                doc["version"] += 1
                doc["text"] = typed[len(calls) - 1]
                change_doc(client, uri, doc["version"], doc["text"])
                return types.ApplyWorkspaceEditResult(applied=False, failure_reason="version")
            doc["text"] = apply_workspace_edit({uri: doc["text"]}, params.edit, session.encoding)[
                uri
            ]
            doc["version"] += 1
            change_doc(client, uri, doc["version"], doc["text"])
            return types.ApplyWorkspaceEditResult(applied=True)

        client.apply_hook = hook  # type: ignore[attr-defined]
        try:
            result = await execute(
                client, "taskdroid.setStatus", {"uri": uri, "taskId": "1.4", "status": "completed"}
            )
            assert result == {"applied": True} and len(calls) == 2
            assert "- [x] 1.4 Task number 4 (renamed) 日本語 🚀 ✅\n" in doc["text"]
            assert doc["text"].count("**Completed**") == 1

            # the user keeps typing: two rejections, the server stops; nothing of ours applied
            calls.clear()
            keep_typing["times"] = 2
            base = doc["text"]
            typed[:] = [
                base.replace("Task number 5", "Task number 5 (a)"),
                base.replace("Task number 5", "Task number 5 (ab)"),
            ]
            result = await execute(
                client, "taskdroid.setStatus", {"uri": uri, "taskId": "1.5", "status": "blocked"}
            )
            assert result == {"applied": False} and len(calls) == 2
            assert doc["text"] == typed[1]
            assert session.path(REL).read_text(encoding="utf-8") == TASKS  # disk untouched
        finally:
            client.apply_hook = None  # type: ignore[attr-defined]
            close_doc(client, uri)


async def test_many_edits_interleaved_with_typing_lose_nothing(tmp_path_factory):
    """Status changes of every task while the user appends a line before each answer: at the end
    the buffer has every typed line and every status change (or the command said it was not
    applied and the task is unchanged)."""
    async with custom_session(tmp_path_factory, "vscode", files={REL: TASKS}) as (client, session):
        uri = session.uri(REL)
        doc = {"text": TASKS, "version": 1}
        open_doc(client, uri, TASKS)
        typed_lines: list[str] = []

        def hook(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
            version, _ = edits_of(params.edit)[uri]
            if version != doc["version"]:
                return types.ApplyWorkspaceEditResult(applied=False, failure_reason="version")
            if len(typed_lines) % 3 != 2:  # most of the time, the user typed first
                line = f"<!-- typed {len(typed_lines)} -->\n"
                typed_lines.append(line)
                doc["text"] = line + doc["text"]
                doc["version"] += 1
                change_doc(client, uri, doc["version"], doc["text"])
                return types.ApplyWorkspaceEditResult(applied=False, failure_reason="version")
            typed_lines.append("")
            doc["text"] = apply_workspace_edit({uri: doc["text"]}, params.edit, session.encoding)[
                uri
            ]
            doc["version"] += 1
            change_doc(client, uri, doc["version"], doc["text"])
            return types.ApplyWorkspaceEditResult(applied=True)

        client.apply_hook = hook  # type: ignore[attr-defined]
        applied = {}
        try:
            for i in range(1, N_TASKS + 1):
                result = await execute(
                    client,
                    "taskdroid.setStatus",
                    {"uri": uri, "taskId": f"1.{i}", "status": "completed"},
                )
                applied[i] = result["applied"]
        finally:
            client.apply_hook = None  # type: ignore[attr-defined]
            close_doc(client, uri)
        text = doc["text"]
        for line in typed_lines:
            if line:
                assert text.count(line) == 1
        for i, ok in applied.items():
            assert (done(i) if ok else pending(i)) in text, (i, ok)
        assert any(applied.values()) and not all(applied.values())
        assert session.path(REL).read_text(encoding="utf-8") == TASKS
