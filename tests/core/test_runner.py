"""The droid runner (docs/language.md §7): argv and prompt building (pure), refusals, output lines, and the run
engine driving ``tests/fixtures/fake_droid.py`` — outcomes, cancel, timeout, the maxParallel
queue, locks, bounded output, and an injection attempt through a task title."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from taskdroid.core.edits import apply_edits, status_edits
from taskdroid.core.model import Status
from taskdroid.core.settings import DEFAULT_PROMPT, RunnerSettings
from taskdroid.core.workspace import Workspace
from taskdroid.run import (
    RunError,
    RunHooks,
    RunManager,
    TaskLock,
    build_argv,
    build_prompt,
    check_droid_name,
    fill,
    logfile,
    not_configured_message,
    output,
    prepare_run,
    resolve_program,
    summarize_line,
)

FAKE = str(Path(__file__).resolve().parents[1] / "fixtures" / "fake_droid.py")

TASKS = """\
# Tasks

## 1. Work (HIGH)

- [x] 1.1 Done ✅
  - **Completed**: 2025-01-10 10:00
- [ ] 1.2 Build the thing
  - **Droid**: builder
  - **Files**: src/a.ts (entry), src/b.ts
    - nested note
  - **Dependencies**: 1.1
- [ ] 1.3 Waits
  - **Droid**: builder
  - **Dependencies**: 1.2, 9.9
- [!] 1.4 Was blocked ⚠️
  - **Droid**: builder
  - **Issue**: flaky network
