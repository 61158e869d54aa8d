"""Plans (docs/language.md §11): waves, Files conflicts, spec-kit implicit edges, unplannable tasks, running
tasks, the critical path and the order within a wave — over a real Workspace."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taskdroid.core.plan import (
    Plan,
    compute_plan,
    normalise_file_entry,
    render_mermaid,
    render_text,
)
from taskdroid.core.speckit import has_parallel_label, is_phase_heading
from taskdroid.core.workspace import Workspace


def workspace(root: Path, files: dict[str, str]) -> Workspace:
    ws = Workspace(root, personal=False)
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        ws.set_task_text(str(p), text)
    return ws


def plan_of(tmp_path: Path, files: dict[str, str], paths: list[str] | None = None) -> dict:
    ws = workspace(tmp_path, files)
    targets = [str(tmp_path / p) for p in paths] if paths is not None else None
    return compute_plan(ws, targets).to_json(lambda p: os.path.relpath(p, tmp_path))


def wave_ids(plan: dict) -> list[list[str]]:
    return [[t["taskId"] for t in wave] for wave in plan["waves"]]


def reasons(plan: dict) -> dict[str, str]:
    return {u["taskId"]: u["reason"] for u in plan["unplannable"]}


# -- waves -----------------------------------------------------------------------------------------

WAVES = """\
# Tasks
## 1. Work
- [x] 1.1 done
- [~] 1.2 running
- [ ] 1.3 after a done task
  - **Dependencies**: 1.1
- [ ] 1.4 after a running task
  - **Dependencies**: 1.2
- [ ] 1.5 after 1.3
  - **Dependencies**: 1.3
- [ ] 1.6 after 1.5 and 1.4
  - **Dependencies**: 1.5, 1.4
- [ ] 1.7 free
"""


def test_waves_follow_dependencies_done_and_running_count_zero(tmp_path):
    plan = plan_of(tmp_path, {"tasks.md": WAVES})
    assert wave_ids(plan) == [["1.3", "1.4", "1.7"], ["1.5"], ["1.6"]]
    first = {t["taskId"]: t for t in plan["waves"][0]}
    assert first["1.3"]["ready"] is True  # its only dependency is completed
    assert first["1.4"]["ready"] is False  # in wave 1 (1.2 runs already) but not ready
    assert first["1.7"]["ready"] is True
    assert plan["waves"][2][0]["dependencies"] == ["tasks.md#1.5", "tasks.md#1.4"]
    assert [t["taskId"] for t in plan["running"]] == ["1.2"]
    assert plan["unplannable"] == [] and plan["conflicts"] == [] and plan["implicitEdges"] == []


def test_json_shape(tmp_path):
    plan = plan_of(tmp_path, {"tasks.md": WAVES})
    assert list(plan) == [
        "waves", "running", "unplannable", "conflicts", "criticalPath", "implicitEdges"
    ]  # fmt: skip
    task = plan["waves"][0][0]
    assert task == {
        "path": "tasks.md",
        "line": 5,
        "taskId": "1.3",
        "title": "after a done task",
        "droid": None,
        "ready": True,
        "files": [],
        "dependencies": ["tasks.md#1.1"],
    }


def test_order_within_a_wave_is_section_priority_then_id(tmp_path):
    text = """\
# Tasks
## 1. Later (LOW)
- [ ] 1.10 ten
- [ ] 1.2 two
## 2. First (BLOCKER)
- [ ] 2.1 urgent
## 3. None
- [ ] 3.1 no priority
- [ ] a task without an ID
## 4. High (HIGH)
- [ ] 4.1 high
"""
    plan = plan_of(tmp_path, {"tasks.md": text})
    assert wave_ids(plan) == [["2.1", "4.1", "1.2", "1.10", "3.1", None]]
    # a task without an ID is named by its line
    assert plan["waves"][0][-1]["line"] == 9
    assert plan["criticalPath"] == ["tasks.md#2.1"]


# -- Files conflicts -------------------------------------------------------------------------------

CONFLICTS = """\
# Tasks
## 1. Core (HIGH)
- [ ] 1.1 writes the schema
  - **Files**: `db/schema.ts`, api/a.ts
