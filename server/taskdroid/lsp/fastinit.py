"""Answer ``initialize`` before loading pygls.

Importing pygls and lsprotocol takes 0.3–0.4 s (lsprotocol builds about a thousand attrs classes
at import), several times what the rest of start-up costs, and a client waits for the
``initialize`` answer before it sends anything else. On stdio this module reads the first message
itself, with nothing but :mod:`json`, answers an ``initialize`` request with the server's
capabilities, and then lets the real server start: pygls reads the same bytes again through
:class:`ReplayStdin`, processes ``initialize`` as usual (client capabilities, encoding, folders,
initialization options), and its own answer to that request is dropped (see
``TaskdroidProtocol``). Requests that arrive meanwhile wait in the pipe and are answered once the
server is up.

The capabilities are those pygls computes, kept in :mod:`taskdroid.lsp._capabilities` (generated,
see ``tests/lsp/test_fastinit.py``); the parts that depend on the client — the position encoding
and whether rename is offered with ``prepareProvider`` — are chosen here the same way. A test
compares this answer with pygls' own for many client capability sets, so a new feature without a
regenerated snapshot fails the suite. Anything unexpected in the first message (not
``initialize``, malformed headers or JSON, odd params) means no early answer: the bytes are
replayed and pygls handles the message alone.

It is **off by default** (``TASKDROID_EARLY_INITIALIZE=1`` turns it on): it moves the wait rather
than removing it, and a file opened right after ``initialize`` then waits for pygls too.
"""

from __future__ import annotations

import json
import os
from typing import Any, BinaryIO

#: the longest first message read ahead (an ``initialize`` is a few KB)
_MAX_BODY = 4 * 1024 * 1024
_MAX_HEADER_LINES = 32
_ENCODINGS = ("utf-8", "utf-16", "utf-32")


class ReplayStdin:
    """A binary stdin that first gives back ``prefix`` (bytes already read), then reads on."""

    def __init__(self, prefix: bytes, stream: BinaryIO) -> None:
        self._buf = prefix
        self._stream = stream

    def readline(self, limit: int = -1) -> bytes:
        if not self._buf:
            return self._stream.readline(limit)
        nl = self._buf.find(b"\n")
        if nl >= 0 and (limit < 0 or nl < limit):
            line, self._buf = self._buf[: nl + 1], self._buf[nl + 1 :]
            return line
        if 0 <= limit <= len(self._buf):
            line, self._buf = self._buf[:limit], self._buf[limit:]
            return line
        line, self._buf = self._buf, b""
        rest = self._stream.readline(-1 if limit < 0 else limit - len(line))
        return line + rest

    def read(self, n: int = -1) -> bytes:
        if not self._buf:
            return self._stream.read(n)
        if n < 0:
            data, self._buf = self._buf, b""
            return data + self._stream.read()
        data, self._buf = self._buf[:n], self._buf[n:]
        if len(data) < n:
            data += self._stream.read(n - len(data))
        return data

    def read1(self, n: int = -1) -> bytes:
        """Bytes available now: what is replayed first, then one read of the stream (what the
        stdio loop of :mod:`taskdroid.lsp.transport` reads with)."""
        if self._buf:
            if n < 0 or n >= len(self._buf):
                data, self._buf = self._buf, b""
            else:
                data, self._buf = self._buf[:n], self._buf[n:]
            return data
        read1 = getattr(self._stream, "read1", None)
        return read1(n) if read1 is not None else self._stream.read(n)

    def __getattr__(self, name: str) -> Any:  # fileno, close, … of the real stream
        return getattr(self._stream, name)


def read_first_message(stream: BinaryIO) -> tuple[bytes, dict[str, Any] | None]:
    """Read one LSP message: the raw bytes read, and the parsed body when it is a JSON object."""
    raw = bytearray()
    length = None
    for _ in range(_MAX_HEADER_LINES):
        line = stream.readline(65536)
        raw += line
        if not line.endswith(b"\n"):
            return bytes(raw), None  # end of input, or an absurd header line
        text = line.strip()
        if not text:
            break
        name, sep, value = text.partition(b":")
        if sep and name.strip().lower() == b"content-length":
            try:
                length = int(value.strip())
            except ValueError:
                return bytes(raw), None
    else:
        return bytes(raw), None
    if length is None or not 0 < length <= _MAX_BODY:
        return bytes(raw), None
    body = stream.read(length)
    raw += body
    if len(body) != length:
        return bytes(raw), None
    try:
        msg = json.loads(body)
    except ValueError:
        return bytes(raw), None
    return bytes(raw), msg if isinstance(msg, dict) else None


