"""The run record and per-task model and effort (docs/language.md §11): the ``**Last Run**``
format (pure), ``{model}`` / ``{effort}`` and the dropping of an empty placeholder with its
option, the final ``stream-json`` result event, the log's tail and its confinement, and runs of
``tests/fixtures/fake_droid.py`` that write the record (completed, blocked, cancelled, kept,
replaced on a re-run)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from pathlib import Path

import pytest

from taskdroid.core.edits import apply_edits, status_edits
from taskdroid.core.model import Status
from taskdroid.core.runfields import (
    RunRecord,
    format_cost,
    model_and_effort,
    parse_last_run,
    run_outcome,
    value_context,
)
from taskdroid.core.settings import RunnerSettings
from taskdroid.core.workspace import Workspace
from taskdroid.run import (
    RunError,
    RunHooks,
    RunManager,
    build_argv,
    find_log,
    log_tail,
    prepare_run,
)
from taskdroid.run.output import result_meta
from taskdroid.run.spec import locate_task

FAKE = str(Path(__file__).resolve().parents[1] / "fixtures" / "fake_droid.py")

TASKS = """\
# Tasks

## 8. Work (HIGH)

- [ ] 8.1 Build the thing
  - **Droid**: builder
  - **Files**: src/a.ts
- [ ] 8.2 Pinned model
  - **Droid**: builder
  - **Model**: `claude-opus-4-1`
  - **Effort**: HIGH
- [ ] 8.3 Inheriting droid
  - **Droid**: heir
- [x] 8.4 Done before ✅
  - **Droid**: builder
  - **Completed**: 2025-01-10 10:00
- [ ] 8.5 A bad model
  - **Droid**: builder
  - **Model**: two words
