"""`taskdroid run --ready|--all [PATH…]` (docs/language.md §7, queued runs): the maxParallel cap and the
Files-overlap exclusion measured from the start/end times the fake droid records, stop-on-blocked
(dependents skipped with the reason), `--all` picking up tasks that become ready, `--droid`,
exit codes and usage errors, and Ctrl-C on a queue in a process of its own."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from taskdroid import cli

FAKE = str(Path(__file__).resolve().parents[1] / "fixtures" / "fake_droid.py")
STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d"


def runner(*fake_args: str) -> str:
    return json.dumps([sys.executable, FAKE, "--sleep", "0.01", *fake_args, "{prompt}"])


def make_project(tmp_path: Path, files: dict[str, str], max_parallel: int = 2) -> Path:
    root = tmp_path / "p"
    (root / ".git").mkdir(parents=True)
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    droids = root / ".factory" / "droids"
    droids.mkdir(parents=True)
    (droids / "dev.md").write_text("---\nname: dev\ndescription: Does the work\n---\nWork.\n")
    config = root / ".user-config" / "taskdroid"
    config.mkdir(parents=True)
    (config / "config.toml").write_text(
        f"[runner]\nmaxParallel = {max_parallel}\ntimeoutSeconds = 60\n"
    )
    return root


def env_for(root: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "XDG_CONFIG_HOME": str(root / ".user-config"), **extra}
    env.pop("TASKDROID_RUNNER", None)
    env["HOME"] = str(root / ".home")
    env["FAKE_DROID_TIMELINE"] = str(root / "timeline.txt")
    return env


@pytest.fixture
def queue_run(monkeypatch, capsys):
    """``taskdroid run`` in this process: (exit status, stdout, stderr)."""

    def call(root: Path, *args: str) -> subprocess.CompletedProcess:
        monkeypatch.chdir(root)
        for key, value in env_for(root, TASKDROID_DEBUG="1").items():
            if os.environ.get(key) != value:
                monkeypatch.setenv(key, value)
        monkeypatch.delenv("TASKDROID_RUNNER", raising=False)
        capsys.readouterr()
        code = cli.main(["run", *args])
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out, err)

    return call


def timeline(root: Path) -> dict[str, tuple[float, float | None]]:
    """task ID → (start, end) as the fake droid recorded them (end None: it did not end)."""
    out: dict[str, list] = {}
    path = root / "timeline.txt"
    for line in path.read_text().splitlines() if path.exists() else []:
        event, task_id, stamp = line.split()
        out.setdefault(task_id, [None, None])[0 if event == "start" else 1] = float(stamp)
    return {k: (v[0], v[1]) for k, v in out.items()}


def max_overlap(spans: dict[str, tuple[float, float | None]]) -> int:
    events = sorted(
        [(s, 1) for s, _ in spans.values()] + [(e, -1) for _, e in spans.values() if e is not None]
    )
    now = best = 0
    for _, delta in events:  # an end at the same instant as a start sorts first
        now += delta
        best = max(best, now)
    return best


def block(root: Path, task_id: str, rel: str = "tasks/tasks-q.md") -> str:
    text = (root / rel).read_text(encoding="utf-8")
    m = re.search(rf"^- \[[^\]]*\] {re.escape(task_id)} .*?(?=^- \[|^#|\Z)", text, re.M | re.S)
    assert m, text
    return m.group(0)


def summary_line(out: str, task_id: str) -> str:
    m = re.search(rf"^  tasks/tasks-q\.md {re.escape(task_id)} .*$", out, re.M)
    assert m, out
    return m.group(0)


# -- the cap and the Files exclusion -----------------------------------------------------------------

PARALLEL = """\
# Queue

## 1. Parallel work

- [ ] 1.1 Writes x
  - **Droid**: dev
  - **Files**: `src/x.py`, `src/one.py`
  - **Fake**: --hold 0.6
- [ ] 1.2 Also writes x, spelled differently
  - **Droid**: dev
  - **Files**: ./src/lib/../x.py
  - **Fake**: --hold 0.6
- [ ] 1.3 Independent
  - **Droid**: dev
  - **Files**: `src/three.py`
  - **Fake**: --hold 0.6
- [ ] 1.4 Independent too
  - **Droid**: dev
  - **Files**: `src/four.py`
  - **Fake**: --hold 0.6