- [ ] 1.5 No droid
"""


# -- pure parts ------------------------------------------------------------------------------------


def test_not_configured_message_names_the_setting_and_both_setups():
    msg = not_configured_message()
    assert "`runner.command`" in msg
    assert '["droid", "exec", "--auto", "low", "{prompt}"]' in msg
    assert '["claude", "-p", "{prompt}"]' in msg
    assert ".taskdroid.toml" in msg and "config.toml" in msg


def test_fill_is_one_pass_and_keeps_unknown_placeholders():
    values = {"title": "use {workspace} and $(rm -rf ~)", "workspace": "/ws"}
    assert fill("{title} in {workspace} {nope}", values) == (
        "use {workspace} and $(rm -rf ~) in /ws {nope}"
    )


def test_build_argv_prompt_is_one_element():
    argv = build_argv(
        ["droid", "exec", "--droid={droid}", "{prompt}", "--id", "{taskId}"],
        "multi\nline; $(x) `y`",
        droid="d",
        task_id="1.2",
        task_file="tasks/t.md",
        workspace="/ws",
    )
    assert argv == ["droid", "exec", "--droid=d", "multi\nline; $(x) `y`", "--id", "1.2"]
    # no {prompt}: the prompt is appended; a NUL cannot be passed
    assert build_argv(
        ["claude", "-p"], "p\x00q", droid="d", task_id="1", task_file="f", workspace="/w"
    ) == [
        "claude",
        "-p",
        "pq",
    ]
    with pytest.raises(RunError, match="cannot use placeholders"):
        build_argv(
            ["{workspace}/bin/droid"], "p", droid="d", task_id="1", task_file="f", workspace="/w"
        )


def _argv(command, prompt="Do the task", task_id="1.2"):
    return build_argv(
        command, prompt, droid="d", task_id=task_id, task_file="t.md", workspace="/ws"
    )


@pytest.mark.parametrize(
    ("command", "where"),
    [
        (["claude", "-p", "{prompt}"], "argument 2 (`{prompt}`)"),
        (["claude", "-p"], "argument 2 (the prompt, appended)"),
        (["agent", "{prompt}", "--", "x"], "argument 1 (`{prompt}`)"),  # `--` after it: no help
    ],
)
def test_a_value_starting_with_a_dash_is_never_passed_as_an_option(command, where):
    evil = "--dangerously-skip-permissions\nand the rest of the prompt"
    with pytest.raises(RunError) as e:
        _argv(command, evil)
    msg = str(e.value)
    assert e.value.kind == "runner" and where in msg
    assert "`--dangerously-skip-permissions`" in msg and 'literal "--" element' in msg
    assert "{prompt}" in msg and "{title}" in msg


def test_a_dash_value_is_fine_after_a_literal_double_dash_or_in_the_users_own_option():
    evil = "--dangerously-skip-permissions"
    assert _argv(["claude", "-p", "--", "{prompt}"], evil)[-1] == evil
    assert _argv(["claude", "-p", "--"], evil) == ["claude", "-p", "--", evil]
    assert _argv(["x", "--title={prompt}", "{taskId}"], evil)[1] == f"--title={evil}"
    assert _argv(["x", "-", "{prompt}"])[1] == "-"  # literal, the user's choice
    with pytest.raises(RunError, match="argument 1"):
        _argv(["x", "{taskId}", "--", "{prompt}"], task_id="-1")


def test_a_prompt_template_starting_with_the_title_cannot_smuggle_an_option(tmp_path):
    """The case the rule is for: ``runner.prompt = "{title}…"`` and a task titled like an
    option. The default prompt starts with words, so it is safe with any title."""
    text = TASKS.replace("1.2 Build the thing", "1.2 --dangerously-skip-permissions")
    with pytest.raises(RunError, match="argument 2 \\(`\\{prompt\\}`\\) becomes `--danger") as e:
        prepare(tmp_path, "1.2", text=text, prompt="{title}\n\n{fields}")
    assert e.value.kind == "runner"
    spec = prepare(tmp_path, "1.2", text=text)  # the default prompt
    assert spec.title == "--dangerously-skip-permissions"
    assert spec.argv[-1].startswith("You are the droid `builder`")
    # the same user prompt with an ordinary title runs
    assert prepare(tmp_path, "1.2", prompt="{title}\n\n{fields}").argv[-1].startswith("Build")


def test_build_prompt_default_template():
    prompt = build_prompt(
        DEFAULT_PROMPT,
        droid="builder",
        task_id="1.2",
        task_file="tasks/t.md",
        workspace="/ws",
        title="Build {droid}",
        fields="- **Files**: a",
    )
    assert "`builder`" in prompt and "task 1.2" in prompt and "tasks/t.md" in prompt
    assert "Build {droid}" in prompt and "- **Files**: a" in prompt
    assert "`[~]`" in prompt and "`[x]`" in prompt and "`[!]`" in prompt


@pytest.mark.parametrize("name", ["builder", "backend-engineer-droid-forge", "a.b_c-1", "X9"])
def test_valid_droid_names(name):
    assert check_droid_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["", "-rf", "--help", "../x", "a/b", "a\\b", "..", "a..b", ".hidden", "a b", "a;b", "x" * 200],
)
def test_invalid_droid_names(name):
    with pytest.raises(RunError, match="not a valid droid name"):
        check_droid_name(name)


def test_resolve_program(tmp_path):
    assert resolve_program(
        os.path.basename(sys.executable), {"PATH": os.path.dirname(sys.executable)}
    )
    with pytest.raises(RunError, match="not found on PATH"):
        resolve_program("surely-no-such-droid-cli", {"PATH": str(tmp_path)})
    with pytest.raises(RunError, match="relative path"):
        resolve_program("./bin/droid")
    with pytest.raises(RunError, match="not an executable"):
        resolve_program(str(tmp_path / "missing"))
    here = os.path.dirname(sys.executable)
    name = os.path.basename(sys.executable)
    with pytest.raises(RunError, match="inside the workspace"):
        resolve_program(name, {"PATH": here}, workspace=os.path.dirname(here))
    assert resolve_program(name, {"PATH": f":{here}"}, workspace=str(tmp_path))


TRAP = '#!/bin/sh\ntouch "$(dirname "$0")/TRAPPED"\nexit 0\n'


def plant_droid(folder: Path) -> Path:
    """A ``droid`` program committed in a repository: it leaves a mark when it runs."""
    folder.mkdir(parents=True, exist_ok=True)
    trap = folder / "droid"
    trap.write_text(TRAP)
    trap.chmod(0o755)
    return trap


@pytest.mark.parametrize(
    "path", ["/usr/bin:", ":/usr/bin", "/usr/bin::/bin", ".:/usr/bin", "/usr/bin:./", "bin:/bin"]
)
def test_a_program_in_the_workspace_is_never_found_through_path(tmp_path, monkeypatch, path):
    """An empty or relative ``PATH`` entry means the current directory — the workspace of a run:
    a committed ``./droid`` must not be what runs."""
    root, tasks, ws = make_ws(tmp_path)
    plant_droid(root)
    plant_droid(root / "bin")
    monkeypatch.chdir(root)
    with pytest.raises(RunError, match="`droid` was not found on PATH") as e:
        prepare_run(
            workspace=root, task_path=tasks, text=tasks.read_text(), task_id="1.2",
            runner=RunnerSettings(command=["droid", "exec", "{prompt}"]), ws=ws,
            env={"PATH": path},
        )  # fmt: skip
    assert e.value.kind == "runner" and "empty and relative PATH entries" in str(e.value)
    assert not (root / "TRAPPED").exists() and not (root / "bin" / "TRAPPED").exists()


def test_a_path_entry_inside_the_workspace_is_refused_unless_named_absolutely(tmp_path):
    root, tasks, ws = make_ws(tmp_path)
    trap = plant_droid(root / "node_modules" / ".bin")

    def attempt(command, path):
        return prepare_run(
            workspace=root, task_path=tasks, text=tasks.read_text(), task_id="1.2",
            runner=RunnerSettings(command=command), ws=ws, env={"PATH": path},
        )  # fmt: skip

    with pytest.raises(RunError, match="inside the workspace") as e:
        attempt(["droid", "{prompt}"], f"{trap.parent}{os.pathsep}/usr/bin")
    assert e.value.kind == "runner" and "absolute path in runner.command" in str(e.value)
    # through a link outside the workspace that leads into it
    outside = tmp_path.parent / f"{tmp_path.name}-bin"
    outside.mkdir()
    (outside / "droid").symlink_to(trap)
    with pytest.raises(RunError, match="inside the workspace"):
        attempt(["droid", "{prompt}"], str(outside))
    # the user's own choice, by absolute path
    assert attempt([str(trap), "{prompt}"], "/usr/bin").argv[0] == str(trap)


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        (
            '{"type":"assistant","message":{"content":[{"type":"text","text":"Reading the code"}]}}',
            "Reading the code",
        ),
        (
            '{"type":"assistant","message":{"content":[{"type":"tool_use","name":"Edit","input":{"file_path":"src/a.ts"}}]}}',
            "Edit: src/a.ts",
        ),
        ('{"type":"result","subtype":"success","result":"All done"}', "All done"),
        ('{"type":"system","subtype":"init","session_id":"x"}', None),
        ('{"type":"user","message":{"content":[{"type":"tool_result","content":"…"}]}}', None),
        ('{"type":"message","role":"assistant","text":"Planning"}', "Planning"),
        (
            '{"type":"tool_call","toolName":"Execute","parameters":{"command":"npm test"}}',
            "Execute: npm test",
        ),
        (
            '{"type":"completion","finalText":"Finished\\nwith two lines"}',
            "Finished with two lines",
        ),
        ('{"type":"error","message":"rate limited"}', "error: rate limited"),
        ('{"type": "assistant", "message": {"content": [{"type": "text", "text": "cut', None),
        ("\x1b[32mcompiling\x1b[0m  src/a.ts", "compiling src/a.ts"),
        ("progress 10%\rprogress 50%\rprogress 90%", "progress 90%"),
        ("   ", None),
        ("{not json at all}", "{not json at all}"),
    ],
)
def test_summarize_line(line, shown):
    assert summarize_line(line) == shown


# -- preparing a run -------------------------------------------------------------------------------


def make_ws(tmp_path: Path, text: str = TASKS, droids=("builder",)) -> tuple[Path, Path, Workspace]:
    (tmp_path / ".git").mkdir(exist_ok=True)
    tasks = tmp_path / "tasks" / "tasks-main.md"
    tasks.parent.mkdir(exist_ok=True)
    tasks.write_text(text, encoding="utf-8")
    ws = Workspace(tmp_path, personal=False)
    ws.set_text(str(tasks), text, "task")
    for name in droids:
        d = tmp_path / ".factory" / "droids" / f"{name}.md"
        d.parent.mkdir(parents=True, exist_ok=True)
        body = f"---\nname: {name}\ndescription: test droid\n---\nDo it.\n"
        d.write_text(body, encoding="utf-8")
        ws.set_text(str(d), body, "droid")
    return tmp_path, tasks, ws


def settings(*fake_args: str, **kw) -> RunnerSettings:
    return RunnerSettings(command=[sys.executable, FAKE, *fake_args, "{prompt}"], **kw)


def prepare(tmp_path, task_id="1.2", *fake_args, text=TASKS, **kw):
    root, tasks, ws = make_ws(tmp_path, text)
    runner_kw = {
        k: kw.pop(k) for k in ("timeoutSeconds", "maxParallel", "logDir", "prompt") if k in kw
    }
    return prepare_run(
        workspace=root,
        task_path=tasks,
        text=tasks.read_text(),
        task_id=task_id,
        runner=settings(*fake_args, **runner_kw),
        ws=ws,
        **kw,
    )


def test_prepare_builds_the_prompt_from_the_task(tmp_path):
    spec = prepare(tmp_path)
    assert spec.task_file == "tasks/tasks-main.md" and spec.task_id == "1.2"
    assert spec.droid == "builder" and spec.title == "Build the thing"
    assert spec.argv[0] == os.path.abspath(sys.executable) and spec.argv[-1] == spec.prompt
    assert (
        "- **Files**: src/a.ts (entry), src/b.ts\n  - nested note\n- **Dependencies**: 1.1"
        in spec.prompt
    )
    assert "task 1.2 of the task file tasks/tasks-main.md" in spec.prompt
    assert spec.log_dir == tmp_path / ".taskdroid" / "runs"
    assert (spec.log_dir / ".gitignore").read_text() == "*\n"


def test_prepare_refusals(tmp_path):
    root, tasks, ws = make_ws(tmp_path)
    text = tasks.read_text()

    def attempt(task_id="1.2", runner=None, **kw):
        return prepare_run(
            workspace=root, task_path=tasks, text=text, task_id=task_id,
            runner=runner or settings(), ws=ws, **kw,
        )  # fmt: skip

    with pytest.raises(RunError, match=r"runner\.command") as e:
        attempt(runner=RunnerSettings())
    assert e.value.kind == "not-configured"
    with pytest.raises(RunError, match=r"no task `7\.7`"):
        attempt("7.7")
    with pytest.raises(RunError, match="already completed"):
        attempt("1.1")
    assert attempt("1.1", force=True, droid="builder").task_id == "1.1"
    with pytest.raises(RunError, match=r"depends on 1\.2 \(pending\), 9\.9 \(does not exist\)"):
        attempt("1.3")
    assert attempt("1.3", force=True).task_id == "1.3"
    with pytest.raises(RunError, match="names no droid"):
        attempt("1.5")
    assert attempt("1.5", droid="someone-else").droid == "someone-else"  # explicit: any name
    with pytest.raises(RunError, match="not a valid droid name"):
        attempt("1.5", droid="--yolo")
    ws.remove(str(root / ".factory" / "droids" / "builder.md"))
    with pytest.raises(RunError, match="`builder`, which is not in the index"):
        attempt("1.2")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.md"
    outside.write_text(text)
    with pytest.raises(RunError, match="outside the workspace"):
        prepare_run(workspace=root, task_path=outside, text=text, task_id="1.2", runner=settings())
    # a log folder that a symbolic link in the repository leads outside the workspace
    shutil.rmtree(root / ".taskdroid")
    (root / ".taskdroid").mkdir()
    (root / ".taskdroid" / "runs").symlink_to(tmp_path.parent)
    with pytest.raises(RunError, match="outside the workspace"):
        attempt("1.2", droid="builder")


# -- running ---------------------------------------------------------------------------------------


class FileHooks(RunHooks):
    """Status edits written straight to disk; progress recorded."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.statuses: list[Status] = []
        self.fail_marking = False

    async def set_status(self, run, status, *, note=None, extra_fields=()):
        if self.fail_marking:
            return False
        path = Path(run.spec.task_path)
        text = path.read_text(encoding="utf-8")
        edits = status_edits(
            text, None, run.spec.task_id, status, note=note, extra_fields=extra_fields
        )
        path.write_text(apply_edits(text, edits), encoding="utf-8")
        self.statuses.append(status)
        return True

    def progress(self, run, kind, message):
        self.events.append((kind, message))

    def messages(self, kind: str) -> list[str]:
        return [m for k, m in self.events if k == kind]