- [ ] 1.2 also writes the schema (another spelling)
  - **Files**: ./db//schema.ts:12 (the users table)
- [ ] 1.3 after 1.2
  - **Dependencies**: 1.2
  - **Files**: other.ts
## 2. Low (LOW)
- [ ] 2.1 writes a.ts too
  - **Files**: api/a.ts
- [ ] 2.2 writes nothing shared
  - **Files**: none
"""


def test_conflicts_move_the_later_task_and_its_dependents(tmp_path):
    plan = plan_of(tmp_path, {"tasks.md": CONFLICTS})
    assert wave_ids(plan) == [["1.1", "2.2"], ["1.2", "2.1"], ["1.3"]]
    assert plan["conflicts"] == [
        {"a": "tasks.md#1.1", "b": "tasks.md#1.2", "file": "db/schema.ts"},
        {"a": "tasks.md#1.1", "b": "tasks.md#2.1", "file": "api/a.ts"},
    ]
    # files as written (what names no file is left out)
    files = {t["taskId"]: t["files"] for w in plan["waves"] for t in w}
    assert files["1.2"] == ["./db//schema.ts:12"] and files["2.2"] == []
    # conflicts are not dependencies: the critical path is 1.2 → 1.3
    assert plan["criticalPath"] == ["tasks.md#1.2", "tasks.md#1.3"]


def test_a_conflict_is_listed_once_per_move(tmp_path):
    text = """\
# Tasks
## 1. Work
- [ ] 1.1 a
  - **Files**: x.ts
- [ ] 1.2 b
  - **Files**: x.ts
- [ ] 1.3 c
  - **Files**: x.ts
"""
    plan = plan_of(tmp_path, {"tasks.md": text})
    assert wave_ids(plan) == [["1.1"], ["1.2"], ["1.3"]]
    assert [(c["a"], c["b"]) for c in plan["conflicts"]] == [
        ("tasks.md#1.1", "tasks.md#1.2"),
        ("tasks.md#1.1", "tasks.md#1.3"),  # 1.3 leaves wave 1 …
        ("tasks.md#1.2", "tasks.md#1.3"),  # … then wave 2
    ]


def test_normalise_file_entry():
    assert normalise_file_entry("./src//a.ts") == "src/a.ts"
    assert normalise_file_entry("/src/a.ts") == "src/a.ts"
    assert normalise_file_entry("src\\b\\..\\a.ts:10-12") == "src/a.ts"
    assert normalise_file_entry("src/a.ts#L3") == "src/a.ts"
    assert normalise_file_entry("web/") == "web"
    for nothing in ("none", "N/A", "TBD", "https://x.dev/a", "src/*.ts", "./", "-"):
        assert normalise_file_entry(nothing) is None, nothing


# -- spec-kit implicit edges -----------------------------------------------------------------------

SPEC_KIT = """\
# Tasks: Search

## Format: `[ID] [P?] [Story] Description`

- **[P]**: Can run in parallel

## Phase 1: Setup

- [x] T001 Create the project
- [ ] T002 [P] Add the config in `a.ts`
- [ ] T003 [P] Add the router in `b.ts`
- [ ] T004 Wire both together

## Phase 2: Foundational

- [cancelled] T005 Dropped
- [ ] T006 [P] [US1] Build the index

### Tests for User Story 1

- [ ] T007 [US1] Test the index
- [ ] T008 [P] [US1] Test the query

## Notes