def _get(obj: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(k)
    return obj


def diagnostic_mode(wanted: str, can_pull: bool, can_refresh: bool) -> str:
    """``push`` or ``pull`` (see taskdroid.lsp.diagnostics): the server option ``diagnosticMode``
    (``auto``, ``push``, ``pull``) against what the client can do."""
    if wanted == "push" or not can_pull:
        return "push"
    if wanted == "pull":
        return "pull"
    return "pull" if can_refresh else "push"


def initialize_result(params: dict[str, Any]) -> dict[str, Any] | None:
    """The ``InitializeResult`` pygls would give for these params, or None when unsure."""
    from taskdroid import __version__
    from taskdroid.lsp._capabilities import PULL_DIAGNOSTIC_PROVIDER, SERVER_CAPABILITIES

    caps = params.get("capabilities")
    if not isinstance(caps, dict):
        return None
    encoding = "utf-16"
    wanted = _get(caps, "general", "positionEncodings")
    if wanted is not None:
        if not isinstance(wanted, list):
            return None
        encoding = next((e for e in wanted if e in _ENCODINGS), "utf-16")
    out = json.loads(json.dumps(SERVER_CAPABILITIES))
    out["positionEncoding"] = encoding
    if _get(caps, "textDocument", "rename", "prepareSupport"):
        out["renameProvider"] = {"prepareProvider": True}
    else:
        out["renameProvider"] = True
    options = params.get("initializationOptions")
    wanted = options.get("diagnosticMode") if isinstance(options, dict) else None
    mode = diagnostic_mode(
        wanted if wanted in ("auto", "push", "pull") else "auto",
        _get(caps, "textDocument", "diagnostic") is not None,
        bool(_get(caps, "workspace", "diagnostics", "refreshSupport")),
    )
    if mode == "pull":
        out["diagnosticProvider"] = json.loads(json.dumps(PULL_DIAGNOSTIC_PROVIDER))
    sync = out.get("textDocumentSync")
    if isinstance(sync, dict):
        # pygls writes `willSave…: false` only when the client says it could send them
        for key in ("willSave", "willSaveWaitUntil"):
            sync.pop(key, None)
            if _get(caps, "textDocument", "synchronization", key) is not None:
                sync[key] = False
    return {"capabilities": out, "serverInfo": {"name": "taskdroid", "version": __version__}}


def _valid_initialize(msg: dict[str, Any]) -> bool:
    params = msg.get("params")
    msg_id = msg.get("id")
    return (
        msg.get("jsonrpc") == "2.0"
        and msg.get("method") == "initialize"
        and isinstance(msg_id, (int, str))
        and not isinstance(msg_id, bool)
        and isinstance(params, dict)
        and isinstance(params.get("capabilities"), dict)
        and (params.get("processId") is None or type(params.get("processId")) is int)
    )


def answer_early(stdin: BinaryIO, stdout: BinaryIO) -> tuple[ReplayStdin, int | str | None]:
    """Read the first message; answer it when it is ``initialize``. Returns the stdin to give
    pygls and the id of the request already answered (None when none was)."""
    raw, msg = read_first_message(stdin)
    replay = ReplayStdin(raw, stdin)
    if msg is None or not _valid_initialize(msg):
        return replay, None
    try:
        result = initialize_result(msg["params"])
    except Exception:  # never let the shortcut break start-up
        result = None
    if result is None:
        return replay, None
    body = json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": result}).encode("ascii")
    header = (
        f"Content-Length: {len(body)}\r\n"
        "Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n"
    ).encode("ascii")
    try:
        stdout.write(header + body)
        stdout.flush()
    except (OSError, ValueError):
        return replay, None
    return replay, msg["id"]


def enabled() -> bool:
    """Off unless ``TASKDROID_EARLY_INITIALIZE=1``: answering early moves ~0.35 s of loading from
    before the ``initialize`` answer to after it, where it delays the first diagnostics of a file
    opened right away (10,000 tasks: 0.83 s → 1.18 s); the start-up budget (1.2× a bare pygls
    server) is met without it. See docs/benchmarks.md."""
    return os.environ.get("TASKDROID_EARLY_INITIALIZE", "0").strip().lower() in (
        "1",
        "true",
        "yes",
        "on",
    )
