"""Helpers of the abuse tests (tests/lsp/test_abuse.py, bench/abuse_lsp.py).

* :class:`RawClient` — a bare JSON-RPC client over the stdio of a ``taskdroid lsp`` subprocess. It
  sends whatever bytes it is given (invalid JSON, wrong ``Content-Length``, params of the wrong
  type), pipelines requests without waiting, cancels them, answers the server's own requests, and
  knows the server's pid (for its memory).
* :class:`ClientText` — the client's copy of a document: random incremental edits in the
  negotiated position encoding, computed independently of the server's code.
* the request methods the server advertises, derived from its ``InitializeResult`` capabilities.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import random
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from lsputil import BASE_OPTIONS, SERVER_COMMAND, SERVER_ENV, capabilities
from pygls.protocol import default_converter
from pygls.uris import from_fs_path

_CONVERTER = default_converter()

#: generous bound on any single answer: a hang fails the test instead of blocking the suite
TIMEOUT = 30.0

REQUEST_CANCELLED = -32800
REQUEST_FAILED = -32803
INVALID_PARAMS = -32602
METHOD_NOT_FOUND = -32601
INVALID_REQUEST = -32600
INTERNAL_ERROR = -32603
PARSE_ERROR = -32700
#: the error of an answer that never came because the server closed its output
CLOSED = "closed"

#: ``RawClient.request(params=OMIT)`` sends no ``params`` member at all
OMIT = object()

#: a server running the stdio loop of taskdroid.lsp.transport directly (the same server as
#: ``taskdroid lsp``, whichever loop that one uses)
TRANSPORT_COMMAND = [
    sys.executable,
    "-c",
    "from taskdroid.lsp import main, transport; main._setup_logging('WARNING', None); "
    "transport.serve_stdio(main.create_server(None))",
]


class RpcError(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.code = error.get("code")
        self.error = error


@dataclass
class Answer:
    """A response: ``result`` or ``error`` (a JSON-RPC error object)."""

    id: Any
    result: Any = None
    error: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def unstructure(value: Any) -> Any:
    return _CONVERTER.unstructure(value)


def frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def encode(message: dict[str, Any]) -> bytes:
    return frame(json.dumps(message, ensure_ascii=False).encode("utf-8"))


@dataclass
class RawClient:
    """One ``taskdroid lsp`` subprocess and a raw JSON-RPC connection to it."""

    proc: asyncio.subprocess.Process
    pending: dict[Any, asyncio.Future] = field(default_factory=dict)
    #: every notification received, in order: (method, params)
    notifications: list[tuple[str, Any]] = field(default_factory=list)
    #: uri → params of the last publishDiagnostics
    published: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: server → client requests received: (method, params)
    server_requests: list[tuple[str, Any]] = field(default_factory=list)
    #: responses to ids nobody waits for (e.g. a null id)
    stray: list[dict[str, Any]] = field(default_factory=list)
    stderr_tail: bytearray = field(default_factory=bytearray)
    apply_edit: bool = True
    #: server → client request methods left unanswered (in ``held``) until :meth:`release`
    hold: set[str] = field(default_factory=set)
    held: list[dict[str, Any]] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _reader: asyncio.Task | None = None
    _err_reader: asyncio.Task | None = None
    _published_event: asyncio.Event = field(default_factory=asyncio.Event)
    _closed: asyncio.Event = field(default_factory=asyncio.Event)
    _unsent: int = 0
    init_result: dict[str, Any] | None = None
    encoding: str = "utf-16"

    # -- life cycle ----------------------------------------------------------------------------
    @classmethod
    async def start(
        cls, command: list[str] | None = None, env: dict[str, str] | None = None
    ) -> RawClient:
        proc = await asyncio.create_subprocess_exec(
            *(command or SERVER_COMMAND),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env or SERVER_ENV,
            limit=1 << 24,
        )
        client = cls(proc)
        client._reader = asyncio.ensure_future(client._read_loop())
        client._err_reader = asyncio.ensure_future(client._read_stderr())
        return client

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss_kb(self) -> int:
        """The server's resident set size (kB), from /proc."""
        return read_rss_kb(self.pid)

    async def initialize(
        self,
        kind: str,
        root: Path,
        options: dict[str, Any] | None = None,
        *,
        wait_ready: bool = True,
    ) -> dict[str, Any]:
        params = types.InitializeParams(
            capabilities=capabilities(kind),
            process_id=os.getpid(),
            workspace_folders=[types.WorkspaceFolder(uri=from_fs_path(str(root)), name="ws")],
            initialization_options=dict(BASE_OPTIONS if options is None else options),
        )
        result = await self.call(types.INITIALIZE, unstructure(params))
        self.init_result = result
        enc = (result.get("capabilities") or {}).get("positionEncoding") or "utf-16"
        self.encoding = enc
        self.notify(types.INITIALIZED, {})
        if wait_ready:
            await self.call(types.WORKSPACE_SYMBOL, {"query": ""})
        return result

    @property
    def pulls(self) -> bool:
        caps = (self.init_result or {}).get("capabilities") or {}
        return caps.get("diagnosticProvider") is not None

    async def shutdown(self, timeout: float = TIMEOUT) -> int:
        """shutdown + exit; the server's exit code."""
        await self.call(types.SHUTDOWN, None, timeout=timeout)
        self.notify(types.EXIT, None)
        await self.drain()
        return await asyncio.wait_for(self.proc.wait(), timeout)

    async def kill(self) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.proc.wait(), 10)
        for task in (self._reader, self._err_reader):
            if task is not None:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task

    # -- sending -------------------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self._unsent += len(data)

    async def drain(self) -> None:
        assert self.proc.stdin is not None
        self._unsent = 0
        await asyncio.wait_for(self.proc.stdin.drain(), TIMEOUT)

    async def maybe_drain(self, threshold: int = 1 << 16) -> None:
        if self._unsent >= threshold:
            await self.drain()

    def send(self, message: dict[str, Any]) -> None:
        self.write(encode(message))

    def notify(self, method: str, params: Any) -> None:
        msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)

    def new_id(self) -> int:
        return next(self._ids)

    def request(self, method: str, params: Any = OMIT, msg_id: Any = None) -> asyncio.Future:
        """Send a request (``params`` as given, ``None`` as JSON null); the future resolves to an
        :class:`Answer` (never raises)."""
        if msg_id is None:
            msg_id = self.new_id()
        fut = asyncio.get_running_loop().create_future()
        self.pending[_key(msg_id)] = fut
        msg: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not OMIT:
            msg["params"] = params
        self.send(msg)
        fut.msg_id = msg_id  # type: ignore[attr-defined]
        return fut

    def expect(self, msg_id: Any) -> asyncio.Future:
        """A future for the answer to a request sent by hand (raw bytes) with ``msg_id``."""
        fut = asyncio.get_running_loop().create_future()
        self.pending[_key(msg_id)] = fut
        return fut

    def cancel(self, msg_id: Any) -> None:
        self.notify(types.CANCEL_REQUEST, {"id": msg_id})

    async def answer(self, fut: asyncio.Future, timeout: float = TIMEOUT) -> Answer:
        if not fut.done():
            await self.drain()
        try:
            ans = await asyncio.wait_for(asyncio.shield(fut), timeout)
        except TimeoutError:
            raise AssertionError(
                f"no answer to request {getattr(fut, 'msg_id', '?')} within {timeout} s"
                f"{self.describe_exit()}"
            ) from None
        if ans.error is not None and ans.error.get("code") == CLOSED:
            raise AssertionError(
                f"no answer to request {ans.id}: the server closed its output{self.describe_exit()}"
            )
        return ans

    async def call(self, method: str, params: Any, timeout: float = TIMEOUT) -> Any:
        ans = await self.answer(self.request(method, params), timeout)
        if ans.error is not None:
            raise RpcError(ans.error)
        return ans.result

    async def answer_all(
        self, futs: list[asyncio.Future], timeout: float = TIMEOUT
    ) -> list[Answer]:
        """The answers to ``futs``; fails when one is missing after ``timeout``."""
        await self.drain()
        try:
            answers = list(
                await asyncio.wait_for(asyncio.gather(*(asyncio.shield(f) for f in futs)), timeout)
            )
        except TimeoutError:
            missing = [getattr(f, "msg_id", "?") for f in futs if not f.done()]
            raise AssertionError(
                f"{len(missing)} of {len(futs)} requests unanswered after {timeout} s "
                f"(ids {missing[:10]}){self.describe_exit()}"
            ) from None
        closed = [a.id for a in answers if a.error is not None and a.error.get("code") == CLOSED]
        if closed:
            raise AssertionError(
                f"{len(closed)} requests unanswered: the server closed its output"
                f"{self.describe_exit()}"
            )
        return answers

    def describe_exit(self) -> str:
        rc = self.proc.returncode
        tail = self.stderr_tail[-3000:].decode("utf-8", "replace")
        out = "" if rc is None else f"; the server exited with {rc}"
        return out + (f"\nserver stderr (tail):\n{tail}" if tail else "")

    # -- diagnostics ---------------------------------------------------------------------------
    async def published_for(
        self, uri: str, version: int | None, timeout: float = TIMEOUT
    ) -> list[dict[str, Any]]:
        """The diagnostics last published for ``uri``, once they are for ``version``."""
        await self.drain()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            got = self.published.get(uri)
            if got is not None and (version is None or got.get("version") == version):
                return got["diagnostics"]
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(
                    f"no diagnostics published for {uri} at version {version}; last: "
                    f"{(got or {}).get('version')}{self.describe_exit()}"
                )
            self._published_event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._published_event.wait(), min(left, 1.0))

    async def diagnostics(self, uri: str, version: int | None) -> list[dict[str, Any]]:
        """The server's diagnostics of ``uri``: pulled (pull clients) or the publish at
        ``version`` (push clients)."""
        if self.pulls:
            report = await self.call(types.TEXT_DOCUMENT_DIAGNOSTIC, {"textDocument": {"uri": uri}})
            assert report.get("kind") == "full", report
            return report["items"]
        return await self.published_for(uri, version)

    # -- reading -------------------------------------------------------------------------------
    async def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        while chunk := await self.proc.stderr.read(1 << 16):
            self.stderr_tail.extend(chunk)
            if len(self.stderr_tail) > 200_000:
                del self.stderr_tail[:-100_000]

    async def _read_loop(self) -> None:
        reader = self.proc.stdout
        assert reader is not None
        try:
            while True:
                length = None
                while True:
                    line = await reader.readline()
                    if not line:
                        return
                    if line in (b"\r\n", b"\n"):
                        break
                    name, _, value = line.decode("ascii").partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                assert length is not None, "a message without Content-Length from the server"
                body = await reader.readexactly(length)
                self._dispatch(json.loads(body))
        finally:
            self._closed.set()
            for key, fut in self.pending.items():
                if not fut.done():
                    fut.set_result(Answer(json.loads(key), error={"code": CLOSED}))

    def _dispatch(self, msg: dict[str, Any]) -> None:
        if "method" in msg:
            if "id" in msg:
                self._answer_server(msg)
            else:
                self.notifications.append((msg["method"], msg.get("params")))
                if len(self.notifications) > 5000:
                    del self.notifications[:2500]
                if msg["method"] == types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS:
                    params = msg["params"]
                    self.published[params["uri"]] = params
                    self._published_event.set()
            return
        fut = self.pending.pop(_key(msg.get("id")), None)
        if fut is None:
            self.stray.append(msg)
            return
        if not fut.done():
            fut.set_result(Answer(msg.get("id"), msg.get("result"), msg.get("error")))

    def release(self, msg: dict[str, Any], result: Any) -> None:
        """Answer a held server request now."""
        self.send({"jsonrpc": "2.0", "id": msg["id"], "result": result})

    def _answer_server(self, msg: dict[str, Any]) -> None:
        method, params = msg["method"], msg.get("params")
        self.server_requests.append((method, params))
        if method in self.hold:
            self.held.append(msg)
            return
        result: Any = None
        if method == types.WORKSPACE_CONFIGURATION:
            result = [None for _ in (params or {}).get("items", [])]
        elif method == types.WORKSPACE_APPLY_EDIT:
            result = {"applied": self.apply_edit}
        elif method == types.WINDOW_SHOW_DOCUMENT:
            result = {"success": True}
        with contextlib.suppress(Exception):
            self.send({"jsonrpc": "2.0", "id": msg["id"], "result": result})