- [ ] T009 [P] Outside any phase
"""


def test_spec_kit_p_label_and_phase_edges(tmp_path):
    plan = plan_of(tmp_path, {"specs/001/tasks.md": SPEC_KIT})
    f = "specs/001/tasks.md#"
    edges = [(e["from"].removeprefix(f), e["to"].removeprefix(f)) for e in plan["implicitEdges"]]
    phase_1 = ("T001", "T002", "T003", "T004")
    assert len(edges) == len(set(edges))
    assert set(edges) == {
        ("T003", "T004"),  # no [P]: waits for the task before it
        ("T006", "T007"),  # the cancelled T005 gives no edge; a sub-heading of a phase is in it
        # every task of phase 2 waits for every task of phase 1 (done or not)
        *((fr, to) for fr in phase_1 for to in ("T006", "T007", "T008")),
    }  # [P] tasks wait for nothing before them; T009 is under a heading that closes the phase
    assert wave_ids(plan) == [["T002", "T003", "T009"], ["T004"], ["T006", "T008"], ["T007"]]
    by_id = {t["taskId"]: t for w in plan["waves"] for t in w}
    assert by_id["T004"]["ready"] is False and by_id["T002"]["ready"] is True
    assert by_id["T004"]["dependencies"] == [f + "T003"]
    assert by_id["T007"]["dependencies"] == [f + x for x in ("T006", *phase_1)]
    assert plan["criticalPath"] == [f + "T003", f + "T004", f + "T006", f + "T007"]


def test_next_follows_the_implicit_order_too(tmp_path):
    """`ready` counts the implicit edges in `taskdroid next` as in the plan: a task without [P]
    waits for the one before it, a later phase for the earlier one."""
    from taskdroid.core.ready import next_tasks

    ws = workspace(tmp_path, {"tasks.md": SPEC_KIT})
    plan = compute_plan(ws).to_json(lambda p: os.path.relpath(p, tmp_path))
    ready_in_plan = sorted(t["taskId"] for w in plan["waves"] for t in w if t["ready"])
    assert sorted(r.task_id for r in next_tasks(ws)) == ready_in_plan
    assert "T004" not in ready_in_plan and "T002" in ready_in_plan
    # without [P] labels there is no implicit order: T004 is ready at once
    plain = workspace(tmp_path / "plain", {"tasks.md": SPEC_KIT.replace("[P] ", "")})
    assert "T004" in [r.task_id for r in next_tasks(plain)]


def test_implicit_edges_only_in_files_with_p_labels(tmp_path):
    text = SPEC_KIT.replace("[P] ", "")
    plan = plan_of(tmp_path, {"tasks.md": text})
    assert plan["implicitEdges"] == []
    assert wave_ids(plan) == [["T002", "T003", "T004", "T006", "T007", "T008", "T009"]]


def test_written_dependency_is_not_repeated_as_implicit(tmp_path):
    text = "# T\n- [ ] T001 [P] a\n- [ ] T002 b (depends on T001)\n"
    plan = plan_of(tmp_path, {"tasks.md": text})
    assert plan["implicitEdges"] == []
    assert plan["waves"][1][0]["dependencies"] == ["tasks.md#T001"]


def test_implicit_edge_into_a_blocked_task_makes_dependents_unplannable(tmp_path):
    text = "# T\n## Phase 1\n- [!] T001 [P] stuck\n## Phase 2\n- [ ] T002 [P] next\n"
    plan = plan_of(tmp_path, {"tasks.md": text})
    assert plan["waves"] == []
    assert reasons(plan) == {
        "T002": "depends on blocked task tasks.md#T001 (implicit: spec-kit phase order)"
    }


def test_label_and_heading_detection():
    assert has_parallel_label("[P] Create")
    assert has_parallel_label("[US1] [P] Create")
    assert has_parallel_label("[P][US1] Create")
    assert not has_parallel_label("[US1] Create")
    assert not has_parallel_label("Create [P] later")
    assert not has_parallel_label("[PR] Create")
    assert is_phase_heading("Phase 3: User Story 1 (Priority: P1) 🎯 MVP")
    assert is_phase_heading("phase 2 - Foundational")
    assert not is_phase_heading("Phased rollout")
    assert not is_phase_heading("Dependencies & Execution Order")


# -- unplannable -----------------------------------------------------------------------------------

UNPLANNABLE = """\
# Tasks
## 1. Work
- [!] 1.1 blocked
- [/] 1.2 malformed marker
- [cancelled] 1.3 cancelled
- [ ] 1.4 waits on blocked
  - **Dependencies**: 1.1
