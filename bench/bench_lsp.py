"""Language-server benchmark: taskdroid against VS Code's markdown language server, same files, same run.

    python bench/bench_lsp.py                    # 1,000 and 10,000 tasks; prints markdown tables
    python bench/bench_lsp.py --quick            # fewer repetitions (a smoke run)
    python bench/bench_lsp.py --write-docs       # also replace the "Language server" section of
                                                 # docs/benchmarks.md (between <!-- lsp-bench -->
                                                 # and <!-- /lsp-bench -->)

Needs the venv with taskdroid installed (``python -m taskdroid lsp``), Node ≥ 18 and
``npm install --prefix bench/node`` (vscode-markdown-languageserver 0.3.0 and markdown-it, pinned in
bench/node/package.json). See bench/README.md, "Language-server benchmark", for what is measured.

The client is written here (asyncio, JSON-RPC over stdio, ~VS Code's client capabilities); no
pytest-lsp. Servers:

* **taskdroid**: ``python -m taskdroid lsp`` with the settings a user gets (no server options:
  the default push debounce, polling and progress), measured twice: with pull diagnostics (the client announces ``textDocument.diagnostic`` and
  ``workspace.diagnostics.refreshSupport``, as VS Code does, so the server chooses pull) and with
  push diagnostics (neither announced; ``publishDiagnostics`` with ``versionSupport``).
* **markdown**: vscode-markdown-languageserver 0.3.0 behind ``bench/node/md_client.js``, which plays
  VS Code's markdown extension (answers ``markdown/parse`` with markdown-it tokens and the
  ``markdown/fs/*`` requests) and forwards everything else byte for byte. Pull diagnostics only;
  settings pushed with ``workspace/didChangeConfiguration``: VS Code's defaults except
  ``markdown.validate.enabled: true`` (VS Code's default is false, with which the server answers
  every pull with an empty list without parsing anything).
* **bare pygls**: ``LanguageServer("bare", "0").start_io()``, pygls 2.1 with no features, for the
  start-up floor only.

Budgets (issue "Language server"): 1,000 tasks: open → diagnostics ≤ 100 ms, one-character edit →
fresh diagnostics ≤ 30 ms (median); 10,000 tasks: open ≤ 1 s, edit ≤ 100 ms, hover, completion,
definition ≤ 50 ms; start-up to the ``initialize`` response ≤ 1.5× the markdown server's (and, per
the performance notes, ≤ 1.2× a bare pygls 2.1 server).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
NODE_DIR = HERE / "node"
MD_MAIN = NODE_DIR / "node_modules" / "vscode-markdown-languageserver" / "out" / "node" / "main.js"
MD_CLIENT = NODE_DIR / "md_client.js"
DOCS = REPO / "docs" / "benchmarks.md"
BEGIN, END = "<!-- lsp-bench -->", "<!-- /lsp-bench -->"
FINDINGS, FINDINGS_END = "<!-- lsp-findings -->", "<!-- /lsp-findings -->"

BARE_PYGLS = "from pygls.lsp.server import LanguageServer\nLanguageServer('bare', '0').start_io()\n"

TIMEOUT = 300.0  # seconds for any single wait (the markdown server needs ~10 s per 10k parse)

# VS Code's defaults for the markdown server's settings, except validate.enabled (see above).
MD_SETTINGS = {
    "markdown": {
        "server": {"log": "off"},
        "preferredMdPathExtensionStyle": "auto",
        "suggest": {
            "paths": {"enabled": True, "includeWorkspaceHeaderCompletions": "onDoubleHash"}
        },
        "occurrencesHighlight": {"enabled": False},
        "validate": {
            "enabled": True,
            "referenceLinks": {"enabled": "warning"},
            "fragmentLinks": {"enabled": "warning"},
            "fileLinks": {"enabled": "warning", "markdownFragmentLinks": "inherit"},
            "ignoredLinks": [],
            "unusedLinkDefinitions": {"enabled": "hint"},
            "duplicateLinkDefinitions": {"enabled": "warning"},
        },
    }
}


def _gen():
    spec = importlib.util.spec_from_file_location("gen_tasks", HERE / "gen_tasks.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["gen_tasks"] = mod
    spec.loader.exec_module(mod)
    return mod


def uri_of(path: Path) -> str:
    return path.resolve().as_uri()


def u16(s: str) -> int:
    """Length of ``s`` in UTF-16 code units (LSP's default position encoding)."""
    return len(s.encode("utf-16-le")) // 2


# -- the client ----------------------------------------------------------------------------------


class LspError(Exception):
    pass


class Client:
    """A minimal LSP client over a child process's stdio."""

    def __init__(self, name: str, argv: list[str], *, env: dict[str, str], cwd: Path, config: dict):
        self.name = name
        self.argv = argv
        self.env = env
        self.cwd = cwd
        self.config = config  #: workspace/configuration answers by section
        self.proc: asyncio.subprocess.Process | None = None
        self._id = 0
        self._waiting: dict[int, asyncio.Future] = {}
        self._reader: asyncio.Task | None = None
        #: uri → [(time, version, n diagnostics)]
        self.published: dict[str, list[tuple[float, int | None, int]]] = {}
        self.refreshes: list[float] = []
        self.server_requests: list[str] = []
        self._changed = asyncio.Event()
        self.t_spawn = 0.0

    async def start(self) -> None:
        self.t_spawn = time.perf_counter()
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=self.env,
            cwd=str(self.cwd),
            limit=1 << 26,
        )
        self._reader = asyncio.ensure_future(self._read_loop())

    # -- wire --
    def _send(self, msg: dict) -> float:
        body = json.dumps(msg, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        assert self.proc is not None and self.proc.stdin is not None
        t = time.perf_counter()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return t

    async def _read_loop(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        out = self.proc.stdout
        try:
            while True:
                header = await out.readuntil(b"\r\n\r\n")
                m = re.search(rb"Content-Length:\s*(\d+)", header, re.I)
                if not m:
                    raise LspError(f"{self.name}: bad header {header!r}")
                body = await out.readexactly(int(m.group(1)))
                t = time.perf_counter()
                self._dispatch(json.loads(body), t)
        except (asyncio.IncompleteReadError, ConnectionResetError):
            pass
        finally:
            for fut in self._waiting.values():
                if not fut.done():
                    fut.set_exception(LspError(f"{self.name}: server closed the connection"))

    def _dispatch(self, msg: dict, t: float) -> None:
        method = msg.get("method")
        if method is None:  # a response
            fut = self._waiting.pop(msg.get("id"), None)
            if fut is not None and not fut.done():
                fut.set_result((t, msg))
            return
        if "id" in msg:  # a request from the server
            self.server_requests.append(method)
            result: Any = None
            if method == "workspace/configuration":
                result = [
                    self.config.get(item.get("section", ""), None)
                    for item in msg["params"]["items"]
                ]
            elif method == "workspace/diagnostic/refresh":
                self.refreshes.append(t)
                self._changed.set()
            self._send({"jsonrpc": "2.0", "id": msg["id"], "result": result})
            return
        if method == "textDocument/publishDiagnostics":
            p = msg["params"]
            self.published.setdefault(p["uri"], []).append(
                (t, p.get("version"), len(p["diagnostics"]))
            )
            self._changed.set()

    async def request(
        self, method: str, params: Any, timeout: float = TIMEOUT
    ) -> tuple[float, Any]:
        """Send a request; returns (seconds until the response, result)."""
        self._id += 1
        rid = self._id
        fut = asyncio.get_running_loop().create_future()
        self._waiting[rid] = fut
        t0 = self._send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        t1, msg = await asyncio.wait_for(fut, timeout)
        if "error" in msg:
            raise LspError(f"{self.name}: {method}: {msg['error']}")
        return t1 - t0, msg.get("result")

    def notify(self, method: str, params: Any) -> float:
        return self._send({"jsonrpc": "2.0", "method": method, "params": params})

    async def wait_for(self, pred, timeout: float = TIMEOUT) -> float:
        """Wait until ``pred()`` returns a time (not None); returns it."""
        deadline = time.perf_counter() + timeout
        while True:
            self._changed.clear()
            t = pred()
            if t is not None:
                return t
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"{self.name}: timed out")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    def published_version(self, uri: str, version: int | None, after: float = 0.0):
        def pred():
            for t, v, _n in self.published.get(uri, ()):
                if v == version and t >= after:
                    return t
            return None

        return pred

    async def stop(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(Exception):
            await self.request("shutdown", None, timeout=10)
            self.notify("exit", None)
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), 10)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader


