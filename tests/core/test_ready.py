"""Ready tasks (docs/language.md §6 nextTasks): pending, every dependency completed, in priority/ID order."""

from __future__ import annotations

from pathlib import Path

from taskdroid.core.ready import ReadyTask, id_sort_key, next_tasks
from taskdroid.core.settings import Settings
from taskdroid.core.workspace import Workspace


def workspace(tmp_path: Path, files: dict[str, str], settings: Settings | None = None) -> Workspace:
    ws = Workspace(tmp_path, settings, personal=False)
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        ws.set_task_text(str(p), text)
    return ws


def ids(ready: list[ReadyTask]) -> list[str | None]:
    return [r.task_id for r in ready]


MAIN = """\
# Tasks

## 1. Setup (LOW)

- [x] 1.1 done
- [ ] 1.2 waits for nothing
  - **Droid**: backend-engineer
- [ ] 1.10 after 1.9 in natural order
- [ ] 1.9 depends on a done task
  - **Dependencies**: Task 1.1
- [ ] 1.3 depends on a pending task
  - **Dependencies**: 1.2
- [~] 1.4 in progress
- [ ] 1.5 depends on a cancelled task
  - **Dependencies**: 1.6
- [cancelled] 1.6 cancelled
- [ ] 1.7 depends on nothing that exists
  - **Dependencies**: 7.7

## 2. Urgent (BLOCKER)

- [ ] 2.1 urgent
- [!] 2.2 blocked

## 3. No priority

- [ ] 3.1 plain
- [ ] a task without an ID
"""


def test_ready_tasks_and_their_order(tmp_path):
    ws = workspace(tmp_path, {"tasks/tasks-a.md": MAIN})
    ready = next_tasks(ws)
    assert ids(ready) == ["2.1", "1.2", "1.9", "1.10", "3.1", None]
    first = ready[1]
    assert first == ReadyTask(
        path=str(tmp_path / "tasks" / "tasks-a.md"),
        line=5,
        task_id="1.2",
        title="waits for nothing",
        droid="backend-engineer",
        priority="LOW",
    )
    assert [r.priority for r in ready] == ["BLOCKER", "LOW", "LOW", "LOW", None, None]
    assert ready[-1].title == "a task without an ID"


def test_json_shape(tmp_path):
    ws = workspace(tmp_path, {"tasks/tasks-a.md": MAIN})
    obj = next_tasks(ws)[1].to_json("tasks/tasks-a.md")
    assert obj == {
        "path": "tasks/tasks-a.md",
        "line": 6,
        "taskId": "1.2",
        "title": "waits for nothing",
        "droid": "backend-engineer",
        "priority": "LOW",
    }


def test_natural_id_order():
    keys = ["1.10", "T010", "1.2", "T009", "2", "1.2B", "10.1", None, "1.2.1"]
    assert sorted(keys, key=id_sort_key) == [
        "1.2", "1.2.1", "1.2B", "1.10", "2", "10.1", "T009", "T010", None,
    ]  # fmt: skip


def test_priority_order_follows_settings_and_is_inherited(tmp_path):
    text = (
        "## A (LOW)\n- [ ] 1 low\n"
        "## B (P0)\n- [ ] 2 p0\n"
        "### B.1 sub-section\n- [ ] 3 inherits P0\n"
        "## C\n- [ ] 4 none\n  - **Priority**: High — customer asked\n"
        "# New document title\n### D\n- [ ] 5 not under P0 any more\n"
    )
    ws = workspace(tmp_path, {"tasks.md": text}, Settings(priorities=["P0", "HIGH", "LOW"]))
    ready = next_tasks(ws)
    assert [(r.task_id, r.priority) for r in ready] == [
        ("2", "P0"),
        ("3", "P0"),
        ("4", "HIGH"),
        ("1", "LOW"),
        ("5", None),
    ]


def test_cross_file_dependencies_and_path_filter(tmp_path):
    ws = workspace(
        tmp_path,
        {
            "tasks/tasks-a.md": "## A\n- [ ] 1.1 needs b\n  - **Dependencies**: tasks-b.md#2.1\n"
            "- [ ] 1.2 needs b's pending\n  - **Dependencies**: tasks-b.md#2.2\n",
            "tasks/tasks-b.md": "## B\n- [x] 2.1 done\n- [ ] 2.2 pending\n",
            "other/tasks.md": "## O\n- [ ] 9.1 elsewhere\n",
        },
    )
    assert ids(next_tasks(ws)) == ["1.1", "2.2", "9.1"]
    a = str(tmp_path / "tasks" / "tasks-a.md")
    assert ids(next_tasks(ws, [a])) == ["1.1"]
    assert ids(next_tasks(ws, [str(tmp_path / "tasks")])) == ["1.1", "2.2"]
    assert ids(next_tasks(ws, [str(tmp_path / "nothing-here")])) == []


def test_same_id_in_two_files_orders_by_file(tmp_path):
    ws = workspace(tmp_path, {"b/tasks.md": "- [ ] 1 b\n", "a/tasks.md": "- [ ] 1 a\n"})
    assert [r.title for r in next_tasks(ws)] == ["a", "b"]


def test_inline_spec_kit_dependencies(tmp_path):
    text = (
        "- [x] T001 done\n- [ ] T002 pending\n"
        "- [ ] T003 ready (depends on T001)\n- [ ] T004 waits (depends on T001, T002)\n"
    )
    ws = workspace(tmp_path, {"specs/001/tasks.md": text})
    assert ids(next_tasks(ws)) == ["T002", "T003"]


def test_file_outside_the_index(tmp_path):
    ws = workspace(tmp_path, {})
    p = tmp_path / "plan.md"
    p.write_text("- [ ] 1 outside\n")
    assert ids(next_tasks(ws, [str(p)])) == ["1"]
