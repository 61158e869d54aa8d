"""Where taskdroid writes, and where it refuses to (docs/security.md, "Writes").

* a read-only task file is never rewritten (the rename-based atomic write would replace it all the
  same): ``taskdroid status`` refuses with a clear message, ``--force`` overrides; the runner's and
  the language server's writes refuse too;
* ``taskdroid.setStatus`` normalises its URI and never writes outside the workspace folders, also
  through ``..`` and symbolic links.
"""

from __future__ import annotations

import asyncio
import os
import stat
import sys
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.uris import from_fs_path

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS / "lsp"))

from lsputil import BASE_OPTIONS, CONFIG, copy_workspace  # noqa: E402

from taskdroid import cli  # noqa: E402
from taskdroid.core.fsio import ReadOnlyFile  # noqa: E402
from taskdroid.core.writes import write_status  # noqa: E402

TASKS = "# T\n\n## 1. A (HIGH)\n\n- [ ] 1.1 First\n- [ ] 1.2 Second\n"


def _read_only(path: Path) -> None:
    path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)  # 0444


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "tasks.md").write_text(TASKS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_status_refuses_a_read_only_file(project: Path, capsys: pytest.CaptureFixture) -> None:
    path = project / "tasks" / "tasks.md"
    _read_only(path)
    ino = path.stat().st_ino
    assert cli.main(["status", "tasks/tasks.md", "1.1", "completed"]) == 2
    err = capsys.readouterr().err
    assert "read-only" in err and "--force" in err
    assert path.read_text(encoding="utf-8") == TASKS
    assert path.stat().st_ino == ino  # not even replaced by an identical copy
    assert not [p for p in path.parent.iterdir() if p.name != "tasks.md"]  # no temporary left


def test_status_force_writes_a_read_only_file_and_keeps_its_mode(project: Path) -> None:
    path = project / "tasks" / "tasks.md"
    _read_only(path)
    assert cli.main(["status", "tasks/tasks.md", "1.1", "completed", "--force"]) == 0
    assert "- [x] 1.1 First ✅" in path.read_text(encoding="utf-8")
    assert stat.S_IMODE(path.stat().st_mode) == 0o444


def test_core_status_write_refuses_a_read_only_file(project: Path) -> None:
    """The runner records outcomes through this function."""
    path = project / "tasks" / "tasks.md"
    _read_only(path)
    with pytest.raises(ReadOnlyFile, match="read-only"):
        write_status(str(path), "1.1", "completed")
    assert path.read_text(encoding="utf-8") == TASKS
    assert write_status(str(path), "1.1", "completed", force=True)
    assert "[x] 1.1" in path.read_text(encoding="utf-8")


# -- the language server ------------------------------------------------------------------------


async def _server(root: Path):
    client = await CONFIG.start()
    await client.initialize_session(
        types.InitializeParams(
            # no workspace/applyEdit: the server writes closed files itself
            capabilities=types.ClientCapabilities(
                workspace=types.WorkspaceClientCapabilities(apply_edit=False)
            ),
            workspace_folders=[types.WorkspaceFolder(uri=from_fs_path(str(root)), name="ws")],
            initialization_options=BASE_OPTIONS,
        )
    )
    return client


async def _set_status(client, uri: str, task_id: str, status: str):
    return await asyncio.wait_for(
        client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command="taskdroid.setStatus",
                arguments=[{"uri": uri, "taskId": task_id, "status": status}],
            )
        ),
        20,
    )


async def test_set_status_never_writes_outside_the_workspace(tmp_path_factory) -> None:
    root = copy_workspace(tmp_path_factory, "outside")
    outside = root.parent / "elsewhere" / "tasks.md"
    outside.parent.mkdir()
    outside.write_text(TASKS, encoding="utf-8")
    (root / "tasks" / "linked.md").symlink_to(outside)
    client = await _server(root)
    try:
        dotted = from_fs_path(str(root / "tasks")) + "/../../elsewhere/tasks.md"
        for uri in (dotted, from_fs_path(str(root / "tasks" / "linked.md"))):
            with pytest.raises(JsonRpcException, match="outside the workspace folders"):
                await _set_status(client, uri, "1.1", "completed")
        assert outside.read_text(encoding="utf-8") == TASKS
        # a file inside the workspace is written
        inside = from_fs_path(str(root / "tasks" / "tasks-other.md"))
        assert await _set_status(client, inside, "2.2", "completed") == {"applied": True}
    finally:
        await asyncio.wait_for(client.shutdown_session(), 10)
        await client.stop()


@pytest.mark.skipif(os.name != "posix", reason="file modes")
async def test_set_status_refuses_a_read_only_file(tmp_path_factory) -> None:
    root = copy_workspace(tmp_path_factory, "readonly")
    path = root / "tasks" / "tasks-other.md"
    before = path.read_text(encoding="utf-8")
    _read_only(path)
    client = await _server(root)
    try:
        with pytest.raises(JsonRpcException, match="read-only"):
            await _set_status(client, from_fs_path(str(path)), "2.2", "completed")
        assert path.read_text(encoding="utf-8") == before
    finally:
        await asyncio.wait_for(client.shutdown_session(), 10)
        await client.stop()