def _key(msg_id: Any) -> str:
    return json.dumps(msg_id, sort_keys=True)


def read_rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


# -- the methods the server advertises -------------------------------------------------------------

#: capability key → request methods it makes the server answer (every LSP 3.17 provider)
PROVIDERS: dict[str, tuple[str, ...]] = {
    "hoverProvider": (types.TEXT_DOCUMENT_HOVER,),
    "completionProvider": (types.TEXT_DOCUMENT_COMPLETION,),
    "signatureHelpProvider": (types.TEXT_DOCUMENT_SIGNATURE_HELP,),
    "declarationProvider": (types.TEXT_DOCUMENT_DECLARATION,),
    "definitionProvider": (types.TEXT_DOCUMENT_DEFINITION,),
    "typeDefinitionProvider": (types.TEXT_DOCUMENT_TYPE_DEFINITION,),
    "implementationProvider": (types.TEXT_DOCUMENT_IMPLEMENTATION,),
    "referencesProvider": (types.TEXT_DOCUMENT_REFERENCES,),
    "documentHighlightProvider": (types.TEXT_DOCUMENT_DOCUMENT_HIGHLIGHT,),
    "documentSymbolProvider": (types.TEXT_DOCUMENT_DOCUMENT_SYMBOL,),
    "codeActionProvider": (types.TEXT_DOCUMENT_CODE_ACTION,),
    "codeLensProvider": (types.TEXT_DOCUMENT_CODE_LENS,),
    "documentLinkProvider": (types.TEXT_DOCUMENT_DOCUMENT_LINK,),
    "colorProvider": (types.TEXT_DOCUMENT_DOCUMENT_COLOR, types.TEXT_DOCUMENT_COLOR_PRESENTATION),
    "documentFormattingProvider": (types.TEXT_DOCUMENT_FORMATTING,),
    "documentRangeFormattingProvider": (types.TEXT_DOCUMENT_RANGE_FORMATTING,),
    "documentOnTypeFormattingProvider": (types.TEXT_DOCUMENT_ON_TYPE_FORMATTING,),
    "renameProvider": (types.TEXT_DOCUMENT_RENAME,),
    "foldingRangeProvider": (types.TEXT_DOCUMENT_FOLDING_RANGE,),
    "selectionRangeProvider": (types.TEXT_DOCUMENT_SELECTION_RANGE,),
    "executeCommandProvider": (types.WORKSPACE_EXECUTE_COMMAND,),
    "callHierarchyProvider": (
        types.TEXT_DOCUMENT_PREPARE_CALL_HIERARCHY,
        types.CALL_HIERARCHY_INCOMING_CALLS,
        types.CALL_HIERARCHY_OUTGOING_CALLS,
    ),
    "linkedEditingRangeProvider": (types.TEXT_DOCUMENT_LINKED_EDITING_RANGE,),
    "semanticTokensProvider": (
        types.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL,
        types.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL_DELTA,
        types.TEXT_DOCUMENT_SEMANTIC_TOKENS_RANGE,
    ),
    "monikerProvider": (types.TEXT_DOCUMENT_MONIKER,),
    "typeHierarchyProvider": (
        types.TEXT_DOCUMENT_PREPARE_TYPE_HIERARCHY,
        types.TYPE_HIERARCHY_SUPERTYPES,
        types.TYPE_HIERARCHY_SUBTYPES,
    ),
    "inlineValueProvider": (types.TEXT_DOCUMENT_INLINE_VALUE,),
    "inlayHintProvider": (types.TEXT_DOCUMENT_INLAY_HINT,),
    "diagnosticProvider": (types.TEXT_DOCUMENT_DIAGNOSTIC,),
    "workspaceSymbolProvider": (types.WORKSPACE_SYMBOL,),
    "inlineCompletionProvider": (types.TEXT_DOCUMENT_INLINE_COMPLETION,),
}
#: (capability key, option) → resolve / extra methods
RESOLVERS: dict[tuple[str, str], tuple[str, ...]] = {
    ("completionProvider", "resolveProvider"): (types.COMPLETION_ITEM_RESOLVE,),
    ("codeActionProvider", "resolveProvider"): (types.CODE_ACTION_RESOLVE,),
    ("codeLensProvider", "resolveProvider"): (types.CODE_LENS_RESOLVE,),
    ("documentLinkProvider", "resolveProvider"): (types.DOCUMENT_LINK_RESOLVE,),
    ("inlayHintProvider", "resolveProvider"): (types.INLAY_HINT_RESOLVE,),
    ("workspaceSymbolProvider", "resolveProvider"): (types.WORKSPACE_SYMBOL_RESOLVE,),
    ("renameProvider", "prepareProvider"): (types.TEXT_DOCUMENT_PREPARE_RENAME,),
    ("diagnosticProvider", "workspaceDiagnostics"): (types.WORKSPACE_DIAGNOSTIC,),
}
#: capability keys that advertise no request method
NOT_REQUESTS = {
    "positionEncoding",
    "textDocumentSync",
    "notebookDocumentSync",
    "workspace",
    "experimental",
}


