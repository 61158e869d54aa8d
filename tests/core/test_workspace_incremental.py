"""The workspace caches cross-file results per chunk; after any sequence of edits its diagnostics
must equal those of a workspace built from scratch with the same texts."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taskdroid.core.workspace import Workspace

A = """# Plan
## Tasks
### 1. Auth (HIGH)
- [x] 1.1 Register ✅
  - **Completed**: 2025-01-12 15:20
  - **Files**: src/a.ts, src/missing.ts
- [~] 1.2 Login 🔄
  - **Droid**: backend
  - **Dependencies**: 1.1, 2.1
- [ ] 1.3 Refresh
  - **Dependencies**: 1.2, other.md#3.1
### 2. Rate limits (LOW)
- [x] 2.1 Limit ✅
  - **Completed**: 2025-01-13 10:00
  - **Dependencies**: 1.3
- [ ] 2.2 Tune
  - **Droid**: fronted
"""

B = """# Other
## Tasks
### 3. Data (MEDIUM)
- [ ] 3.1 Models
  - **Dependencies**: tasks-a.md#1.3
- [x] 3.2 Seed ✅
  - **Completed**: 2025-01-10
"""

DROID = "---\nname: {n}\ndescription: d\n---\nbody\n"


def make(root: Path, a: str, b: str, droids: list[str]) -> Workspace:
    ws = Workspace(root, personal=False)
    ws.set_task_text(str(root / "tasks" / "tasks-a.md"), a)
    ws.set_task_text(str(root / "tasks" / "other.md"), b)
    for n in droids:
        ws.set_droid_text(str(root / ".factory" / "droids" / f"{n}.md"), DROID.format(n=n))
    return ws


def snapshot(ws: Workspace) -> list:
    out = []
    for p in ws.all_paths():
        for d in ws.diagnostics(p):
            out.append(
                (
                    p,
                    d.code,
                    tuple(d.range),
                    d.message,
                    tuple((r.path, tuple(r.range)) for r in d.related),
                )
            )
    return out


SNIPS = [
    "\n",
    "  - **Dependencies**: 2.2\n",
    "- [x] 9.1 new\n",
    "[!]",
    "1.1",
    "2.1",
    "z",
    "### 4. X (BOGUS)\n",
    "",
    "```\n",
]


@st.composite
def scenario(draw):
    steps = []
    for _ in range(draw(st.integers(1, 6))):
        which = draw(st.sampled_from(["a", "b", "droid"]))
        if which == "droid":
            steps.append(
                ("droid", draw(st.sampled_from(["backend", "frontend"])), draw(st.booleans()))
            )
        else:
            a = draw(st.integers(0, 300))
            ln = draw(st.integers(0, 8))
            steps.append((which, a, ln, draw(st.sampled_from(SNIPS))))
    return steps


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario())
def test_cached_equals_fresh(tmp_path_factory, steps):
    root = tmp_path_factory.mktemp("ws")
    (root / "src").mkdir()
    (root / "src" / "a.ts").write_text("x")
    texts = {"a": A, "b": B}
    droids = {"backend"}
    ws = make(root, A, B, sorted(droids))
    snapshot(ws)  # warm every cache
    for step in steps:
        if step[0] == "droid":
            _, name, present = step
            p = str(root / ".factory" / "droids" / f"{name}.md")
            if present:
                droids.add(name)
                ws.set_droid_text(p, DROID.format(n=name))
            else:
                droids.discard(name)
                ws.remove(p)
        else:
            which, a, ln, ins = step
            t = texts[which]
            a = min(a, len(t))
            texts[which] = t[:a] + ins + t[a + ln :]
            name = "tasks-a.md" if which == "a" else "other.md"
            ws.set_task_text(str(root / "tasks" / name), texts[which])
        fresh = make(root, texts["a"], texts["b"], sorted(droids))
        assert snapshot(ws) == snapshot(fresh)


def test_expected_cross_file_diagnostics(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.ts").write_text("x")
    ws = make(tmp_path, A, B, ["backend"])
    codes = {
        (Path(p).name, d.code, d.range.start.line)
        for p in ws.all_paths()
        for d in ws.diagnostics(p)
    }
    assert ("tasks-a.md", "TD031", 5) in codes  # src/missing.ts
    assert ("tasks-a.md", "TD012", 14) in codes  # 2.1 completed, depends on pending 1.3
    assert ("tasks-a.md", "TD012", 8) not in codes  # 1.2's dependencies are completed
    # 1.2 → 2.1 → 1.3 → 1.2 is a cycle: every edge of it is reported
    assert {
        ("tasks-a.md", "TD011", 8),
        ("tasks-a.md", "TD011", 10),
        ("tasks-a.md", "TD011", 14),
    } <= codes
    assert ("tasks-a.md", "TD020", 16) in codes  # fronted
    assert ("tasks-a.md", "TD030", 2) not in codes
