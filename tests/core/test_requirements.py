"""Requirement references (docs/language.md §13): parsing Kiro requirements.md and spec-kit spec.md, the
references of task files, TD050/TD051, coverage, the TD050 quick fix; cc-sdd's ``_Depends:`` and
``(P)``; and no false TD050 on the shared corpus's Kiro and spec-kit task files."""

from __future__ import annotations

import shutil
from pathlib import Path

from taskdroid.core import requirement_views as rv
from taskdroid.core import requirements as rq
from taskdroid.core.document import TaskDocument
from taskdroid.core.fixes import fixes
from taskdroid.core.speckit import has_parallel_label, implicit_edges
from taskdroid.core.workspace import Workspace

FIX = Path(__file__).parent.parent / "fixtures" / "requirements"
KIRO = FIX / "kiro" / ".kiro" / "specs" / "user-auth"
SK = FIX / "speckit" / "specs" / "001-photo-albums"
CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "real-world"


def ws_for(root: Path) -> Workspace:
    from taskdroid.core.discovery import discover

    ws = Workspace(root, personal=False)
    found = discover(root, ws.settings)
    for kind, files in (
        ("task", found.task_files),
        ("requirements", found.requirement_files),
    ):
        for f in files:
            ws.set_text(str(f), f.read_text(encoding="utf-8"), kind)
    return ws


def write(root: Path, files: dict[str, str]) -> Workspace:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return ws_for(root)


# -- parsing ---------------------------------------------------------------------------------------


def test_kiro_requirements_parse():
    text = (KIRO / "requirements.md").read_text(encoding="utf-8")
    doc = rq.parse_requirements(str(KIRO / "requirements.md"), text)
    assert doc.flavor == rq.KIRO
    assert [(r.id, r.title) for r in doc.requirements] == [
        ("1", ""), ("2", "Sign in"), ("3", "Password reset"), ("4", "Audit log"),
    ]  # fmt: skip
    r1 = doc.requirements[0]
    assert r1.summary.startswith("As a visitor, I want to create an account")
    assert [c.id for c in r1.criteria] == ["1.1", "1.2", "1.3"]
    # a criterion's continuation line is part of its text
    assert r1.criteria[2].text.endswith("SHALL reject it and explain the rule")
    lines = text.splitlines()
    assert lines[r1.line] == "### Requirement 1"
    assert lines[r1.span.line][r1.span.start : r1.span.end] == "Requirement 1"
    assert lines[r1.criteria[1].line].startswith("2. WHEN the email")
    assert [c.id for c in doc.requirements[1].criteria] == ["2.1", "2.2", "2.3", "2.4"]


def test_kiro_heading_forms_and_numbering():
    text = (
        "# Requirements\n\n"
        "## Requirement 1: Top level, numbered list before the criteria\n\n"
        "Steps the user takes:\n\n1. open\n2. close\n\n"
        "**Acceptance Criteria**\n\n"
        "1. WHEN a THEN b\n"
        "   1. a nested numbered item is not a criterion\n"
        "1. WHEN c THEN d\n\n"
        "#### **Requirement 2 - Bold heading**\n\n- not numbered\n3. WHEN e THEN f\n\n"
        "```\n### Requirement 9\n1. in a code block\n```\n"
    )
    doc = rq.parse_requirements("/x/.kiro/specs/a/requirements.md", text)
    assert [(r.id, r.title) for r in doc.requirements] == [
        ("1", "Top level, numbered list before the criteria"),
        ("2", "Bold heading"),
    ]
    # the M-th numbered item after "Acceptance Criteria" (written numbers do not matter)
    assert [c.text for c in doc.requirements[0].criteria] == ["WHEN a THEN b", "WHEN c THEN d"]
    assert [c.id for c in doc.requirements[1].criteria] == ["2.1"]


def test_speckit_spec_parse():
    text = (SK / "spec.md").read_text(encoding="utf-8")
    doc = rq.parse_requirements(str(SK / "spec.md"), text)
    assert doc.flavor == rq.SPECKIT
    assert [(r.id, r.kind) for r in doc.requirements] == [
        ("US1", rq.STORY), ("US2", rq.STORY), ("US3", rq.STORY),
        ("FR-001", rq.FR), ("FR-002", rq.FR), ("FR-003", rq.FR), ("FR-004", rq.FR),
    ]  # fmt: skip
    us1 = doc.requirements[0]
    assert us1.title == "Create an album"
    assert us1.summary.startswith("A user creates an album")
    assert doc.get("FR-002").title == "System MUST group photos by the date they were taken"
    # SC- and NFR- items are not FR-style
    assert doc.get("SC-001") is None and doc.get("NFR-001") is None


