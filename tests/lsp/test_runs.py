"""Droid runs through the language server (docs/language.md §6 runTask/cancelRun, §7): progress, cancel (by
command and by progress), timeout, the maxParallel queue, refusals, the droid marking the task
itself, edits through the client that keep what the user typed, and a clean shutdown.

The droid is ``tests/fixtures/fake_droid.py``; each task scripts it with a ``**Fake**:`` field.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from lsputil import (
    BASE_OPTIONS,
    SERVER_COMMAND,
    SERVER_ENV,
    copy_workspace,
    make_client,
    wait_ready,
)
from pygls.exceptions import JsonRpcException
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

pytestmark = pytest.mark.asyncio(loop_scope="module")

FAKE_DROID = str(Path(__file__).resolve().parents[1] / "fixtures" / "fake_droid.py")
RUNNER = [sys.executable, FAKE_DROID, "--sleep", "0.05", "{prompt}"]

RUN_TASKS = """\
# Run tests

## 1. Runs

- [x] 1.1 Done already ✅
  - **Completed**: 2025-01-10 10:00
- [ ] 1.2 Completes
  - **Droid**: backend-dev
  - **Fake**: --lines 3 --sleep 0.25 --style factory
- [ ] 1.3 Fails
  - **Droid**: backend-dev
  - **Fake**: --exit 3 --stderr "fatal: no database"
- [ ] 1.4 Marks itself blocked
  - **Droid**: backend-dev
  - **Fake**: --mark ! --exit 0
- [ ] 1.5 Cancelled by command
  - **Droid**: backend-dev
  - **Fake**: --hold 30
- [!] 1.6 Cancelled from the progress
  - **Droid**: backend-dev
  - **Issue**: flaky
  - **Fake**: --hold 30
- [ ] 1.7 Waits for 1.8
  - **Droid**: backend-dev
  - **Dependencies**: 1.8
  - **Fake**: --lines 1
- [ ] 1.8 Not done
  - **Droid**: nobody-knows-me
- [ ] 1.9 Holds the slot
  - **Droid**: backend-dev
  - **Fake**: --wait-file go-1.9
- [ ] 1.10 Queued behind 1.9
  - **Droid**: backend-dev
  - **Fake**: --lines 1
"""

OPEN_TASKS = """\
# Open tasks

- [ ] 2.1 Edited while the user types
  - **Droid**: backend-dev
  - **Fake**: --wait-file go-2.1
- [ ] 2.2 The user types right when the outcome arrives
  - **Droid**: backend-dev
  - **Fake**: --wait-file go-2.2