def block(path: Path, task_id: str) -> str:
    text = path.read_text(encoding="utf-8")
    m = re.search(rf"^- \[[^\]]*\] {re.escape(task_id)} .*?(?=^- \[|\Z)", text, re.M | re.S)
    assert m, text
    return m.group(0)


async def run_once(spec, hooks=None, grace=0.3):
    hooks = hooks or FileHooks()
    manager = RunManager(grace=grace)
    run = manager.submit(spec, hooks)
    result = await asyncio.wait_for(run.execute(), 20)
    return run, result, hooks


async def test_completed_run_logs_and_reports(tmp_path):
    spec = prepare(tmp_path, "1.2", "--lines", "3", "--sleep", "0.25")
    _, result, hooks = await run_once(spec)
    assert result.outcome == "completed" and result.exit_code == 0
    assert result.final_status is Status.COMPLETED
    assert hooks.statuses == [Status.IN_PROGRESS, Status.COMPLETED]
    b = block(Path(spec.task_path), "1.2")
    assert b.startswith("- [x] 1.2 Build the thing ✅") and "**Completed**:" in b
    outputs = hooks.messages("output")
    assert "step 1 of 3" in outputs and "all done" in outputs[-1:]
    assert not any(m.startswith("{") for m in outputs)
    assert hooks.messages("started") and hooks.events[-1][0] == "finished"
    assert re.fullmatch(r"tasks-main-1\.2-\d{8}-\d{6}\.log", result.log_path.name)
    log_text = result.log_path.read_text()
    assert '"text": "step 2 of 3"' in log_text and "# exit code 0" in log_text
    assert "<prompt>" in log_text  # the command line, the prompt shown once below it
    assert not list(spec.log_dir.glob("*.lock"))  # released