"""

DROIDS = {
    "builder": "model: gpt-5-codex\nreasoningEffort: medium\n",
    "heir": "model: inherit\neffort: xhigh\n",
}

RECORD = re.compile(
    r"\*\*Last Run\*\*: (\d{4}-\d\d-\d\d \d\d:\d\d) · ([^·\n]+) · (completed|blocked|cancelled)"
    r" · log: (\S+)(.*)$",
    re.M,
)


# -- the record, pure --------------------------------------------------------------------------------


def test_a_record_is_written_and_read_back():
    full = RunRecord("2026-01-02 03:04", "12 s", "completed", ".taskdroid/runs/t-1.log",
                     "sess-1", 0.0123, 4)  # fmt: skip
    text = full.format()
    assert text == (
        "2026-01-02 03:04 · 12 s · completed · log: .taskdroid/runs/t-1.log · session sess-1"
        " · $0.0123 · 4 turns"
    )
    assert parse_last_run(text) == full
    bare = RunRecord("2026-01-02 03:04", "1 min 5 s", "blocked", "runs/x.log")
    assert bare.format() == "2026-01-02 03:04 · 1 min 5 s · blocked · log: runs/x.log"
    assert parse_last_run(bare.format()) == bare
    assert parse_last_run("yesterday · 3 s · completed") is None
    assert parse_last_run("2026-01-02 03:04 · 3 s") is None
    assert format_cost(1.5) == "1.50" and format_cost(0.1) == "0.10" and format_cost(2) == "2.00"
    assert run_outcome("timeout") == "blocked" and run_outcome("error") == "blocked"
    assert run_outcome("cancelled") == "cancelled"


def test_result_events_give_session_cost_and_turns():
    claude = {"type": "result", "session_id": "abc", "total_cost_usd": 0.5, "num_turns": 3}
    meta = result_meta(claude)
    assert meta is not None and (meta.session, meta.cost, meta.turns) == ("abc", 0.5, 3)
    bare = result_meta({"type": "result", "result": "ok"})
    assert bare is not None and (bare.session, bare.cost, bare.turns) == (None, None, None)
    factory = result_meta({"type": "completion", "sessionId": "f-1", "numTurns": 2})
    assert factory is not None and (factory.session, factory.turns) == ("f-1", 2)
    assert result_meta({"type": "system", "session_id": "abc"}) is None
    # what could break the record's format is not taken
    odd = result_meta({"type": "result", "session_id": "a · b\n", "total_cost_usd": float("nan"),
                       "num_turns": True})  # fmt: skip
    assert odd is not None and (odd.session, odd.cost, odd.turns) == ("ab", None, None)


def _task(text: str, task_id: str):
    _, loc = locate_task(text, task_id)
    assert loc is not None
    return loc.task


def test_model_and_effort_come_from_the_task_then_the_droid():
    fm = {"model": "gpt-5-codex", "reasoningEffort": "medium", "effort": "max"}
    assert model_and_effort(_task(TASKS, "8.1"), fm) == ("gpt-5-codex", "medium", [])
    assert model_and_effort(_task(TASKS, "8.2"), fm) == ("claude-opus-4-1", "high", [])
    assert model_and_effort(_task(TASKS, "8.3"), {"model": "inherit", "effort": "xhigh"}) == (
        "",
        "xhigh",
        [],
    )
    assert model_and_effort(_task(TASKS, "8.1"), {"reasoningEffort": False}) == ("", "off", [])
    assert model_and_effort(_task(TASKS, "8.1"), {"effort": 40}) == ("", "40", [])
    assert model_and_effort(_task(TASKS, "8.1"), None) == ("", "", [])
    model, _, problems = model_and_effort(_task(TASKS, "8.5"), fm)
    assert model == "gpt-5-codex" and "`two words` is not a model id" in problems[0]


def test_value_completion_context():
    line = "  - **Effort**: hi"
    vc = value_context(line, len(line))
    assert vc is not None and (vc.key, vc.start, vc.end, vc.prefix) == ("Effort", 16, 18, "hi")
    vc = value_context("- **Model:** ", 13)
    assert vc is not None and vc.key == "Model" and vc.prefix == ""
    assert value_context("  - **Droid**: x", 16) is None
    assert value_context("  - **Effort**: high and", 24) is None


# -- the argv ----------------------------------------------------------------------------------------


def _argv(command, model="", effort=""):
    return build_argv(command, "Do it", droid="d", task_id="8.1", task_file="t.md",
                      workspace="/ws", model=model, effort=effort)  # fmt: skip


def test_an_empty_placeholder_is_dropped_with_its_option():
    factory = ["droid", "exec", "--auto", "low", "-m", "{model}", "-r", "{effort}", "{prompt}"]
    assert _argv(factory, "opus", "high") == [
        "droid", "exec", "--auto", "low", "-m", "opus", "-r", "high", "Do it",
    ]  # fmt: skip
    assert _argv(factory) == ["droid", "exec", "--auto", "low", "Do it"]
    assert _argv(factory, effort="low") == ["droid", "exec", "--auto", "low", "-r", "low", "Do it"]
    claude = ["claude", "-p", "--model", "{model}", "--agent", "{droid}", "{prompt}"]
    assert _argv(claude) == ["claude", "-p", "--agent", "d", "Do it"]
    # only an element that is exactly the placeholder goes; an option holding a placeholder,
    # a literal `--` and a non-option stay
    assert _argv(["x", "--model={model}", "{prompt}"]) == ["x", "--model=", "Do it"]
    assert _argv(["x", "--", "{model}", "{prompt}"]) == ["x", "--", "Do it"]
    assert _argv(["x", "--for-{droid}", "{effort}", "{prompt}"]) == ["x", "--for-d", "Do it"]
    assert _argv(["x", "keep", "{model}", "{prompt}"]) == ["x", "keep", "Do it"]


def test_a_model_value_cannot_become_an_option():
    with pytest.raises(RunError, match="would read it as an option"):
        _argv(["x", "-m", "{model}", "{prompt}"], model="--dangerously-skip-permissions")


# -- runs -------------------------------------------------------------------------------------------


def make_ws(tmp_path: Path) -> tuple[Path, Path, Workspace]:
    (tmp_path / ".git").mkdir(exist_ok=True)
    tasks = tmp_path / "tasks" / "tasks-record.md"
    tasks.parent.mkdir(exist_ok=True)
    tasks.write_text(TASKS, encoding="utf-8")
    ws = Workspace(tmp_path, personal=False)
    ws.set_text(str(tasks), TASKS, "task")
    for name, extra in DROIDS.items():
        d = tmp_path / ".factory" / "droids" / f"{name}.md"
        d.parent.mkdir(parents=True, exist_ok=True)
        body = f"---\nname: {name}\ndescription: test droid\n{extra}---\nDo it.\n"
        d.write_text(body, encoding="utf-8")
        ws.set_text(str(d), body, "droid")
    return tmp_path, tasks, ws


def prepare(tmp_path: Path, task_id: str, *fake_args: str, command=None, **kw):
    root, tasks, ws = make_ws(tmp_path) if not (tmp_path / ".git").exists() else (
        tmp_path, tmp_path / "tasks" / "tasks-record.md", _reindex(tmp_path)
    )  # fmt: skip
    runner = RunnerSettings(command=command or [sys.executable, FAKE, *fake_args, "{prompt}"])
    return prepare_run(workspace=root, task_path=tasks, text=tasks.read_text(), task_id=task_id,
                       runner=runner, ws=ws, **kw)  # fmt: skip


def _reindex(root: Path) -> Workspace:
    ws = Workspace(root, personal=False)
    tasks = root / "tasks" / "tasks-record.md"
    ws.set_text(str(tasks), tasks.read_text(), "task")
    for name in DROIDS:
        d = root / ".factory" / "droids" / f"{name}.md"
        ws.set_text(str(d), d.read_text(), "droid")
    return ws


def test_placeholders_are_filled_from_the_task_and_the_droid(tmp_path):
    cmd = [sys.executable, FAKE, "--model", "{model}", "--effort", "{effort}", "{prompt}"]
    spec = prepare(tmp_path, "8.1", command=cmd)
    assert spec.argv[2:6] == ("--model", "gpt-5-codex", "--effort", "medium")
    assert (spec.model, spec.effort) == ("gpt-5-codex", "medium")
    spec = prepare(tmp_path, "8.2", command=cmd)
    assert spec.argv[2:6] == ("--model", "claude-opus-4-1", "--effort", "high")
    spec = prepare(tmp_path, "8.3", command=cmd)  # model: inherit — no model passed
    assert spec.argv[2:4] == ("--effort", "xhigh") and "--model" not in spec.argv
    with pytest.raises(RunError, match="is not a model id"):
        prepare(tmp_path, "8.5", command=cmd)
    # a template without {model} does not care about the task's Model
    assert prepare(tmp_path, "8.5").task_id == "8.5"


class FileHooks(RunHooks):
    def __init__(self) -> None:
        self.statuses: list[Status] = []

    async def set_status(self, run, status, *, note=None, extra_fields=()):
        path = Path(run.spec.task_path)
        text = path.read_text(encoding="utf-8")
        edits = status_edits(text, None, run.spec.task_id, status, note=note,
                             extra_fields=extra_fields)  # fmt: skip
        path.write_text(apply_edits(text, edits), encoding="utf-8")
        self.statuses.append(status)
        return True


async def run_once(spec, hooks=None):
    run = RunManager(grace=0.3).submit(spec, hooks or FileHooks())
    return run, await asyncio.wait_for(run.execute(), 20)


def block(path: Path, task_id: str) -> str:
    text = path.read_text(encoding="utf-8")
    m = re.search(rf"^- \[[^\]]*\] {re.escape(task_id)} .*?(?=^- \[|\Z)", text, re.M | re.S)
    assert m, text
    return m.group(0)


def record_of(spec) -> re.Match:
    b = block(Path(spec.task_path), spec.task_id)
    assert b.count("**Last Run**") == 1, b
    m = RECORD.search(b)
    assert m, b
    return m


async def test_a_completed_run_records_session_cost_and_turns(tmp_path):
    spec = prepare(tmp_path, "8.1", "--meta", "sess-42")
    _, result = await run_once(spec)
    assert result.outcome == "completed"
    m = record_of(spec)
    assert m.group(3) == "completed"
    assert m.group(5) == " · session sess-42 · $0.0123 · 4 turns"
    log = m.group(4)
    assert re.fullmatch(r"\.taskdroid/runs/tasks-record-8\.1-\d{8}-\d{6}\.log", log)
    assert (tmp_path / log).is_file() and tmp_path / log == result.log_path
    # the record is written with the status, in one edit after the one marking it in progress
    b = block(Path(spec.task_path), "8.1")
    assert b.startswith("- [x] 8.1") and "**Completed**" in b


async def test_without_stream_json_metadata_the_record_has_none(tmp_path):
    spec = prepare(tmp_path, "8.1", "--style", "plain")
    await run_once(spec)
    assert record_of(spec).group(5) == ""
    spec = prepare(tmp_path, "8.1", "--style", "factory", "--meta", "f-7", force=True)
    await run_once(spec)
    assert record_of(spec).group(5) == " · session f-7 · 4 turns"  # Factory reports no cost


async def test_a_failed_run_records_blocked_and_a_rerun_replaces_the_record(tmp_path):
    spec = prepare(tmp_path, "8.1", "--exit", "3", "--meta", "first")
    await run_once(spec)
    first = record_of(spec)
    assert first.group(3) == "blocked" and "session first" in first.group(5)
    spec = prepare(tmp_path, "8.1", "--meta", "second")
    await run_once(spec)
    second = record_of(spec)  # one field, replaced
    assert second.group(3) == "completed" and "session second" in second.group(5)
    assert second.group(4) != first.group(4)
    assert "first" not in block(Path(spec.task_path), "8.1")


async def test_a_cancelled_run_records_cancelled(tmp_path):
    spec = prepare(tmp_path, "8.1", "--hold", "30", "--started", "started")
    run = RunManager(grace=0.3).submit(spec, FileHooks())
    task = asyncio.ensure_future(run.execute())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not (tmp_path / "started").exists():
        assert loop.time() < deadline
        await asyncio.sleep(0.02)
    run.cancel("test")
    result = await asyncio.wait_for(task, 10)
    assert result.outcome == "cancelled"
    m = record_of(spec)
    assert m.group(3) == "cancelled"
    assert block(Path(spec.task_path), "8.1").startswith("- [ ] 8.1")


async def test_a_status_the_droid_set_stands_and_gets_the_record(tmp_path):
    spec = prepare(tmp_path, "8.1", "--mark", "!", "--exit", "0")
    hooks = FileHooks()
    _, result = await run_once(spec, hooks)
    assert result.outcome == "kept"
    b = block(Path(spec.task_path), "8.1")
    # the task as the droid left it (it changed only the marker): no ⚠️ nor Issue placeholder
    assert b.startswith("- [!] 8.1 Build the thing 🔄\n")
    assert "**Issue**" not in b
    assert record_of(spec).group(3) == "blocked"


async def test_rerunning_a_completed_task_with_force_records(tmp_path):
    spec = prepare(tmp_path, "8.4", force=True)
    await run_once(spec)
    assert record_of(spec).group(3) == "completed"


# -- the log ---------------------------------------------------------------------------------------


def test_log_tail_shows_messages_not_json(tmp_path):
    log = tmp_path / "run.log"
    lines = [
        "# taskdroid run run-1",
        json.dumps({"type": "system", "subtype": "init", "session_id": "s"}),
        json.dumps({"type": "assistant", "message": {"content": [{"type": "text", "text": "hi"}]}}),
        "[stderr] \x1b[31mwarning\x1b[0m",
        json.dumps({"type": "result", "result": "all done", "session_id": "s"}),
        "# exit code 0 after 1 s (exited)",
    ]
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert log_tail(log, 10) == [
        "# taskdroid run run-1", "hi", "[stderr] warning", "all done",
        "# exit code 0 after 1 s (exited)",
    ]  # fmt: skip
    assert log_tail(log, 2) == ["all done", "# exit code 0 after 1 s (exited)"]
    big = tmp_path / "big.log"
    big.write_text("x" * 100_000 + "\nlast line\n", encoding="utf-8")
    assert log_tail(big, 10, max_bytes=50) == ["last line"]  # the cut line is left out


def test_find_log_stays_inside_the_workspace(tmp_path):
    ws = tmp_path / "ws"
    (ws / ".taskdroid" / "runs").mkdir(parents=True)
    log = ws / ".taskdroid" / "runs" / "a.log"
    log.write_text("x\n")
    assert find_log(str(ws), ".taskdroid/runs/a.log") == Path(os.path.realpath(log))
    secret = tmp_path / "secret.txt"
    secret.write_text("s\n")
    for shown in ("../secret.txt", str(secret), ".taskdroid/runs/../../../secret.txt"):
        with pytest.raises(RunError, match="outside the workspace"):
            find_log(str(ws), shown)
    (ws / "link.log").symlink_to(secret)
    with pytest.raises(RunError, match="outside the workspace"):
        find_log(str(ws), "link.log")
    with pytest.raises(RunError, match="does not exist"):
        find_log(str(ws), ".taskdroid/runs/gone.log")
    # an absolute path is taken inside an absolute runner.logDir (a user setting)
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "b.log").write_text("y\n")
    assert find_log(str(ws), str(logs / "b.log"), str(logs)).name == "b.log"
    with pytest.raises(RunError, match="outside the workspace"):
        find_log(str(ws), str(secret), str(logs))


def test_reapplying_a_status_with_fields_writes_only_the_fields():
    text = "- [X] 8.1 Done by the droid\n  - **Droid**: b\n"
    edits = status_edits(text, None, "8.1", Status.COMPLETED, extra_fields=[("Last Run", "one")])
    once = apply_edits(text, edits)
    assert once == text + "  - **Last Run**: one\n"  # marker alias, no ✅, no Completed added
    edits = status_edits(once, None, "8.1", Status.COMPLETED, extra_fields=[("Last Run", "two")])
    assert apply_edits(once, edits) == text + "  - **Last Run**: two\n"  # replaced, one field