- [ ] 1.5 No files at all
  - **Droid**: dev
  - **Fake**: --hold 0.6
- [ ] 1.6 Nobody's task (no droid: not a candidate)
"""


def test_max_parallel_and_files_exclusion_from_real_times(tmp_path, queue_run):
    root = make_project(tmp_path, {"tasks/tasks-q.md": PARALLEL}, max_parallel=2)
    p = queue_run(root, "--ready", "--runner", runner())
    assert p.returncode == 0, p.stdout + p.stderr
    spans = timeline(root)
    assert sorted(spans) == ["1.1", "1.2", "1.3", "1.4", "1.5"]  # 1.6 names no droid
    assert all(end is not None for _, end in spans.values())
    # never more than runner.maxParallel at once — and the queue did run two at once
    assert max_overlap(spans) == 2
    # 1.1 and 1.2 share src/x.py: one ran strictly after the other ended
    (s1, e1), (s2, e2) = spans["1.1"], spans["1.2"]
    assert s2 > e1 or s1 > e2, spans  # type: ignore[operator]
    for task_id in ("1.1", "1.2", "1.3", "1.4", "1.5"):
        assert block(root, task_id).startswith(f"- [x] {task_id} ")
        assert re.fullmatch(
            rf"  tasks/tasks-q\.md {re.escape(task_id)}  completed +[\d.]+ s", summary_line(p.stdout, task_id)
        )
    assert block(root, "1.6").startswith("- [ ] 1.6")
    assert "summary: 5 completed" in p.stdout
    assert "== 5 of 5 tasks" in p.stdout  # the overall line
    assert re.search(r"^== 0 of 5 tasks · running 1\.1, 1\.3$", p.stdout, re.M)


def test_max_parallel_one_runs_one_at_a_time(tmp_path, queue_run):
    root = make_project(tmp_path, {"tasks/tasks-q.md": PARALLEL}, max_parallel=1)
    p = queue_run(root, "--ready", "--runner", runner("--hold", "0.1"))
    assert p.returncode == 0, p.stdout + p.stderr
    spans = timeline(root)
    assert len(spans) == 5 and max_overlap(spans) == 1


# -- blocked tasks, --all, --droid -------------------------------------------------------------------

CHAIN = """\
# Queue

## 1. A chain

- [x] 1.1 Done long ago ✅
- [ ] 1.2 First link
  - **Droid**: dev
  - **Dependencies**: 1.1
- [ ] 1.3 Second link
  - **Droid**: dev
  - **Dependencies**: 1.2
- [ ] 1.4 Third link, in another section's way
  - **Droid**: dev
  - **Dependencies**: 1.3

## 2. Beside the chain

- [ ] 2.1 Fails
  - **Droid**: dev
  - **Fake**: --exit 3 --stderr "fatal: no database"
- [ ] 2.2 Needs 2.1
  - **Droid**: dev
  - **Dependencies**: 2.1
- [ ] 2.3 Needs 2.2
  - **Droid**: dev
  - **Dependencies**: 2.2
- [ ] 2.4 Needs 2.1 and names no droid
  - **Dependencies**: 2.1