async def test_failed_run_is_blocked_with_error_and_attempted(tmp_path):
    spec = prepare(
        tmp_path,
        "1.2",
        "--exit",
        "3",
        "--stderr",
        "warning: meh",
        "--stderr",
        "\x1b[31mfatal: no db\x1b[0m",
    )
    _, result, _ = await run_once(spec)
    assert result.outcome == "blocked" and result.exit_code == 3
    b = block(Path(spec.task_path), "1.2")
    assert b.startswith("- [!] 1.2 Build the thing ⚠️")
    assert re.search(
        r"\*\*Error\*\*: exit code 3: fatal: no db \(log: \.taskdroid/runs/tasks-main-1\.2-.*\.log\)",
        b,
    )
    assert re.search(r"\*\*Attempted\*\*: \d{4}-\d\d-\d\d \d\d:\d\d$", b, re.M)
    assert "**Issue**" not in b  # the Error is the reason: no placeholder


async def test_the_droid_changing_the_status_itself_is_kept(tmp_path):
    spec = prepare(tmp_path, "1.2", "--mark", "x", "--exit", "1")
    _, result, hooks = await run_once(spec)
    assert result.outcome == "kept" and result.final_status is Status.COMPLETED
    # the status stands; the only write after the run is the run record, with that status
    assert hooks.statuses == [Status.IN_PROGRESS, Status.COMPLETED]
    b = block(Path(spec.task_path), "1.2")
    assert b.startswith("- [x] 1.2")
    assert re.search(r"\*\*Last Run\*\*: \d{4}-\d\d-\d\d \d\d:\d\d · [^·]+ · completed · log: ", b)


