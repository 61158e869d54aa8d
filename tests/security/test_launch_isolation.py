"""A repository never runs its own code through us: every way the server and its helpers are
started imports nothing from the workspace (docs/security.md, "Launching the server").

With ``python -m`` and ``python -c`` Python puts the current directory first on ``sys.path``, so a
``taskdroid/`` package or a ``yaml.py`` committed at a repository root would be imported instead
of the installed ones. The workspace here is booby-trapped: each such module writes a marker file
when imported. The VS Code extension's launches (server, dependency graph, interpreter probe) are
taken from its own TypeScript (``client-vscode/scripts/launch-argv.mjs`` prints what
``src/launch.ts`` computes) and spawned for real with this venv's Python and console script.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from pygls.uris import from_fs_path

from taskdroid.core.settings import Settings
from taskdroid.core.workspace import Workspace

REPO = Path(__file__).resolve().parents[2]
CLIENT = REPO / "client-vscode"
PYTHON = sys.executable
CONSOLE_SCRIPT = Path(PYTHON).parent / ("taskdroid.exe" if os.name == "nt" else "taskdroid")
TIMEOUT = 90

#: modules a launch would import from the current directory if it were on sys.path
TRAPS = [
    "taskdroid/__init__.py",
    "taskdroid/__main__.py",
    "yaml.py",
    "markdown_it.py",
    "pygls.py",
    "lsprotocol.py",
    "pydantic.py",
    "sitecustomize.py",
    "usercustomize.py",
]

TASKS = """# Tasks

## 1. Work

- [ ] 1.1 Do it
  - **Droid**: helper
- [ ] 1.2 Then
  - **Dependencies**: 1.1, 9.9
"""

HELPER = """---
name: helper
description: Helps.
---

