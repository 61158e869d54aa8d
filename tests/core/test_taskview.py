"""The task view's data (docs/language.md §15, core/taskview.py): sections → tasks with status, droid and
dependency state, done/total per section and file."""

from __future__ import annotations

from pathlib import Path

from taskdroid.core.settings import Settings
from taskdroid.core.taskview import file_view, task_views
from taskdroid.core.workspace import Workspace


def workspace(tmp_path: Path, files: dict[str, str]) -> Workspace:
    ws = Workspace(tmp_path, Settings(), personal=False)
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        if rel.endswith(".md") and "droids" in rel:
            ws.set_text(str(p), text, "droid")
        else:
            ws.set_task_text(str(p), text)
    return ws


DROID = "---\nname: backend\ndescription: Builds the API.\n---\nBody.\n"

TASKS = """\
# Auth tasks

Intro paragraph.

- [ ] 0.1 Before any heading

## 1. Setup (HIGH)

- [x] 1.1 **Create** the `users` table ✅
  - **Droid**: backend
- [ ] 1.2 Register endpoint
  - **Droid**: backend
  - **Dependencies**: 1.1
- [ ] 1.3 Login endpoint
  - **Droid**: ghost
  - **Dependencies**: 1.2
  - [~] 1.3.1 Form
  - [ ] 1.3.2 Tests

### Notes without tasks

## 2. Later (LOW)

- [!] 2.1 Rate limiting ⚠️
- [ ] 2.2 Depends on a blocked task
  - **Dependencies**: 2.1, 9.9
- [/] 2.3 Malformed marker
- [cancelled] 2.4 Gone
- [ ] 2.5 Loops
  - **Dependencies**: 2.5
"""


def test_sections_tasks_and_counts(tmp_path):
    ws = workspace(tmp_path, {"tasks.md": TASKS, ".factory/droids/backend.md": DROID})
    fv = file_view(ws, ws.task_docs[str(tmp_path / "tasks.md")])
    assert [(s.title, s.priority, s.line) for s in fv.sections] == [
        ("Auth tasks", None, 0),
        ("1. Setup (HIGH)", "HIGH", 6),
        ("2. Later (LOW)", "LOW", 21),
    ]  # "Notes without tasks" holds no task: left out
    setup = fv.sections[1]
    assert [t.task_id for t in setup.tasks] == ["1.1", "1.2", "1.3"]
    first = setup.tasks[0]
    assert first.title == "Create the users table"  # plain text, no emoji marker
    assert (first.status, first.marker, first.line) == ("completed", "[x]", 8)
    assert first.range.start.line == 8 and first.range.end.line == 9
    assert [c.task_id for c in setup.tasks[2].children] == ["1.3.1", "1.3.2"]
    assert setup.tasks[2].children[0].status == "in_progress"
    assert (setup.done, setup.total) == (1, 5)
    assert (fv.done, fv.total) == (1, 11)
    assert fv.counts == {
        "pending": 6,
        "in_progress": 1,
        "completed": 1,
        "blocked": 1,
        "cancelled": 1,
        "malformed": 1,
    }


def test_droid_and_whether_it_resolves(tmp_path):
    ws = workspace(tmp_path, {"tasks.md": TASKS, ".factory/droids/backend.md": DROID})
    tasks = {t.task_id: t for s in task_views(ws)[0].sections for t in s.tasks}
    assert (tasks["1.2"].droid, tasks["1.2"].droid_resolves) == ("backend", True)
    assert (tasks["1.3"].droid, tasks["1.3"].droid_resolves) == ("ghost", False)
    assert (tasks["2.1"].droid, tasks["2.1"].droid_resolves) == (None, None)


def test_dependency_states(tmp_path):
    ws = workspace(tmp_path, {"tasks.md": TASKS})
    tasks = {t.task_id: t for s in task_views(ws)[0].sections for t in s.tasks}
    assert tasks["0.1"].dependency.state == "ready"
    assert tasks["1.2"].dependency.text == "ready"  # 1.1 is completed
    dep = tasks["1.3"].dependency
    assert (dep.state, dep.on, dep.text) == ("waiting", ("1.2",), "waiting on 1.2")
    dep = tasks["2.2"].dependency
    assert dep.state == "blocked"
    assert dep.on == ("2.1", "9.9")
    assert "2.1 is blocked" in dep.text and "9.9 does not resolve" in dep.text
    assert tasks["2.5"].dependency.state == "blocked"
    assert "dependency cycle" in tasks["2.5"].dependency.text
    # only pending tasks have a dependency state
    assert tasks["1.1"].dependency is None and tasks["2.1"].dependency is None
    assert tasks["2.3"].status == "malformed" and tasks["2.3"].dependency is None


