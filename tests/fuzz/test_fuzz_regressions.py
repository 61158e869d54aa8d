"""Inputs the fuzz target (bench/fuzz/fuzz_parse.py) found, kept as regression tests.

Each case checks the target's properties: no exception, ranges inside the document, and an
incremental update equal to a parse from scratch.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from taskdroid.core.workspace import Workspace

ROOT = "/nonexistent-fuzz-root"
TASK = f"{ROOT}/tasks/tasks-a.md"


def _diagnostics(*versions: str) -> list[tuple]:
    ws = Workspace(ROOT, personal=False)
    for text in versions:
        ws.set_task_text(TASK, text)
    return [(d.code, d.range, d.message) for d in ws.diagnostics(TASK)]


# 2026-11-26, atheris, after 35,721 runs: typing the closing `---` of a front matter at the end of
# a task file that starts with `---` left the lines above parsed as tasks (an extra TD004): the
# incremental update re-scanned only from the chunk before the edit.
CLOSING_FRONT_MATTER = (
    "---\n"
    "### 1. Sessions and Storage (HIGH)\n"
    "- [x] 2.1 Create users ripti.on: Applies and verifies database migrations.\n"
    "  # DR012: Read is already listed above\n"
    "tools:\n"
    '  # DR005: "WebSerch" is not a known tool (did you mean WebS'
)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (CLOSING_FRONT_MATTER, CLOSING_FRONT_MATTER + "earch?)\n---\n"),  # closed at the end
        (CLOSING_FRONT_MATTER + "earch?)\n---\n", CLOSING_FRONT_MATTER),  # and opened again
        # the closing line moves up or down, with other line endings
        ("---\r\n## 1. A\r\n- [ ] 2 x\r\n---\r\n## 2. B\r\n- [ ] 2.1 y\r\n",
         "---\r\n## 1. A\r\n---\r\n- [ ] 2 x\r\n---\r\n## 2. B\r\n- [ ] 2.1 y\r\n"),
        ("---\r## 1. A\r- [ ] 2 x\r## 2. B\r- [ ] 2.1 y\r",
         "---\r## 1. A\r- [ ] 2 x\r...\r## 2. B\r- [ ] 2.1 y\r"),
        # the opening line appears or goes
        ("## 1. A\n- [ ] 2 x\n## 2. B\n- [ ] 1 y\n---\n",
         "---\n## 1. A\n- [ ] 2 x\n## 2. B\n- [ ] 1 y\n---\n"),
    ],
)  # fmt: skip
def test_front_matter_opened_or_closed_by_an_edit(before, after):
    assert _diagnostics(before, after) == _diagnostics(after)


def test_saved_crash_inputs_pass_the_fuzz_target():
    """Every ``crash-*`` input kept next to this file passes the fuzz target's properties."""
    spec = importlib.util.spec_from_file_location(
        "fuzz_parse", Path(__file__).parents[2] / "bench" / "fuzz" / "fuzz_parse.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    crashes = sorted((Path(__file__).parent / "crashes").glob("crash-*"))
    assert crashes
    for path in crashes:
        module.check(path.read_bytes())
