"""Verified completion from the command line (docs/language.md §11): ``taskdroid run`` and
``taskdroid run --ready`` honour ``runner.verify`` and ``runner.requireChanges`` from the user's
config file, never from the project's ``.taskdroid.toml``, and say when a Verify field was not
run."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

FAKE = str(Path(__file__).resolve().parents[1] / "fixtures" / "fake_droid.py")
PY = sys.executable

TASKS = """\
# Checked tasks

## 8. Work (HIGH)

- [ ] 8.1 Passes its check
  - **Droid**: builder
  - **Files**: src/a.txt
  - **Verify**: `./check.py pass`
- [ ] 8.2 Fails its check
  - **Droid**: builder
  - **Files**: src/b.txt
  - **Verify**: `./check.py fail`
- [ ] 8.3 Depends on the failing one
  - **Droid**: builder
  - **Dependencies**: 8.2
"""

CHECK = f"""#!{PY}
import os, sys
open("verify-ran-" + sys.argv[1], "w").close()
print("checked", sys.argv[1])
sys.exit(0 if sys.argv[1] == "pass" else 5)
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "tasks-checked.md").write_text(TASKS, encoding="utf-8")
    (tmp_path / "src").mkdir()
    droids = tmp_path / ".factory" / "droids"
    droids.mkdir(parents=True)
    (droids / "builder.md").write_text("---\nname: builder\ndescription: Builds\n---\nBuild.\n")
    check = tmp_path / "check.py"
    check.write_text(CHECK, encoding="utf-8")
    check.chmod(0o755)
    return tmp_path


def user_config(project: Path, body: str) -> None:
    folder = project / ".config-home" / "taskdroid"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.toml").write_text(body, encoding="utf-8")


def run(project: Path, *args: str, fake: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_CONFIG_HOME": str(project / ".config-home")}
    env["HOME"] = str(project / ".home")
    env["TASKDROID_RUNNER"] = json.dumps([PY, FAKE, "--lines", "1", *fake, "{prompt}"])
    return subprocess.run(
        [PY, "-m", "taskdroid", "run", *args],
        cwd=project, capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip


def block(project: Path, task_id: str) -> str:
    text = (project / "tasks" / "tasks-checked.md").read_text(encoding="utf-8")
    m = re.search(rf"^- \[[^\]]*\] {re.escape(task_id)} .*?(?=^- \[|\Z)", text, re.M | re.S)
    assert m, text
    return m.group(0)


def test_verify_enabled_in_the_user_config(project):
    user_config(project, "[runner]\nverify = true\n")
    p = run(project, "tasks/tasks-checked.md", "8.1")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "verify passed: `./check.py pass`" in p.stdout
    assert (project / "verify-ran-pass").exists()
    assert block(project, "8.1").startswith("- [x] 8.1")

    p = run(project, "tasks/tasks-checked.md", "8.2")
    assert p.returncode == 1, p.stdout + p.stderr
    b = block(project, "8.2")
    assert b.startswith("- [!] 8.2") and "**Error**: verify failed: exit 5: checked fail" in b


def test_a_project_file_cannot_enable_verify(project):
    """The repository's Verify command does not run when only .taskdroid.toml asks for it."""
    (project / ".taskdroid.toml").write_text("[runner]\nverify = true\nrequireChanges = true\n")
    p = run(project, "tasks/tasks-checked.md", "8.2")
    assert p.returncode == 0, p.stdout + p.stderr
    assert not (project / "verify-ran-fail").exists()
    assert "Verify not run: runner.verify is off" in p.stdout
    assert block(project, "8.2").startswith("- [x] 8.2")  # decided as in §7, no change check
    check = subprocess.run(
        [PY, "-m", "taskdroid", "check", "--format", "json", ".taskdroid.toml"],
        cwd=project, capture_output=True, text=True, timeout=60,
        env={**os.environ, "XDG_CONFIG_HOME": str(project / ".config-home")},
    )  # fmt: skip
    assert check.stdout.count('"CF001"') == 2, check.stdout


def test_require_changes_from_the_user_config(project):
    user_config(project, "[runner]\nrequireChanges = true\n")
    p = run(project, "tasks/tasks-checked.md", "8.1")
    assert p.returncode == 1
    assert "**Error**: no file listed in Files changed" in block(project, "8.1")
    p = run(project, "tasks/tasks-checked.md", "8.2", fake=("--write", "src/b.txt"))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Verify not run: runner.verify is off" in p.stdout


def test_queued_runs_verify_and_summarise(project):
    user_config(project, "[runner]\nverify = true\n")
    p = run(project, "--all", "tasks/tasks-checked.md")
    assert p.returncode == 1, p.stdout + p.stderr
    summary = p.stdout[p.stdout.index("summary:") :]
    assert re.search(r"8\.1\s+completed", summary)
    assert re.search(r"8\.2\s+blocked .*verify failed: exit 5: checked fail", summary)
    assert re.search(r"8\.3\s+skipped", summary)


def test_queued_runs_say_when_verify_is_off(project):
    p = run(project, "--ready", "tasks/tasks-checked.md")
    assert p.returncode == 0, p.stdout + p.stderr
    summary = p.stdout[p.stdout.index("summary:") :]
    assert re.search(r"8\.1\s+completed .*Verify not run: runner\.verify is off", summary)
    assert not list(project.glob("verify-ran-*"))