def test_requirements_paths():
    assert rq.requirements_flavor("/p/.kiro/specs/auth/requirements.md") == rq.KIRO
    assert rq.requirements_flavor("specs/001-x/spec.md") == rq.SPECKIT
    assert rq.requirements_flavor("docs/requirements.md") is None
    assert rq.requirements_flavor("specs/spec.md") is None
    sib = rq.sibling_requirement_paths("/p/.kiro/specs/auth/tasks.md")
    assert sib[rq.KIRO] == "/p/.kiro/specs/auth/requirements.md"
    assert rq.sibling_requirement_paths("/p/docs/tasks.md") == {}


def test_parse_is_cached_by_text():
    text = "### Requirement 1\n\n1. WHEN a THEN b\n"
    a = rq.parse_requirements("/x/.kiro/specs/a/requirements.md", text)
    assert rq.parse_requirements("/x/.kiro/specs/a/requirements.md", text) is a
    b = rq.parse_requirements("/x/.kiro/specs/a/requirements.md", text + "2. WHEN c THEN d\n")
    assert b is not a and [c.id for c in b.requirements[0].criteria] == ["1.1", "1.2"]


def test_huge_requirements_file_gets_td090(monkeypatch):
    from taskdroid.core import document

    monkeypatch.setattr(document, "MAX_DOCUMENT_CHARS", 100)
    doc = rq.parse_requirements("/x/.kiro/specs/big/requirements.md", "### Requirement 1\n" * 20)
    assert doc.requirements == [] and [d.code for d in doc.diagnostics] == ["TD090"]


# -- references ------------------------------------------------------------------------------------


def refs_of(text: str) -> list[list[tuple[str, str, str | None]]]:
    doc = TaskDocument.parse("/p/.kiro/specs/a/tasks.md", text, {})
    out = []
    for c in doc.chunks:
        for refs in rq.chunk_refs(c):
            out.append([(r.text, r.first, r.last) for r in refs])
    return out


def test_kiro_reference_forms():
    text = (
        "- [ ] 1. Major\n"
        "  - _Requirements: 1.1, 2.3_\n"
        "- [ ] 1.1 (P) Ranges, hyphen and en dash _Requirements: 3.1-3.3_\n"
        "  - _Requirements: 4.2–4.4, 12 (descope record), 16.1 (16.3 partly)_\n"
        "- [ ] 2. Free text names nothing\n"
        "  - _Requirements: All requirements_\n"
        "  - _Requirements: All requirements 1-31_\n"
        "  - _Requirements: None (future enhancement)_\n"
        "- [ ] 3. Other spellings\n"
        "  - _Requirements_: 5.1\n"
        "  - **Requirements:** 6\n"
        "  - **Validates: Requirements 7.1, 7.2**\n"
        "  - _Requirements: 8.1, 8.2,\n"
        "    8.3_\n"
    )
    assert refs_of(text) == [
        [("1.1", "1.1", None), ("2.3", "2.3", None)],
        [("3.1-3.3", "3.1", "3.3"), ("4.2–4.4", "4.2", "4.4"), ("12", "12", None),
         ("16.1", "16.1", None)],
        [],
        [("5.1", "5.1", None), ("6", "6", None), ("7.1", "7.1", None), ("7.2", "7.2", None),
         ("8.1", "8.1", None), ("8.2", "8.2", None), ("8.3", "8.3", None)],
    ]  # fmt: skip


def test_a_tasks_references_are_its_own():
    text = (
        "- [ ] 1. Parent\n"
        "  - _Requirements: 1.1_\n"
        "  - [ ] 1.1 Child\n"
        "    - _Requirements: 2.1_\n"
        "  - a note after the child _Requirements: 3.1_\n"
    )
    assert refs_of(text) == [[("1.1", "1.1", None), ("3.1", "3.1", None)], [("2.1", "2.1", None)]]