- [ ] 1.5 waits on malformed
  - **Dependencies**: 1.2
- [ ] 1.6 waits on cancelled
  - **Dependencies**: 1.3
- [ ] 1.7 unknown dependency
  - **Dependencies**: 9.9
- [ ] 1.8 cycle a
  - **Dependencies**: 1.9
- [ ] 1.9 cycle b
  - **Dependencies**: 1.8
- [ ] 1.10 after the cycle
  - **Dependencies**: 1.9
- [ ] 1.11 after 1.4 (indirect)
  - **Dependencies**: 1.4
- [ ] 1.12 on itself
  - **Dependencies**: 1.12
- [ ] 1.13 fine
"""


def test_unplannable_reasons(tmp_path):
    plan = plan_of(tmp_path, {"tasks.md": UNPLANNABLE})
    assert wave_ids(plan) == [["1.13"]]
    r = reasons(plan)
    assert r == {
        "1.4": "depends on blocked task tasks.md#1.1",
        "1.5": "depends on tasks.md#1.2, whose status marker is malformed",
        "1.6": "depends on cancelled task tasks.md#1.3",
        "1.7": "unknown dependency `9.9`: no task `9.9` in this file",
        "1.8": "on a dependency cycle with tasks.md#1.9",
        "1.9": "on a dependency cycle with tasks.md#1.8",
        "1.10": "depends on tasks.md#1.9, which cannot be planned "
        "(on a dependency cycle with tasks.md#1.8)",
        "1.11": "depends on tasks.md#1.4, which cannot be planned "
        "(depends on blocked task tasks.md#1.1)",
        "1.12": "depends on itself",
    }
    # blocked and malformed tasks themselves are not listed; listed in document order
    assert [u["taskId"] for u in plan["unplannable"]] == [
        "1.4", "1.5", "1.6", "1.7", "1.8", "1.9", "1.10", "1.11", "1.12"
    ]  # fmt: skip
    assert plan["unplannable"][0] == {
        "path": "tasks.md", "line": 6, "taskId": "1.4", "reason": r["1.4"]
    }  # fmt: skip


def test_downstream_of_a_cycle_through_several_hops(tmp_path):
    text = """\
# T
- [ ] 1 a
  - **Dependencies**: 2
- [ ] 2 b
  - **Dependencies**: 1
- [ ] 3 c
  - **Dependencies**: 2
- [ ] 4 d
  - **Dependencies**: 3, 5
