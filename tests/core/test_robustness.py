"""Any text: no exception, every range inside the document (task files and droid files)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taskdroid.core.text import split_lines
from taskdroid.core.workspace import Workspace

PIECES = [
    "- [ ] 1.1 a\n", "- [x] 2 ✅\n", "  - **Dependencies**: 1.1, x.md#2\n", "  - **Droid**: bot\n",
    "### 1. S (HIGH)\n", "```\n", "<!--\n", "---\n", "name: x\n", "description: a: b\n", "tools: [Read, Read]\n",
    "\r\n", "\r", "\t", "\u2028", "\x0c", "\x00", "😀", "中文", "e\u0301", "[", "]", "*", "**", ":", "#", " ",
    "  - **Completed**: 2025-13-45\n", "- [!] 3 ⚠️ FAILED\n", "&a [*a, *a]\n", "- [ ]* 4.1 opt\n",
]  # fmt: skip


def documents():
    return st.lists(st.sampled_from(PIECES) | st.text(max_size=8), max_size=60).map("".join)


def _check_ranges(ws: Workspace, path: str, text: str) -> None:
    lines = split_lines(text)
    for d in ws.diagnostics(path):
        for pos in (d.range.start, d.range.end):
            assert 0 <= pos.line < len(lines), (d, len(lines))
            assert 0 <= pos.character <= len(lines[pos.line]), (d, lines[pos.line])
        assert d.range.start <= d.range.end
        assert d.message


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_task_files_never_raise(text):
    ws = Workspace("/nonexistent-root", personal=False)
    ws.set_task_text("/nonexistent-root/tasks/tasks-a.md", text)
    _check_ranges(ws, "/nonexistent-root/tasks/tasks-a.md", text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_droid_files_never_raise(text):
    ws = Workspace("/nonexistent-root", personal=False)
    ws.set_droid_text("/nonexistent-root/.factory/droids/x.md", text)
    _check_ranges(ws, "/nonexistent-root/.factory/droids/x.md", text)
    ws.set_droid_text("/nonexistent-root/.factory/droids/x.md", "---\n" + text)
    _check_ranges(ws, "/nonexistent-root/.factory/droids/x.md", "---\n" + text)


def test_deeply_nested_list_and_long_line():
    ws = Workspace("/nonexistent-root", personal=False)
    deep = "".join("  " * i + f"- [ ] {i + 1} t\n" for i in range(3000))
    ws.set_task_text("/nonexistent-root/tasks/deep.md", deep)
    assert ws.task_docs["/nonexistent-root/tasks/deep.md"].task_count == 3000
    _check_ranges(ws, "/nonexistent-root/tasks/deep.md", deep)
    long_line = "- [ ] 1 " + "x" * 1_000_000 + " ✅\n"
    ws.set_task_text("/nonexistent-root/tasks/long.md", long_line)
    _check_ranges(ws, "/nonexistent-root/tasks/long.md", long_line)


def test_yaml_alias_bomb_is_a_diagnostic():
    bomb = "---\nname: x\ndescription: y\na: &a [1,1,1,1,1,1,1,1,1]\n"
    prev = "a"
    for k in "bcdefghijk":
        bomb += (
            f"{k}: &{k} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        )
        prev = k
    bomb += "---\nbody\n"
    ws = Workspace("/nonexistent-root", personal=False)
    ws.set_droid_text("/nonexistent-root/.factory/droids/x.md", bomb)
    assert "DR002" in {d.code for d in ws.diagnostics("/nonexistent-root/.factory/droids/x.md")}