"""


def test_all_picks_up_newly_ready_tasks_and_skips_dependents_of_a_blocked_one(tmp_path, queue_run):
    root = make_project(tmp_path, {"tasks/tasks-q.md": CHAIN})
    p = queue_run(root, "--all", "tasks", "--runner", runner())
    assert p.returncode == 1, p.stdout + p.stderr  # a task ended blocked, two were skipped
    spans = timeline(root)
    assert sorted(spans) == ["1.2", "1.3", "1.4", "2.1"]  # 2.1 is not retried
    # each link started after the one before ended: the queue followed the chain
    assert spans["1.2"][1] < spans["1.3"][0] and spans["1.3"][1] < spans["1.4"][0]  # type: ignore[operator]
    for task_id in ("1.2", "1.3", "1.4"):
        assert block(root, task_id).startswith(f"- [x] {task_id} ")
    assert block(root, "2.1").startswith("- [!] 2.1 Fails")
    assert "**Error**: exit code 3: fatal: no database" in block(root, "2.1")
    for task_id in ("2.2", "2.3", "2.4"):
        assert block(root, task_id).startswith(f"- [ ] {task_id} ")  # not started, untouched
        assert "**" not in block(root, task_id).split("\n")[0]
    assert "blocked" in summary_line(p.stdout, "2.1") and "fatal: no database" in summary_line(
        p.stdout, "2.1"
    )
    assert re.search(r" skipped +—  depends on 2\.1, which ended blocked$", summary_line(p.stdout, "2.2"))
    assert summary_line(p.stdout, "2.3").endswith("depends on 2.2, which was skipped")
    assert "2.4" not in p.stdout  # names no droid: not a candidate
    assert "summary: 3 completed, 1 blocked, 2 skipped" in p.stdout


def test_ready_runs_only_what_is_ready_at_the_start(tmp_path, queue_run):
    text = CHAIN.replace('  - **Fake**: --exit 3 --stderr "fatal: no database"\n', "")
    root = make_project(tmp_path, {"tasks/tasks-q.md": text})
    p = queue_run(root, "--ready", "--runner", runner())
    assert p.returncode == 0, p.stdout + p.stderr
    assert sorted(timeline(root)) == ["1.2", "2.1"]
    assert block(root, "1.3").startswith("- [ ] 1.3")
    assert "summary: 2 completed" in p.stdout and "== 2 of 2 tasks" in p.stdout
    # now 1.3 and 2.2 are ready; a path limits the queue to its files
    (root / "timeline.txt").unlink()
    p = queue_run(root, "--all", "tasks/tasks-q.md", "--runner", runner())
    assert p.returncode == 0, p.stdout + p.stderr
    assert sorted(timeline(root)) == ["1.3", "1.4", "2.2", "2.3"]


def test_droid_fills_in_only_for_tasks_that_name_none(tmp_path, queue_run):
    text = """\
# Queue

- [ ] 1.1 Has its own droid
  - **Droid**: dev
  - **Fake**: --record rec-1.1.json
- [ ] 1.2 Has none
  - **Fake**: --record rec-1.2.json
"""
    root = make_project(tmp_path, {"tasks/tasks-q.md": text})
    p = queue_run(root, "--ready", "--droid", "helper", "--runner", runner())
    assert p.returncode == 0, p.stdout + p.stderr
    assert json.loads((root / "rec-1.1.json").read_text())["env"]["TASKDROID_DROID"] == "dev"
    assert json.loads((root / "rec-1.2.json").read_text())["env"]["TASKDROID_DROID"] == "helper"


def test_exit_codes_and_usage_errors(tmp_path, queue_run):
    root = make_project(tmp_path, {"tasks/tasks-q.md": CHAIN})
    # nothing is configured: a usage error before anything starts
    p = queue_run(root, "--ready")
    assert p.returncode == 2 and "runner.command" in p.stderr
    # bad combinations
    p = queue_run(root, "--ready", "--all", "--runner", runner())
    assert p.returncode == 2 and "not allowed with argument" in p.stderr
    p = queue_run(root, "--ready", "--force", "--runner", runner())
    assert p.returncode == 2 and "--force runs one task" in p.stderr
    p = queue_run(root, "tasks/tasks-q.md", "--runner", runner())
    assert p.returncode == 2 and "give FILE TASK_ID" in p.stderr
    p = queue_run(root, "--ready", "nowhere/", "--runner", runner())
    assert p.returncode == 2 and "no such file or folder" in p.stderr
    p = queue_run(root, "--ready", "--droid", "../bin/sh", "--runner", runner())
    assert p.returncode == 2 and "not a valid droid name" in p.stderr
    p = queue_run(root, "--all", "--runner", json.dumps(["no-such-droid-program-xyz", "{prompt}"]))
    assert p.returncode == 2 and "was not found on PATH" in p.stderr
    assert not (root / "timeline.txt").exists()  # nothing ran
    assert block(root, "1.2").startswith("- [ ] 1.2")
    # nothing ready with a droid: exit 0, and a task without a droid does not count
    empty = make_project(tmp_path / "e", {"tasks/tasks-q.md": "# Q\n\n- [ ] 1.1 No droid\n"})
    p = queue_run(empty, "--all", "--runner", runner())
    assert p.returncode == 0 and "no ready tasks with a droid" in p.stdout
    # one task, run by FILE TASK_ID as before
    p = queue_run(root, "tasks/tasks-q.md", "1.2", "--runner", runner())
    assert p.returncode == 0 and block(root, "1.2").startswith("- [x] 1.2")


def test_a_task_whose_droid_is_unknown_is_skipped_with_the_reason(tmp_path, queue_run):
    text = "# Q\n\n- [ ] 1.1 Ghost's\n  - **Droid**: ghost\n- [ ] 1.2 Dev's\n  - **Droid**: dev\n"
    root = make_project(tmp_path, {"tasks/tasks-q.md": text})
    p = queue_run(root, "--ready", "--runner", runner())
    assert p.returncode == 1, p.stdout + p.stderr
    assert "not started: task 1.1 names the droid `ghost`, which is not in the index" in summary_line(
        p.stdout, "1.1"
    )
    assert block(root, "1.2").startswith("- [x] 1.2")


# -- Ctrl-C --------------------------------------------------------------------------------------------

HOLDING = """\
# Queue