"""


# -- an editor that really applies edits -----------------------------------------------------------


def _offset(text: str, pos: types.Position) -> int:
    """Offset of a UTF-16 position in ``text``."""
    lines = text.split("\n")
    start = sum(len(line) + 1 for line in lines[: pos.line])
    line = lines[pos.line] if pos.line < len(lines) else ""
    units = 0
    for i, ch in enumerate(line):
        if units >= pos.character:
            return start + i
        units += 2 if ord(ch) > 0xFFFF else 1
    return start + len(line)


class Editor:
    """Open documents with versions, like an editor: applies ``workspace/applyEdit`` when the
    version matches (then sends ``didChange``), rejects it otherwise."""

    def __init__(self, client: LanguageClient) -> None:
        self.client = client
        self.docs: dict[str, tuple[int, str]] = {}
        self.applied: list[types.ApplyWorkspaceEditParams] = []
        self.rejected = 0
        #: typed by the user just before the next edit arrives (a race with the server)
        self.type_before_next: tuple[str, str, str] | None = None

    def open(self, uri: str, text: str) -> None:
        self.docs[uri] = (1, text)
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="markdown", version=1, text=text
                )
            )
        )

    def text(self, uri: str) -> str:
        return self.docs[uri][1]

    def type(self, uri: str, old: str, new: str) -> None:
        version, text = self.docs[uri]
        assert old in text, (old, text)
        self._change(uri, version + 1, text.replace(old, new, 1))

    def _change(self, uri: str, version: int, text: str) -> None:
        self.docs[uri] = (version, text)
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )

    def apply(self, params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        if self.type_before_next is not None:
            uri, old, new = self.type_before_next
            self.type_before_next = None
            self.type(uri, old, new)
        for change in params.edit.document_changes or []:
            assert isinstance(change, types.TextDocumentEdit)
            uri = change.text_document.uri
            if uri not in self.docs:
                raise AssertionError(f"the server edited a closed document through me: {uri}")
            version, text = self.docs[uri]
            if change.text_document.version != version:
                self.rejected += 1
                return types.ApplyWorkspaceEditResult(applied=False, failure_reason="version")
            spans = [
                (_offset(text, e.range.start), _offset(text, e.range.end), e) for e in change.edits
            ]
            for a, b, e in sorted(spans, key=lambda s: s[:2], reverse=True):
                text = text[:a] + e.new_text + text[b:]
            self._change(uri, version + 1, text)
        self.applied.append(params)
        return types.ApplyWorkspaceEditResult(applied=True)


def _ignore(params: Any) -> None:
    return None


# -- sessions --------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def server(
    tmp_path_factory,
    name: str,
    settings: dict[str, Any],
    *,
    files: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
):
    root = copy_workspace(tmp_path_factory, f"runs-{name}")
    for rel, text in (files or {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    config = ClientServerConfig(
        server_command=SERVER_COMMAND,
        server_env={**SERVER_ENV, **(env or {})},
        client_factory=make_client,
    )
    client = await config.start()
    editor = Editor(client)
    client.editor = editor  # type: ignore[attr-defined]
    client.root = root  # type: ignore[attr-defined]

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        return editor.apply(params)

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        return None

    for method in (types.WORKSPACE_CODE_LENS_REFRESH, types.WORKSPACE_INLAY_HINT_REFRESH):
        if method not in client.protocol.fm.features:  # answered like an editor would
            client.feature(method)(_ignore)

    if name == "vscode":
        caps = client_capabilities("visual-studio-code")
    else:  # a minimal client: no work-done progress, no configuration requests
        caps = types.ClientCapabilities(
            workspace=types.WorkspaceClientCapabilities(
                apply_edit=True,
                workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True),
            )
        )
    await client.initialize_session(
        types.InitializeParams(
            capabilities=caps,
            workspace_folders=[types.WorkspaceFolder(uri=from_fs_path(str(root)), name="ws")],
            initialization_options={**BASE_OPTIONS, **settings},
        )
    )
    await wait_ready(client)
    try:
        yield client
    finally:
        if not getattr(client, "shut", False):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.shutdown_session(), 15)
        await client.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(tmp_path_factory):
    settings = {"runner": {"command": RUNNER, "maxParallel": 1, "timeoutSeconds": 60}}
    files = {"tasks/tasks-run.md": RUN_TASKS, "tasks/tasks-open.md": OPEN_TASKS}
    async with server(tmp_path_factory, "vscode", settings, files=files) as c:
        yield c


# -- helpers ---------------------------------------------------------------------------------------


def root_of(client: LanguageClient) -> Path:
    return client.root  # type: ignore[attr-defined]


def uri_of(client: LanguageClient, rel: str) -> str:
    return from_fs_path(str(root_of(client) / rel))


async def run_task(client: LanguageClient, rel: str, task_id: str, **extra: Any) -> str:
    result = await asyncio.wait_for(
        client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command="taskdroid.runTask",
                arguments=[{"uri": uri_of(client, rel), "taskId": task_id, **extra}],
            )
        ),
        10,
    )
    assert isinstance(result, dict) and isinstance(result["runId"], str), result
    return result["runId"]


async def command_error(client: LanguageClient, command: str, argument: Any) -> str:
    with pytest.raises(JsonRpcException) as info:
        await asyncio.wait_for(
            client.workspace_execute_command_async(
                types.ExecuteCommandParams(command=command, arguments=[argument])
            ),
            10,
        )
    return str(info.value)


def reports(client: LanguageClient, run_id: str) -> list:
    return client.progress_reports.get(f"taskdroid-{run_id}", [])


async def until(predicate, timeout: float = 10.0, what: str = "condition") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def ended(client: LanguageClient, run_id: str, timeout: float = 15.0) -> str:
    """The end message of a run's progress."""

    def done() -> bool:
        return any(isinstance(r, types.WorkDoneProgressEnd) for r in reports(client, run_id))

    await until(done, timeout, f"the end of {run_id}")
    end = reports(client, run_id)[-1]
    assert isinstance(end, types.WorkDoneProgressEnd)
    return end.message or ""


async def running(client: LanguageClient, run_id: str) -> int:
    """Wait until the droid runs; its pid."""

    def started() -> str | None:
        for r in reports(client, run_id):
            m = re.search(r"pid (\d+)", getattr(r, "message", None) or "")
            if m:
                return m.group(1)
        return None

    await until(lambda: started() is not None, 10, f"{run_id} to start")
    return int(started() or 0)