def client_capabilities(pull: bool) -> dict:
    """Roughly what VS Code announces (pull) / a push-only client (pull=False)."""
    td: dict[str, Any] = {
        "synchronization": {"dynamicRegistration": True, "didSave": True, "willSave": False},
        "publishDiagnostics": {
            "relatedInformation": True,
            "versionSupport": True,
            "codeDescriptionSupport": True,
            "dataSupport": True,
        },
        "hover": {"dynamicRegistration": True, "contentFormat": ["markdown", "plaintext"]},
        "completion": {
            "dynamicRegistration": True,
            "contextSupport": True,
            "completionItem": {
                "snippetSupport": True,
                "documentationFormat": ["markdown", "plaintext"],
                "insertReplaceSupport": True,
                "labelDetailsSupport": True,
            },
        },
        "definition": {"dynamicRegistration": True, "linkSupport": True},
    }
    ws: dict[str, Any] = {
        "configuration": True,
        "workspaceFolders": True,
        "didChangeConfiguration": {"dynamicRegistration": True},
        "didChangeWatchedFiles": {"dynamicRegistration": True, "relativePatternSupport": True},
    }
    if pull:
        td["diagnostic"] = {"dynamicRegistration": True, "relatedDocumentSupport": False}
        ws["diagnostics"] = {"refreshSupport": True}
    return {
        "general": {"positionEncodings": ["utf-16"]},
        "window": {"workDoneProgress": True, "showMessage": {}},
        "workspace": ws,
        "textDocument": td,
    }


def initialize_params(ws: Path, pull: bool, init_options: Any) -> dict:
    return {
        "processId": os.getpid(),
        "clientInfo": {"name": "taskdroid-bench", "version": "1"},
        "rootUri": uri_of(ws),
        "workspaceFolders": [{"uri": uri_of(ws), "name": ws.name}],
        "capabilities": client_capabilities(pull),
        "initializationOptions": init_options,
    }


# -- servers -------------------------------------------------------------------------------------


@dataclass
class ServerKind:
    key: str  #: "taskdroid-pull", "taskdroid-push", "markdown", "bare"
    label: str
    argv: list[str]
    pull: bool
    init_options: Any
    config: dict
    diag_identifier: str | None = None


