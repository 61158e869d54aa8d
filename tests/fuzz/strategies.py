"""Hypothesis strategies for fuzzing taskdroid: task files, droid files and edit sequences.

Every generator comes in three grades, mixed by :func:`task_files` and :func:`droid_files`:

* **valid** — built from the grammar of docs/language.md §2 / §3 (sections, tasks with IDs, markers, fields,
  subtasks, fences, front matter; droid front matter with every key of the table), in one line
  ending style, with non-ASCII text in titles and values;
* **near-valid** — a valid file with a few mutations: characters inserted (emoji, CJK, combining
  marks, ``\\r\\n``, ``\\r``, form feed, U+2028, NUL, tabs …), lines deleted, duplicated or
  swapped, indentation changed, line endings mixed, a very long line or a deep list spliced in;
* **garbage** — a soup of grammar fragments and special characters, or arbitrary text.

:func:`edit_scripts` gives a starting task file and a sequence of edits (offsets and inserted
text, biased towards line starts and the places where a boundary changes meaning), as an editor
sends them. The strategies never produce lone surrogates (an editor cannot send them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hypothesis import strategies as st

__all__ = [
    "BREAKS",
    "SPECIAL",
    "Edit",
    "droid_files",
    "edit_scripts",
    "garbage",
    "mutated",
    "task_files",
    "valid_droid_files",
    "valid_task_files",
]

# -- character classes ------------------------------------------------------------------------------

#: the line breaks of LSP (and of the core)
BREAKS = ["\n", "\r\n", "\r"]
_BREAK = re.compile(r"\r\n|\r|\n")
#: characters ``str.splitlines`` breaks at but LSP does not: never line breaks for taskdroid
NOT_BREAKS = ["\x0c", "\x0b", "\u2028", "\u2029", "\x85", "\x1c", "\x1d", "\x1e"]
EMOJI = ["✅", "🔄", "⚠️", "⚠", "❌", "😀", "🚀", "🧑‍💻", "🇯🇵", "👍🏽", "✅\ufe0f", "🔥🔥"]
CJK = ["中文", "日本語の説明", "한국어", "タスク", "完了", "繁體"]
COMBINING = ["e\u0301", "a\u0308\u0323", "\u0301", "n\u0303", "\u20dd", "Z\u0351\u0352\u0353"]
CONTROL = ["\x00", "\t", "\x7f", "\ufeff", "\u200b", "\u200d", "\u202e", "\ufffd", "\x1b[31m"]
SPECIAL = EMOJI + CJK + COMBINING + BREAKS + NOT_BREAKS + CONTROL

#: any character but surrogates, with the special classes much more likely than by chance
any_char = st.characters(exclude_categories=("Cs",)) | st.sampled_from(
    [c for piece in SPECIAL for c in piece]
)

WORDS = [
    "Add", "login", "endpoint", "the", "tests", "for", "`api/x.ts`", "(after review)", "v2",
    "Task", "and", "#", ":", "**", "*", "~~", "[", "]", "[x]", "(HIGH)", "FAILED", "none", "-",
    "T001", "1.1", "2.3.1", "tasks-b.md#1.1", "https://example.com/a_(b)", "<b>", "&amp;", "`",
]  # fmt: skip
MARKERS = [
    "[ ]", "[x]", "[~]", "[!]", "[cancelled]", "[canceled]", "[X]", "[-]", "[ ]*", "[x]*",
    "[/]", "[]", "[ x]", "[x ]", "[✓]", "[v]", "[?]", "[P]", "[US1]", "[a](b)", "[Docs](url)",
]  # fmt: skip
GOOD_MARKERS = ["[ ]", "[x]", "[~]", "[!]", "[cancelled]", "[X]", "[-]", "[ ]*"]
TRAILING = ["✅", "🔄", "⚠️", "⚠", "❌", "FAILED", "❌ FAILED", "✅ ✅"]
FIELD_KEYS = [
    "Droid", "Files", "File", "Tests", "Dependencies", "Depends on", "Blocked by", "Status",
    "Completed", "In Progress", "Started", "Attempted", "Error", "Root Cause", "Issue", "Blocker",
    "Workaround", "Action Required", "Priority", "Notes", "Acceptance criteria", "Dependencis",
    "droid", "COMPLETED", "Risk",
]  # fmt: skip
VALUES = {
    "Droid": ["backend-dev", "`frontend-dev`", "**qa**", "unknown-droid", "", "日本語-droid"],
    "Files": ["api/x.ts, api/y.ts", "`a, b.ts` (note, with comma)", ".env", ".git/config", ""],
    "Dependencies": ["1.1", "Task 1", "1, 3", "1 and 3", "none", "-", "tasks-b.md#2",
                     "/tasks/tasks-b.md#1.1", "T001, T002", "Node 18 upgrade first", "9.9", ""],
    "time": ["2025-01-12 15:20", "2025-01-12", "2025-01-12T15:20:00+02:00", "Started 2025-01-12",
             "2025-13-45", "yesterday", "2025-02-30 25:61", ""],
    "other": ["redis is down", "see #12", "a: b: c", "✅ done 🚀", "", "x" * 40],
}  # fmt: skip
TIME_KEYS = {"Completed", "In Progress", "Started", "Attempted", "COMPLETED"}


def _choice(draw, items):
    return draw(st.sampled_from(items))


def _odds(draw, n: int) -> bool:
    """True with probability about 1/n (a shrinkable draw)."""
    return draw(st.integers(0, n - 1)) == 0


#: inline pieces, each with the blank that follows it (one draw per piece)
_INLINE = [
    w + sep
    for w in WORDS + EMOJI + CJK + COMBINING + ["\t", "\x0c", "\u2028", "\x00", "\u00a0"]
    for sep in (" ", " ", "\t", "")
]
_inline_text = st.text(any_char, max_size=4).map(lambda s: s.replace("\r", "").replace("\n", ""))


def _inline(draw, lo: int = 0, hi: int = 6) -> str:
    """A run of words, special characters and (sometimes) arbitrary text; no line breaks."""
    text = "".join(draw(st.lists(st.sampled_from(_INLINE), min_size=lo, max_size=hi)))
    if _odds(draw, 4):
        text += draw(_inline_text)
    return text.strip(" ")


# -- task files -------------------------------------------------------------------------------------


@st.composite
def valid_task_files(draw, max_sections: int = 4) -> str:
    """A task file of docs/language.md §2 (with occasional code blocks, HTML, quotes and front matter)."""
    eol = _choice(draw, BREAKS)
    unit = _choice(draw, ["  ", "    ", "\t", "   "])
    inside = draw(st.booleans())  # **Key:** rather than **Key**:
    ids = _choice(draw, ["dotted", "dotted", "speckit", "none", "mixed"])
    out: list[str] = []

    def child(indent: str, bullet: str) -> str:
        need = len(bullet) + 1
        if unit == "\t" or len(unit) >= need:
            return indent + unit
        return indent + " " * need

    def field(indent: str, bullet: str) -> None:
        key = _choice(draw, FIELD_KEYS)
        if key in VALUES:
            value = _choice(draw, VALUES[key])
        elif key in ("Depends on", "Blocked by"):
            value = _choice(draw, VALUES["Dependencies"])
        elif key in TIME_KEYS:
            value = _choice(draw, VALUES["time"])
        else:
            value = _choice(draw, VALUES["other"]) if draw(st.booleans()) else _inline(draw)
        head = f"**{key}:**" if inside else f"**{key}**:"
        out.append(f"{indent}{bullet} {head}{' ' + value if value else ''}")
        if _odds(draw, 5):  # nested items of the field (Files one per line, notes)
            for _ in range(draw(st.integers(1, 3))):
                out.append(f"{child(indent, bullet)}- {_inline(draw, 1, 3)}")

    def task_id(prefix: str, n: int) -> str:
        kind = ids if ids != "mixed" else _choice(draw, ["dotted", "speckit", "none"])
        if kind == "none" or _odds(draw, 12):
            return ""
        if kind == "speckit":
            return f"T{n:03d}" + ("A" if _odds(draw, 8) else "")
        tid = f"{prefix}{n}"
        return tid + ("." if _odds(draw, 10) else "")

    def task(indent: str, depth: int, prefix: str, number: int) -> None:
        bullet = _choice(draw, ["-", "-", "-", "*", "+", "1."])
        marker = _choice(draw, GOOD_MARKERS)
        tid = task_id(prefix, number)
        title = _inline(draw, 0, 5)
        if _odds(draw, 8):
            title += " (depends on T001, T002)"
        head = f"{tid} {title}".strip()
        if tid and _odds(draw, 8):
            head = f"**{tid} {title or 'Setup'}**"
        tail = _choice(draw, TRAILING) if _odds(draw, 3) else ""
        out.append(f"{indent}{bullet} {marker} {head} {tail}".rstrip())
        inner = child(indent, bullet)
        if _odds(draw, 6):
            out.append(f"{inner}continued {_inline(draw, 1, 3)}")
        fb = _choice(draw, ["-", "*", "+"])
        for _ in range(draw(st.integers(0, 3))):
            field(inner, fb)
        if _odds(draw, 6):
            out.append(f"{inner}{fb} a plain note {_inline(draw, 0, 2)}")
        if _odds(draw, 12):
            fence = _choice(draw, ["```", "~~~"])
            out.extend([f"{inner}{fence}", f"{inner}- [ ] 99 not a task", f"{inner}{fence}"])
        if depth < 3 and _odds(draw, 2):
            base = tid.rstrip(".") if tid and not tid.startswith("T") else ""
            for k in range(draw(st.integers(1, 3))):
                task(inner, depth + 1, f"{base}." if base else "", k + 1)
        if _odds(draw, 3):
            out.append("")

    def block() -> None:
        kind = _choice(draw, ["fence", "html", "quote", "indented", "table", "break", "setext"])
        if kind == "fence":
            fence = _choice(draw, ["```", "~~~", "````"])
            out.extend([f"{fence}markdown", "- [ ] 1.1 example, not a task", "  - **Droid**: x"])
            if not _odds(draw, 6):  # sometimes never closed
                out.append(fence)
        elif kind == "html":
            out.extend(
                _choice(draw, [["<!--", "- [ ] 1 hidden", "-->"], ["<div>", "- [x] 2 x", "</div>"]])
            )
        elif kind == "quote":
            out.append("> - [ ] 5.1 quoted task " + _inline(draw, 0, 2))
        elif kind == "indented":
            out.extend(["", "    - [ ] 6 code, not a task", ""])
        elif kind == "table":
            out.extend(["| a | b |", "|---|---|", "| - [ ] | x |"])
        elif kind == "break":
            out.extend(["", _choice(draw, ["---", "***", "___"]), ""])
        else:
            out.extend([_inline(draw, 1, 3) or "Title", _choice(draw, ["===", "---"])])
        out.append("")

    if _odds(draw, 8):
        out.extend(["---", "title: x", "tags: [a, b]"])
        if not _odds(draw, 4):
            out.append(_choice(draw, ["---", "..."]))
    if draw(st.booleans()):
        out.extend([f"# {_inline(draw, 1, 3) or 'Tasks'}", ""])
    if _odds(draw, 3):
        out.extend(["## Tasks", ""])
    for s in range(draw(st.integers(0, max_sections))):
        if not _odds(draw, 5):
            level = _choice(draw, ["##", "###", "###", "####"])
            num = _choice(draw, [f"{s + 1}.", f"{s + 1}.0", f"{s + 1}", "", "9."])
            prio = _choice(draw, ["", " (HIGH)", " (LOW)", " (BLOCKER)", " (BOGUS)", " (high)"])
            out.extend([f"{level} {num} {_inline(draw, 0, 3)}{prio}".replace("  ", " "), ""])
        if _odds(draw, 4):
            block()
        if _odds(draw, 10):  # a field that lost its indentation
            field("", "-")
        prefix = f"{s + 1}." if ids in ("dotted", "mixed") else ""
        for k in range(draw(st.integers(0, 4))):
            task("", 0, prefix, k + 1)
        out.append("")
    while out and out[-1] == "":
        out.pop()
    text = eol.join(out) + (eol if draw(st.booleans()) else "")
    if _odds(draw, 20):
        text = "\ufeff" + text
    return text


def _lines_keepends(text: str) -> list[str]:
    out, start, i = [], 0, 0
    while i < len(text):
        ch = text[i]
        if ch == "\r" and i + 1 < len(text) and text[i + 1] == "\n":
            i += 1
        if ch in "\r\n":
            out.append(text[start : i + 1])
            start = i + 1
        i += 1
    if start < len(text):
        out.append(text[start:])
    return out


def deep_list(draw) -> str:
    """A deeply nested list of tasks (tabs or spaces), possibly with fields at the bottom."""
    depth = draw(st.integers(8, 30) | st.integers(30, 150))
    unit = _choice(draw, ["  ", "\t", "    ", " "])
    eol = _choice(draw, BREAKS)
    lines = [f"{unit * i}- [ ] {i + 1} level {i}" for i in range(depth)]
    if draw(st.booleans()):
        lines.append(f"{unit * depth}- **Dependencies**: 1, {depth // 2}")
    if draw(st.booleans()):  # and quotes / nested blockquotes
        lines.append("> " * min(depth, 60) + "- [x] 1 quoted")
    return eol.join(lines) + eol


def long_line(draw) -> str:
    n = draw(st.sampled_from([300, 2_000, 2_000, 10_000, 40_000]))
    body = _choice(draw, ["x", "日", "😀", "e\u0301", "a ", "[", "*", "\t", "`"]) * (n // 4)
    return f"- [ ] 1.1 {body} {_choice(draw, TRAILING)}"


@st.composite
def mutated(draw, base: st.SearchStrategy[str]) -> str:
    """``base`` with a few mutations (near-valid input)."""
    text = draw(base)
    for _ in range(draw(st.integers(1, 4))):
        kind = _choice(
            draw,
            ["insert", "insert", "delete", "dup", "swap", "indent", "eol", "long", "deep", "strip"],
        )
        lines = _lines_keepends(text)
        if kind == "insert" or not lines:
            pos = draw(st.integers(0, len(text)))
            piece = _choice(draw, [*SPECIAL, *WORDS, "- [ ] ", "  - **Droid**: ", "---", "```"])
            text = text[:pos] + piece + text[pos:]
        elif kind == "delete":
            pos = draw(st.integers(0, len(text)))
            text = text[:pos] + text[pos + draw(st.integers(1, 12)) :]
        elif kind == "dup":
            i = draw(st.integers(0, len(lines) - 1))
            lines.insert(i, lines[i])
            text = "".join(lines)
        elif kind == "swap":
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            text = "".join(lines)
        elif kind == "indent":
            i = draw(st.integers(0, len(lines) - 1))
            lines[i] = _choice(draw, ["\t", " ", "   ", "        ", ""]) + lines[i].lstrip(" \t")
            text = "".join(lines)
        elif kind == "eol":  # mix the line endings
            i = draw(st.integers(0, len(lines) - 1))
            lines[i] = lines[i].rstrip("\r\n") + _choice(draw, [*BREAKS, "\x0c\n", "\u2028"])
            text = "".join(lines)
        elif kind == "strip":  # the final line break goes (or trailing blanks appear)
            text = text.rstrip("\r\n") if draw(st.booleans()) else text + " \t"
        else:
            i = draw(st.integers(0, len(lines)))
            piece = long_line(draw) if kind == "long" else deep_list(draw)
            sep = "" if i == 0 or lines[i - 1].endswith(("\n", "\r")) else "\n"
            lines.insert(i, sep + piece + "\n")
            text = "".join(lines)
    return text


#: fragments of both grammars, for garbage
FRAGMENTS = [
    "- [ ] ", "- [x] ", "- [~] ", "- [!] ", "- [cancelled] ", "- [X] ", "- [-] ", "- [ ]* ",
    "* [ ] ", "1. [ ] ", "  - ", "    ", "\t- ", "1.1 ", "2.3.1 ", "T001 ", "T068A ",
    "**1.0 Title**", "~~1.2 gone~~", "**Droid**: ", "**Dependencies**: ", "**Files**: ",
    "**Completed**: ", "**In Progress**: ", "**Issue**: ", "**Status**: ", "**Key:** ",
    "Task 1.1", "tasks-b.md#1.1", "/tasks/tasks-b.md#2", "(depends on T012, T013)", "none",
    "2025-01-12 15:20", "2025-13-45", "### 1. Section (HIGH)\n", "## Tasks\n", "# T\n", "```\n",
    "~~~\n", "<!--\n", "-->\n", "<div>\n", "> ", "---\n", "...\n", "name: x\n",
    "description: a: b\n", "tools: [Read, Read]\n", "&a [*a, *a]\n", "<<: *a\n",
    "!!python/object:x\n", "FAILED", "`", "**", "~~", "#", ":", ",", "(", ")", "[", "]",
]  # fmt: skip


@st.composite
def garbage(draw) -> str:
    """Fragments of task markdown and YAML, special characters and arbitrary text."""
    if _odds(draw, 4):
        return draw(st.text(any_char, max_size=200))
    parts = draw(
        st.lists(
            st.sampled_from(FRAGMENTS) | st.sampled_from(SPECIAL) | st.text(any_char, max_size=6),
            max_size=80,
        )
    )
    return "".join(parts)


def task_files(garbage_share: int = 4) -> st.SearchStrategy[str]:
    """Valid, near-valid and garbage task files (1 : 2 : 1; garbage 1 in ``garbage_share``)."""
    valid = valid_task_files()
    near = mutated(valid)
    return st.one_of(valid, *[near] * max(2, garbage_share - 2), garbage())


# -- droid files ------------------------------------------------------------------------------------

TOOLS = [
    "Read", "LS", "Grep", "Glob", "Create", "Edit", "MultiEdit", "ApplyPatch", "Execute",
    "WebSearch", "FetchUrl", "TodoWrite", "Task", "Write", "Bash", "WebFetch", "NotebookEdit",
    "mcp__github__create_issue", "Bash(git diff:*)", "Reed", "Unknown", "read-only", "edit", "",
]  # fmt: skip


@st.composite
def _yaml_scalar(draw) -> str:
    kind = _choice(draw, ["plain", "plain", "single", "double", "colon", "block", "special"])
    text = _inline(draw, 0, 4).replace("\x00", "")
    if kind == "plain":
        return text or "x"
    if kind == "single":
        return "'" + text.replace("'", "''") + "'"
    if kind == "double":
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if kind == "colon":  # the DR002 warning case: an unquoted ": " in a one-line value
        return f"Use this droid: {text or 'always'}"
    if kind == "block":
        style = _choice(draw, ["|", ">", "|-", ">+"])
        return f"{style}\n  {text or 'line'}\n  more 日本語"
    return _choice(
        draw,
        ["~", "null", "true", "1.5", "0x1F", "2025-01-01", "[]", "{}", "&a anchored", "*a",
         "!!binary aGVsbG8=", "!!python/object:os.system x", "[[[[[]]]]]", "{a: {b: {c: d}}}",
         "'unterminated", '"bad \\q escape"', "- a\n  - b", "\t tab"],
    )  # fmt: skip


@st.composite
def valid_droid_files(draw) -> str:
    """A droid file of docs/language.md §3: front matter with the keys of the table (right and wrong values)
    and a prompt body."""
    eol = _choice(draw, BREAKS)
    lines = ["---"]
    keys = draw(
        st.lists(
            st.sampled_from(
                ["name", "description", "model", "reasoningEffort", "tools", "mcpServers",
                 "version", "createdAt", "updatedAt", "location", "tags", "color",
                 "disallowedTools", "permissionMode", "maxTurns", "hooks", "toolz", "descripton",
                 "unknownKey", "1", "name"]
            ),
            max_size=10,
        )
    )  # fmt: skip
    if draw(st.booleans()):
        keys = ["name", "description", *keys]
    for key in keys:
        if key == "name":
            value = _choice(draw, ["x", "backend-dev", "My Droid", "UPPER", "a_b-1", "", "日本"])
        elif key == "tools":
            tools = draw(st.lists(st.sampled_from(TOOLS), max_size=5))
            style = _choice(draw, ["flow", "block", "string", "category"])
            if style == "flow":
                value = "[" + ", ".join(tools) + "]"
            elif style == "block":
                value = "".join(f"{eol}  - {t}" for t in tools)
            elif style == "string":
                value = ", ".join(tools)
            else:
                value = _choice(draw, ["read-only", "edit", "execute", "web", "mcp", "all"])
        elif key in ("tags", "mcpServers"):
            value = "[" + ", ".join(draw(st.lists(st.sampled_from(["a", "b", "日本"])))) + "]"
        elif key == "version":
            value = _choice(draw, ["1.0.0", "1.0", "v2", "1.0.0-beta+exp.sha.5114f85"])
        elif key in ("createdAt", "updatedAt"):
            value = _choice(draw, ["2025-01-12", "2024-12-31", "2025-13-01", "yesterday"])
        elif key == "location":
            value = _choice(draw, ["project", "personal", "elsewhere"])
        elif key == "model":
            value = _choice(draw, ["inherit", "claude-sonnet-4", "custom:my-model", ""])
        elif key == "reasoningEffort":
            value = _choice(draw, ["low", "medium", "high", "max"])
        elif key == "description" and _odds(draw, 10):
            value = "d" * 600
        else:
            value = draw(_yaml_scalar())
        lines.append(f"{key}:{' ' if value else ''}{value}")
    if not _odds(draw, 10):
        lines.append(_choice(draw, ["---", "---", "...", "--- "]))
    if not _odds(draw, 6):
        lines.extend(["", f"You are {_inline(draw, 1, 4)}."])
        if _odds(draw, 3):  # an example task file in the prompt: not tasks
            lines.extend(["```markdown", "- [ ] 1.1 example", "  - **Droid**: x", "```"])
        if _odds(draw, 4):
            lines.extend(["", "- [/] 1 also an example, outside a fence", "---", "name: y"])
    return eol.join(lines) + (eol if draw(st.booleans()) else "")


def droid_files() -> st.SearchStrategy[str]:
    """Valid, near-valid and garbage droid files."""
    valid = valid_droid_files()
    return st.one_of(
        valid, mutated(valid), mutated(valid), garbage().map(lambda t: "---\n" + t), garbage()
    )


# -- edit sequences ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace ``text[start:end]`` (code points) with ``new``."""

    start: int
    end: int
    new: str

    def apply(self, text: str) -> str:
        return text[: self.start] + self.new + text[self.end :]