def task_block(text: str, task_id: str) -> str:
    m = re.search(rf"^- \[[^\]]*\] {re.escape(task_id)} .*?(?=^- \[|\Z)", text, re.M | re.S)
    assert m, (task_id, text)
    return m.group(0)


def disk(client: LanguageClient, rel: str = "tasks/tasks-run.md") -> str:
    return (root_of(client) / rel).read_text(encoding="utf-8")


def gone(pid: int | None) -> bool:
    """The process is gone (or a zombie waiting to be reaped by init)."""
    if pid is None:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rpartition(")")[2].split()[0] == "Z"
    except OSError:
        return False


# -- tests -----------------------------------------------------------------------------------------


async def test_progress_latest_line_and_completed(client):
    run_id = await run_task(client, "tasks/tasks-run.md", "1.2")
    assert run_id.startswith("run-")
    # the server keeps answering while the droid runs
    symbols = await asyncio.wait_for(
        client.text_document_document_symbol_async(
            types.DocumentSymbolParams(
                text_document=types.TextDocumentIdentifier(uri=uri_of(client, "tasks/tasks-run.md"))
            )
        ),
        2.0,
    )
    assert symbols
    message = await ended(client, run_id)
    assert "completed" in message
    got = reports(client, run_id)
    begin = got[0]
    assert isinstance(begin, types.WorkDoneProgressBegin)
    assert "backend-dev" in begin.title and "1.2" in begin.title and begin.cancellable
    texts = [r.message for r in got[1:-1] if isinstance(r, types.WorkDoneProgressReport)]
    assert any(t and t.startswith("running (") for t in texts)
    assert "step 3 of 3" in texts or "step 2 of 3" in texts  # message text, not the JSON line
    assert not any(t and t.lstrip().startswith("{") for t in texts)
    block = task_block(disk(client), "1.2")
    assert block.startswith("- [x] 1.2 Completes ✅")
    assert "**Completed**:" in block and "**In Progress**: Started" in block
    logs = list((root_of(client) / ".taskdroid" / "runs").glob("tasks-run-1.2-*.log"))
    assert len(logs) == 1 and "step 3 of 3" in logs[0].read_text()


async def test_failure_marks_blocked_with_error_and_attempted(client):
    run_id = await run_task(client, "tasks/tasks-run.md", "1.3")
    message = await ended(client, run_id)
    assert "exit code 3" in message
    block = task_block(disk(client), "1.3")
    assert block.startswith("- [!] 1.3 Fails ⚠️")
    assert re.search(
        r"\*\*Error\*\*: exit code 3: fatal: no database \(log: \.taskdroid/runs/", block
    )
    assert re.search(r"\*\*Attempted\*\*: \d{4}-\d\d-\d\d \d\d:\d\d", block)


async def test_the_droid_marking_the_task_itself_is_kept(client):
    run_id = await run_task(client, "tasks/tasks-run.md", "1.4")
    message = await ended(client, run_id)
    assert "itself" in message
    block = task_block(disk(client), "1.4")
    assert block.startswith("- [!] 1.4")  # exit 0, but the droid said blocked: that stands
    assert "**Completed**" not in block


async def test_cancel_run_command_restores_the_previous_status(client):
    run_id = await run_task(client, "tasks/tasks-run.md", "1.5")
    pid = await running(client, run_id)
    assert "- [~] 1.5" in disk(client)
    answer = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="taskdroid.cancelRun", arguments=[{"runId": run_id}])
    )
    assert answer == {"runId": run_id, "cancelled": True}
    message = await ended(client, run_id)
    assert "cancelled" in message
    block = task_block(disk(client), "1.5")
    assert block.startswith("- [ ] 1.5 Cancelled by command\n")
    assert re.search(r"\*\*Status\*\*: Run cancelled \d{4}-\d\d-\d\d \d\d:\d\d", block)
    assert gone(pid)
    again = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="taskdroid.cancelRun", arguments=[{"runId": run_id}])
    )
    assert again["cancelled"] is False


async def test_cancel_from_the_progress_ui(client):
    run_id = await run_task(client, "tasks/tasks-run.md", "1.6")
    pid = await running(client, run_id)
    client.window_work_done_progress_cancel(
        types.WorkDoneProgressCancelParams(token=f"taskdroid-{run_id}")
    )
    assert "cancelled" in await ended(client, run_id)
    block = task_block(disk(client), "1.6")
    assert block.startswith("- [!] 1.6 Cancelled from the progress ⚠️")  # blocked, as before
    assert "**Status**: Run cancelled" in block and "**Issue**: flaky" in block
    assert gone(pid)