async def test_timeout_stops_the_whole_process_group(tmp_path):
    spec = prepare(tmp_path, "1.2", "--hold", "30", "--ignore-term", "--child", "child.pid")
    spec = _with(spec, timeout=0.6)
    run, result, _ = await run_once(spec, grace=0.2)
    assert result.outcome == "timeout" and result.exit_code == -9  # SIGTERM ignored: SIGKILL
    b = block(Path(spec.task_path), "1.2")
    assert "**Error**: timed out after 0.6 s (runner.timeoutSeconds); the droid was stopped" in b
    assert b.startswith("- [!] 1.2")
    child = int((tmp_path / "child.pid").read_text())
    await _until(lambda: _gone(child))
    assert _gone(run.pid)


async def test_cancel_restores_the_previous_status(tmp_path):
    spec = prepare(tmp_path, "1.4", "--hold", "30", "--started", "started")
    hooks = FileHooks()
    manager = RunManager(grace=2)
    run = manager.submit(spec, hooks)
    task = asyncio.ensure_future(run.execute())
    await _until(lambda: (tmp_path / "started").exists())
    assert block(Path(spec.task_path), "1.4").startswith("- [~] 1.4 Was blocked 🔄")
    assert run.cancel("test")
    result = await asyncio.wait_for(task, 10)
    assert result.outcome == "cancelled" and result.exit_code == -15
    b = block(Path(spec.task_path), "1.4")
    assert b.startswith("- [!] 1.4 Was blocked ⚠️")
    assert "**Issue**: flaky network" in b
    assert re.search(r"\*\*Status\*\*: Run cancelled \d{4}-\d\d-\d\d \d\d:\d\d", b)
    assert not run.cancel("again")  # over