def test_speckit_reference_forms():
    text = (
        "- [ ] T001 [P] [US1] Model (FR-001, FR-009.1)\n"
        "- [ ] T002 [US2, US3] Two stories; NFR-001 and SC-001 are not FRs\n"
        "  - see FR-002\n"
    )
    assert refs_of(text) == [
        [("US1", "US1", None), ("FR-001", "FR-001", None), ("FR-009", "FR-009", None)],
        [("US2", "US2", None), ("US3", "US3", None), ("FR-002", "FR-002", None)],
    ]


def test_speckit_fr_ranges():
    """A range of FRs names each FR between its ends; the end may drop ``FR-`` right after ``~``
    or a dash, and keeps the start's zero padding."""
    text = (
        "- [ ] T001 [US1] A (FR-001 through FR-003)\n"
        "- [ ] T002 [US1] B (FR-185~188, FR-010-012)\n"
        "- [ ] T003 [US1] C (FR-004 - see notes; FR-005 to FR-006)\n"
    )
    assert refs_of(text) == [
        [("US1", "US1", None), ("FR-001 through FR-003", "FR-001", "FR-003")],
        [
            ("US1", "US1", None),
            ("FR-185~188", "FR-185", "FR-188"),
            ("FR-010-012", "FR-010", "FR-012"),
        ],
        [
            ("US1", "US1", None),
            ("FR-004", "FR-004", None),
            ("FR-005 to FR-006", "FR-005", "FR-006"),
        ],
    ]


def test_an_fr_range_covers_each_fr_between(tmp_path):
    spec = "### User Story 1 - A\n\n" + "".join(f"- **FR-00{i}**: r{i}\n" for i in range(1, 6))
    tasks = "- [ ] T001 [US1] A (FR-001 through FR-004)\n"
    ws = write(tmp_path, {"specs/001-a/spec.md": spec, "specs/001-a/tasks.md": tasks})
    uncovered = [
        d.message.split(" ")[0] for d in ws.diagnostics(str(tmp_path / "specs/001-a/spec.md"))
    ]
    assert uncovered == ["FR-005"]
    assert ws.diagnostics(str(tmp_path / "specs/001-a/tasks.md")) == []


# -- TD050 / TD051 -------------------------------------------------------------------------------


def test_kiro_fixture_diagnostics(tmp_path):
    shutil.copytree(FIX / "kiro", tmp_path / "kiro")
    ws = ws_for(tmp_path)
    spec = tmp_path / "kiro" / ".kiro" / "specs" / "user-auth"
    tasks = spec / "tasks.md"
    text = tasks.read_text(encoding="utf-8")
    td050 = [d for d in ws.diagnostics(str(tasks)) if d.code == "TD050"]
    got = [(text.splitlines()[d.range.start.line][d.range.start.character : d.range.end.character], d.message) for d in td050]  # fmt: skip
    assert got == [
        ("2.9", "Requirement 2 has no acceptance criterion 9 in requirements.md (it has 4 "
                "acceptance criteria)"),
        ("12", "no Requirement 12 in requirements.md — did you mean `1` or `1.2` or `2`?"),
    ]  # fmt: skip
    req = spec / "requirements.md"
    td051 = [d for d in ws.diagnostics(str(req)) if d.code == "TD051"]
    assert [(d.range.start.line, d.severity.label) for d in td051] == [(40, "information")]
    assert td051[0].message == (
        "Requirement 4 (Audit log) is not referenced by any task in tasks.md"
    )


def test_speckit_fixture_diagnostics(tmp_path):
    shutil.copytree(FIX / "speckit", tmp_path / "speckit")
    ws = ws_for(tmp_path)
    spec = tmp_path / "speckit" / "specs" / "001-photo-albums"
    msgs = [d.message for d in ws.diagnostics(str(spec / "tasks.md")) if d.code == "TD050"]
    assert msgs == ["no User Story 4 in spec.md", "no FR-030 in spec.md — did you mean `FR-003`?"]
    td051 = [d for d in ws.diagnostics(str(spec / "spec.md")) if d.code == "TD051"]
    assert [d.message.split(" ")[0:3] for d in td051] == [
        ["User", "Story", "3"], ["FR-002", "is", "not"],
    ]  # fmt: skip