def test_dependency_across_files_and_spec_kit_order(tmp_path):
    ws = workspace(
        tmp_path,
        {
            "a/tasks.md": "## A\n\n- [ ] 1.1 Needs b\n  - **Dependencies**: b.md#2.1\n",
            "a/b.md": "## B\n\n- [~] 2.1 Running\n",
            "specs/001/tasks.md": (
                "## Phase 1: Setup\n\n- [ ] T001 First\n- [ ] T002 [P] Parallel\n\n"
                "## Phase 2: Core\n\n- [ ] T003 After the phase\n"
            ),
        },
    )
    views = {Path(v.path).relative_to(tmp_path).as_posix(): v for v in task_views(ws)}
    a = views["a/tasks.md"].sections[0].tasks[0]
    assert (a.dependency.state, a.dependency.on) == ("waiting", ("b.md#2.1",))
    spec = {t.task_id: t for s in views["specs/001/tasks.md"].sections for t in s.tasks}
    assert spec["T001"].dependency.state == "ready"
    assert spec["T003"].dependency.state == "waiting"
    assert set(spec["T003"].dependency.on) == {"T001", "T002"}


def test_select_paths_and_json(tmp_path):
    ws = workspace(tmp_path, {"x/tasks.md": "- [ ] 1 One\n", "y/tasks.md": "- [x] 1 Done\n"})
    views = task_views(ws, [str(tmp_path / "y")])
    assert [Path(v.path).parent.name for v in views] == ["y"]
    sec = views[0].sections[0]
    assert (sec.title, sec.line, sec.level) == (None, None, 0)
    js = sec.to_json()
    assert js["tasks"][0] == {
        "id": "1",
        "title": "Done",
        "status": "completed",
        "marker": "[x]",
        "optional": False,
        "droid": None,
        "droidResolves": None,
        "dependency": None,
        "line": 0,
        "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 12}},
        "children": [],
    }


# -- the extension's unit tests read the server's answer from a fixture: it must stay the server's --

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "client-vscode" / "test" / "fixtures" / "outline-examples.json"
#: the spec folders of examples/ (Kiro's requirements.md, spec-kit's spec.md): the view's requirements
SPEC_FIXTURE = ROOT / "client-vscode" / "test" / "fixtures" / "outline-specs.json"


def example_outline(folders: tuple[str, ...] = ("tasks",)) -> dict:
    """``taskdroid.outline {uri}`` as the server answers it for folders of ``examples`` (URIs made
    machine-independent: ``file:///ws/…``; no run holds a task)."""
    import argparse

    from taskdroid.cli import build_workspace
    from taskdroid.core.requirement_views import outline_requirements, outline_requirements_json

    root = ROOT / "examples"
    ws, _ = build_workspace(root, argparse.Namespace(config=None, runner=None), personal=False)

    def uri(p: str) -> str:
        return f"file:///ws/{ws.relpath(p)}"

    files = []
    for view in task_views(ws, [str(root / f) for f in folders]):
        rel = ws.relpath(view.path)
        files.append(
            {
                "uri": uri(view.path),
                "path": rel,
                "done": view.done,
                "total": view.total,
                "counts": view.counts,
                "sections": [s.to_json(None, lambda _t: None) for s in view.sections],
                "requirements": [
                    outline_requirements_json(req, rows, uri, ws.relpath(req.path) or req.path)
                    for req, rows in outline_requirements(ws, view.path)
                ],
            }
        )
    return {"files": files}


SPEC_FOLDERS = (".kiro", "specs")


def test_the_extension_fixture_is_the_servers_answer():
    """client-vscode/test/fixtures/outline-examples.json and outline-specs.json (the Tasks view's
    unit tests) are what the server answers; regenerate them with
    ``python tests/core/test_taskview.py --write``."""
    import json

    assert json.loads(FIXTURE.read_text(encoding="utf-8")) == example_outline()
    specs = example_outline(SPEC_FOLDERS)
    assert json.loads(SPEC_FIXTURE.read_text(encoding="utf-8")) == specs
    assert [len(f["requirements"]) for f in specs["files"]] == [1, 1]


if __name__ == "__main__":
    import json
    import sys

    if "--write" in sys.argv:
        FIXTURE.parent.mkdir(parents=True, exist_ok=True)
        for path, folders in ((FIXTURE, ("tasks",)), (SPEC_FIXTURE, SPEC_FOLDERS)):
            text = json.dumps(example_outline(folders), indent=1, ensure_ascii=False) + "\n"
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
