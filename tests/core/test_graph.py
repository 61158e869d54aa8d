"""The dependency graph as Mermaid (GitHub-renderable) and Graphviz DOT text."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from taskdroid.core.graph import render_graph
from taskdroid.core.workspace import Workspace

A = """\
## 1. Setup

- [x] 1.1 Create "users" table [db] <#1> `schema.ts` {x} a|b
- [~] 1.2 Build the API
  - **Dependencies**: 1.1
- [!] 1.3 Cycle one
  - **Dependencies**: 1.4
- [ ] 1.4 Cycle two
  - **Dependencies**: 1.3, tasks-b.md#2.1, 9.9
- [cancelled] 1.5 Dropped
- [/] 1.6 Malformed
- [ ] a task without an ID
  - **Dependencies**: 1.2
- [ ] some note-like task without ID or dependencies
"""
B = "## B\n- [x] 2.1 Elsewhere\n"


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    ws = Workspace(tmp_path, personal=False)
    for name, text in (("tasks-a.md", A), ("tasks-b.md", B)):
        p = tmp_path / "tasks" / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        ws.set_task_text(str(p), text)
    return ws


def a_only(ws: Workspace) -> list[str]:
    return [str(Path(ws.root) / "tasks" / "tasks-a.md")]


NODE = re.compile(r"^ {4,8}([A-Za-z0-9_]+)\[\"([^\"]*)\"\]$")
MERMAID_LINE = re.compile(
    r"^(flowchart LR"
    r"| {4}%%.*"
    r"| {4}subgraph [A-Za-z0-9_]+\[\"[^\"]*\"\]"
    r"| {4}end"
    r"| {4,8}[A-Za-z0-9_]+\[\"[^\"]*\"\]"
    r"| {4}[A-Za-z0-9_]+ --> [A-Za-z0-9_]+"
    r"| {4}classDef [a-z_]+ [a-z-]+:[^ ]+(?:,[a-z-]+:[^,]+)*"
    r"| {4}class [A-Za-z0-9_,]+ [a-z_]+"
    r"| {4}style [A-Za-z0-9_]+ .+"
    r"| {4}linkStyle [0-9,]+ .+)$"
)


def test_mermaid_structure(ws):
    out = render_graph(ws, a_only(ws), "mermaid", show_path=lambda p: Path(p).name)
    lines = out.splitlines()
    assert lines[0] == "flowchart LR"
    assert out.endswith("\n")
    bad = [ln for ln in lines if not MERMAID_LINE.match(ln)]
    assert bad == []
    nodes = dict(m.groups() for ln in lines if (m := NODE.match(ln)))
    # labels: ID and title, with the characters Mermaid would interpret escaped
    label = nodes["n0_1_1"]
    assert label.startswith("1.1 Create #quot;users#quot; table #91;db#93; #lt;#35;1#gt;")
    assert "`" not in label and "|" not in label and "{" not in label
    # the task without an ID but with a dependency is a node; the bare one is not
    assert "a task without an ID" in nodes.values()
    assert not any("note-like" in v for v in nodes.values())
    # edges run from the dependency to the dependent, across files, and to missing targets
    assert "    n0_1_1 --> n0_1_2" in lines
    assert "    n1_2_1 --> n0_1_4" in lines
    assert any(re.fullmatch(r" {4}missing\d+ --> n0_1_4", ln) for ln in lines)
    assert any(v == "? 9.9" for v in nodes.values())
    # status classes, the external file dashed, the cycle's edges red
    assert any(ln.startswith("    class n0_1_1") and ln.endswith(" completed") for ln in lines)
    assert any(ln.startswith("    class ") and ln.endswith(" unknown") for ln in lines)
    assert any(ln.startswith("    class ") and ln.endswith(" cancelled") for ln in lines)
    assert '    subgraph f1["tasks-b.md"]' in lines
    assert "    style f1 stroke-dasharray:4 3" in lines
    edges = [ln for ln in lines if "-->" in ln and not ln.lstrip().startswith("%%")]
    cycle = {edges.index("    n0_1_4 --> n0_1_3"), edges.index("    n0_1_3 --> n0_1_4")}
    (link,) = [ln for ln in lines if ln.startswith("    linkStyle")]
    assert {int(i) for i in link.split()[1].split(",")} == cycle
    assert "B depends on A" in lines[1]


def test_mermaid_node_ids_are_unique_and_safe(ws, tmp_path):
    text = "- [ ] 1.1 first\n- [ ] 1.1 duplicate\n- [ ] T001A spec-kit\n"
    p = tmp_path / "tasks" / "tasks-c.md"
    p.write_text(text)
    ws.set_task_text(str(p), text)
    out = render_graph(ws, [str(p)], "mermaid")
    ids = [m.group(1) for ln in out.splitlines() if (m := NODE.match(ln))]
    assert len(ids) == len(set(ids)) == 3
    assert all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", i) for i in ids)
    assert "end" not in ids


def test_dot_output(ws):
    out = render_graph(ws, a_only(ws), "dot", show_path=lambda p: Path(p).name)
    assert out.startswith("// ") and "digraph tasks {" in out and out.rstrip().endswith("}")
    assert "    n0_1_1 -> n0_1_2;" in out
    assert '    n0_1_4 -> n0_1_3 [color="#cf222e", penwidth=2];' in out
    assert 'label="1.1 Create \\"users\\" table [db]' in out
    assert "subgraph cluster_1 {" in out and 'label="tasks-b.md";' in out


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_dot_is_accepted_by_graphviz(ws):
    out = render_graph(ws, None, "dot")
    p = subprocess.run(["dot", "-Tsvg"], input=out, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr


def test_default_is_every_indexed_file_and_labels_are_relative(ws):
    out = render_graph(ws)
    assert '["tasks/tasks-a.md"]' in out and '["tasks/tasks-b.md"]' in out
    assert "stroke-dasharray:4 3\n" in out  # the missing node's class
    assert "style f1" not in out  # both files selected: none is external


def test_empty_graph(tmp_path):
    ws = Workspace(tmp_path, personal=False)
    assert render_graph(ws, None, "mermaid").startswith("flowchart LR\n")
    assert "digraph tasks {" in render_graph(ws, None, "dot")
    with pytest.raises(ValueError):
        render_graph(ws, None, "svg")  # type: ignore[arg-type]


def test_long_titles_are_shortened(tmp_path):
    ws = Workspace(tmp_path, personal=False)
    p = tmp_path / "tasks.md"
    ws.set_task_text(str(p), "- [ ] 1 " + "word " * 40 + "\n")
    (label,) = [m.group(2) for ln in render_graph(ws).splitlines() if (m := NODE.match(ln))]
    assert len(label) <= 62 and label.endswith("…")