#: what an editor inserts: typing, pasting lines, opening and closing blocks
INSERTS = [
    "\n", "\r\n", "\r", "", "x", "#", "-", " ", "\t", "`", "```\n", "~~~\n", "---\n", "---",
    "...\n", "<!--\n", "-->\n", "- [ ] 9.9 new task\n", "  - **Droid**: backend-dev\n",
    "  - **Dependencies**: 1.1, 9.9\n", "## 9. New (HIGH)\n", "[x]", "[!]", "1.1", "✅", "⚠️",
    "😀", "日本", "e\u0301", "\x0c", "\u2028", "\x00", "> ", "    ", "name: x\n",
]  # fmt: skip


@st.composite
def _edit(draw, text: str) -> Edit:
    where = _choice(draw, ["any", "line", "line", "special"])
    if where == "line" and text:
        starts = [0] + [m.end() for m in _BREAK.finditer(text)]
        start = _choice(draw, starts)
    elif where == "special" and text:
        spots = [i for i, ch in enumerate(text) if ch in "-`#[*<>.\r"] or [0]
        start = _choice(draw, spots)
    else:
        start = draw(st.integers(0, len(text)))
    length = _choice(draw, [0, 0, 1, 2, 5, 20, 200])
    end = min(len(text), start + length)
    if draw(st.booleans()):
        new = _choice(draw, INSERTS)
    else:
        new = draw(st.text(any_char, max_size=6) | mutated(st.sampled_from(INSERTS)))
    return Edit(start, end, new)


@st.composite
def edit_scripts(draw, base: st.SearchStrategy[str] | None = None, max_edits: int = 6):
    """``(text, [edit, …])``: a task file and edits to apply to it one after the other."""
    initial = text = draw(base if base is not None else task_files())
    edits = []
    for _ in range(draw(st.integers(1, max_edits))):
        e = draw(_edit(text))
        edits.append(e)
        text = e.apply(text)
    return initial, edits