async def test_an_interrupted_run_kills_its_droid(tmp_path):
    """The asyncio task driving a run is cancelled (a server going down): no droid is left."""
    spec = prepare(tmp_path, "1.2", "--hold", "30", "--started", "started")
    run = RunManager(grace=0.3).submit(spec, FileHooks())
    task = asyncio.ensure_future(run.execute())
    await _until(lambda: (tmp_path / "started").exists() and run.pid is not None)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert run.result is not None and run.result.outcome == "cancelled"
    await _until(lambda: _gone(run.pid), 5)
    assert not list(spec.log_dir.glob("*.lock"))


async def test_max_parallel_queues_runs(tmp_path):
    text = TASKS.replace("- [ ] 1.5 No droid\n", "") + "".join(
        f"- [ ] 2.{i} Parallel {i}\n  - **Droid**: builder\n" for i in range(1, 4)
    )
    root, tasks, ws = make_ws(tmp_path, text)
    manager = RunManager(grace=0.3)
    running = 0
    peak = 0

    class CountingHooks(FileHooks):
        def progress(self, run, kind, message):
            nonlocal running, peak
            super().progress(run, kind, message)
            if kind == "started":
                running += 1
                peak = max(peak, running)
            elif kind == "finished":
                running -= 1

    runs = []
    hooks = []
    for i in range(1, 4):
        spec = prepare_run(
            workspace=root, task_path=tasks, text=tasks.read_text(), task_id=f"2.{i}",
            runner=settings("--hold", "0.3", maxParallel=2), ws=ws,
        )  # fmt: skip
        h = CountingHooks()
        runs.append(manager.submit(spec, h))
        hooks.append(h)
    results = await asyncio.wait_for(asyncio.gather(*(r.execute() for r in runs)), 20)
    assert [r.outcome for r in results] == ["completed"] * 3
    assert peak == 2
    queued = hooks[2].messages("queued")
    assert (
        queued and "runner.maxParallel = 2" in queued[0] and "2 runs already running" in queued[0]
    )
    assert not hooks[0].messages("queued")