def advertised_methods(caps: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(request methods the capabilities advertise, capability keys this table does not know)."""
    methods: list[str] = []
    unknown: list[str] = []
    for key, value in caps.items():
        if value in (None, False) or key in NOT_REQUESTS:
            continue
        if key not in PROVIDERS:
            unknown.append(key)
            continue
        methods.extend(PROVIDERS[key])
        if isinstance(value, dict):
            for (k, opt), extra in RESOLVERS.items():
                if k == key and value.get(opt):
                    methods.extend(extra)
    return sorted(set(methods)), unknown


# -- the client's copy of a document ---------------------------------------------------------------

_BREAK = re.compile(r"\r\n|\r|\n")


def units(text: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(text.encode("utf-8", "surrogatepass"))
    if encoding == "utf-16":
        return len(text.encode("utf-16-le", "surrogatepass")) // 2
    return len(text)


class ClientText:
    """A document as the client sees it, edited at code-point offsets and sent as LSP ranges in
    the negotiated encoding (the client's oracle: plain string slicing, no server code)."""

    def __init__(self, text: str, encoding: str) -> None:
        self.text = text
        self.encoding = encoding

    def line_starts(self) -> list[int]:
        return [0, *(m.end() for m in _BREAK.finditer(self.text))]

    def position(self, offset: int, starts: list[int] | None = None) -> dict[str, int]:
        starts = starts or self.line_starts()
        line = _bisect(starts, offset)
        return {"line": line, "character": units(self.text[starts[line] : offset], self.encoding)}

    def line_end(self, line: int, starts: list[int]) -> int:
        """Offset of the end of ``line`` (before its line break)."""
        end = starts[line + 1] if line + 1 < len(starts) else len(self.text)
        seg = self.text[starts[line] : end]
        if seg.endswith("\r\n"):
            return end - 2
        if seg.endswith(("\n", "\r")):
            return end - 1
        return end

    def valid_offset(self, offset: int) -> int:
        """``offset`` moved off the middle of a ``\\r\\n`` (not a position in LSP terms)."""
        if (
            0 < offset < len(self.text)
            and self.text[offset - 1] == "\r"
            and self.text[offset] == "\n"
        ):
            return offset - 1
        return offset

    def edit(self, a: int, b: int, new: str, *, overshoot: int = 0) -> dict[str, Any]:
        """Replace ``text[a:b]`` by ``new``; returns the content change to send. ``overshoot``
        adds that many units past the end of ``b``'s line to the end position (the server must
        clamp it to the line end), in which case ``b`` is moved to that line end first."""
        starts = self.line_starts()
        start = self.position(a, starts)
        if overshoot:
            line = _bisect(starts, b)
            b = max(self.line_end(line, starts), a)
            end = self.position(b, starts)
            end["character"] += overshoot
        else:
            end = self.position(b, starts)
        self.text = self.text[:a] + new + self.text[b:]
        return {"range": {"start": start, "end": end}, "text": new}

    def random_position(self, rng: random.Random) -> dict[str, int]:
        return self.position(self.valid_offset(rng.randint(0, len(self.text))))


def _bisect(starts: list[int], offset: int) -> int:
    from bisect import bisect_right

    return bisect_right(starts, offset) - 1


def wrap_lines(doc: ClientText) -> list[dict[str, Any]]:
    """Changes that turn every line of ``doc`` into a task whose title is that line between
    ``⟦…⟧`` (applied to ``doc`` too). The server's document symbols then spell out each line of its
    text, white space included: comparing them with those of the same text opened fresh checks
    that the server's text is the client's, line for line."""
    starts = doc.line_starts()
    changes = []
    for i in range(len(starts) - 1, -1, -1):
        end = doc.line_end(i, starts)
        changes.append(doc.edit(end, end, "⟧"))
        changes.append(doc.edit(starts[i], starts[i], f"- [ ] {i + 1}.1 ⟦"))
    return changes


#: what random inserts are made of: task markdown, emoji, CJK, CRLF and the odd stray character
SNIPPETS = [
    "- [ ] 3.1 New task\n",
    "- [x] 3.2 Done task ✅\n  - **Completed**: 2025-02-01 10:00\n",
    "- [~] 3.3 Working 🔄\n  - **Droid**: backend-dev\n  - **Dependencies**: 1.1\n",
    "- [!] 3.4 Stuck ⚠️\n  - **Issue**: flaky\n",
    "- [/] 3.5 Bad marker\n",
    "- [X] 3.6 Upper\n",
    "  - **Dependencies**: 9.9, 1.2\n",
    "  - **Droid**: nobody-here\n",
    "  - **Dependecies**: 1.1\n",
    "## 3. More (HIGH)\r\n",
    "### 4. Stuff (URGENT)\n",
    "🚀",
    "日本語",
    "漢字テキスト",
    "é",
    "👨‍👩‍👧",
    "⚠️",
    "\r\n",
    "\n",
    "\r",
    "x",
    "1.",
    "[ ]",
    "**",
    "`",
    "\t",
    " ",
    "- ",
    "# Heading\n",
    "```\n",
    "---\n",
]


def random_change(doc: ClientText, rng: random.Random, max_len: int = 6000) -> dict[str, Any]:
    """One random incremental change (and the client's copy updated)."""
    text = doc.text
    n = len(text)
    r = rng.random()
    a = doc.valid_offset(rng.randint(0, n))
    if n > max_len or r < 0.35:  # delete (a larger span when the document grew too long)
        span = rng.randint(1, 400 if n > max_len else 12)
        b = doc.valid_offset(min(n, a + span))
        return doc.edit(a, b, "")
    if r < 0.50:  # replace a span
        b = doc.valid_offset(min(n, a + rng.randint(1, 8)))
        return doc.edit(a, b, rng.choice(SNIPPETS))
    if r < 0.58:  # an edit at a line end, sometimes with the end past it (clamped by the server)
        starts = doc.line_starts()
        line = rng.randrange(len(starts))
        end = doc.line_end(line, starts)
        return doc.edit(end, end, rng.choice(SNIPPETS), overshoot=rng.choice([0, 1, 7, 1000]))
    if r < 0.62:  # an edit spanning several lines
        starts = doc.line_starts()
        line = rng.randrange(len(starts))
        last = min(len(starts) - 1, line + rng.randint(1, 4))
        b = doc.valid_offset(max(starts[last] + rng.randint(0, 3), starts[line]))
        return doc.edit(doc.valid_offset(starts[line]), min(b, len(doc.text)), rng.choice(SNIPPETS))
    return doc.edit(a, a, rng.choice(SNIPPETS))


# -- comparing diagnostics -------------------------------------------------------------------------


def to_code_points(text: str, pos: dict[str, int], encoding: str) -> tuple[int, int]:
    """A client position as (line, code-point column) of ``text``."""
    starts = [0, *(m.end() for m in _BREAK.finditer(text))]
    line = pos["line"]
    if line >= len(starts):
        return line, pos["character"]
    end = starts[line + 1] if line + 1 < len(starts) else len(text)
    seg = _BREAK.sub("", text[starts[line] : end])
    count = 0
    for i, ch in enumerate(seg):
        if count >= pos["character"]:
            return line, i
        count += units(ch, encoding)
    return line, len(seg)


_SEVERITY = {1: "error", 2: "warning", 3: "information", 4: "hint"}


def lsp_key(diag: dict[str, Any], text: str, encoding: str) -> tuple:
    """A diagnostic as ``taskdroid check --format json`` reports it (1-based code points)."""
    sl, sc = to_code_points(text, diag["range"]["start"], encoding)
    el, ec = to_code_points(text, diag["range"]["end"], encoding)
    return (
        sl + 1,
        sc + 1,
        el + 1,
        ec + 1,
        diag.get("code"),
        _SEVERITY[diag["severity"]],
        diag["message"],
    )


def check_key(item: dict[str, Any]) -> tuple:
    return (
        item["line"],
        item["column"],
        item["end_line"],
        item["end_column"],
        item["code"],
        item["severity"],
        item["message"],
    )


def strip_uris(value: Any, uri: str) -> Any:
    """``value`` with every occurrence of ``uri`` replaced (to compare two documents' results)."""
    return json.loads(json.dumps(value).replace(json.dumps(uri)[1:-1], "<doc>"))


def every(pred: Callable[[Any], bool], items: list[Any]) -> list[Any]:
    return [x for x in items if not pred(x)]