def test_the_task_views_requirements_are_the_coverage_report(tmp_path):
    """docs/language.md §15: the outline's requirements of a spec folder say what ``taskdroid
    coverage --format json`` says (requirement, title, tasks, state), criteria under their
    requirement, lines 0-based; only under the folder's first task file."""
    for src in ("kiro", "speckit"):
        shutil.copytree(FIX / src, tmp_path / src)
    kiro_copy = tmp_path / "kiro" / ".kiro" / "specs" / "user-auth"
    late = "- [ ] 9.1 Later\n  - _Requirements: 4.1_\n"
    (kiro_copy / "tasks-late.md").write_text(late, encoding="utf-8")
    ws = ws_for(tmp_path)
    assert rv.outline_requirements(ws, str(kiro_copy / "tasks.md")) == []  # not the first
    for folder in (kiro_copy, tmp_path / "speckit" / "specs" / "001-photo-albums"):
        first = min(p for p in ws.task_docs if p.startswith(str(folder)))
        ((req, rows),) = rv.outline_requirements(ws, first)
        out = rv.outline_requirements_json(req, rows, lambda p: "file://" + p, "shown")
        report = rv.coverage_json(rv.requirement_rows(ws, req), "shown")
        flat = [c for i in out["items"] for c in (i, *i["criteria"])]
        assert [(c["requirement"], c["title"], [t["ref"] for t in c["tasks"]], c["state"], c["line"] + 1)
                for c in flat] == [
            (r["requirement"], r["title"], r["tasks"], r["state"], r["line"]) for r in report
        ]  # fmt: skip
        items = out["items"]
        assert out["total"] == len(items)
        assert out["covered"] == sum(i["state"] != "uncovered" for i in items)
        assert out["done"] == sum(i["state"] == "done" for i in items)
    # Kiro's Requirement 4 is covered by the other task file of the folder, and says where it is
    kiro = rv.outline_requirements_json(
        *rv.outline_requirements(ws, str(kiro_copy / "tasks-late.md"))[0], lambda p: p, "x"
    )
    r4 = kiro["items"][3]
    assert (r4["state"], r4["tasks"][0]["ref"], r4["tasks"][0]["uri"]) == (
        "covered", "tasks-late.md#9.1", str(kiro_copy / "tasks-late.md"),
    )  # fmt: skip
    assert rv.outline_requirements(ws, str(tmp_path / "elsewhere" / "tasks.md")) == []


def test_no_td050_without_the_sibling_file(tmp_path):
    ws = write(tmp_path, {".kiro/specs/a/tasks.md": "- [ ] 1. X\n  - _Requirements: 9.9_\n"})
    assert ws.diagnostics(str(tmp_path / ".kiro/specs/a/tasks.md")) == []
    ws = write(tmp_path, {"specs/001-a/tasks.md": "- [ ] T001 [US9] X (FR-999)\n"})
    assert ws.diagnostics(str(tmp_path / "specs/001-a/tasks.md")) == []


def test_range_with_a_missing_end_is_one_td050(tmp_path):
    ws = write(
        tmp_path,
        {
            ".kiro/specs/a/requirements.md": "### Requirement 1\n\n1. WHEN a THEN b\n2. WHEN c THEN d\n",
            ".kiro/specs/a/tasks.md": "- [ ] 1. X\n  - _Requirements: 1.1–1.2, 1.1-1.5_\n",
        },
    )
    d = [d for d in ws.diagnostics(str(tmp_path / ".kiro/specs/a/tasks.md"))]
    assert [(x.code, x.range.start.character, x.range.end.character) for x in d] == [
        ("TD050", 28, 35)
    ]
    # the range covers each criterion between its ends
    req = ws.requirements_doc(str(tmp_path / ".kiro/specs/a/requirements.md"))
    rows = {r.item.id: r.state for r in rq.requirement_rows(ws, req)}
    assert rows == {"1": "covered", "1.1": "covered", "1.2": "covered"}


def test_td051_only_for_kinds_the_tasks_use(tmp_path):
    spec = (SK / "spec.md").read_text(encoding="utf-8")
    ws = write(
        tmp_path, {"specs/001-a/spec.md": spec, "specs/001-a/tasks.md": "- [ ] T001 [US1] X\n"}
    )
    msgs = [d.message for d in ws.diagnostics(str(tmp_path / "specs/001-a/spec.md"))]
    # stories are cited, FRs never: no FR is reported uncovered
    assert [m.split(" (")[0] for m in msgs] == ["User Story 2", "User Story 3"]
    # no tasks.md yet: nothing is uncovered
    ws = write(tmp_path / "b", {"specs/001-a/spec.md": spec})
    assert ws.diagnostics(str(tmp_path / "b/specs/001-a/spec.md")) == []