- [ ] 5 e
"""
    plan = plan_of(tmp_path, {"tasks.md": text})
    assert wave_ids(plan) == [["5"]]
    assert set(reasons(plan)) == {"1", "2", "3", "4"}
    assert reasons(plan)["4"].startswith("depends on tasks.md#3, which cannot be planned")


# -- across files ----------------------------------------------------------------------------------


def test_cross_file_dependencies(tmp_path):
    files = {
        "tasks/tasks-a.md": "# A\n- [ ] 1.1 first\n- [x] 1.2 done\n",
        "tasks/tasks-b.md": (
            "# B\n- [ ] 2.1 after a\n  - **Dependencies**: tasks-a.md#1.1\n"
            "- [ ] 2.2 after done\n  - **Dependencies**: tasks-a.md#1.2\n"
            "- [ ] 2.3 bad file\n  - **Dependencies**: tasks-z.md#1.1\n"
        ),
    }
    plan = plan_of(tmp_path, files)
    assert [[(t["path"], t["taskId"]) for t in w] for w in plan["waves"]] == [
        [("tasks/tasks-a.md", "1.1"), ("tasks/tasks-b.md", "2.2")],
        [("tasks/tasks-b.md", "2.1")],
    ]
    assert plan["waves"][1][0]["dependencies"] == ["tasks/tasks-a.md#1.1"]
    assert reasons(plan)["2.3"].startswith("unknown dependency `tasks-z.md#1.1`: ")
    # only file b: a pending dependency in a file outside the plan cannot run in it
    only_b = plan_of(tmp_path, files, ["tasks/tasks-b.md"])
    assert wave_ids(only_b) == [["2.2"]]
    assert reasons(only_b)["2.1"] == (
        "depends on pending task tasks/tasks-a.md#1.1, which is not in the planned files"
    )
    # a folder selects its task files
    folder = plan_of(tmp_path, files, ["tasks"])
    assert folder == plan


# -- running, rendering ----------------------------------------------------------------------------


def test_running_tasks_are_listed_not_planned(tmp_path):
    text = "# T\n## 1. X (HIGH)\n- [~] 1.2 second\n- [~] 1.1 first\n  - **Dependencies**: 1.3\n- [ ] 1.3 p\n"
    plan = plan_of(tmp_path, {"tasks.md": text})
    assert [t["taskId"] for t in plan["running"]] == ["1.1", "1.2"]
    assert plan["running"][0]["ready"] is False  # its dependency is not completed
    assert wave_ids(plan) == [["1.3"]]


def _plan(tmp_path: Path, text: str) -> tuple[Plan, Workspace]:
    ws = workspace(tmp_path, {"tasks.md": text})
    return compute_plan(ws), ws


def test_text_rendering(tmp_path):
    plan, _ws = _plan(tmp_path, CONFLICTS + "- [~] 3.1 running | pipe\n  - **Droid**: bob\n"
                      "- [ ] 3.2 waits\n  - **Dependencies**: 9.9\n")  # fmt: skip
    text = render_text(plan, lambda p: os.path.relpath(p, tmp_path))
    assert text.startswith("**Plan**: 5 tasks in 3 waves · 4 ready · 1 running · 1 unplannable · 2 conflicts\n")
    assert "| Wave | Task | Title | Droid | Files | Ready |\n|---:|---|---|---|---|---|\n" in text
    assert "| 1 | `tasks.md#1.1` | writes the schema | — | `db/schema.ts`, `api/a.ts` | yes |\n" in text
    assert "| 3 | `tasks.md#1.3` | after 1.2 | — | `other.ts` | no |\n" in text
    assert "- `tasks.md#3.1` running \\| pipe (bob)\n" not in text  # only table cells escape
    assert "- `tasks.md#3.1` running | pipe (bob)\n" in text
    assert "- `tasks.md#1.2` after `tasks.md#1.1` (wave 1): both change `db/schema.ts`\n" in text
    assert "- `tasks.md#3.2` waits — unknown dependency `9.9`: no task `9.9` in this file\n" in text
    assert text.endswith("**Critical path** (2 tasks): `tasks.md#1.2` → `tasks.md#1.3`\n")


def test_text_of_an_empty_plan(tmp_path):
    plan, _ws = _plan(tmp_path, "# T\n- [x] 1 done\n")
    text = render_text(plan, str)
    assert "Nothing to plan" in text and "Critical path" not in text


def test_mermaid_waves_are_columns(tmp_path):
    plan, _ws = _plan(tmp_path, SPEC_KIT.replace("- [x] T001", "- [~] T001"))
    out = render_mermaid(plan, lambda p: os.path.relpath(p, tmp_path))
    lines = out.splitlines()
    assert lines[0] == "flowchart LR"
    assert '    subgraph running["Running"]' in lines
    assert '    subgraph w1["Wave 1"]' in lines and '    subgraph w4["Wave 4"]' in lines
    assert lines.count("        direction TB") == 5
    assert "    running ~~~ w1 ~~~ w2 ~~~ w3 ~~~ w4" in lines
    assert "    t2 -.-> t4" in lines  # T003 (wave 1) → T004 (wave 2): implicit, dashed
    assert "    t0 -.-> t5" in lines  # the running T001 → T006 (phase order)
    assert '        t4["T004 Wire both together"]' in lines
    assert not [x for x in lines if " --> " in x and "%%" not in x]  # nothing written here
    assert out.endswith("\n")


def test_mermaid_escapes_labels(tmp_path):
    plan, _ws = _plan(tmp_path, '# T\n- [ ] 1 a "quoted" [x] <-b> title\n- [ ] 2 b\n  - **Dependencies**: 1\n')
    out = render_mermaid(plan, str)
    assert 't0["1 a #quot;quoted#quot; #91;x#93; #lt;-b#gt; title"]' in out
    assert "    t0 --> t1" in out


# -- properties ------------------------------------------------------------------------------------

FILES = ["a.ts", "b.ts", "./a.ts", "c/d.ts", "c//d.ts"]


@st.composite
def task_files(draw) -> str:
    n = draw(st.integers(1, 14))
    lines = ["# Tasks", "## 1. Work"]
    for i in range(1, n + 1):
        status = draw(st.sampled_from(["[ ]", "[ ]", "[ ]", "[x]", "[~]", "[!]"]))
        label = draw(st.sampled_from(["", "", "[P] "]))
        lines.append(f"- {status} {i}. {label}task {i}")
        deps = draw(st.lists(st.integers(1, n + 1), max_size=3, unique=True))
        if deps:
            lines.append("  - **Dependencies**: " + ", ".join(str(d) for d in deps))
        files = draw(st.lists(st.sampled_from(FILES), max_size=2, unique=True))
        if files:
            lines.append("  - **Files**: " + ", ".join(files))
        if draw(st.booleans()) and i < n:
            lines.append(f"## Phase {i}")
    return "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=task_files())
def test_plan_properties(tmp_path, text):
    ws = workspace(tmp_path, {"tasks.md": text})
    plan = compute_plan(ws)
    pending = [
        loc.task
        for doc in ws.task_docs.values()
        for loc in doc.located_tasks()
        if loc.task.status is not None and loc.task.status.value == "pending"
    ]
    unplannable = {u.task.task_id for u in plan.unplannable}
    placed = [t.task_id for w in plan.waves for t in w]
    # every pending task is in exactly one wave, or unplannable
    assert sorted(placed + sorted(unplannable)) == sorted(t.id for t in pending)
    assert len(placed) == len(set(placed))
    wave_of = {t.task_id: i for i, w in enumerate(plan.waves, 1) for t in w}
    for i, wave in enumerate(plan.waves, 1):
        seen: set[str] = set()
        for t in wave:
            assert t.wave == i
            for d, _kind in t.deps:  # later than each planned dependency
                if d.task_id in wave_of:
                    assert wave_of[d.task_id] < i
            assert not seen & set(t.norm_files)  # no two tasks of a wave share a file
            seen |= set(t.norm_files)
        orders = [t.order for t in wave]
        assert orders == sorted(orders)
    # the critical path is a chain of planned tasks along dependency edges
    for a, b in zip(plan.critical_path, plan.critical_path[1:], strict=False):
        assert any(d is a for d, _k in b.deps)
    if placed:
        assert plan.critical_path


@pytest.mark.parametrize("n", [300])
def test_long_chain_and_long_cycle(tmp_path, n):
    """A long chain is n waves (no recursion limit); closing it into a cycle plans nothing."""
    chain = "# T\n" + "".join(
        f"- [ ] {i}. t\n" + (f"  - **Dependencies**: {i - 1}\n" if i > 1 else "") for i in range(1, n + 1)
    )
    plan, _ws = _plan(tmp_path, chain)
    assert len(plan.waves) == n and len(plan.critical_path) == n
    cycle = chain.replace("- [ ] 1. t\n", f"- [ ] 1. t\n  - **Dependencies**: {n}\n")
    plan, _ws = _plan(tmp_path, cycle)
    assert plan.waves == [] and len(plan.unplannable) == n