def server_kinds(python: str) -> dict[str, ServerKind]:
    td_opts: dict = {}  # default settings: what a user gets
    return {
        "taskdroid-pull": ServerKind(
            "taskdroid-pull", "taskdroid (pull)", [python, "-m", "taskdroid", "lsp"], True,
            td_opts, {"taskdroid": {}}, "taskdroid",
        ),
        "taskdroid-push": ServerKind(
            "taskdroid-push", "taskdroid (push)", [python, "-m", "taskdroid", "lsp"], False,
            td_opts, {"taskdroid": {}},
        ),
        "markdown": ServerKind(
            "markdown", "VS Code markdown server", ["node", str(MD_CLIENT)], True,
            {"markdownFileExtensions": ["md"]}, MD_SETTINGS, "markdown",
        ),
        # start-up only: the server itself, without the md_client.js shim in front
        "markdown-direct": ServerKind(
            "markdown-direct", "VS Code markdown server", ["node", str(MD_MAIN), "--stdio"], True,
            {"markdownFileExtensions": ["md"]}, MD_SETTINGS, "markdown",
        ),
        "bare": ServerKind(
            "bare", "bare pygls 2.1 server", [python, "-c", BARE_PYGLS], True, None, {},
        ),
    }  # fmt: skip


# -- workspaces ----------------------------------------------------------------------------------


@dataclass
class Workspace:
    n: int
    root: Path
    task_path: Path
    links_path: Path
    text: str
    droid_pos: list[tuple[int, int, int]]  #: (line, start of the droid name, end)
    dep_pos: list[tuple[int, int]]  #: (line, character inside a dependency ID)
    task_lines: list[int]
    link_def_pos: list[tuple[int, int]] = field(default_factory=list)
    link_completion_pos: tuple[int, int] = (0, 0)
    new_text: str = ""  #: a same-size file (seed + 1) that is not on disk

    @property
    def task_uri(self) -> str:
        return uri_of(self.task_path)

    @property
    def links_uri(self) -> str:
        return uri_of(self.links_path)


def github_slug(heading: str) -> str:
    s = re.sub(r"\s+", "-", heading.strip().lower())
    s = re.sub(r"[\]\[!/'\"#$%&()*+,./:;<=>?@\\^{|}~`]", "", s)
    return s.strip("-")