def test_a_criterion_covers_its_requirement_once(tmp_path):
    ws = write(
        tmp_path,
        {
            ".kiro/specs/a/requirements.md": "### Requirement 1\n\n1. A\n2. B\n\n### Requirement 2\n\n1. C\n",
            ".kiro/specs/a/tasks.md": "- [x] 1. X\n  - _Requirements: 1.2_\n- [ ] 2. Y\n  - _Requirements: 1.1, 1.2_\n",
        },
    )
    diags = ws.diagnostics(str(tmp_path / ".kiro/specs/a/requirements.md"))
    # Requirement 2 uncovered: one TD051 for it, none for its criterion 2.1
    assert [(d.code, d.range.start.line) for d in diags] == [("TD051", 5)]
    req = ws.requirements_doc(str(tmp_path / ".kiro/specs/a/requirements.md"))
    rows = rq.requirement_rows(ws, req)
    assert [(r.item.id, [t.task.id for t in r.tasks], r.state) for r in rows] == [
        ("1", ["1", "2"], "covered"),
        ("1.1", ["2"], "covered"),
        ("1.2", ["1", "2"], "covered"),
        ("2", [], "uncovered"),
        ("2.1", [], "uncovered"),
    ]
    assert rv.lens_title(rows[0]) == "2 tasks · 1 done"


def test_td050_fix_is_preferred_only_with_one_suggestion(tmp_path):
    ws = write(
        tmp_path,
        {
            "specs/001-a/spec.md": "### User Story 1 - A\n\n- **FR-003**: x\n- **FR-012**: y\n"
            "- **FR-013**: z\n",
            "specs/001-a/tasks.md": "- [ ] T001 [US1] A (FR-0123)\n- [ ] T002 [US1] B (FR-0003)\n",
        },
    )
    p = str(tmp_path / "specs/001-a/tasks.md")
    doc = ws.task_docs[p]
    diags = [d for d in ws.diagnostics(p) if d.code == "TD050"]
    found = fixes(doc.text, diags, task_doc=doc)
    assert [(f.title, f.preferred, f.edits[0].new_text) for f in found] == [
        ("Change to `FR-012`", False, "FR-012"),
        ("Change to `FR-013`", False, "FR-013"),
        ("Change to `FR-003`", True, "FR-003"),
    ]


def test_workspace_reads_an_unindexed_sibling_and_sees_it_change(tmp_path):
    ws = write(tmp_path, {".kiro/specs/a/tasks.md": "- [ ] 1. X\n  - _Requirements: 2_\n"})
    p = str(tmp_path / ".kiro/specs/a/tasks.md")
    assert ws.diagnostics(p) == []
    (tmp_path / ".kiro/specs/a/requirements.md").write_text("### Requirement 1\n", encoding="utf-8")
    ws.invalidate_files()
    assert [d.code for d in ws.diagnostics(p)] == ["TD050"]
    ws.set_text(
        str(tmp_path / ".kiro/specs/a/requirements.md"), "### Requirement 1\n### Requirement 2\n"
    )
    assert ws.diagnostics(p) == []
    assert rq.neighbours(ws, {p}) == {str(tmp_path / ".kiro/specs/a/requirements.md")}


def test_completion_context():
    line = "  - _Requirements: 1.1, 2"
    assert rv.completion_context(line, len(line)) == (rq.KIRO, len(line) - 1)
    line = "  - _Requirements: "
    assert rv.completion_context(line, len(line)) == (rq.KIRO, len(line))
    line = "- [ ] T001 [US"
    assert rv.completion_context(line, len(line)) == (rq.SPECKIT, len(line) - 2)
    assert rv.completion_context("- [ ] T001 Model", 16) is None


# -- cc-sdd: _Depends: and (P) ---------------------------------------------------------------------


