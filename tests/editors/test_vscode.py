"""The VS Code extension (``client-vscode/``): its own checks, and an end-to-end run in real VS Code.

* (``npm test`` in ``client-vscode`` — strict type check, lint, unit tests of the pure parts and
  the esbuild bundle — is a step of its own in ``tests/run.sh``, not a pytest test.)
* package.json declares the settings the server really has (names, defaults, codes).
* End to end: code-server 4.100.3 (VS Code 1.100.3) with the linux-x64 ``.vsix`` — the
  extension alone, carrying its server (no pip, no ``taskdroid.server.command``, no virtual
  environment on ``PATH``: the bundled server runs on the system's ``python3``), driven by
  playwright-core in Debian's headless Chromium (``client-vscode/test/e2e/driver.js``), on a copy
  of ``examples/mistakes``: the Problems panel lists taskdroid codes, hover on a droid reference
  shows its description, Ctrl+. on a malformed marker fixes it, a "Run" code lens shows, Set Status
  changes the task line, Run Task at Cursor runs a stand-in droid (status bar + progress), the
  dependency graph renders, and the Tasks view shows the tasks, a Kiro spec's requirement coverage
  and runs ready tasks. One editor session serves every check (under xdist the workers share
  it through a lock); screenshots and logs land in ``client-vscode/.e2e/artifacts/``.

What it needs, and where it comes from (each missing piece skips with the reason):

* Node 20 + npm (the registry) and pip (the package index) — ``npm ci`` and
  ``npm run package:linux-x64`` build the ``.vsix`` (with ``bundled/libs``) when it is missing or
  older than its sources or the server's;
* a Python 3.11+ ``python3`` on ``PATH`` outside any virtual environment, to run the bundled server;
* code-server 4.100.3 — installed from npm by ``client-vscode/scripts/install-code-server.sh`` into
  ``$TASKDROID_CODE_SERVER_DIR`` (default ``~/.cache/taskdroid-e2e/code-server-4.100.3``), or
  ``$CODE_SERVER`` pointing at an installed ``code-server``;
* Chromium — Debian's ``chromium`` (``.ci/run`` installs it), or ``$CHROMIUM``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "client-vscode"
E2E_DIR = CLIENT / ".e2e"
ARTIFACTS = Path(os.environ.get("TASKDROID_E2E_ARTIFACTS", E2E_DIR / "artifacts"))
TARGET = "linux-x64"
VSIX = CLIENT / f"taskdroid-{TARGET}.vsix"
WORKSPACE = ROOT / "examples" / "mistakes"
TASK_FILE = "tasks/tasks-mistakes.md"
CS_VERSION = "4.100.3"
CACHE = Path(
    os.environ.get(
        "TASKDROID_CODE_SERVER_DIR",
        Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
        / "taskdroid-e2e"
        / f"code-server-{CS_VERSION}",
    )
)
#: the whole editor session (start-up, every step, shutdown)
SESSION_LIMIT_S = 170


# -- helpers ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def locked(name: str) -> Iterator[None]:
    """An exclusive lock shared by every pytest process (xdist workers, parallel runs)."""
    E2E_DIR.mkdir(parents=True, exist_ok=True)
    with open(E2E_DIR / f"{name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def tail(text: str, n: int = 40) -> str:
    return "\n".join(text.strip().splitlines()[-n:])


def run(cmd: list[str], cwd: Path, timeout: float, env: dict[str, str] | None = None):
    return subprocess.run(
        cmd,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def node_major() -> int | None:
    node = shutil.which("node")
    if node is None or shutil.which("npm") is None:
        return None
    out = run([node, "-p", "process.versions.node.split('.')[0]"], ROOT, 30)
    try:
        return int(out.stdout.strip())
    except ValueError:
        return None


def npm_ready() -> None:
    """``npm ci`` in client-vscode when node_modules is missing or older than the lock file."""
    if node_major() is None:
        pytest.skip("node and npm are not installed")
    with locked("build"):  # one lock for every npm step: npm ci replaces node_modules
        marker = CLIENT / "node_modules" / ".package-lock.json"
        lock = CLIENT / "package-lock.json"
        if marker.exists() and marker.stat().st_mtime >= lock.stat().st_mtime:
            return
        out = run(["npm", "ci", "--no-audit", "--no-fund"], CLIENT, 600)
        if out.returncode != 0:
            pytest.fail(f"npm ci failed:\n{tail(out.stdout + out.stderr)}")


def newest_source() -> float:
    files = [
        CLIENT / "package.json",
        CLIENT / "package-lock.json",
        CLIENT / ".vscodeignore",
        ROOT / "pyproject.toml",
    ]
    for folder in (
        CLIENT / "src",
        CLIENT / "media",
        CLIENT / "scripts",
        CLIENT / "bundled" / "tool",
    ):
        files.extend(p for p in folder.rglob("*") if p.is_file())
    # the bundled server is this repository's taskdroid
    files.extend(p for p in (ROOT / "server" / "taskdroid").rglob("*.py"))
    return max(p.stat().st_mtime for p in files if p.exists())


def outside_venv_env() -> dict[str, str]:
    """The environment without any virtual environment: the extension must find no installed
    taskdroid and start the one its .vsix carries."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
    }
    drop = {str(Path(sys.prefix) / "bin"), os.environ.get("VIRTUAL_ENV", "") + "/bin"}
    env["PATH"] = os.pathsep.join(
        d for d in env.get("PATH", "").split(os.pathsep) if d and d not in drop
    )
    return env


def system_python(env: dict[str, str]) -> str | None:
    """A python3 outside the virtual environment that can run the bundled server (3.11+)."""
    python = shutil.which("python3", path=env["PATH"])
    if python is None:
        return None
    out = run([python, "-c", "import sys; print(sys.version_info >= (3, 11))"], Path("/"), 30, env)
    return python if out.stdout.strip() == "True" else None


def line_of(pattern: str) -> int:
    """1-based line of the first line of the task file matching ``pattern``."""
    text = (WORKSPACE / TASK_FILE).read_text(encoding="utf-8")
    for i, line in enumerate(text.split("\n"), 1):
        if re.search(pattern, line):
            return i
    raise AssertionError(f"{TASK_FILE}: no line matches {pattern!r}")


def column_of(line: int, needle: str, offset: int = 0) -> int:
    text = (WORKSPACE / TASK_FILE).read_text(encoding="utf-8").split("\n")[line - 1]
    return text.index(needle) + 1 + offset


def droid_description(name: str) -> str:
    text = (WORKSPACE / ".factory" / "droids" / f"{name}.md").read_text(encoding="utf-8")
    m = re.search(r"^description:\s*(.+)$", text, re.M)
    assert m, f"{name} has a description"
    return m.group(1).strip().strip("\"'")[:40]


def plan() -> dict[str, Any]:
    """The steps, with positions computed from the example file (1-based line:column)."""
    droid_line = line_of(r"^\s+- \*\*Droid\*\*: api-builder")
    bad = line_of(r"^- \[/\] ")
    status = line_of(r"^- \[ \] 1\.3 ")
    run_line = line_of(r"^- \[ \] 2\.1 ")

    def title(n: int) -> str:  # the start of a task's title: finds its line on screen
        text = (WORKSPACE / TASK_FILE).read_text(encoding="utf-8").split("\n")[n - 1]
        return re.sub(r"^- \[.*?\] ", "", text)[:24]

    return {
        "file": TASK_FILE,
        "problems": ["TD001", "TD010", "DR001", "CF001"],
        "hover": {
            "at": f"{droid_line}:{column_of(droid_line, 'api-builder', 2)}",
            "expect": droid_description("api-builder"),
        },
        "codelens": "Run",
        "quickfix": {"at": f"{bad}:{column_of(bad, '[/]', 1)}", "line": title(bad), "bad": "[/]"},
        # found through Go to Symbol: earlier edits may have moved them
        "status": {"line": title(status), "expect": "- [x]"},
        "run": {
            "line": title(run_line),
            "expect": "- [x]",
            # a stand-in droid: works for a moment, then succeeds (the server marks the task done)
            "runner": [sys.executable, "-c", "import time; time.sleep(3)"],
        },
        "graph": True,
    }


# -- the client's own checks -----------------------------------------------------------------------


def test_package_json_declares_the_server_settings():
    """Every docs/language.md §10 setting, with the server's own defaults and diagnostic codes."""
    from taskdroid.core.diagnostics import CODES
    from taskdroid.core.settings import Settings

    manifest = json.loads((CLIENT / "package.json").read_text(encoding="utf-8"))
    props = manifest["contributes"]["configuration"]["properties"]
    defaults = Settings().model_dump(mode="json")

    def flat(d: dict, prefix: str = "") -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in d.items():
            if isinstance(v, dict) and k in ("diagnostics", "runner"):
                out.update(flat(v, f"{prefix}{k}."))
            else:
                out[f"{prefix}{k}"] = v
        return out

    for key, value in flat(defaults).items():
        prop = props.get(f"taskdroid.{key}")
        assert prop is not None, f"taskdroid.{key} is not declared"
        assert prop["default"] == value, (
            f"taskdroid.{key}: default {prop['default']!r} != {value!r}"
        )
        assert prop.get("markdownDescription") or prop.get("description")
        if key.startswith("runner."):
            assert prop.get("scope") in ("machine", "application"), key
    codes = set(props["taskdroid.diagnostics.disable"]["items"]["enum"])
    assert codes == set(CODES), codes ^ set(CODES)
    assert set(props["taskdroid.diagnostics.severity"]["propertyNames"]["enum"]) == set(CODES)
    assert props["taskdroid.server.command"]["scope"] == "machine"
    assert manifest["capabilities"]["untrustedWorkspaces"]["supported"] == "limited"


# -- end to end ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def vsix() -> Path:
    """The linux-x64 .vsix with the server inside (scripts/package.mjs → bundle-server.py)."""
    if not (sys.platform == "linux" and os.uname().machine == "x86_64"):
        pytest.skip(f"the {TARGET} .vsix runs on Linux x86-64 only")
    npm_ready()
    with locked("build"):
        if not VSIX.exists() or VSIX.stat().st_mtime < newest_source():
            env = {**os.environ, "PYTHON": sys.executable}  # its pip fetches the wheels
            out = run(["npm", "run", f"package:{TARGET}"], CLIENT, 900, env)
            if out.returncode != 0 or not VSIX.exists():
                pytest.fail(f"npm run package:{TARGET} failed:\n{tail(out.stdout + out.stderr)}")
    return VSIX


@pytest.fixture(scope="session")
def code_server() -> Path:
    if os.environ.get("CODE_SERVER"):
        path = Path(os.environ["CODE_SERVER"])
        if not os.access(path, os.X_OK):
            pytest.skip(f"CODE_SERVER={path} is not executable")
        return path
    binary = CACHE / "node_modules" / ".bin" / "code-server"
    with locked("code-server"):
        if (CACHE / ".complete").exists() and binary.exists():
            return binary
        if os.environ.get("TASKDROID_E2E_NO_INSTALL"):
            pytest.skip(
                f"code-server {CS_VERSION} is not installed in {CACHE} (TASKDROID_E2E_NO_INSTALL)"
            )
        major = node_major()
        if major != 20:
            pytest.skip(f"code-server {CS_VERSION} needs Node 20 (found {major})")
        script = CLIENT / "scripts" / "install-code-server.sh"
        try:
            out = run(["bash", str(script), str(CACHE)], CLIENT, 1500)
        except subprocess.TimeoutExpired:
            pytest.skip(f"installing code-server {CS_VERSION} took too long")
        if out.returncode != 0 or not binary.exists():
            pytest.skip(
                f"code-server {CS_VERSION} could not be installed into {CACHE}:\n"
                f"{tail(out.stdout + out.stderr, 15)}"
            )
    return binary


@pytest.fixture(scope="session")
def chromium() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not path:
        pytest.skip("no Chromium (apt-get install chromium fonts-liberation, or set CHROMIUM)")
    return path


def _shared_dir(tmp_path_factory) -> Path:
    """A folder all xdist workers of this run share (a run's own folder otherwise)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    uid = os.environ.get("PYTEST_XDIST_TESTRUNUID", "solo")
    d = base / f"vscode-e2e-{uid}"
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture(scope="session")
def e2e(tmp_path_factory, vsix: Path, code_server: Path, chromium: str) -> dict[str, Any]:
    base_env = outside_venv_env()
    if system_python(base_env) is None:
        pytest.skip("no python3 (3.11+) outside the virtual environment to run the bundled server")
    shared = _shared_dir(tmp_path_factory)
    results_file = shared / "results.json"
    with locked("e2e-session"):
        if results_file.exists():
            return json.loads(results_file.read_text(encoding="utf-8"))
        # a short path: Chromium and VS Code put Unix sockets in it (at most 107 bytes)
        work = Path(tempfile.mkdtemp(prefix="tdvs-", dir="/tmp" if os.path.isdir("/tmp") else None))
        ws = work / "ws"
        shutil.copytree(WORKSPACE, ws)
        shots = ARTIFACTS / "screenshots"
        shutil.rmtree(ARTIFACTS, ignore_errors=True)
        shots.mkdir(parents=True)
        env = {
            **base_env,
            "WORK": str(work),
            "WS": str(ws),
            "CODE_SERVER": str(code_server),
            "VSIX": str(vsix),
            "CHROMIUM": chromium,
            "SHOTS": str(shots),
            "RESULTS": str(results_file),
            # nothing configured: the extension must start the server its .vsix carries
            "SERVER_COMMAND": "[]",
            "STEPS": json.dumps({**plan(), **tasks_view_plan(), **requirements_plan()}),
            "LIMIT_S": str(SESSION_LIMIT_S),
        }
        started = time.monotonic()
        try:
            out = run(
                ["node", str(CLIENT / "test" / "e2e" / "driver.js")],
                CLIENT,
                SESSION_LIMIT_S + 40,
                env,
            )
            output = out.stdout + out.stderr
        except subprocess.TimeoutExpired as e:
            output = f"driver timed out: {e}"
        finally:
            # backstop: the driver kills code-server's process group; make sure of it
            pgid = work / "cs.pgid"
            if pgid.exists():
                with contextlib.suppress(ProcessLookupError, ValueError, PermissionError):
                    os.killpg(int(pgid.read_text()), 9)
        elapsed = time.monotonic() - started
        # artifacts: screenshots (already there), the driver's output, code-server's and the
        # extension host's logs (the taskdroid output channel is among them)
        (ARTIFACTS / "driver.log").write_text(output, encoding="utf-8")
        if (work / "code-server.log").exists():
            shutil.copy(work / "code-server.log", ARTIFACTS / "code-server.log")
        if (work / "udd" / "logs").exists():
            shutil.copytree(work / "udd" / "logs", ARTIFACTS / "vscode-logs", dirs_exist_ok=True)
        if results_file.exists():
            results = json.loads(results_file.read_text(encoding="utf-8"))
        else:
            results = {"steps": {}, "log": [output[-4000:]]}
        results["elapsed"] = elapsed
        # how the extension started the server (its output channel: "starting … (from …)")
        results["started"] = [
            line
            for log in (ARTIFACTS / "vscode-logs").rglob("*taskdroid*.log")
            for line in log.read_text(encoding="utf-8", errors="replace").splitlines()
            if "] starting " in line
        ]
        results["output"] = output[-6000:]
        results_file.write_text(json.dumps(results, indent=2), encoding="utf-8")
        shutil.copy(results_file, ARTIFACTS / "results.json")
        shutil.rmtree(work, ignore_errors=True)
        return results


def check(e2e: dict[str, Any], step: str) -> str:
    fatal = e2e["steps"].get("fatal") or e2e["steps"].get("limit")
    result = e2e["steps"].get(step)
    if result is None:
        reason = fatal["detail"] if fatal else "the step did not run"
        pytest.fail(f"{step}: {reason}\n(artifacts: {ARTIFACTS})\n{e2e.get('output', '')[-3000:]}")
    assert result["ok"], f"{step}: {result['detail']}\n(screenshots: {ARTIFACTS / 'screenshots'})"
    return result["detail"]


def test_vscode_extension_installs_and_starts_the_server(e2e):
    check(e2e, "install")
    check(e2e, "open")
    check(e2e, "statusbar")
    # the .vsix alone: the server it carries, run with -P by a Python outside any venv
    started = e2e.get("started") or []
    assert started, "the extension's log does not say how it started the server"
    assert all("taskdroid_bundled.py lsp (from the bundled server" in s for s in started), started
    assert all(" -P " in s for s in started), started
    assert e2e.get("elapsed", 0) < 180, f"the editor session took {e2e['elapsed']:.0f}s"


def test_vscode_problems_panel_lists_taskdroid_codes(e2e):
    detail = check(e2e, "problems")
    assert "TD001" in detail


def test_vscode_hover_on_droid_shows_description(e2e):
    check(e2e, "hover")


def test_vscode_quick_fix_on_malformed_marker(e2e):
    check(e2e, "quickfix")


def test_vscode_run_code_lens_is_visible(e2e):
    check(e2e, "codelens")


def test_vscode_set_status_changes_the_task_line(e2e):
    check(e2e, "setstatus")


def test_vscode_run_task_shows_progress_and_completes(e2e):
    check(e2e, "run")


def test_vscode_dependency_graph_renders(e2e):
    check(e2e, "graph")


# -- the Tasks view (docs/language.md §15) ---------------------------------------------------------------------


def tasks_view_plan() -> dict[str, Any]:
    """The Tasks view steps: rows (label start → codicon) of tasks no earlier step changes, the
    section whose ready tasks "Run Ready Tasks" runs, and the markdown validation control."""
    import argparse

    from taskdroid.cli import build_workspace
    from taskdroid.core.taskview import file_view

    ws, _ = build_workspace(WORKSPACE, argparse.Namespace(config=None, runner=None), personal=False)
    view = file_view(ws, ws.task_docs[str((WORKSPACE / TASK_FILE).resolve())])
    tasks = {t.task_id: t for s in view.sections for t in s.tasks}
    icons = {"completed": "pass-filled", "pending": "circle-large-outline", "in_progress": "sync",
             "blocked": "warning"}  # fmt: skip

    def label(task_id: str) -> str:
        return f"{task_id} {tasks[task_id].title}"[:30]

    section = next(s for s in view.sections if any(t.task_id == "2.3" for t in s.tasks))
    return {
        "tasksview": {
            "expect": [
                [label(i), icons[tasks[i].status]] for i in ("1.1", "4.2", "6.1", "6.3", "7.2")
            ]
        },
        "runready": {"section": section.title, "task": label("2.3"), "done": "pass-filled"},
        "mdvalidate": {"control": "no-such-guide.md"},
    }


def test_vscode_tasks_view_shows_the_tasks_with_their_icons(e2e):
    check(e2e, "tasksview")


#: a Kiro spec of the example (requirements.md beside tasks.md)
SPEC = ".kiro/specs/invoice-export"
#: the codicon of each coverage state (client-vscode/src/outline.ts COVERAGE_ICONS)
COVERAGE_ICONS = {"covered": "circle-large-filled", "uncovered": "info", "done": "pass-filled"}


def requirements_plan() -> dict[str, Any]:
    """The Requirements node of the Kiro spec's tasks.md: its coverage, each requirement's row
    (label start → codicon of its state, as `taskdroid coverage` states it), the first task under
    the first covered requirement, and the requirement whose heading Enter reveals."""
    import argparse

    from taskdroid.cli import build_workspace
    from taskdroid.core.inline import plain_title
    from taskdroid.core.requirement_views import outline_requirements

    ws, _ = build_workspace(WORKSPACE, argparse.Namespace(config=None, runner=None), personal=False)
    tasks = str((WORKSPACE / SPEC / "tasks.md").resolve())
    ((_req, rows),) = outline_requirements(ws, tasks)
    reqs = [r for r in rows if r.item.kind == "requirement"]
    assert {r.state for r in reqs} >= {"covered", "uncovered"}, "the example shows both states"
    covered = next(r for r in reqs if r.tasks)
    first = covered.tasks[0].task
    total, n_covered = len(reqs), sum(1 for r in reqs if r.tasks)

    def label(row: Any) -> str:
        return f"{row.item.label}: {row.item.title}"[:30]

    last = reqs[-1]
    return {
        "requirements": {
            "node": "Requirements",
            "description": f"coverage {n_covered}/{total}",
            "expect": [[label(r), COVERAGE_ICONS[r.state]] for r in reqs],
            "child": {
                "under": label(covered),
                "task": f"{first.id} {plain_title(first.title)}"[:30],
            },
            "reveal": {"label": label(last), "file": "requirements.md", "line": last.item.line + 1},
        }
    }


def test_vscode_tasks_view_shows_requirement_coverage(e2e):
    """docs/language.md §15: the Kiro spec's Requirements node with coverage n/m, each requirement's
    state icon and its tasks; Enter on a requirement reveals its heading in requirements.md."""
    check(e2e, "requirements")


def test_vscode_run_ready_from_the_tasks_view(e2e):
    check(e2e, "runready")


def test_vscode_markdown_validation_ignores_task_markers(e2e):
    """With ``markdown.validate.enabled``, VS Code's markdown validator reports the control link
    to a missing file but none of the markers ``[~]`` ``[!]`` as an undefined reference."""
    check(e2e, "mdvalidate")
