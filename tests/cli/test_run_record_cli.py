"""The run record from the command line (docs/language.md §11): ``taskdroid run FILE ID`` and
queued runs (``taskdroid run --ready``) write each task's ``**Last Run**``, with the model the
task or its droid names passed through ``{model}`` (and an empty ``{effort}`` dropped with its
option). In a process of its own, as a user runs it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

FAKE = str(Path(__file__).resolve().parents[1] / "fixtures" / "fake_droid.py")

TASKS = """\
# Tasks

## 8. Work

- [ ] 8.1 First
  - **Droid**: dev
  - **Fake**: --meta s-81 --record rec-8.1.json
- [ ] 8.2 Second
  - **Droid**: dev
  - **Model**: opus
  - **Fake**: --record rec-8.2.json
- [ ] 8.3 Blocks
  - **Droid**: dev
  - **Fake**: --exit 2
"""


def record(outcome: str, rest: str = "") -> str:
    """A pattern of the Last Run line of a run that ended ``outcome``."""
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d"
    return (
        rf"\*\*Last Run\*\*: {stamp} · [^·\n]+ · {outcome} · log: \.taskdroid/runs/\S+\.log"
        + rest
        + "\n"
    )


def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    (root / ".git").mkdir(parents=True)
    (root / "tasks").mkdir()
    (root / "tasks" / "tasks-8.md").write_text(TASKS, encoding="utf-8")
    droids = root / ".factory" / "droids"
    droids.mkdir(parents=True)
    (droids / "dev.md").write_text(
        "---\nname: dev\ndescription: Does the work\nmodel: gpt-5-codex\n---\nWork.\n"
    )
    return root


def taskdroid(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HOME": str(root / ".home"), "XDG_CONFIG_HOME": str(root / ".cfg")}
    env.pop("TASKDROID_RUNNER", None)
    runner = [
        sys.executable,
        FAKE,
        "--sleep",
        "0.01",
        "-m",
        "{model}",
        "-r",
        "{effort}",
        "{prompt}",
    ]
    return subprocess.run(
        [sys.executable, "-m", "taskdroid", "run", "--runner", json.dumps(runner), *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def block(text: str, task_id: str) -> str:
    m = re.search(rf"^- \[[^\]]*\] {re.escape(task_id)} .*?(?=^- \[|\Z)", text, re.M | re.S)
    assert m, text
    return m.group(0)


def test_single_and_queued_runs_write_the_record(tmp_path):
    root = project(tmp_path)
    done = taskdroid(root, "tasks/tasks-8.md", "8.1")
    assert done.returncode == 0, done.stderr
    text = (root / "tasks" / "tasks-8.md").read_text(encoding="utf-8")
    rest = r" · session s-81 · \$0\.0123 · 4 turns"
    assert re.search(record("completed", rest), block(text, "8.1"))
    # the droid's model was passed; it names no effort, so `-r {effort}` was left out
    argv = json.loads((root / "rec-8.1.json").read_text())["argv"]
    assert argv[1:5] == ["--sleep", "0.01", "-m", "gpt-5-codex"] and "-r" not in argv

    queued = taskdroid(root, "--ready", "tasks")
    assert queued.returncode == 1, queued.stdout + queued.stderr  # 8.3 ends blocked
    text = (root / "tasks" / "tasks-8.md").read_text(encoding="utf-8")
    assert re.search(record("completed"), block(text, "8.2"))
    assert re.search(record("blocked"), block(text, "8.3"))
    assert block(text, "8.1").count("**Last Run**") == 1  # not run again: still one record
    argv = json.loads((root / "rec-8.2.json").read_text())["argv"]
    assert argv[3:5] == ["-m", "opus"]  # the task's own Model wins over the droid's