def test_cc_sdd_depends_is_a_dependency(tmp_path):
    from taskdroid.core.ready import next_tasks

    text = (
        "- [ ] 1. Schema\n"
        "- [ ] 1.1 (P) Model\n"
        "  - _Requirements: 1.1_\n"
        "- [ ] 1.2 (P) Index\n"
        "  - _Depends: 1.1_\n"
        "- [ ] 2. API\n"
        "  - _Depends_: 1.9\n"
    )
    ws = write(tmp_path, {".kiro/specs/a/tasks.md": text})
    p = str(tmp_path / ".kiro/specs/a/tasks.md")
    doc = ws.task_docs[p]
    tasks = {loc.task.id: loc.task for loc in doc.located_tasks()}
    f = tasks["1.2"].field("Dependencies")
    assert f is not None and f.key == "Depends" and f.value == "1.1"
    assert [r.task_id for r in tasks["1.2"].refs] == ["1.1"]
    assert [r.task_id for r in tasks["2"].refs] == ["1.9"]
    # an unknown dependency is TD010, as for **Dependencies**
    td010 = [d for d in ws.diagnostics(p) if d.code == "TD010"]
    assert [(d.range.start.line, d.range.start.character) for d in td010] == [(6, 15)]
    ready = [r.task_id for r in next_tasks(ws, [p])]
    assert "1.1" in ready and "1.2" not in ready


def test_cc_sdd_parallel_marker():
    assert has_parallel_label("(P) EstimateRequestモデルの定義")
    assert has_parallel_label("Build background worker for emails (P)")
    assert has_parallel_label("[P] [US1] Create model")
    assert not has_parallel_label("Support (P)ython scripts")
    assert not has_parallel_label("Add priority (P) flags to the form")
    text = "- [ ] 1. Major\n- [ ] 1.1 (P) A\n- [ ] 1.2 (P) B\n- [ ] 1.3 C\n- [ ] 2. Next\n"
    doc = TaskDocument.parse("/p/.kiro/specs/a/tasks.md", text, {})
    edges = [(a.task.id, b.task.id) for a, b, _k in implicit_edges(doc)]
    # (P) tasks wait for nothing; 1.3 waits for 1.2; no sub-task waits for its major task
    assert edges == [("1.2", "1.3"), ("1.3", "2")]


# -- the shared corpus -----------------------------------------------------------------------------


def test_corpus_kiro_and_speckit_tasks_have_no_false_td050(tmp_path):
    """The corpus's Kiro and spec-kit task files, each beside a requirements file that has every
    requirement and criterion they name (and with none beside them), give no TD050; their
    references are found."""
    files = sorted(p for p in CORPUS.rglob("tasks.md") if p.parent.parent.name == "specs")
    assert len(files) >= 10
    total = 0
    for i, src in enumerate(files):
        text = src.read_text(encoding="utf-8", errors="replace")
        spec = "kiro" if ".kiro" in src.parts else "spec"
        base = tmp_path / f"c{i}"
        rel = ".kiro/specs/x/tasks.md" if spec == "kiro" else "specs/001-x/tasks.md"
        ws = write(base, {rel: text})
        p = str(base / rel)
        assert [d for d in ws.diagnostics(p) if d.code == "TD050"] == []
        refs = rq.document_refs(ws.task_docs[p])
        total += len(refs)
        # a requirements file with what the references name: still no TD050
        if spec == "kiro":
            crit: dict[int, int] = {}
            for r in refs:
                for ident in filter(None, (r.ref.first, r.ref.last)):
                    n, _, m = ident.partition(".")
                    crit[int(n)] = max(crit.get(int(n), 0), int(m or 0))
            body = "".join(
                f"### Requirement {n}\n\n"
                + "".join(f"{k}. WHEN x\n" for k in range(1, m + 1))
                + "\n"
                for n, m in sorted(crit.items())
            )
            # (ranges across requirements need everything between)
            (base / ".kiro/specs/x/requirements.md").write_text(body, encoding="utf-8")
        else:
            stories = {r.ref.first for r in refs if r.ref.kind == rq.STORY}
            frs = {r.ref.first for r in refs if r.ref.kind == rq.FR}
            body = "".join(f"### User Story {s[2:]} - x\n\n" for s in sorted(stories))
            body += "".join(f"- **{f}**: x\n" for f in sorted(frs))
            (base / "specs/001-x/spec.md").write_text(body, encoding="utf-8")
        ws.invalidate_files()
        assert [d.message for d in ws.diagnostics(p) if d.code == "TD050"] == [], src
    assert total > 200