def make_workspace(base: Path, n: int, seed: int = 1) -> Workspace:
    """tasks/tasks-N.md + droids + source stubs (only TD001 expected), plus links.md (not a task
    file) holding header links into the task file, for the markdown server's definition and
    completion."""
    ws = base / f"ws-{n}"
    (ws / "tasks").mkdir(parents=True, exist_ok=True)
    (ws / ".git").mkdir(exist_ok=True)
    task_path = ws / "tasks" / f"tasks-{n}.md"
    cmd = [sys.executable, str(HERE / "gen_tasks.py"), "--tasks", str(n), "--seed", str(seed),
           "-o", str(task_path), "--droids", str(ws), "--source-files", str(ws)]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True)
    text = task_path.read_text(encoding="utf-8")
    lines = text.split("\n")
    droid_pos, dep_pos, task_lines, headers = [], [], [], []
    droid_rx = re.compile(r"^  - \*\*Droid\*\*: (\S+)$")
    dep_rx = re.compile(r"^  - \*\*Dependencies\*\*: (.*)$")
    fence = None  # positions are taken outside fenced code only (its task-like lines are not tasks)
    for i, line in enumerate(lines):
        f = re.match(r"^\s*(`{3,}|~{3,})", line)
        if f and (fence is None or (f.group(1)[0] == fence[0] and len(f.group(1)) >= len(fence))):
            fence = f.group(1) if fence is None else None
            continue
        if fence is not None:
            continue
        if m := droid_rx.match(line):
            droid_pos.append((i, u16(line[: m.start(1)]), u16(line[: m.end(1)])))
        elif m := dep_rx.match(line):
            d = re.search(r"\d+\.\d+", m.group(1))
            if d:
                dep_pos.append((i, u16(line[: m.start(1) + d.start() + 1])))
        elif re.match(r"^- \[[^\]]*\] \d+\.\d+ ", line):
            task_lines.append(i)
        elif line.startswith("### ") and line.isascii():
            headers.append(line[4:])
    # header links into the middle of the file; a completion position after '#'
    rel = f"tasks/tasks-{n}.md"
    rng = random.Random(7)
    mid = headers[len(headers) // 10 : len(headers) - len(headers) // 10] or headers
    picks = rng.sample(mid, min(20, len(mid)))
    link_lines = ["# Links into the task file", ""]
    link_def_pos = []
    for h in picks:
        prefix = f"- [{h}]("
        link_def_pos.append((len(link_lines), u16(prefix) + 3))
        link_lines.append(f"{prefix}{rel}#{github_slug(h)})")
    link_lines.append("")
    completion_line = f"See [a section]({rel}#"
    link_completion_pos = (len(link_lines), u16(completion_line))
    link_lines.append(completion_line)
    links_path = ws / "links.md"
    links_path.write_text("\n".join(link_lines) + "\n", encoding="utf-8")
    new_text = _gen().generate(n, seed=seed + 1)
    return Workspace(
        n, ws, task_path, links_path, text, droid_pos, dep_pos, task_lines,
        link_def_pos, link_completion_pos, new_text,
    )  # fmt: skip


def middle(items: list, k: int, rng: random.Random) -> list:
    """k items from the middle 80% of a list."""
    lo, hi = len(items) // 10, len(items) - len(items) // 10
    pool = items[lo:hi] or items
    return rng.sample(pool, min(k, len(pool)))


# -- one session: spawn, open, requests, edits ------------------------------------------------------


@dataclass
class Samples:
    open_cold: list[float] = field(default_factory=list)
    open_ready: list[float] = field(default_factory=list)
    open_new: list[float] = field(default_factory=list)
    edit: list[float] = field(default_factory=list)
    hover: list[float] = field(default_factory=list)
    completion: list[float] = field(default_factory=list)
    definition: list[float] = field(default_factory=list)
    link_completion: list[float] = field(default_factory=list)
    link_definition: list[float] = field(default_factory=list)
    ready: list[float] = field(default_factory=list)  #: spawn → index ready (taskdroid)
    notes: dict[str, Any] = field(default_factory=dict)

    def merge(self, other: Samples) -> None:
        for name in (
            "open_cold", "open_ready", "open_new", "edit", "hover", "completion", "definition",
            "link_completion", "link_definition", "ready",
        ):  # fmt: skip
            getattr(self, name).extend(getattr(other, name))
        for k, v in other.notes.items():
            self.notes.setdefault(k, set()).update(v if isinstance(v, set) else {v})


def env_for(tmp: Path, stats: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["XDG_CONFIG_HOME"] = str(tmp / "xdg")  # no user settings
    (tmp / "xdg").mkdir(exist_ok=True)
    # An installed server starts from cached bytecode. Some environments (this project's machines
    # among them) set PYTHONDONTWRITEBYTECODE=1, which would make every start compile taskdroid's
    # sources again; keep bytecode, in the temporary folder rather than the source tree.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    env.pop("TASKDROID_RUNNER", None)
    if stats is not None:
        env["MD_CLIENT_STATS"] = str(stats)
    return env


async def pull_diagnostics(c: Client, kind: ServerKind, uri: str, prev: str | None):
    params: dict[str, Any] = {"textDocument": {"uri": uri}}
    if kind.diag_identifier:
        params["identifier"] = kind.diag_identifier
    if prev:
        params["previousResultId"] = prev
    dt, res = await c.request("textDocument/diagnostic", params)
    return dt, res


async def run_session(
    kind: ServerKind,
    ws: Workspace,
    tmp: Path,
    *,
    cold: bool,
    n_edits: int,
    n_feat: int,
    rng: random.Random,
    stats_file: Path | None = None,
    profile: Path | None = None,
    wrap: list[str] | None = None,
) -> Samples:
    s = Samples()
    argv = kind.argv
    env = env_for(tmp, stats_file)
    if wrap and kind.key.startswith("taskdroid"):
        argv = [*wrap, *argv]
    if profile is not None and kind.key.startswith("taskdroid"):
        argv = [argv[0], "-m", "cProfile", "-o", str(profile), *argv[1:]]
    elif profile is not None and kind.key == "markdown":
        env["MD_SERVER_NODE_ARGS"] = f"--cpu-prof --cpu-prof-dir={profile}"
    c = Client(kind.label, argv, env=env, cwd=ws.root, config=kind.config)
    is_td = kind.key.startswith("taskdroid")
    await c.start()
    try:
        await c.request("initialize", initialize_params(ws.root, kind.pull, kind.init_options))
        c.notify("initialized", {})
        if kind.key == "markdown":
            c.notify("workspace/didChangeConfiguration", {"settings": MD_SETTINGS})
        if not cold:
            if is_td and kind.pull:
                t = await c.wait_for(lambda: c.refreshes[0] if c.refreshes else None)
            elif is_td:
                t = await c.wait_for(c.published_version(ws.task_uri, None))
            else:
                await asyncio.sleep(0.3)  # the markdown server indexes nothing ahead of time
                t = None
            if t is not None:
                s.ready.append(t - c.t_spawn)
            await asyncio.sleep(0.3)  # let the server go idle

        # -- open --
        version = 1
        t0 = c.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": ws.task_uri, "languageId": "markdown", "version": version, "text": ws.text}},
        )  # fmt: skip
        prev_id = None
        if kind.pull:
            _dt, res = await pull_diagnostics(c, kind, ws.task_uri, None)
            t1 = t0 + _dt
            prev_id = res.get("resultId")
            s.notes["open diagnostics"] = f"{res.get('kind')}: {len(res.get('items', []))} items"
        else:
            t1 = await c.wait_for(c.published_version(ws.task_uri, version))
            n_items = next(n for _t, v, n in c.published[ws.task_uri] if v == version)
            s.notes["open diagnostics"] = f"published: {n_items} items"
        (s.open_cold if cold else s.open_ready).append(t1 - t0)
        await asyncio.sleep(0.3)

        # -- hover / completion / definition on the task file --
        for line, start, end in middle(ws.droid_pos, n_feat, rng):
            pos = {"line": line, "character": (start + end) // 2}
            doc = {"uri": ws.task_uri}
            if is_td:
                dt, res = await c.request(
                    "textDocument/hover", {"textDocument": doc, "position": pos}
                )
                s.hover.append(dt)
                s.notes["hover"] = "markup" if res else "null"
            dt, res = await c.request(
                "textDocument/completion",
                {"textDocument": doc, "position": {"line": line, "character": start},
                 "context": {"triggerKind": 1}},
            )  # fmt: skip
            s.completion.append(dt)
            items = res.get("items", []) if isinstance(res, dict) else (res or [])
            s.notes["completion"] = f"{len(items)} items"
        for line, ch in middle(ws.dep_pos, n_feat, rng):
            dt, res = await c.request(
                "textDocument/definition",
                {"textDocument": {"uri": ws.task_uri}, "position": {"line": line, "character": ch}},
            )
            s.definition.append(dt)
            s.notes["definition"] = "location" if res else "null"

        # -- the markdown server's own features: header links in links.md --
        if kind.key == "markdown":
            links_text = ws.links_path.read_text(encoding="utf-8")
            c.notify(
                "textDocument/didOpen",
                {"textDocument": {"uri": ws.links_uri, "languageId": "markdown", "version": 1, "text": links_text}},
            )  # fmt: skip
            for line, ch in rng.sample(ws.link_def_pos, min(n_feat, len(ws.link_def_pos))):
                dt, res = await c.request(
                    "textDocument/definition",
                    {
                        "textDocument": {"uri": ws.links_uri},
                        "position": {"line": line, "character": ch},
                    },
                )
                s.link_definition.append(dt)
                s.notes["header-link definition"] = "location" if res else "null"
            for _ in range(min(n_feat, 3)):  # ~5 s each on 10,000 tasks
                line, ch = ws.link_completion_pos
                dt, res = await c.request(
                    "textDocument/completion",
                    {"textDocument": {"uri": ws.links_uri}, "position": {"line": line, "character": ch},
                     "context": {"triggerKind": 2, "triggerCharacter": "#"}},
                )  # fmt: skip
                s.link_completion.append(dt)
                items = res.get("items", []) if isinstance(res, dict) else (res or [])
                s.notes["header-link completion"] = f"{len(items)} items"

        # -- one-character edits in the middle of task titles --
        lines = ws.text.split("\n")
        tl = ws.task_lines
        edit_pool = tl[len(tl) // 10 : len(tl) - len(tl) // 10] or tl
        for _ in range(n_edits):
            i = rng.choice(edit_pool)
            line = lines[i]
            m = re.match(r"^- \[[^\]]*\] \d+\.\d+ ", line)
            assert m
            col = m.end() + (len(line) - m.end()) // 2
            while col < len(line) and line[col] != " ":
                col += 1  # insert before a space: never inside a grapheme
            lines[i] = line[:col] + "z" + line[col:]
            version += 1
            ch = u16(line[:col])
            rng_ = {"start": {"line": i, "character": ch}, "end": {"line": i, "character": ch}}
            t0 = c.notify(
                "textDocument/didChange",
                {"textDocument": {"uri": ws.task_uri, "version": version},
                 "contentChanges": [{"range": rng_, "text": "z"}]},
            )  # fmt: skip
            if kind.pull:
                dt, res = await pull_diagnostics(c, kind, ws.task_uri, prev_id)
                prev_id = res.get("resultId") or prev_id
                s.notes["edit diagnostics"] = res.get("kind")
                s.edit.append(dt)
            else:
                t1 = await c.wait_for(c.published_version(ws.task_uri, version, after=t0))
                s.edit.append(t1 - t0)
            await asyncio.sleep(0.05)

        # -- open a new file whose text the server has never seen (seed 2, same size) --
        if not cold and ws.new_text:
            await asyncio.sleep(0.3)
            new_uri = uri_of(ws.root / "tasks" / f"tasks-new-{ws.n}.md")
            t0 = c.notify(
                "textDocument/didOpen",
                {"textDocument": {"uri": new_uri, "languageId": "markdown", "version": 1, "text": ws.new_text}},
            )  # fmt: skip
            if kind.pull:
                dt, res = await pull_diagnostics(c, kind, new_uri, None)
                s.notes["new-file diagnostics"] = (
                    f"{res.get('kind')}: {len(res.get('items', []))} items"
                )
            else:
                dt = await c.wait_for(c.published_version(new_uri, 1)) - t0
            s.open_new.append(dt)
    finally:
        await c.stop()
    return s


async def time_startup(
    kind: ServerKind, ws: Path, tmp: Path, extra_env: dict[str, str] | None = None
) -> tuple[float, float]:
    """Spawn → ``initialize`` answer, and spawn → the answer to the first request after it (a
    ``shutdown``, which every server answers once it handles requests at all)."""
    c = Client(kind.label, kind.argv, env={**env_for(tmp), **(extra_env or {})}, cwd=ws,
               config=kind.config)  # fmt: skip
    await c.start()
    try:
        _dt, _res = await c.request(
            "initialize", initialize_params(ws, kind.pull, kind.init_options)
        )
        t = time.perf_counter() - c.t_spawn
        c.notify("initialized", {})
        await c.request("shutdown", None)
        t_ready = time.perf_counter() - c.t_spawn
    finally:
        await c.stop()
    return t, t_ready


# -- statistics and reporting --------------------------------------------------------------------


def med_ms(xs: list[float]) -> float | None:
    return statistics.median(xs) * 1000 if xs else None


def p90_ms(xs: list[float]) -> float | None:
    if len(xs) < 5:
        return None
    ys = sorted(xs)
    return ys[min(len(ys) - 1, round(0.9 * (len(ys) - 1)))] * 1000


def fmt_ms(v: float | None) -> str:
    if v is None:
        return "—"
    if v >= 1000:
        return f"{v / 1000:.2f} s"
    if v >= 100:
        return f"{v:.0f} ms"
    if v >= 10:
        return f"{v:.1f} ms"
    return f"{v:.2f} ms"


def cell(xs: list[float], p90: bool = False) -> str:
    if not xs:
        return "—"
    out = fmt_ms(med_ms(xs))
    if p90 and p90_ms(xs) is not None:
        out += f" (p90 {fmt_ms(p90_ms(xs))})"
    return out + f" ·{len(xs)}"


def verdict(value_ms: float | None, budget_ms: float) -> str:
    if value_ms is None:
        return "—"
    if value_ms <= budget_ms:
        return f"met ({value_ms / budget_ms:.0%} of budget)"
    return f"**missed** by {fmt_ms(value_ms - budget_ms)} ({value_ms / budget_ms:.1f}×)"


async def wait_quiet(max_load: float | None, max_wait: float = 60.0) -> None:
    """Wait (at most ``max_wait`` s) until the 1-minute load average is below ``max_load``."""
    if not max_load:
        return
    deadline = time.monotonic() + max_wait
    while os.getloadavg()[0] >= max_load and time.monotonic() < deadline:
        await asyncio.sleep(5)


def load() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def source_state() -> str:
    """The commit the servers ran from, and whether server/ had uncommitted changes (read-only)."""
    try:
        git = ["git", "--no-optional-locks", "-C", str(REPO)]
        head = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "--", "server"], capture_output=True, text=True
        ).stdout.strip()
        return head + (" with uncommitted changes in server/" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    try:
        from importlib.metadata import version

        pygls = version("pygls")
    except Exception:
        pygls = "?"
    return (
        f"{cpu}, {os.cpu_count()} cores{mem}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, pygls {pygls}; Node {node}"
    )


BUDGETS = {
    1000: {"open": 100, "edit": 30},
    10000: {"open": 1000, "edit": 100, "hover": 50, "completion": 50, "definition": 50},
}


def report(results: dict, startup: dict[str, list[float]], meta: dict) -> str:
    out: list[str] = []
    td_keys = [
        k for k in ("taskdroid-pull", "taskdroid-push") if any(k in r for r in results.values())
    ]
    cols = [*td_keys, "markdown"]
    labels = {
        "taskdroid-pull": "taskdroid, pull",
        "taskdroid-push": "taskdroid, push",
        "markdown": "VS Code markdown server",
    }
    out.append(f"Medians; `·N` is the number of samples. Machine: {meta['machine']}. "
               f"Load average (1/5/15 min) at start {meta['load_start']}, at end {meta['load_end']}.")  # fmt: skip
    out.append("")
    for n, per in results.items():
        b = BUDGETS.get(n, {})
        out.append(f"#### {n:,} tasks ({meta['sizes'][n] / 1024:.0f} KB)")
        out.append("")
        out.append(
            "| measurement | budget | "
            + " | ".join(labels[k] for k in cols)
            + " | taskdroid vs budget |"
        )
        out.append("|---|---|" + "---|" * len(cols) + "---|")

        def row(
            title: str,
            attr: str,
            budget_key: str | None,
            p90: bool = False,
            td: bool = True,
            per: dict[str, Samples] = per,
            b: dict[str, int] = b,
        ) -> None:
            vals = [cell(getattr(per[k], attr), p90) if k in per else "—" for k in cols]
            budget = f"≤ {fmt_ms(b[budget_key])}" if budget_key and budget_key in b else ""
            worst = None
            if budget and td:
                meds = [med_ms(getattr(per[k], attr)) for k in td_keys if k in per]
                meds = [m for m in meds if m is not None]
                worst = max(meds) if meds else None
            v = verdict(worst, b[budget_key]) if budget and td else ""
            out.append(f"| {title} | {budget} | " + " | ".join(vals) + f" | {v} |")

        row("didOpen → diagnostics, server just started (cold)", "open_cold", "open")
        row(
            "didOpen → diagnostics, workspace indexed (file parsed at indexing)",
            "open_ready",
            "open",
        )
        row(
            "didOpen → diagnostics, workspace indexed, new file (text never seen)",
            "open_new",
            "open",
        )
        row("one-character edit → fresh diagnostics", "edit", "edit", p90=True)
        row("hover on a `**Droid**` value", "hover", "hover", p90=True)
        row("completion after `**Droid**: `", "completion", "completion", p90=True)
        row("definition on a dependency ID", "definition", "definition", p90=True)
        row(
            "*markdown server's own:* definition on a header link (links.md → task file)",
            "link_definition",
            None,
            p90=True,
            td=False,
        )
        row(
            "*markdown server's own:* completion after `](tasks/tasks-N.md#` (all headers)",
            "link_completion",
            None,
            p90=True,
            td=False,
        )
        row("spawn → workspace indexed (taskdroid; first refresh/publish)", "ready", None, td=False)
        out.append("")
        notes = []
        for k in cols:
            if k in per and per[k].notes:
                notes.append(
                    f"{labels[k]}: "
                    + "; ".join(
                        f"{a} → {', '.join(sorted(map(str, v)))}"
                        for a, v in sorted(per[k].notes.items())
                    )
                )
        if "markdown" in per and meta.get("md_parse", {}).get(n):
            mp = meta["md_parse"][n]
            notes.append(
                f"markdown server, client side: markdown-it parse {fmt_ms(mp['parse_ms'])} and "
                f"JSON.stringify of the tokens {fmt_ms(mp['stringify_ms'])} ({mp['mb']:.1f} MB) per uncached "
                f"`markdown/parse` (median of {mp['n']}); {mp['per_pull']:.1f} `markdown/parse` requests per diagnostics pull"
            )
        for line in notes:
            out.append(f"- {line}")
        out.append("")
    if startup:
        out.append("#### Start-up: spawn → `initialize` response")
        out.append("")
        med_ms(startup.get("markdown-direct", []))
        med_ms(startup.get("bare", []))
        td = med_ms(startup.get("taskdroid", []))
        out.append(
            "| server | `initialize` answered: median | min – max | taskdroid ÷ this | budget "
            "| verdict | first request after it answered (median) |"
        )
        out.append("|---|---|---|---|---|---|---|")
        for key, label, budget in (
            ("taskdroid", "taskdroid (`python -m taskdroid lsp`)", None),
            ("markdown-direct", "VS Code markdown server (`node main.js --stdio`)", 1.5),
            ("bare", "bare pygls 2.1 server", 1.2),
        ):
            xs = startup.get(key, [])
            if not xs:
                continue
            m = med_ms(xs)
            ratio = f"{td / m:.2f}×" if td and m and not key.startswith("taskdroid") else ""
            b = f"taskdroid ≤ {budget}× ({fmt_ms(m * budget)})" if budget else ""
            v = ""
            if budget and td and m:
                v = "met" if td <= m * budget else f"**missed** by {fmt_ms(td - m * budget)}"
            ready = fmt_ms(med_ms(startup.get(key + ":ready", [])))
            out.append(
                f"| {label} | {fmt_ms(m)} ·{len(xs)} | {fmt_ms(min(xs) * 1000)} – {fmt_ms(max(xs) * 1000)} | {ratio} | {b} | {v} | {ready} |"
            )
        out.append("")
        out.append(
            "The last column shows when a server answers a request after `initialize`, i.e. "
            "when it is really up."
        )
        out.append("")
    return "\n".join(out)


def write_docs(section: str) -> None:
    """Replace the block between BEGIN and END (append it when missing). A hand-written block
    between FINDINGS and FINDINGS_END inside it is kept, after the new numbers."""
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    old = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Benchmarks\n"
    findings = ""
    if FINDINGS in old and FINDINGS_END in old:
        findings = old[old.index(FINDINGS) : old.index(FINDINGS_END) + len(FINDINGS_END)]
    block = f"{BEGIN}\n{section.rstrip()}\n" + (f"\n{findings}\n" if findings else "") + END
    if BEGIN in old and END in old:
        a = old.index(BEGIN)
        z = old.index(END) + len(END)
        new = old[:a] + block + old[z:]
    else:
        new = old.rstrip("\n") + "\n\n" + block + "\n"
    DOCS.write_text(new, encoding="utf-8")


# -- main ----------------------------------------------------------------------------------------


async def amain(args) -> int:
    python = args.python or sys.executable
    kinds = server_kinds(python)
    rng = random.Random(args.seed)
    td_modes = [f"taskdroid-{m}" for m in args.modes.split(",") if m]
    sizes = [int(x) for x in args.tasks.split(",")]
    quick = args.quick
    md = [] if args.no_markdown else ["markdown"]
    meta: dict[str, Any] = {
        "machine": machine(),
        "source": source_state(),
        "load_start": load(),
        "sizes": {},
        "md_parse": {},
    }
    print(f"machine: {meta['machine']}\nload: {meta['load_start']}", flush=True)

    with tempfile.TemporaryDirectory(prefix="bench-lsp-") as tmp_s:
        tmp = Path(tmp_s)
        workspaces = {n: make_workspace(tmp, n) for n in sizes}
        for n, w in workspaces.items():
            meta["sizes"][n] = w.task_path.stat().st_size

        # -- start-up --
        startup: dict[str, list[float]] = {}
        order = ["taskdroid", "markdown-direct", "bare"] if md else ["taskdroid", "bare"]
        sk = {
            "taskdroid": kinds["taskdroid-pull"],
            "markdown-direct": kinds["markdown-direct"],
            "bare": kinds["bare"],
        }
        ws0 = workspaces[sizes[0]].root
        for key in order:  # warm-up (bytecode caches, page cache)
            await time_startup(sk[key], ws0, tmp, None)
        # warm-up sessions, not recorded: bytecode for the core, the page cache, Node's compile cache
        if not args.startup_only:
            for key in [*td_modes[:1], *md]:
                await run_session(
                    kinds[key],
                    workspaces[sizes[0]],
                    tmp,
                    cold=True,
                    n_edits=2,
                    n_feat=1,
                    rng=random.Random(0),
                )
        if not args.skip_startup:
            rounds = 3 if quick else args.startup_rounds
            for r in range(rounds):
                await wait_quiet(args.max_load)
                k = r % len(order)
                for key in order[k:] + order[:k]:
                    t_init, t_ready = await time_startup(sk[key], ws0, tmp, None)
                    startup.setdefault(key, []).append(t_init)
                    startup.setdefault(key + ":ready", []).append(t_ready)
                    await asyncio.sleep(0.1)
            print(f"start-up done (load {load()})", flush=True)

        # -- sessions --
        results: dict[int, dict[str, Samples]] = {}
        for n in [] if args.startup_only else sizes:
            w = workspaces[n]
            big = n >= 5000
            reps = 1 if quick else (args.reps_big if big else args.reps)
            per: dict[str, Samples] = {}
            stats = tmp / f"md-parse-{n}.jsonl"
            md_pulls = 0
            for rep in range(reps):
                for key in [*td_modes, *md]:
                    kind = kinds[key]
                    is_md = key == "markdown"
                    if is_md:
                        n_edits = 2 if quick else (args.md_edits_big if big else args.md_edits)
                    else:
                        n_edits = 5 if quick else (args.edits_big if big else args.edits)
                    for cold in (True, False):
                        await wait_quiet(args.max_load)
                        prof = None
                        if args.profile:
                            prof = (
                                Path(args.profile)
                                / f"{key}-{n}-{'cold' if cold else 'ready'}-{rep + 1}"
                            )
                            if is_md:
                                prof.mkdir(parents=True, exist_ok=True)
                            else:
                                prof = prof.with_suffix(".prof")
                                prof.parent.mkdir(parents=True, exist_ok=True)
                        s = await run_session(
                            kind, w, tmp, cold=cold, n_edits=n_edits,
                            n_feat=3 if quick else args.features, rng=rng,
                            stats_file=stats if is_md else None, profile=prof,
                            wrap=[w.replace("{name}", f"{key}-{n}-{'cold' if cold else 'ready'}-{rep + 1}")
                                  for w in args.td_wrap.split()] if args.td_wrap else None,
                        )  # fmt: skip
                        if is_md:
                            md_pulls += 1 + n_edits
                        per.setdefault(key, Samples()).merge(s)
                        print(
                            f"{n} tasks, {key}, {'cold' if cold else 'ready'} #{rep + 1}: open "
                            f"{fmt_ms(((s.open_cold or s.open_ready)[0]) * 1000)}, edit median "
                            f"{fmt_ms(med_ms(s.edit))} (load {load()})",
                            flush=True,
                        )
            results[n] = per
            if stats.exists():
                rows = [json.loads(x) for x in stats.read_text().splitlines() if x.strip()]
                big_rows = [r for r in rows if r["uri"].endswith(w.task_path.name)]
                fresh = [r for r in big_rows if not r["cached"]]
                if fresh:
                    meta["md_parse"][n] = {
                        "parse_ms": statistics.median(r["parse_ms"] for r in fresh),
                        "stringify_ms": statistics.median(r["stringify_ms"] for r in big_rows),
                        "mb": statistics.median(r["bytes"] for r in big_rows) / 1e6,
                        "n": len(fresh),
                        "per_pull": len(big_rows) / max(1, md_pulls),
                    }
        meta["load_end"] = load()

    text = report(results, startup, meta)
    print()
    print(text)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "meta": meta,
                    "startup": startup,
                    "results": {
                        str(n): {
                            k: {a: v for a, v in vars(s).items() if a != "notes"}
                            for k, s in per.items()
                        }
                        for n, per in results.items()
                    },
                },
                indent=1,
            )
        )
    if args.write_docs:
        cmd = "python bench/bench_lsp.py " + " ".join(a for a in sys.argv[1:])
        if os.nice(0) != 0:  # the servers inherit the priority; say so
            cmd = f"nice -n {os.nice(0)} {cmd}"
        section = (
            "## Language server\n\n"
            "taskdroid's language server against VS Code's markdown language server "
            "(vscode-markdown-languageserver 0.3.0, markdown-it 14.1.0) on the same generated files in the "
            'same run; what each number measures is in `bench/README.md` ("Language-server benchmark").\n\n'
            f"Command: `{cmd.strip()}`, run {time.strftime('%Y-%m-%d %H:%M %Z')} on taskdroid "
            f"{meta['source']}.\n\n" + text
        )
        write_docs(section)
        print(f"wrote {DOCS}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--quick", action="store_true", help="one session per server and size, few samples"
    )
    ap.add_argument(
        "--tasks", default="1000,10000", help="comma-separated sizes (default 1000,10000)"
    )
    ap.add_argument(
        "--modes", default="pull,push", help="taskdroid diagnostic modes (default pull,push)"
    )
    ap.add_argument(
        "--reps", type=int, default=4, help="sessions per server, cold and ready each (1,000 tasks)"
    )
    ap.add_argument(
        "--reps-big",
        type=int,
        default=3,
        help="sessions per server, cold and ready each (10,000 tasks)",
    )
    ap.add_argument(
        "--edits", type=int, default=25, help="edits per taskdroid session (1,000 tasks)"
    )
    ap.add_argument(
        "--edits-big", type=int, default=20, help="edits per taskdroid session (10,000 tasks)"
    )
    ap.add_argument(
        "--md-edits", type=int, default=6, help="edits per markdown-server session (1,000 tasks)"
    )
    ap.add_argument(
        "--md-edits-big", type=int, default=2, help="edits per markdown-server session (10,000)"
    )
    ap.add_argument(
        "--features", type=int, default=8, help="hover/completion/definition requests per session"
    )
    ap.add_argument(
        "--startup-rounds",
        type=int,
        default=15,
        help="start-up rounds (each server once per round)",
    )
    ap.add_argument("--skip-startup", action="store_true")
    ap.add_argument(
        "--no-markdown",
        action="store_true",
        help="taskdroid (and bare pygls) only, without VS Code's markdown server",
    )
    ap.add_argument("--startup-only", action="store_true")
    ap.add_argument("--seed", type=int, default=11, help="seed for picking positions and edits")
    ap.add_argument("--python", help="interpreter for taskdroid and bare pygls (default: this one)")
    ap.add_argument(
        "--max-load",
        type=float,
        help="before each session / start-up round, wait (≤ 1 min) "
        "until the 1-minute load average is below this",
    )
    ap.add_argument(
        "--profile",
        metavar="DIR",
        help="run taskdroid under cProfile (DIR/*.prof) and the "
        "markdown server with node --cpu-prof (DIR/markdown-*/); timings are then not representative",
    )
    ap.add_argument(
        "--td-wrap",
        metavar="CMD",
        help="prefix for the taskdroid command, {name} = session "
        "name, e.g. 'py-spy record -r 250 -f raw -o /tmp/spy/{name}.txt --'",
    )
    ap.add_argument("--json", metavar="FILE", help="also write raw samples (seconds) as JSON")
    ap.add_argument(
        "--write-docs", action="store_true", help="replace the section in docs/benchmarks.md"
    )
    args = ap.parse_args()
    if args.no_markdown:
        return asyncio.run(amain(args))
    if not MD_MAIN.exists():
        print("bench/node/node_modules missing: run `npm ci --prefix bench/node`", file=sys.stderr)
        return 2
    if shutil.which("node") is None:
        print("node not found", file=sys.stderr)
        return 2
    return asyncio.run(amain(args))


if __name__ == "__main__":
    raise SystemExit(main())