async def test_refusals(client):
    # a dependency that is not completed (unless force)
    message = await command_error(
        client, "taskdroid.runTask", {"uri": uri_of(client, "tasks/tasks-run.md"), "taskId": "1.7"}
    )
    assert "1.8 (pending)" in message and "force" in message
    # a completed task
    message = await command_error(
        client, "taskdroid.runTask", {"uri": uri_of(client, "tasks/tasks-run.md"), "taskId": "1.1"}
    )
    assert "already completed" in message
    # a droid that is not in the index
    message = await command_error(
        client,
        "taskdroid.runTask",
        {"uri": uri_of(client, "tasks/tasks-run.md"), "taskId": "1.8", "force": True},
    )
    assert "nobody-knows-me" in message and "not in the index" in message
    # a droid name that could be an option or a path
    for bad in ("--help", "../../etc/passwd", "a/b"):
        message = await command_error(
            client,
            "taskdroid.runTask",
            {"uri": uri_of(client, "tasks/tasks-run.md"), "taskId": "1.8", "droid": bad},
        )
        assert "not a valid droid name" in message
    # unknown task, bad arguments
    message = await command_error(
        client, "taskdroid.runTask", {"uri": uri_of(client, "tasks/tasks-run.md"), "taskId": "7.7"}
    )
    assert "no task `7.7`" in message
    assert "taskId" in await command_error(client, "taskdroid.runTask", {"uri": "file:///x.md"})
    assert "runId" in await command_error(client, "taskdroid.cancelRun", {"runId": 5.5})
    assert "no run" in await command_error(client, "taskdroid.cancelRun", {"runId": "run-nope"})
    # with force, the waiting task runs
    run_id = await run_task(client, "tasks/tasks-run.md", "1.7", force=True)
    assert "completed" in await ended(client, run_id)
    assert task_block(disk(client), "1.7").startswith("- [x] 1.7")


async def test_max_parallel_queue_and_already_running(client):
    first = await run_task(client, "tasks/tasks-run.md", "1.9")
    await running(client, first)
    message = await command_error(
        client, "taskdroid.runTask", {"uri": uri_of(client, "tasks/tasks-run.md"), "taskId": "1.9"}
    )
    assert "already running" in message and first in message
    second = await run_task(client, "tasks/tasks-run.md", "1.10")
    await until(lambda: len(reports(client, second)) >= 2, 5, "the queued report")
    queued = reports(client, second)[1]
    assert "queued" in queued.message and "maxParallel = 1" in queued.message
    await asyncio.sleep(0.3)
    assert not any("pid" in (r.message or "") for r in reports(client, second)[1:])
    assert "- [ ] 1.10" in disk(client)  # not marked while queued
    (root_of(client) / "go-1.9").touch()
    assert "completed" in await ended(client, first)
    assert "completed" in await ended(client, second)
    assert task_block(disk(client), "1.10").startswith("- [x] 1.10")


async def test_open_document_edited_through_the_client_keeps_user_typing(client):
    editor: Editor = client.editor  # type: ignore[attr-defined]
    uri = uri_of(client, "tasks/tasks-open.md")
    editor.open(uri, OPEN_TASKS)
    run_id = await run_task(client, "tasks/tasks-open.md", "2.1")
    await running(client, run_id)
    assert "- [~] 2.1 Edited while the user types 🔄" in editor.text(uri)
    # the user types, in the task's own block too; nothing is saved
    editor.type(uri, "# Open tasks\n", "# Open tasks\n\nNotes typed by the user.\n")
    editor.type(
        uri,
        "  - **Fake**: --wait-file go-2.1\n",
        "  - **Fake**: --wait-file go-2.1\n  - **Notes**: unsaved\n",
    )
    (root_of(client) / "go-2.1").touch()
    assert "completed" in await ended(client, run_id)
    text = editor.text(uri)
    assert "Notes typed by the user." in text
    block = task_block(text, "2.1")
    assert block.startswith("- [x] 2.1 Edited while the user types ✅")
    assert "**Notes**: unsaved" in block and "**Completed**:" in block
    assert disk(client, "tasks/tasks-open.md") == OPEN_TASKS  # edited in the editor, not on disk

    # the user types at the very moment the outcome is sent: the stale edit is rejected, then
    # computed again on the new text
    run_id = await run_task(client, "tasks/tasks-open.md", "2.2")
    await running(client, run_id)
    rejected = editor.rejected
    editor.type_before_next = (uri, "Notes typed by the user.", "Notes typed by the user, again.")
    (root_of(client) / "go-2.2").touch()
    assert "completed" in await ended(client, run_id)
    assert editor.rejected == rejected + 1
    text = editor.text(uri)
    assert "Notes typed by the user, again." in text
    assert task_block(text, "2.2").startswith("- [x] 2.2")


