"""Start-up and transport: indexing progress, dynamic registration, the poll fallback, the
examples workspace against ``taskdroid check``, TCP, logging."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types
from lsputil import (
    SERVER_ENV,
    codes,
    custom_session,
    diagnostics_for,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


async def test_indexing_progress(client, session):
    if session.name in ("vscode", "neovim", "emacs"):
        reports = [r for rs in client.progress_reports.values() for r in rs]
        kinds = [type(r).__name__ for r in reports]
        assert kinds[0] == "WorkDoneProgressBegin" and kinds[-1] == "WorkDoneProgressEnd"
        assert any(isinstance(r, types.WorkDoneProgressReport) for r in reports)
        assert "indexing" in reports[0].title
    else:  # the push client has no window.workDoneProgress: nothing is created
        assert client.progress_reports == {}


async def test_dynamic_registration(client, session):
    methods = {r.method for r in session.registrations}
    if session.name in ("vscode", "emacs"):
        assert types.WORKSPACE_DID_CHANGE_WATCHED_FILES in methods
        (reg,) = [
            r for r in session.registrations if r.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES
        ]
        globs = [w["globPattern"] for w in reg.register_options["watchers"]]
        assert "**/*.md" in globs and "**/.taskdroid.toml" in globs
    else:
        assert types.WORKSPACE_DID_CHANGE_WATCHED_FILES not in methods
    if session.name == "vscode":
        assert types.WORKSPACE_DID_CHANGE_CONFIGURATION in methods


async def test_capabilities(client, session):
    caps = session.result.capabilities
    assert caps.hover_provider and caps.definition_provider and caps.references_provider
    # prepareProvider only for clients that can prepare (Emacs 29 cannot)
    assert caps.rename_provider is True or caps.rename_provider.prepare_provider
    assert caps.document_symbol_provider and caps.workspace_symbol_provider
    assert caps.folding_range_provider and caps.inlay_hint_provider
    assert set(caps.completion_provider.trigger_characters) >= {"[", ":", " ", ","}
    assert caps.text_document_sync.change == types.TextDocumentSyncKind.Incremental
    expected = {"vscode": "utf-16", "neovim": "utf-8", "push": "utf-16", "emacs": "utf-32"}
    assert session.encoding == expected[session.name]


@pytest.mark.asyncio(loop_scope="function")
async def test_poll_fallback(tmp_path_factory):
    """A client that cannot watch files (Neovim 0.11): the server notices new files itself."""
    async with custom_session(tmp_path_factory, "neovim", options={"pollIntervalMs": 100}) as (
        client,
        session,
    ):
        other = session.uri("tasks/tasks-other.md")
        await diagnostics_for(client, session, other, lambda d: codes(d) == ["TD020"])
        session.path(".claude/agents/ghost-droid.md").write_text(
            "---\nname: ghost-droid\ndescription: Appeared on disk.\n---\n\nBody.\n", "utf-8"
        )
        await diagnostics_for(client, session, other, lambda d: d == [])
        session.path(".claude/agents/ghost-droid.md").unlink()
        await diagnostics_for(client, session, other, lambda d: codes(d) == ["TD020"])


@pytest.mark.asyncio(loop_scope="function")
async def test_examples_match_the_cli(tmp_path_factory):
    """Every diagnostic of the examples workspace equals what `taskdroid check` reports (the
    UTF-32 client sees code-point columns, like the CLI's JSON)."""
    if not (EXAMPLES / "tasks").is_dir():
        pytest.skip("examples/ not available")
    async with custom_session(tmp_path_factory, "emacs", src=EXAMPLES) as (client, session):
        root = session.root
        cli = subprocess.run(
            [
                sys.executable,
                "-m",
                "taskdroid",
                "check",
                "--format",
                "json",
                "--root",
                str(root),
                str(root),
            ],
            capture_output=True,
            text=True,
            env=SERVER_ENV,
            cwd=root,
            timeout=60,
        )
        expected: dict[str, set] = {}
        for d in json.loads(cli.stdout):
            key = (
                d["line"] - 1,
                d["column"] - 1,
                d["end_line"] - 1,
                d["end_column"] - 1,
                d["code"],
            )
            expected.setdefault(str((root / d["path"]).resolve()), set()).add(key)
        assert expected, cli.stderr
        for path, want in expected.items():
            uri = session.uri(str(Path(path).relative_to(root)))

            def keys(diags):
                return {
                    (
                        x.range.start.line,
                        x.range.start.character,
                        x.range.end.line,
                        x.range.end.character,
                        x.code,
                    )
                    for x in diags
                }

            got = await diagnostics_for(client, session, uri, lambda d, w=want: keys(d) == w)
            assert keys(got) == want


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _read_message(reader: asyncio.StreamReader) -> dict:
    headers = await reader.readuntil(b"\r\n\r\n")
    length = int(
        next(h for h in headers.split(b"\r\n") if h.lower().startswith(b"content-length")).split(
            b":"
        )[1]
    )
    return json.loads(await reader.readexactly(length))


def _frame(msg: dict) -> bytes:
    body = json.dumps(msg).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


@pytest.mark.asyncio(loop_scope="function")
async def test_tcp_and_log_file(tmp_path):
    port = _free_port()
    log = tmp_path / "server.log"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "taskdroid", "lsp", "--tcp", f"127.0.0.1:{port}",
        "--log-level", "DEBUG", "--log-file", str(log),
        env=SERVER_ENV, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        for _ in range(200):
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                await asyncio.sleep(0.05)
        else:
            raise AssertionError("the TCP server never listened")
        init = {"processId": None, "rootUri": None, "capabilities": {}}
        writer.write(_frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init}))
        await writer.drain()
        reply = await asyncio.wait_for(_read_message(reader), 10)
        assert reply["id"] == 1 and reply["result"]["serverInfo"]["name"] == "taskdroid"
        writer.write(_frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}))
        await writer.drain()
        while (await asyncio.wait_for(_read_message(reader), 10)).get("id") != 2:
            pass
        writer.write(_frame({"jsonrpc": "2.0", "method": "exit"}))
        await writer.drain()
        writer.close()
    finally:
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except TimeoutError:
            proc.kill()
            await proc.wait()
    assert "DEBUG" in log.read_text(encoding="utf-8")


async def test_bad_command_line():
    proc = subprocess.run(
        [sys.executable, "-m", "taskdroid", "lsp", "--tcp", "nowhere"],
        capture_output=True, text=True, env=SERVER_ENV, timeout=30,
    )  # fmt: skip
    assert proc.returncode == 2 and "HOST:PORT" in proc.stderr


@pytest.mark.asyncio(loop_scope="function")
async def test_workspace_folders_change(tmp_path_factory):
    from lsputil import copy_workspace
    from pygls.uris import from_fs_path

    second = copy_workspace(tmp_path_factory, "second")
    async with custom_session(tmp_path_factory, "vscode") as (client, session):
        uri = from_fs_path(str(second / "tasks" / "tasks-other.md"))
        folder = types.WorkspaceFolder(uri=from_fs_path(str(second)), name="second")
        client.workspace_did_change_workspace_folders(
            types.DidChangeWorkspaceFoldersParams(
                event=types.WorkspaceFoldersChangeEvent(added=[folder], removed=[])
            )
        )
        await diagnostics_for(client, session, uri, lambda d: codes(d) == ["TD020"])
        client.workspace_did_change_workspace_folders(
            types.DidChangeWorkspaceFoldersParams(
                event=types.WorkspaceFoldersChangeEvent(added=[], removed=[folder])
            )
        )
        await diagnostics_for(client, session, uri, lambda d: d == [])