async def test_cancel_while_queued_changes_nothing(tmp_path):
    text = TASKS + "- [ ] 2.1 Second\n  - **Droid**: builder\n"
    root, tasks, ws = make_ws(tmp_path, text)
    manager = RunManager(grace=0.3)

    def spec_for(task_id, *args):
        return prepare_run(
            workspace=root, task_path=tasks, text=tasks.read_text(), task_id=task_id,
            runner=settings(*args, maxParallel=1), ws=ws,
        )  # fmt: skip

    first = manager.submit(spec_for("1.2", "--hold", "0.5"), FileHooks())
    second = manager.submit(spec_for("2.1"), FileHooks())
    t1 = asyncio.ensure_future(first.execute())
    t2 = asyncio.ensure_future(second.execute())
    await _until(lambda: second.hooks.messages("queued"))
    second.cancel()
    r2 = await asyncio.wait_for(t2, 5)
    assert r2.outcome == "cancelled" and "before it started" in r2.message
    assert second.hooks.statuses == []
    assert (await asyncio.wait_for(t1, 10)).outcome == "completed"
    assert block(tasks, "2.1").startswith("- [ ] 2.1 Second\n")


async def test_one_run_per_task_here_and_across_processes(tmp_path):
    spec = prepare(tmp_path, "1.2", "--hold", "0.2")
    manager = RunManager(grace=0.3)
    run = manager.submit(spec, FileHooks())
    with pytest.raises(RunError, match="already running") as e:
        manager.submit(spec, FileHooks())
    assert e.value.kind == "busy" and run.id in str(e.value)
    with pytest.raises(RunError, match="another taskdroid process"):  # e.g. a terminal
        RunManager().submit(spec, FileHooks())
    await asyncio.wait_for(run.execute(), 10)
    # a lock left by a process that is gone is taken over
    lock = TaskLock.path_for(spec.log_dir, spec.task_path, spec.task_id)
    lock.write_text(json.dumps({"pid": 2**22 + 12345, "host": os.uname().nodename, "runId": "old"}))
    other = RunManager().submit(_with(spec, run_id="run-new"), FileHooks())
    assert json.loads(lock.read_text())["runId"] == "run-new"
    other._finish()
    assert not lock.exists()


async def test_output_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(output, "MAX_LINE_BYTES", 64 * 1024)
    monkeypatch.setattr(logfile, "MAX_LOG_BYTES", 512 * 1024)
    longest = 0
    original = output.summarize_line

    def spy(line):
        nonlocal longest
        longest = max(longest, len(line))
        return original(line)

    monkeypatch.setattr(output, "summarize_line", spy)
    spec = prepare(tmp_path, "1.2", "--flood", "6", "--style", "plain")
    _, result, hooks = await run_once(spec)
    assert result.outcome == "completed"
    assert longest <= 64 * 1024
    assert hooks.messages("output")[-1] == "flood done"
    size = result.log_path.stat().st_size
    assert 400 * 1024 < size <= 512 * 1024 + 200
    assert "log cut at" in result.log_path.read_text(errors="replace")[-200:]


async def test_a_droid_that_cannot_start_leaves_the_task_blocked(tmp_path):
    spec = prepare(tmp_path, "1.2")
    spec = _with(spec, argv=(str(tmp_path / "vanished"), *spec.argv[1:]))
    _, result, _ = await run_once(spec)
    assert result.outcome == "error"
    b = block(Path(spec.task_path), "1.2")
    assert b.startswith("- [!] 1.2") and "**Error**: could not start" in b


async def test_marking_in_progress_fails_and_nothing_runs(tmp_path):
    spec = prepare(tmp_path, "1.2", "--started", "started")
    hooks = FileHooks()
    hooks.fail_marking = True
    _, result, _ = await run_once(spec, hooks)
    assert result.outcome == "error" and "not started" in result.message
    assert not (tmp_path / "started").exists()