# -- other servers ---------------------------------------------------------------------------------


@pytest.mark.asyncio(loop_scope="function")
async def test_no_runner_configured(tmp_path_factory):
    async with server(tmp_path_factory, "push", {}) as c:
        message = await command_error(
            c, "taskdroid.runTask", {"uri": uri_of(c, "tasks/tasks-main.md"), "taskId": "1.3"}
        )
    assert "runner.command" in message
    assert '["droid", "exec", "--auto", "low", "{prompt}"]' in message
    assert '["claude", "-p", "{prompt}"]' in message


TIMEOUT_TASKS = """\
# Slow

- [ ] 3.1 Too slow
  - **Droid**: backend-dev
  - **Fake**: --hold 30 --ignore-term --child child-3.1.pid
- [ ] 3.2 Running at shutdown
  - **Droid**: backend-dev
  - **Fake**: --hold 30
"""


@pytest.mark.asyncio(loop_scope="function")
async def test_timeout_kill_and_shutdown(tmp_path_factory):
    """A minimal client (no progress: the outcome comes as a message); a droid that ignores
    SIGTERM and leaves a child is killed with its group at the timeout; shutdown stops a run and
    leaves its task in a stated status."""
    settings = {"runner": {"command": RUNNER, "timeoutSeconds": 1}}
    files = {"tasks/tasks-slow.md": TIMEOUT_TASKS}
    env = {"TASKDROID_RUN_GRACE": "0.3"}
    async with server(tmp_path_factory, "push", settings, files=files, env=env) as c:
        root = root_of(c)
        await run_task(c, "tasks/tasks-slow.md", "3.1")

        def shown() -> list[str]:
            return [m.message for m in c.messages if "3.1" in m.message]

        await until(lambda: bool(shown()), 15, "the outcome message")
        assert "timed out after 1 s" in shown()[0]
        block = task_block((root / "tasks/tasks-slow.md").read_text(), "3.1")
        assert block.startswith("- [!] 3.1 Too slow ⚠️")
        assert "**Error**: timed out after 1 s (runner.timeoutSeconds)" in block
        child = int((root / "child-3.1.pid").read_text())
        await until(lambda: gone(child), 5, "the droid's child to be killed")

        await run_task(c, "tasks/tasks-slow.md", "3.2")
        await until(lambda: "- [~] 3.2" in (root / "tasks/tasks-slow.md").read_text(), 10, "3.2")
        await asyncio.sleep(0.2)
        await asyncio.wait_for(c.shutdown_session(), 15)
        c.shut = True  # type: ignore[attr-defined]
        block = task_block((root / "tasks/tasks-slow.md").read_text(), "3.2")
        assert block.startswith("- [ ] 3.2 Running at shutdown\n")
        assert re.search(
            r"\*\*Status\*\*: Run cancelled .* \(the language server shut down\)", block
        )
        assert not list((root / ".taskdroid" / "runs").glob("*.lock"))


@pytest.mark.asyncio(loop_scope="function")
async def test_a_terminated_server_leaves_no_droid_behind(tmp_path_factory):
    """An editor that gives up on the server sends it SIGTERM: its droids go with it."""
    settings = {"runner": {"command": RUNNER}}
    files = {"tasks/tasks-slow.md": TIMEOUT_TASKS}
    async with server(tmp_path_factory, "push", settings, files=files) as c:
        root = root_of(c)
        await run_task(c, "tasks/tasks-slow.md", "3.1")  # ignores SIGTERM, has a child
        await until(lambda: (root / "child-3.1.pid").exists(), 10, "the droid to start")
        await asyncio.sleep(0.1)
        child = int((root / "child-3.1.pid").read_text())
        assert not gone(child)
        c.shut = True  # type: ignore[attr-defined]
        c._server.terminate()  # type: ignore[attr-defined]
        await asyncio.wait_for(c._server.wait(), 10)  # type: ignore[attr-defined]
        await until(lambda: gone(child), 5, "the droid's child to be killed")
