"""Hostile task files cannot hang the parser: parse work grows linearly with the input.

Nothing here is timed. :func:`work` counts the Python lines executed in ``taskdroid.core`` while a
document is parsed and checked (a ``sys.settrace`` hook, so the product pays nothing), plus the
characters each regular expression of the scanner and the task parser is handed from its start
position (a proxy standing in for the pattern), so a super-linear loop in Python *or* a regex
run from every bullet to the end of the line shows up. For every probe shape,
``work(2n) / work(n)`` must stay near 2.

The last test runs ``taskdroid check`` on a 200 KB probe (100,000 nested ``- ``) through the real
CLI with a generous timeout — a hang guard, not a timing assertion.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from taskdroid.core import blocks, document, taskparse
from taskdroid.core.workspace import Workspace

CORE = os.path.dirname(document.__file__) + os.sep


class _CountingPattern:
    """Stands in for a compiled pattern and counts the characters each call covers: what an
    anchored match consumed (1 when it fails), what a search ran over up to its match (or the
    end), and the whole rest of the string for ``finditer``/``findall``. So a search or a
    successful match repeated from every bullet to the end of the line counts quadratically; a
    *failing* anchored match counts 1 whatever it looked at (``re`` does not tell)."""

    def __init__(self, pattern: re.Pattern, counter: list[int]):
        self._p = pattern
        self._c = counter

    def _rest(self, string, pos, endpos):
        return max(1, min(endpos, len(string)) - pos)

    def match(self, string, pos=0, endpos=sys.maxsize):
        m = self._p.match(string, pos, endpos)
        self._c[0] += max(1, m.end() - pos) if m else 1
        return m

    def fullmatch(self, string, pos=0, endpos=sys.maxsize):
        m = self._p.fullmatch(string, pos, endpos)
        self._c[0] += max(1, m.end() - pos) if m else 1
        return m

    def search(self, string, pos=0, endpos=sys.maxsize):
        m = self._p.search(string, pos, endpos)
        self._c[0] += max(1, m.end() - pos) if m else self._rest(string, pos, endpos)
        return m

    def finditer(self, string, pos=0, endpos=sys.maxsize):
        self._c[0] += self._rest(string, pos, endpos)
        return self._p.finditer(string, pos, endpos)

    def findall(self, string, pos=0, endpos=sys.maxsize):
        self._c[0] += self._rest(string, pos, endpos)
        return self._p.findall(string, pos, endpos)

    def __getattr__(self, name):
        return getattr(self._p, name)


def work(text: str, monkeypatch: pytest.MonkeyPatch) -> int:
    """Lines executed in taskdroid.core + characters handed to the parser's regexes while
    ``text`` is parsed as a task file and its diagnostics are computed."""
    counter = [0]
    with monkeypatch.context() as mp:
        for mod in (blocks, taskparse):
            for name, value in vars(mod).items():
                if isinstance(value, re.Pattern):
                    mp.setattr(mod, name, _CountingPattern(value, counter))

        def local(frame, event, arg):
            if event == "line":
                counter[0] += 1
            return local

        def global_(frame, event, arg):
            if frame.f_code.co_filename.startswith(CORE):
                return local
            return None

        document.clear_cache()
        ws = Workspace(None)
        sys.settrace(global_)
        try:
            ws.set_text("/probe/tasks.md", text, "task")
            ws.diagnostics("/probe/tasks.md")
        finally:
            sys.settrace(None)
        document.clear_cache()
    return counter[0]


PROBES = {
    # the reviewer's shapes: a list nested on one line, ordered, mixed, block quotes
    "bullets on one line": lambda n: "- " * n + "[ ] 9.9 x\n",
    "ordered on one line": lambda n: "1. " * n + "x\n",
    "mixed markers on one line": lambda n: "- 1. * + " * (n // 4) + "x\n",
    "nested block quotes": lambda n: "> " * n + "x\n",
    "nested block quotes, continued": lambda n: ("> " * n + "x\n") * 3,
    # deep nesting kept open across many lines
    "blank lines under a deep nest": lambda n: "- " * n + "x\n" + "\n" * n,
    "lazy lines under a deep nest": lambda n: "- " * n + "x\n" + "y\n" * n,
    "quote lines over a deep nest": lambda n: "> " + "- " * n + "x\n" + ">\n" * n,
    "deep list then tasks": lambda n: "- " * n + "x\n" + "- [ ] 1.1 t\n" * n,
    "thematic break tail": lambda n: "- " * n + "x" + " -" * n + "\n",
    # task parser
    "field over a long nested line": lambda n: "- **Notes:** x\n  " + "- " * n + "y\n",
    "many trailing emoji": lambda n: "- [ ] 1.1 x" + " ✅" * n + "\n",
    "many dependencies": lambda n: (
        "- [ ] 1.1 x\n  - **Dependencies:** " + ", ".join(f"1.{i}" for i in range(n)) + "\n"
    ),
    "unclosed depends groups": lambda n: "- [ ] 1.1 x" + " (depends on" * n + "\n",
    "digits that are no ID list": lambda n: "- [ ] 1.1 x\n  - **Dependencies:** " + "1" * n + "x\n",
    "paths that are no reference": lambda n: (
        "- [ ] 1.1 x\n  - **Dependencies:** " + "a/" * n + "b.mdx .md\n"
    ),
    "long runs of backticks and brackets": lambda n: "`" * n + "\n" + "[" * n + "]: x\n",
    "many tasks": lambda n: "## 1. S\n" + "".join(f"- [ ] 1.{i} t\n" for i in range(n)),
}


@pytest.mark.parametrize("shape", sorted(PROBES))
def test_parse_work_grows_linearly(shape: str, monkeypatch: pytest.MonkeyPatch) -> None:
    make = PROBES[shape]
    n = 1500
    w1 = work(make(n), monkeypatch)
    w2 = work(make(2 * n), monkeypatch)
    assert w2 / w1 <= 2.2, f"{shape}: work {w1} at n={n}, {w2} at n={2 * n}"


def test_the_work_counter_sees_a_quadratic_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """The counter is not blind: an ancestor walk per item (the old ``build_chunk``) doubles
    the depth and quadruples the counted work."""

    def walk_all(items):
        steps = 0
        for it in items:
            anc = it.parent
            while anc != -1:
                steps += 1
                blocks._skip_ws("", 0, 0)  # a few lines of core code per step: counted
                anc = items[anc].parent
        return steps

    real = taskparse.build_chunk

    def slow_build(lines, scan, aliases):
        walk_all(scan.items)
        return real(lines, scan, aliases)

    monkeypatch.setattr(document, "build_chunk", slow_build)
    make = PROBES["bullets on one line"]
    w1 = work(make(400), monkeypatch)
    w2 = work(make(800), monkeypatch)
    assert w2 / w1 > 3


def test_check_of_a_200_kb_nested_list_finishes(tmp_path: Path) -> None:
    """The reviewer's file: 100,000 nested ``- `` on one line kept the server busy for more than
    8 minutes. Through the real CLI; the timeout is only a hang guard (it takes well under a
    second)."""
    (tmp_path / "tasks.md").write_text("- " * 100_000 + "[ ] 9.9 x\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "taskdroid", "check", "--no-personal", str(tmp_path / "tasks.md")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr
