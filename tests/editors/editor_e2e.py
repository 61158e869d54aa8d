"""Shared helpers of the real-editor tests: the plan (positions and expectations computed from
``examples/``), running a driver in a sandbox, and the checks both editors must pass.

A driver (``nvim_driver.lua``, ``eglot_driver.el``) gets:

* ``TASKDROID_LSP_CMD`` — the server command as a JSON array (this interpreter, ``-m taskdroid
  lsp``, logging to a file in the sandbox);
* ``TASKDROID_E2E_PLAN`` — the plan below as a JSON file;
* ``TASKDROID_E2E_OUT`` — where it writes its results (JSON).

It opens a COPY of ``examples/`` as the workspace, waits on conditions (bounded by
``timeout_ms``), records what the editor shows and exits; the assertions are here.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parents[1] / "examples"

MISTAKES = "mistakes/tasks/tasks-mistakes.md"
AUTH = "tasks/tasks-auth-api.md"
DASHBOARD = "tasks/tasks-prd-dashboard.md"

#: one editor run (start-up, all steps, shutdown) must finish well within this
RUN_TIMEOUT = 55
#: one wait inside a driver
WAIT_MS = 15_000


def lines_of(rel: str) -> list[str]:
    return (EXAMPLES / rel).read_text(encoding="utf-8").split("\n")


def find_line(rel: str, pattern: str, start: int = 1) -> int:
    """1-based number of the first line (from ``start``) matching ``pattern``."""
    for i, text in enumerate(lines_of(rel), 1):
        if i >= start and re.search(pattern, text):
            return i
    raise AssertionError(f"{rel}: no line matches {pattern!r}")


def col_of(rel: str, line: int, needle: str, offset: int = 0) -> int:
    """1-based character column of ``needle`` on ``line`` (plus ``offset`` characters)."""
    text = lines_of(rel)[line - 1]
    idx = text.index(needle)
    return idx + 1 + offset


def front_matter(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    _, fm, _ = text.split("---", 2)
    return yaml.safe_load(fm)


def droids(folder: Path) -> dict[str, str]:
    """name → description of the droids (and Claude agents) of a project folder."""
    out = {}
    for sub in (".factory/droids", ".claude/agents", "droids"):
        for f in sorted((folder / sub).glob("*.md")):
            try:
                fm = front_matter(f)
            except Exception:
                continue
            if isinstance(fm, dict) and fm.get("name"):
                out[str(fm["name"])] = str(fm.get("description") or "")
    return out


#: typed after a dependency list: an emoji outside the BMP, then an unknown task (TD010)
ASTRAL_APPEND = " (🔄 wip), 9.9"


def _edit(col: int, delete: int, insert: str, wait_code: str, wait_text: str) -> dict[str, Any]:
    """At 1-based character ``col`` (0: the end of the line) delete ``delete`` characters, insert
    ``insert``, then wait for a ``wait_code`` diagnostic on the line whose message has
    ``wait_text``."""
    return {
        "col": col,
        "delete": delete,
        "insert": insert,
        "wait_code": wait_code,
        "wait_text": wait_text,
    }


def build_plan(root: Path) -> dict[str, Any]:
    expected = json.loads((EXAMPLES / "EXPECTED.json").read_text(encoding="utf-8"))
    prefix = MISTAKES
    expect = [{"line": d["line"], "code": d["code"]} for d in expected if d["path"] == prefix]

    hover_line = find_line(AUTH, r"\*\*Droid\*\*: backend-engineer")
    local_dep = find_line(AUTH, r"\*\*Dependencies\*\*: Task 1\.1$")
    cross_dep = find_line(AUTH, r"\*\*Dependencies\*\*: tasks-prd-dashboard\.md#2\.1")
    astral_line = find_line(AUTH, r"^  - \*\*Dependencies\*\*: 1\.2$")
    astral_text = lines_of(AUTH)[astral_line - 1] + ASTRAL_APPEND
    completion_line = find_line(AUTH, r"\*\*Droid\*\*: ", start=hover_line + 1)
    return {
        "root": str(root),
        "timeout_ms": WAIT_MS,
        "diagnostics": {"file": MISTAKES, "expect": expect},
        "clean": {"file": AUTH},
        "hover": {
            "file": AUTH,
            "line": hover_line,
            "col": col_of(AUTH, hover_line, "backend-engineer", offset=3),
        },
        "definitions": [
            {
                "name": "local",
                "file": AUTH,
                "line": local_dep,
                "col": col_of(AUTH, local_dep, "1.1", offset=1),
                "target": {"file": AUTH, "line": find_line(AUTH, r"^- \[.\] 1\.1 "), "id": "1.1"},
            },
            {
                "name": "cross-file",
                "file": AUTH,
                "line": cross_dep,
                "col": col_of(AUTH, cross_dep, "#2.1", offset=2),
                "target": {
                    "file": DASHBOARD,
                    "line": find_line(DASHBOARD, r"^\s*- \[.\] 2\.1 "),
                    "id": "2.1",
                },
            },
        ],
        "astral": {
            "file": AUTH,
            "line": astral_line,
            # 1. type at the end of the line; 2. change the last character (after the emoji)
            "edits": [
                _edit(0, 0, ASTRAL_APPEND, "TD010", "`9.9`"),
                _edit(len(astral_text), 1, "8", "TD010", "`9.8`"),
            ],
            "expect_text": astral_text[:-1] + "8",
            "expect_code": "TD010",
            "expect_range": "9.8",
        },
        "completion": {
            "file": AUTH,
            "line": completion_line,
            "text": "  - **Droid**: ",
            "wait_code": "TD043",
            "accept": "docs-writer",
        },
    }


@dataclass
class Run:
    result: dict[str, Any]
    plan: dict[str, Any]
    seconds: float
    log: str

    def step(self, name: str) -> dict[str, Any]:
        steps = self.result.get("steps") or {}
        assert name in steps, f"the driver recorded no {name!r} step\n{self.describe()}"
        step = steps[name]
        assert not step.get("error"), f"{name}: {step['error']}\n{self.describe()}"
        return step

    def describe(self) -> str:
        """Everything useful when an assertion fails: results, the logs' tails."""
        res = json.dumps(self.result, indent=1, ensure_ascii=False)
        if len(res) > 12_000:
            res = res[:12_000] + " …"
        return f"run took {self.seconds:.1f}s\n--- results\n{res}\n--- logs\n{self.log}"


def sandbox_env(tmp: Path) -> dict[str, str]:
    """The editor's environment: HOME, XDG folders and TMPDIR inside ``tmp`` (no personal droids
    or user config reach the server, and nothing is written outside the sandbox)."""
    env = dict(os.environ)
    env.pop("TASKDROID_RUNNER", None)
    home = tmp / "home"
    for sub in ("", ".config", ".cache", ".local/share", ".local/state", "tmp"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_DATA_HOME=str(home / ".local/share"),
        XDG_STATE_HOME=str(home / ".local/state"),
        TMPDIR=str(home / "tmp"),
        PYTHONUNBUFFERED="1",
    )
    return env


def _tail(path: Path, n: int = 40) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(lines[-n:])


def run_editor(
    argv: list[str],
    tmp: Path,
    extra_env: dict[str, str] | None = None,
    extra_logs: list[Path] | None = None,
) -> Run:
    """Copy examples/ into ``tmp``, write the plan and run the editor ``argv``."""
    root = tmp / "examples"
    shutil.copytree(EXAMPLES, root)
    plan = build_plan(root)
    plan_file, out_file = tmp / "plan.json", tmp / "results.json"
    plan_file.write_text(json.dumps(plan, indent=1), encoding="utf-8")
    server_log = tmp / "server.log"
    env = sandbox_env(tmp)
    server = [sys.executable, "-m", "taskdroid", "lsp", "--log-level", "INFO"]
    env.update(
        TASKDROID_LSP_CMD=json.dumps([*server, "--log-file", str(server_log)]),
        TASKDROID_E2E_PLAN=str(plan_file),
        TASKDROID_E2E_OUT=str(out_file),
    )
    env.update(extra_env or {})
    start = time.monotonic()
    # its own process group: on a timeout the editor AND the server it started are killed
    proc = subprocess.Popen(
        argv, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, errors="replace", start_new_session=True,
    )  # fmt: skip
    try:
        output, _ = proc.communicate(timeout=RUN_TIMEOUT)
        rc: int | str = proc.returncode
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        rc = f"killed after {RUN_TIMEOUT}s"
    seconds = time.monotonic() - start
    logs = [f"exit status: {rc}", "--- editor output", output[-4000:]]
    logs += ["--- server log (tail)", _tail(server_log)]
    for extra in extra_logs or []:
        logs += [f"--- {extra.name} (tail)", _tail(extra)]
    log = "\n".join(logs)
    try:
        result = json.loads(out_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise AssertionError(f"the driver wrote no results ({e})\n{log}") from None
    return Run(result, plan, seconds, log)


# -- the checks every editor must pass ------------------------------------------------------------


def check_started(run: Run) -> None:
    init = run.step("initialize")
    assert init.get("ok"), f"the server did not initialize\n{run.describe()}"


def check_diagnostics(run: Run) -> None:
    diag = run.step("diagnostics")
    got = {(d["code"], d["line"]) for d in diag["items"]}
    want = {(e["code"], e["line"]) for e in run.plan["diagnostics"]["expect"]}
    missing = sorted(want - got, key=lambda x: x[1])
    assert not missing, f"{MISTAKES}: missing {missing}\n{run.describe()}"
    assert diag["ok"], run.describe()
    by_code = {d["code"]: d for d in diag["items"]}
    # severities as the editor shows them
    assert by_code["TD001"]["severity"] == "error", run.describe()
    assert by_code["TD043"]["severity"] == "warning", run.describe()
    # columns in characters: the marker of TD001, the ✅ of TD021 (3 bytes in UTF-8, 1 unit in
    # UTF-16): the editor must put the range where the text is
    td001 = by_code["TD001"]
    assert td001["col"] == col_of(MISTAKES, td001["line"], "[/]"), run.describe()
    td021 = by_code["TD021"]
    assert td021["col"] == col_of(MISTAKES, td021["line"], "✅"), run.describe()
    assert td021["end_col"] == td021["col"] + 1, run.describe()


def check_clean(run: Run) -> None:
    clean = run.step("clean")
    assert clean["ok"], f"nothing published for the clean file {AUTH}\n{run.describe()}"
    assert clean["items"] == [], run.describe()


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def check_hover(run: Run) -> None:
    hover = run.step("hover")
    description = droids(EXAMPLES)["backend-engineer"]
    text = _squash(hover.get("text") or "")
    assert "backend-engineer" in text, run.describe()
    assert _squash(description) in text, f"hover lacks the description\n{run.describe()}"


def check_definitions(run: Run) -> None:
    assert run.plan["definitions"]
    for want in run.plan["definitions"]:
        got = run.step("definition:" + want["name"])
        target = want["target"]
        where = f"{want['name']}: from {want['file']}:{want['line']}:{want['col']}"
        assert got["ok"], f"{where}: the editor did not jump\n{run.describe()}"
        assert (got["file"], got["line"]) == (target["file"], target["line"]), (
            f"{where}: landed on {got['file']}:{got['line']}, expected "
            f"{target['file']}:{target['line']}\n{run.describe()}"
        )
        # the cursor is on the task ID
        rest = got["line_text"][got["col"] - 1 :]
        assert rest.startswith(target["id"]), f"{where}: cursor at {rest!r}\n{run.describe()}"


def check_astral(run: Run) -> None:
    astral = run.step("astral")
    plan = run.plan["astral"]
    assert astral["line_text"] == plan["expect_text"], (
        f"the buffer holds {astral['line_text']!r}\n{run.describe()}"
    )
    assert astral["ok"], (
        f"the server did not follow the edits ({astral['waits']})\n{run.describe()}"
    )
    (diag,) = [d for d in astral["items"] if d["code"] == plan["expect_code"]]
    col = plan["expect_text"].rindex(plan["expect_range"]) + 1
    assert (diag["col"], diag["end_col"]) == (col, col + len(plan["expect_range"])), (
        f"{plan['expect_code']} should cover {plan['expect_range']!r} at character {col}\n"
        f"{run.describe()}"
    )


def check_completion(run: Run) -> None:
    comp = run.step("completion")
    plan = run.plan["completion"]
    assert comp["ok"], f"no completion answer\n{run.describe()}"
    assert comp["flagged"], (
        f"the server never flagged the blanked Droid field ({plan['wait_code']}): the edit did not "
        f"reach it\n{run.describe()}"
    )
    names = set(droids(EXAMPLES))
    offered = set(comp["words"])
    assert names <= offered, f"missing droid names {sorted(names - offered)}\n{run.describe()}"
    assert comp["accepted"] == plan["accept"], run.describe()
    assert comp["line_after"] == plan["text"] + plan["accept"], run.describe()
    assert comp["settled"], f"diagnostics on the line did not clear\n{run.describe()}"


def check_no_errors(run: Run) -> None:
    errors = run.result.get("errors") or []
    assert not errors, f"driver/editor errors: {errors}\n{run.describe()}"
    shown = [m for m in run.result.get("server_messages") or [] if m.get("type") == 1]
    assert not shown, f"the server showed errors: {shown}\n{run.describe()}"