- [ ] 1.1 Holds
  - **Droid**: dev
  - **Fake**: --hold 30 --record rec-1.1.json
- [ ] 1.2 Holds too
  - **Droid**: dev
  - **Fake**: --hold 30 --record rec-1.2.json
- [ ] 1.3 Would come next
  - **Droid**: dev
- [ ] 1.4 Depends on 1.1
  - **Droid**: dev
  - **Dependencies**: 1.1
"""


def test_ctrl_c_cancels_every_run_restores_each_task_and_exits_130(tmp_path):
    root = make_project(tmp_path, {"tasks/tasks-q.md": HOLDING}, max_parallel=2)
    proc = subprocess.Popen(
        [sys.executable, "-m", "taskdroid", "run", "--all", "--runner", runner()],
        cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env_for(root, TASKDROID_RUN_GRACE="2"),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        records = [root / "rec-1.1.json", root / "rec-1.2.json"]
        while not all(r.exists() for r in records) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert all(r.exists() for r in records)
        time.sleep(0.1)
        assert block(root, "1.1").startswith("- [~] 1.1")
        assert block(root, "1.2").startswith("- [~] 1.2")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 130, out + err
    assert "interrupted: stopping every droid" in out
    for task_id, title in (("1.1", "Holds"), ("1.2", "Holds too")):
        text = block(root, task_id)
        assert text.startswith(f"- [ ] {task_id} {title}\n"), text
        assert re.search(rf"\*\*Status\*\*: Run cancelled {STAMP} \(interrupted\)", text)
        assert "cancelled" in summary_line(out, task_id)
    assert sorted(timeline(root)) == ["1.1", "1.2"]  # 1.3 never started
    assert block(root, "1.3") == "- [ ] 1.3 Would come next\n  - **Droid**: dev\n"
    assert "not started: the queue was cancelled" in summary_line(out, "1.3")
    for record in records:
        pid = json.loads(record.read_text())["pid"]
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            if Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z":
                break
            time.sleep(0.02)
        else:
            raise AssertionError(f"droid {pid} still runs")


SPECKIT = """\
# Tasks

## Phase 1: Setup

- [ ] T001 [P] Create the project
  - **Droid**: dev
- [ ] T002 [P] Configure the linter
  - **Droid**: dev
  - **Fake**: --exit 1 --stderr "lint: broken config"
- [ ] T003 Write the README (no [P]: waits for T002)
  - **Droid**: dev

## Phase 2: Core

- [ ] T004 [P] Build the core (waits for phase 1)
  - **Droid**: dev
"""


def test_spec_kit_implicit_order_counts_for_ready_and_for_skipping(tmp_path, queue_run):
    root = make_project(tmp_path, {"tasks/tasks-q.md": SPECKIT})
    p = queue_run(root, "--all", "--runner", runner())
    assert p.returncode == 1, p.stdout + p.stderr
    assert sorted(timeline(root)) == ["T001", "T002"]
    assert block(root, "T001").startswith("- [x] T001")
    assert block(root, "T002").startswith("- [!] T002")
    assert summary_line(p.stdout, "T003").endswith("depends on T002, which ended blocked")
    assert summary_line(p.stdout, "T004").endswith("which was skipped") or summary_line(
        p.stdout, "T004"
    ).endswith("which ended blocked")