async def test_task_removed_during_the_run(tmp_path):
    spec = prepare(tmp_path, "1.2", "--wait-file", "go")
    manager = RunManager(grace=0.3)
    run = manager.submit(spec, FileHooks())
    task = asyncio.ensure_future(run.execute())
    await _until(lambda: run.state == "running")
    path = Path(spec.task_path)
    path.write_text(path.read_text().replace("1.2 Build the thing", "Build the thing"))
    (tmp_path / "go").touch()
    result = await asyncio.wait_for(task, 10)
    assert result.outcome == "gone" and result.not_recorded


async def test_injection_through_the_title_runs_nothing(tmp_path):
    evil = (
        "Evil $(touch pwned1) `touch pwned2` ; touch pwned3 && touch pwned4 | tee pwned5 > pwned6"
    )
    text = f"# T\n\n- [ ] 1.1 {evil}\n  - **Droid**: builder\n  - **Notes**: $(touch pwned7); `touch pwned8`\n"
    spec = prepare(tmp_path, "1.1", "--record", "argv.json", text=text)
    _, result, _ = await run_once(spec)
    assert result.outcome == "completed"
    recorded = json.loads((tmp_path / "argv.json").read_text())
    assert recorded["argv"][-1] == spec.prompt and evil in spec.prompt
    assert "$(touch pwned7); `touch pwned8`" in spec.prompt
    assert recorded["cwd"] == str(tmp_path)
    assert recorded["env"]["TASKDROID_TASK_ID"] == "1.1"
    assert not list(tmp_path.rglob("pwned*"))


# -- helpers ---------------------------------------------------------------------------------------


def _with(spec, **changes):
    from dataclasses import replace

    return replace(spec, **changes)


def _gone(pid: int | None) -> bool:
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


async def _until(predicate, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


# -- the run package's shape -----------------------------------------------------------------------

PACKAGE = Path(__file__).resolve().parents[2] / "server" / "taskdroid"


def _imported_modules(path: Path) -> set[str]:
    import ast

    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_layers_core_knows_no_runner_and_the_runner_no_server_or_cli():
    for path in (PACKAGE / "core").rglob("*.py"):
        upper = ("taskdroid.run",)
        bad = {m for m in _imported_modules(path) if m.startswith(upper)}
        assert not bad, (path.name, bad)
    for path in (PACKAGE / "run").rglob("*.py"):
        upper = ("taskdroid.lsp", "taskdroid.cli")
        bad = {m for m in _imported_modules(path) if m.startswith(upper)}
        assert not bad, (path.name, bad)
    # the guardian runs with `python -I -S`: the standard library only
    guardian = _imported_modules(PACKAGE / "run" / "guardian.py")
    assert guardian <= {"__future__", "contextlib", "os", "signal", "sys", "collections.abc"}


def test_importing_the_run_package_installs_no_handler():
    """``atexit`` and signal handlers come with the first run (or the server's explicit call),
    never with an import."""
    code = (
        "import atexit, signal, asyncio, logging, weakref, threading\n"
        "import taskdroid.core.workspace, taskdroid.core.edits\n"
        "before = atexit._ncallbacks()\n"
        "import taskdroid.run, taskdroid.run.manager, taskdroid.run.process\n"
        "assert atexit._ncallbacks() == before, 'atexit at import'\n"
        "assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL\n"
        "assert signal.getsignal(signal.SIGHUP) is signal.SIG_DFL\n"
        "taskdroid.run.RunManager()\n"
        "assert atexit._ncallbacks() == before, 'atexit for a manager without runs'\n"
        "print('ok')\n"
    )
    import subprocess

    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.stdout.strip() == "ok", p.stderr


async def test_the_first_run_registers_the_manager_for_exit(tmp_path):
    from taskdroid.run import process

    spec = prepare(tmp_path, "1.2")
    manager = RunManager(grace=0.3)
    assert manager not in process._STATE.managers
    run = manager.submit(spec, FileHooks())
    assert manager in process._STATE.managers and process._STATE.atexit_installed
    assert (await asyncio.wait_for(run.execute(), 20)).outcome == "completed"
