"""The early ``initialize`` answer (taskdroid.lsp.fastinit) against pygls' own.

``python tests/lsp/test_fastinit.py --write`` regenerates ``taskdroid/lsp/_capabilities.py`` from
what pygls answers (run it after adding or changing a feature; the tests below fail until then).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import pprint
import sys
from pathlib import Path
from typing import Any

import pytest
from lsputil import SERVER_COMMAND, SERVER_ENV, capabilities
from pygls.protocol import default_converter
from pytest_lsp import client_capabilities

from taskdroid.lsp import fastinit

SNAPSHOT = Path(fastinit.__file__).with_name("_capabilities.py")


def _frame(msg: dict[str, Any]) -> bytes:
    body = json.dumps(msg).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


async def _read(stream: asyncio.StreamReader) -> dict[str, Any]:
    length = None
    while True:
        line = await stream.readline()
        if not line:
            raise EOFError("the server closed stdout")
        if not line.strip():
            break
        name, _, value = line.decode().partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    assert length is not None
    return json.loads(await stream.readexactly(length))


async def _session(messages: list[dict[str, Any]], *, early: bool, until_id: Any) -> list[dict]:
    """Send ``messages``, collect what the server sends until the response to ``until_id``, then
    shut the server down; returns everything received (responses and notifications)."""
    env = {**SERVER_ENV, "TASKDROID_EARLY_INITIALIZE": "1" if early else "0"}
    proc = await asyncio.create_subprocess_exec(
        *SERVER_COMMAND,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None
    received: list[dict] = []
    try:
        for m in messages:
            proc.stdin.write(_frame(m))
        await proc.stdin.drain()
        while True:
            msg = await asyncio.wait_for(_read(proc.stdout), 60)
            received.append(msg)
            if "method" not in msg and msg.get("id") == until_id:
                break
        proc.stdin.write(_frame({"jsonrpc": "2.0", "id": "bye", "method": "shutdown"}))
        await proc.stdin.drain()
        while True:
            msg = await asyncio.wait_for(_read(proc.stdout), 60)
            received.append(msg)
            if msg.get("id") == "bye":
                break
        proc.stdin.write(_frame({"jsonrpc": "2.0", "method": "exit"}))
        await proc.stdin.drain()
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return received


def _init(caps: dict[str, Any], msg_id: Any = 1) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": msg_id,
        "method": "initialize",
        "params": {"processId": None, "rootUri": None, "capabilities": caps},
    }


async def _pygls_answer(caps: dict[str, Any]) -> dict[str, Any]:
    got = await _session([_init(caps)], early=False, until_id=1)
    return next(m for m in got if m.get("id") == 1)["result"]


def _caps(obj) -> dict[str, Any]:
    return default_converter().unstructure(obj)


_VARIANTS: dict[str, dict[str, Any]] = {
    "none": {},
    **{f"lsputil-{k}": _caps(capabilities(k)) for k in ("vscode", "neovim", "push", "emacs")},
    **{
        f"pytest-lsp-{k}": _caps(client_capabilities(k))
        for k in ("visual-studio-code", "neovim", "emacs")
    },
    "utf32-then-utf8": {"general": {"positionEncodings": ["utf-32", "utf-8"]}},
    "unknown-encodings": {"general": {"positionEncodings": ["utf-7", "ebcdic"]}},
    "empty-encodings": {"general": {"positionEncodings": []}},
    "rename-prepare": {"textDocument": {"rename": {"prepareSupport": True}}},
    "rename-no-prepare": {"textDocument": {"rename": {"prepareSupport": False}}},
    "will-save": {"textDocument": {"synchronization": {"willSave": True}}},
    "will-save-false": {
        "textDocument": {"synchronization": {"willSave": False, "willSaveWaitUntil": True}}
    },
    "pull-no-refresh": {"textDocument": {"diagnostic": {}}},
    "pull-refresh": {
        "textDocument": {"diagnostic": {"dynamicRegistration": False}},
        "workspace": {"diagnostics": {"refreshSupport": True}},
    },
    "notebooks": {"notebookDocument": {"synchronization": {"dynamicRegistration": True}}},
    "file-operations": {
        "workspace": {"fileOperations": {"didCreate": True, "willRename": True, "didDelete": True}}
    },
}


@pytest.mark.parametrize("name", list(_VARIANTS))
async def test_early_answer_equals_pygls_answer(name):
    caps = _VARIANTS[name]
    expected = await _pygls_answer(caps)
    assert fastinit.initialize_result({"processId": None, "capabilities": caps}) == expected


@pytest.mark.parametrize("mode", ["push", "pull", "auto", "bogus", None])
@pytest.mark.parametrize("client", ["lsputil-vscode", "pull-no-refresh", "none"])
async def test_diagnostic_mode_option_is_honoured_like_pygls(mode, client):
    params = {
        **_init(_VARIANTS[client])["params"],
        "initializationOptions": {"diagnosticMode": mode},
    }
    got = await _session([{**_init({}), "params": params}], early=False, until_id=1)
    expected = next(m for m in got if m.get("id") == 1)["result"]
    assert fastinit.initialize_result(params) == expected


async def test_the_server_answers_initialize_once_then_serves_normally(tmp_path):
    task = tmp_path / "tasks" / "tasks-a.md"
    task.parent.mkdir()
    text = "## A\n- [x] 1 done\n- [/] 2 half\n"
    task.write_text(text)
    uri = task.as_uri()
    caps = _caps(capabilities("vscode"))
    got = await _session(
        [
            {**_init(caps, 7), "params": {**_init(caps)["params"], "rootUri": tmp_path.as_uri()}},
            {"jsonrpc": "2.0", "method": "initialized", "params": {}},
            {
                "jsonrpc": "2.0",
                "method": "textDocument/didOpen",
                "params": {
                    "textDocument": {
                        "uri": uri,
                        "languageId": "markdown",
                        "version": 1,
                        "text": text,
                    }
                },
            },
            {
                "jsonrpc": "2.0",
                "id": 8,
                "method": "textDocument/diagnostic",
                "params": {"textDocument": {"uri": uri}},
            },
        ],
        early=True,
        until_id=8,
    )
    answers = [m for m in got if "method" not in m]
    assert [m["id"] for m in answers if m["id"] == 7] == [7]  # exactly one initialize answer
    assert answers[0]["id"] == 7 and answers[0]["result"]["capabilities"]["positionEncoding"]
    diag = next(m for m in answers if m["id"] == 8)["result"]
    assert [d["code"] for d in diag["items"]] == ["TD001"]


async def test_a_first_message_that_is_not_initialize_is_left_to_pygls():
    # a request before initialize: pygls answers it (an error), then initialize works as usual
    got = await _session(
        [
            {"jsonrpc": "2.0", "id": 1, "method": "textDocument/hover", "params": {}},
            _init({}, 2),
        ],
        early=True,
        until_id=2,
    )
    answers = [m for m in got if "method" not in m]
    assert [m["id"] for m in answers[:2]] == [1, 2]
    assert "error" in answers[0] and "capabilities" in answers[1]["result"]


def test_replay_stdin_gives_back_the_prefix_then_the_stream():
    r = fastinit.ReplayStdin(b"Content-Length: 2\r\n\r\n{}tail", io.BytesIO(b"\nmore\nbytes"))
    assert r.readline() == b"Content-Length: 2\r\n"
    assert r.readline() == b"\r\n"
    assert r.read(2) == b"{}"
    assert r.readline() == b"tail\n"  # the rest of the prefix joins the stream's line
    assert r.read(3) == b"mor"
    assert r.read(100) == b"e\nbytes"
    r = fastinit.ReplayStdin(b"abc", io.BytesIO(b"def"))
    assert r.read(5) == b"abcde" and r.read() == b"f"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"Content-Length: 5\r\n\r\n{}",  # cut short
        b"Content-Length: x\r\n\r\n{}",
        b"Content-Length: 2\r\n\r\n[]",
        b"Content-Length: 3\r\n\r\n{]}",
        b"no header at all",
        b"Content-Length: 99999999999\r\n\r\n",
    ],
)
def test_malformed_first_messages_are_replayed_unanswered(data):
    out = io.BytesIO()
    stdin, answered = fastinit.answer_early(io.BytesIO(data), out)
    assert answered is None and out.getvalue() == b""
    assert stdin.read() == data  # pygls sees exactly what the client sent


@pytest.mark.parametrize(
    "msg",
    [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": []}},
        {"jsonrpc": "2.0", "id": True, "method": "initialize", "params": {"capabilities": {}}},
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": None},
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {"processId": "x", "capabilities": {}},
        },
        {"jsonrpc": "2.0", "method": "initialize", "params": {"capabilities": {}}},
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {"capabilities": {"general": {"positionEncodings": "utf-8"}}},
        },
    ],
)
def test_odd_initialize_params_are_left_to_pygls(msg):
    out = io.BytesIO()
    data = _frame(msg)
    stdin, answered = fastinit.answer_early(io.BytesIO(data), out)
    assert answered is None and out.getvalue() == b""
    assert stdin.read() == data


def _write_snapshot() -> None:
    caps = asyncio.run(_pygls_answer({}))["capabilities"]
    for key in ("positionEncoding", "renameProvider"):  # chosen per client by fastinit
        caps.pop(key, None)
    pulling = {
        "textDocument": {"diagnostic": {}},
        "workspace": {"diagnostics": {"refreshSupport": True}},
    }
    pull = asyncio.run(_pygls_answer(pulling))["capabilities"]["diagnosticProvider"]
    SNAPSHOT.write_text(
        '"""Server capabilities as pygls computes them for a client that states none, and the\n'
        "diagnostic provider a pulling client gets (generated: ``python tests/lsp/test_fastinit.py\n"
        '--write``; checked by that test file)."""\n\n'
        "SERVER_CAPABILITIES = " + pprint.pformat(caps, width=96, sort_dicts=True) + "\n\n"
        "PULL_DIAGNOSTIC_PROVIDER = " + pprint.pformat(pull, width=96, sort_dicts=True) + "\n",
        encoding="utf-8",
    )
    print(f"wrote {SNAPSHOT}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/lsp/test_fastinit.py --write")
    os.environ.setdefault("TASKDROID_EARLY_INITIALIZE", "0")
    _write_snapshot()