You help.
"""


class Trap:
    def __init__(self, root: Path) -> None:
        self.ws = root / "ws"
        self.markers = root / "markers"
        self.home = root / "home"
        self.markers.mkdir()
        self.home.mkdir()
        (self.ws / ".git").mkdir(parents=True)
        for rel in TRAPS:
            f = self.ws / rel
            f.parent.mkdir(parents=True, exist_ok=True)
            marker = self.markers / rel.replace("/", "_")
            f.write_text(f"open({str(marker)!r}, 'w').close()\n", encoding="utf-8")
        (self.ws / "tasks.md").write_text(TASKS, encoding="utf-8")
        # a relative droidPaths folder: found only when resolved against the workspace root
        (self.ws / ".taskdroid.toml").write_text('droidPaths = ["shared"]\n', encoding="utf-8")
        (self.ws / "shared").mkdir()
        (self.ws / "shared" / "helper.md").write_text(HELPER, encoding="utf-8")

    def fired(self) -> list[str]:
        return sorted(p.name for p in self.markers.iterdir())

    def env(self, extra: dict[str, str | None] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TASKDROID_")}
        env.update(HOME=str(self.home), XDG_CONFIG_HOME=str(self.home / ".config"))
        env.pop("PYTHONSAFEPATH", None)
        for k, v in (extra or {}).items():
            if v is not None:
                env[k] = v
        return env


@pytest.fixture
def trap(tmp_path: Path) -> Trap:
    return Trap(tmp_path)


# -- a minimal LSP client over stdio ------------------------------------------------------------------


def _reader(stream, out: queue.Queue) -> None:
    try:
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    out.put(None)
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            assert length is not None
            out.put(json.loads(stream.read(length)))
    except Exception as e:  # surfaced by the test as "no answer"
        out.put(e)


def _send(proc: subprocess.Popen, msg: dict[str, Any]) -> None:
    body = json.dumps(msg).encode("utf-8")
    proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    proc.stdin.flush()


def lsp_session(argv: list[str], cwd: str, env: dict[str, str], ws: Path) -> dict[str, Any]:
    """Start the server, initialize it on ``ws`` (workspace folders, as VS Code does), open
    tasks.md, collect its diagnostics, shut down. Returns the initialize result and the codes."""
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    messages: queue.Queue = queue.Queue()
    threading.Thread(target=_reader, args=(proc.stdout, messages), daemon=True).start()
    uri = from_fs_path(str(ws))
    tasks_uri = from_fs_path(str(ws / "tasks.md"))

    def wait_for(pred):
        while True:
            try:
                msg = messages.get(timeout=TIMEOUT)
            except queue.Empty:
                pytest.fail(f"no answer from {argv}")
            if msg is None or isinstance(msg, Exception):
                proc.kill()
                err = proc.stderr.read().decode(errors="replace")
                pytest.fail(f"{argv} stopped: {msg!r}\n{err}")
            if "method" in msg and "id" in msg:  # a request from the server
                items = msg.get("params", {}).get("items", [])
                result = [None] * len(items) if msg["method"] == "workspace/configuration" else None
                _send(proc, {"jsonrpc": "2.0", "id": msg["id"], "result": result})
                continue
            if pred(msg):
                return msg

    try:
        _send(proc, {
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {
                "processId": os.getpid(), "rootUri": uri, "capabilities": {},
                "workspaceFolders": [{"uri": uri, "name": "ws"}],
            },
        })
        init = wait_for(lambda m: m.get("id") == 1)
        assert "result" in init, init
        _send(proc, {"jsonrpc": "2.0", "method": "initialized", "params": {}})
        _send(proc, {
            "jsonrpc": "2.0", "method": "textDocument/didOpen",
            "params": {"textDocument": {
                "uri": tasks_uri, "languageId": "markdown", "version": 1,
                "text": (ws / "tasks.md").read_text(encoding="utf-8"),
            }},
        })
        diags = wait_for(
            lambda m: m.get("method") == "textDocument/publishDiagnostics"
            and m["params"]["uri"] == tasks_uri
        )
        _send(proc, {"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
        wait_for(lambda m: m.get("id") == 2)
        _send(proc, {"jsonrpc": "2.0", "method": "exit"})
        assert proc.wait(timeout=TIMEOUT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for s in (proc.stdin, proc.stdout, proc.stderr):
            s.close()
    return {
        "capabilities": init["result"]["capabilities"],
        "codes": sorted(d.get("code") for d in diags["params"]["diagnostics"]),
    }


def assert_worked_on(session: dict[str, Any]) -> None:
    """The server analysed the workspace it was given: the unknown dependency 9.9 is reported,
    and the droid from the relative ``droidPaths`` folder is found (no TD020)."""
    assert "executeCommandProvider" in session["capabilities"]
    assert "TD010" in session["codes"], session
    assert "TD020" not in session["codes"], session


# -- the controls: the trap works ---------------------------------------------------------------------


def test_control_python_m_from_the_workspace_runs_the_repository_code(trap):
    """Without -P and with the workspace as cwd (the extension's old launch), the repository's
    ``taskdroid/__init__.py`` runs instead of the installed package."""
    subprocess.run(
        [PYTHON, "-m", "taskdroid", "lsp"], cwd=trap.ws, env=trap.env(),
        stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT,
    )
    assert "taskdroid___init__.py" in trap.fired()


def test_control_python_c_from_the_workspace_imports_yaml_py(trap):
    """The old interpreter probe (``python -c ...``, no cwd given: VS Code's own cwd, which is
    the workspace when started as ``code .``) imports a committed yaml.py."""
    subprocess.run(
        [PYTHON, "-c", "import yaml"], cwd=trap.ws, env=trap.env(), capture_output=True,
        timeout=TIMEOUT,
    )
    assert trap.fired() == ["yaml.py"]


# -- the documented command lines, run with the workspace as current directory -----------------------


def test_python_P_m_taskdroid_lsp_imports_nothing_from_the_cwd(trap):
    """``python -P -m taskdroid lsp`` (docs/editors.md) even with the trap as current directory."""
    session = lsp_session([PYTHON, "-P", "-m", "taskdroid", "lsp"], str(trap.ws), trap.env(), trap.ws)
    assert_worked_on(session)
    assert trap.fired() == []


@pytest.mark.skipif(not CONSOLE_SCRIPT.is_file(), reason="no taskdroid console script next to python")
def test_console_script_lsp_imports_nothing_from_the_cwd(trap):
    """The ``taskdroid`` console script puts its own folder, not the cwd, first on sys.path."""
    session = lsp_session([str(CONSOLE_SCRIPT), "lsp"], str(trap.ws), trap.env(), trap.ws)
    assert_worked_on(session)
    assert trap.fired() == []


@pytest.mark.skipif(not CONSOLE_SCRIPT.is_file(), reason="no taskdroid console script next to python")
def test_console_script_graph_and_check_import_nothing_from_the_cwd(trap):
    for argv in (
        [str(CONSOLE_SCRIPT), "graph", "--format", "mermaid"],
        [str(CONSOLE_SCRIPT), "check"],
    ):
        done = subprocess.run(argv, cwd=trap.ws, env=trap.env(), capture_output=True, text=True,
                              timeout=TIMEOUT)
        assert done.returncode in (0, 1), done.stderr
    assert "1.1 Do it" in subprocess.run(
        [str(CONSOLE_SCRIPT), "graph", "--format", "mermaid"], cwd=trap.ws, env=trap.env(),
        capture_output=True, text=True, timeout=TIMEOUT,
    ).stdout
    assert trap.fired() == []


# -- the VS Code extension's launches, from its own TypeScript ---------------------------------------


def extension_launches(trap: Trap, extension_path: Path = CLIENT) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None or not (CLIENT / "node_modules" / "esbuild").is_dir():
        pytest.skip("node or client-vscode/node_modules missing (run npm ci in client-vscode)")
    spec = {
        "extensionPath": str(extension_path),
        "folders": [str(trap.ws)],
        "root": str(trap.ws),
        "pythonPath": PYTHON,
        "pathTaskdroid": str(CONSOLE_SCRIPT),
        # the setting as package.json's example used to show it: no -P (the cwd alone protects it)
        "settingCommand": [PYTHON, "-m", "taskdroid", "lsp"],
    }
    done = subprocess.run(
        [node, str(CLIENT / "scripts" / "launch-argv.mjs"), json.dumps(spec)],
        capture_output=True, text=True, timeout=TIMEOUT, check=True,
    )
    out = json.loads(done.stdout)
    assert [c["source"] for c in out["candidates"]] == ["setting", "python", "path"]
    return out


def _outside(path: str, ws: Path) -> bool:
    p, w = os.path.realpath(path), os.path.realpath(ws)
    return p != w and not p.startswith(w + os.sep)


@pytest.mark.parametrize("source", ["python", "path", "setting"])
def test_extension_server_launch_imports_nothing_from_the_workspace(trap, source):
    launches = extension_launches(trap)
    c = next(c for c in launches["candidates"] if c["source"] == source)
    server = c["server"]
    session = lsp_session(
        [server["command"], *server["args"]], server["options"]["cwd"],
        trap.env(server["options"].get("env")), trap.ws,
    )
    assert_worked_on(session)
    assert trap.fired() == []
    assert _outside(server["options"]["cwd"], trap.ws)
    if source == "python":
        assert server["args"][:1] == ["-P"]


@pytest.mark.parametrize("source", ["python", "path", "setting"])
def test_extension_graph_launch_imports_nothing_from_the_workspace(trap, source):
    launches = extension_launches(trap)
    graph = next(c for c in launches["candidates"] if c["source"] == source)["graph"]
    done = subprocess.run(
        [graph["command"], *graph["args"]], cwd=graph["options"]["cwd"], env=trap.env(),
        capture_output=True, text=True, timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("flowchart")
    assert "1.1 Do it" in done.stdout and "1.2 Then" in done.stdout
    assert trap.fired() == []
    assert _outside(graph["options"]["cwd"], trap.ws)
    assert graph["args"][-3:] == ["--root", str(trap.ws), str(trap.ws)]


@pytest.mark.parametrize("source", ["python", "path"])
def test_extension_probe_imports_nothing_from_the_workspace(trap, source):
    launches = extension_launches(trap)
    probe = next(c for c in launches["candidates"] if c["source"] == source)["probe"]
    done = subprocess.run(
        [probe["command"], *probe["args"]], cwd=probe["options"]["cwd"], env=trap.env(),
        capture_output=True, text=True, timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stderr
    assert trap.fired() == []
    assert _outside(probe["options"]["cwd"], trap.ws)


def test_extension_probe_with_the_workspace_as_cwd_still_imports_nothing(trap):
    """-P alone protects the probe: even run from the workspace it imports nothing there."""
    probe = next(c for c in extension_launches(trap)["candidates"] if c["source"] == "python")["probe"]
    done = subprocess.run([probe["command"], *probe["args"]], cwd=trap.ws, env=trap.env(),
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr
    assert trap.fired() == []


def test_extension_probe_rejects_an_interpreter_without_P(trap, tmp_path):
    """An interpreter older than 3.11 fails on ``-P`` before running anything: a stand-in that
    answers like Python 3.10 and would import the trap if it ran the code."""
    if os.name != "posix":
        pytest.skip("a shell script stands in for the old interpreter")
    old = tmp_path / "python3.10"
    old.write_text(
        "#!/bin/sh\n"
        'case "$1" in -P) echo "Unknown option: -P" >&2; '
        "echo \"usage: python3.10 [option] ... [-c cmd | -m mod | file | -] [arg] ...\" >&2; "
        "echo \"Try \\`python -h' for more information.\" >&2; exit 2;; esac\n"
        f"exec {PYTHON} \"$@\"\n",
        encoding="utf-8",
    )
    old.chmod(0o755)
    probe = next(c for c in extension_launches(trap)["candidates"] if c["source"] == "python")["probe"]
    done = subprocess.run([str(old), *probe["args"]], cwd=trap.ws, env=trap.env(),
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode != 0
    assert re.search(r"Unknown option:?\s*-P\b", done.stderr)  # what probeFailure() recognises
    assert trap.fired() == []


def test_extension_launches_from_the_file_system_root_when_its_folder_is_in_the_workspace(trap):
    """The home folder opened as a workspace contains the extension: then the launches run from
    the file-system root, still outside the workspace, and still work."""
    launches = extension_launches(trap, extension_path=trap.ws / ".vscode" / "extensions" / "td")
    assert launches["cwd"] == os.path.abspath(os.sep)
    setting = launches["candidates"][0]["server"]
    session = lsp_session([setting["command"], *setting["args"]], setting["options"]["cwd"],
                          trap.env(setting["options"].get("env")), trap.ws)
    assert_worked_on(session)
    assert trap.fired() == []


def test_extension_spawns_only_through_launch_ts():
    """Every process the extension starts gets its argv and cwd from src/launch.ts: no other
    source file sets a ``cwd`` or spawns without a Launch's options."""
    for f in sorted((CLIENT / "src").glob("*.ts")):
        text = f.read_text(encoding="utf-8")
        if f.name == "launch.ts":
            continue
        assert not re.search(r"\bcwd\s*:", text), f"{f.name} sets a cwd"
        assert "require('child_process')" not in text, f.name
        for imp in re.finditer(r"import\s*\{([^}]*)\}\s*from\s*'(node:)?child_process'", text):
            assert {n.strip() for n in imp.group(1).split(",")} == {"execFile"}, f.name
        assert not re.search(r"import\s*\*\s*as\s*\w+\s*from\s*'(node:)?child_process'", text)
        for call in re.finditer(r"execFile\(([^;]*?)\{([^}]*)\}", text, re.S):
            assert re.search(r"\.\.\.\w+(\.options)?\b", call.group(2)), f"{f.name}: {call.group(0)}"
        if "LanguageClient(" in text:
            assert "serverLaunch(" in text, f.name


# -- the server side: the workspace comes from initialize, not the cwd ------------------------------


def test_relative_droid_paths_are_relative_to_the_workspace_not_the_cwd(trap, tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    ws = Workspace(trap.ws, Settings(droidPaths=["shared"]))
    assert "helper" in ws.droid_index()
