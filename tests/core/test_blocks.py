"""Unit tests for the CommonMark block scanner (taskdroid.core.blocks).

Expected values follow markdown-it-py (``commonmark`` preset), the scanner's oracle; the
differential tests are in ``test_blocks_oracle.py``.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taskdroid.core.blocks import Heading, Item, ScanResult, scan


def sc(text: str, **kw) -> ScanResult:
    return scan(text.split("\n"), **kw)


def tree(text: str) -> list[tuple[int, int | None]]:
    """(line, parent line) of every item."""
    items = sc(text).items
    return [(it.line, items[it.parent].line if it.parent >= 0 else None) for it in items]


def item_lines(text: str) -> list[int]:
    return [it.line for it in sc(text).items]


def opaque(text: str) -> list[tuple[int, int]]:
    return sc(text).opaque


def headings(text: str) -> list[tuple[int, int, bool]]:
    return [(h.line, h.level, h.setext) for h in sc(text).headings]


# -- list items ----------------------------------------------------------------------------------


def test_item_fields() -> None:
    it = sc("  - [ ] 1.1 Title").items[0]
    assert (it.line, it.col, it.char, it.bullet, it.number) == (0, 2, 2, "-", None)
    assert (it.marker_end, it.content_char, it.content_col) == (3, 4, 4)
    assert (it.parent, it.in_quote, it.last_line, it.blank_start) == (-1, False, 0, False)
    it = sc("12) x").items[0]
    assert (it.bullet, it.number, it.marker_end, it.content_char, it.content_col) == (
        ")",
        12,
        3,
        4,
        4,
    )
    it = sc("-\tx").items[0]  # a tab after the marker reaches the next tab stop
    assert (it.content_char, it.content_col) == (2, 4)
    it = sc("-      code").items[0]  # 5+ spaces: content column is marker + 1, content is code
    assert (it.content_col, it.content_char) == (2, 2)


def test_nesting_by_content_column() -> None:
    assert tree("- a\n  - b\n    - c\n - d") == [(0, None), (1, 0), (2, 1), (3, None)]
    assert tree("1. a\n   - b\n  - c") == [(0, None), (1, 0), (2, None)]
    assert tree("10. a\n    - b\n   - c") == [(0, None), (1, 0), (2, None)]
    assert tree("-    a\n     - b") == [(0, None), (1, 0)]  # content column 5
    assert tree("-    a\n   - b") == [(0, None), (1, None)]
    assert tree("-    a\n    - b") == [(0, None)]  # 4 columns in: continuation text
    assert tree("-\ta\n    - b") == [(0, None), (1, 0)]
    assert tree("- a\n\t- b\n\t\t- c") == [(0, None), (1, 0), (2, 1)]
    # an item's first content 5+ columns away is indented code: the content column is marker + 1
    assert tree("-     code\n  - b") == [(0, None), (1, 0)]


def test_deep_sibling_staircase() -> None:
    # CommonMark example: items indented up to 3 spaces are siblings, 4 is a continuation
    assert tree("- a\n - b\n  - c\n   - d\n    - e") == [
        (0, None),
        (1, None),
        (2, None),
        (3, None),
    ]


def test_ordered_items_interrupt_a_paragraph_only_at_1() -> None:
    assert item_lines("text\n2. x") == []
    assert item_lines("text\n1. x") == [1]
    assert item_lines("text\n1) x") == [1]
    assert item_lines("text\n* x") == [1]
    assert item_lines("text\n*") == []  # an empty item cannot interrupt a paragraph
    assert item_lines("text\n\n2. x") == [2]
    assert item_lines("- a\n  text\n  2. x") == [0]
    assert item_lines("1234567890. x") == []  # at most 9 digits
    assert item_lines("123456789. x") == [0]
    assert item_lines("1\u0663. x") == []  # ASCII digits only


def test_empty_items() -> None:
    r = sc("-\n  foo\n- \n-")
    assert [(it.line, it.blank_start, it.last_line) for it in r.items] == [
        (0, True, 1),
        (2, True, 2),
        (3, True, 3),
    ]
    # an item can begin with at most one blank line
    r = sc("-\n\n  foo")
    assert [(it.line, it.last_line) for it in r.items] == [(0, 0)]
    assert tree("-\n  - a") == [(0, None), (1, 0)]
    assert tree("- \n  a\n  - b") == [(0, None), (2, 0)]


def test_last_line() -> None:
    r = sc("- a\n  b\n\n  c\n\nd")
    assert r.items[0].last_line == 3
    r = sc("- a\n  - b\n\n    c\n  d\n\n- e\n")
    assert [(it.line, it.last_line) for it in r.items] == [(0, 4), (1, 4), (6, 6)]  # d: lazy
    r = sc("- a\nlazy\n- b\n  ```\n  x\n\n")  # unclosed fence: up to the last non-blank line
    assert [(it.line, it.last_line) for it in r.items] == [(0, 1), (2, 4)]


def test_items_in_block_quotes_are_flagged() -> None:
    r = sc("> - a\n>   - b\n- c\n  > - d")
    assert [(it.line, it.in_quote) for it in r.items] == [
        (0, True),
        (1, True),
        (2, False),
        (3, True),
    ]
    assert r.items[1].parent == 0
    assert r.items[3].parent == 2  # the nearest enclosing item, across the quote
    # a blank quote line ("> ") is a blank line for the items inside the quote
    assert tree("> - a\n>\n>   b\n> - c") == [(0, None), (3, None)]
    assert sc("> - a\n>\n>   b").items[0].last_line == 2


# -- lazy continuation -----------------------------------------------------------------------------


def test_lazy_continuation() -> None:
    assert sc("- a\nlazy").items[0].last_line == 1
    assert sc("- a\n  - b\nlazy\n  c").items[0].last_line == 3
    assert sc("> - a\nlazy").items[0].last_line == 1
    assert item_lines("- a\nb\n  - c") == [0, 2]
    # lines that start blocks end the paragraph
    assert sc("- a\n# h").items[0].last_line == 0
    assert sc("- a\n---").items[0].last_line == 0
    assert sc("- a\n```").items[0].last_line == 0
    assert sc("- a\n> q").items[0].last_line == 0
    assert sc("- a\n<div>").items[0].last_line == 0
    # "===" is no block start, and an HTML block of type 7 cannot interrupt a paragraph
    assert sc("- a\n===").items[0].last_line == 1
    assert sc("- a\n<span>").items[0].last_line == 1
    # a paragraph in a block quote, a line that is no block start
    assert sc("> a\nb").opaque == [] and sc("> a\nb").items == []


def test_lazy_line_that_is_a_list_item_ends_the_paragraph() -> None:
    # regression: "- a\n-" and "- a\n2. b" were read as lazy continuation text
    assert tree("- a\n-") == [(0, None), (1, None)]
    assert tree("- a\n2. b") == [(0, None), (1, None)]
    assert tree("- a\n  - b\n  2. c") == [(0, None), (1, 0), (2, 0)]
    assert tree("> a\n2. b") == [(1, None)]
    assert [it.in_quote for it in sc("> - a\n2. b").items] == [True, False]


def test_lazy_line_indented_four_past_the_list() -> None:
    # a list item cannot start 4+ columns right of its list's indentation: continuation text
    assert tree("   - a\n    - b") == [(0, None)]
    assert sc("   - a\n    - b").items[0].last_line == 1
    # but other block starts end the paragraph, and the line is then indented code
    r = sc("-    a\n    # h\n- c")
    assert item_lines("-    a\n    # h\n- c") == [0, 2]
    assert r.items[0].last_line == 0 and r.opaque == [(1, 1)] and r.headings == []
    # nested block quotes lose the indentation of a lazy line (markdown-it)
    r = sc("> > a\n    - b")
    assert r.opaque == [(1, 1)] and len(r.items) == 0


def test_block_quote_continuation_after_any_indentation() -> None:
    # markdown-it continues a block quote at a ">" however far it is indented
    assert headings("> a\n    > # b") == [(1, 1, False)]
    assert headings("> a\n   > # b") == [(1, 1, False)]
    # but a quote cannot start 4 columns in: that is indented code
    assert opaque("    > a") == [(0, 0)]


# -- fenced code ------------------------------------------------------------------------------------


def test_fences() -> None:
    assert opaque("```\n- a\n```\n- b") == [(0, 2)]
    assert item_lines("```\n- a\n```\n- b") == [3]
    assert opaque("~~~\n```\n- a\n~~~") == [(0, 3)]
    assert opaque("````\n```\n- a\n`````\n- b") == [(0, 3)]  # a longer closing fence closes
    assert opaque("```\n- a") == [(0, 1)]  # unclosed: to the end
    assert opaque("``` a`b\n- a") == []  # a backtick in a backtick fence's info string
    assert opaque("~~~ a`b\n- a\n~~~") == [(0, 2)]
    assert opaque("```\n    ```\n- a") == [(0, 2)]  # 4 spaces in: not a closing fence
    assert opaque("   ```\n   ```\n- a") == [(0, 1)]
    assert opaque("    ```\n- a") == [(0, 0)]  # indented code, not a fence


def test_closing_fence_run_is_counted_from_its_start() -> None:
    # regression: the length of an indented closing run was miscounted (too long), so shorter
    # runs and runs followed by text closed the fence
    assert opaque("````\n ```\n- a") == [(0, 2)]
    assert item_lines("````\n ```\n- a") == []
    assert opaque("```\n  ```x\n- a") == [(0, 2)]
    assert opaque("```\n  ```  \n- a") == [(0, 1)]


def test_fence_inside_item_is_closed_by_dedent() -> None:
    text = "- [ ] a\n  ```\n  - [ ] inside\n- [ ] b\n  ```\n  - [ ] c"
    r = sc(text)
    assert [it.line for it in r.items] == [0, 3]
    assert r.opaque == [(1, 2), (4, 5)]
    assert r.items[0].last_line == 2
    # a blank line does not end it
    r = sc("- a\n  ```\n\n  - x\n  ```\n- b")
    assert r.opaque == [(1, 4)] and [it.line for it in r.items] == [0, 5]


# -- indented code ----------------------------------------------------------------------------------


def test_indented_code() -> None:
    assert opaque("    code\n- a") == [(0, 0)]
    assert opaque("    a\n\n    b\n\n\n- x") == [(0, 2)]  # trailing blank lines are not code
    assert opaque("text\n    more") == []  # no code inside a paragraph
    assert opaque("- a\n\n      code\n- b") == [(2, 2)]
    assert opaque("- a\n\n     text") == []  # 3 columns past the item's content
    assert opaque(">    text\n>\n> - a") == []  # the space after ">" belongs to the marker
    assert opaque(">     code\n>\n>     more\n>") == [(0, 2)]


# -- HTML blocks ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want_opaque", "want_items"),
    [
        # 1: script, pre, style, textarea; ends at the closing tag, even across blank lines
        ("<script>\n- a\n\n- b\n</script>\n- c", [(0, 4)], [5]),
        ("<PRE class='x'>\n- a\n</pre> trailing\n- b", [(0, 2)], [3]),
        ("<style>x</style>\n- a", [(0, 0)], [1]),
        ("<textarea>\n\n- a</TEXTAREA>\n- b", [(0, 2)], [3]),
        ("<scripts>\n- a\n\n- b", [(0, 1)], [3]),  # a custom tag (type 7)
        ("<\u017fcript>\n- a", [], [1]),  # tag names are ASCII
        # 2: comments
        ("<!--\n- a\n\n- b\n-->\n- c", [(0, 4)], [5]),
        ("<!-- x -->\n- a", [(0, 0)], [1]),
        ("<!-- x --> tail\n- a", [(0, 0)], [1]),
        # 3: processing instructions
        ("<?php\n- a\n?>\n- b", [(0, 2)], [3]),
        # 4: declarations
        ("<!DOCTYPE html>\n- a", [(0, 0)], [1]),
        ("<!doctype\n- a\n>\n- b", [(0, 2)], [3]),
        # 5: CDATA
        ("<![CDATA[\n- a\n]]>\n- b", [(0, 2)], [3]),
        # 6: block-level tags; end at a blank line
        ("<div>\n- a\n\n- b", [(0, 1)], [3]),
        ("</div>\n- a", [(0, 1)], []),
        ("<details>\n<summary>S</summary>\n\n- [ ] x\n\n</details>", [(0, 1), (5, 5)], [3]),
        ('<div class="x"/>\n\n- a', [(0, 0)], [2]),
        ("<divx>\n- a", [(0, 1)], []),  # type 7: a complete tag alone on its line
        ("<div\x0c\n- a", [(0, 1)], []),  # markdown-it ends the tag name at any white space
        # 7: any other complete tag alone on its line; cannot interrupt a paragraph
        ("<span>\n- a\n\n- b", [(0, 1)], [3]),
        ('<img src="x.png">\n\n- a', [(0, 0)], [2]),
        ("text\n<span>\n- a", [], [2]),
        ("<span>x\n- a", [], [1]),
        ("<a href='u'>link</a>\n- a", [], [1]),
        # types 1-6 interrupt a paragraph
        ("text\n<div>\n- a", [(1, 2)], []),
        ("text\n<!--\n- a", [(1, 2)], []),
        # in list items: types 1-5 continue across blank lines, every type ends at a dedent
        ("- <!--\n  a\n\n  -->\n- b", [(0, 3)], [0, 4]),
        ("- <div>\n  a\n\n  b\n- c", [(0, 1)], [0, 4]),
        ("- a\n  <!--\n- b\n-->", [(1, 1)], [0, 2]),
    ],
)
def test_html_blocks(text: str, want_opaque: list, want_items: list) -> None:
    r = sc(text)
    assert r.opaque == want_opaque
    assert [it.line for it in r.items] == want_items


def test_html_blocks_in_block_quotes() -> None:
    # regression: the quote marker ">" ended a declaration (type 4, which ends at ">")
    assert opaque("> <!DOCTYPE\n> foo\n> bar>\n- a") == [(0, 2)]
    # regression: a "> " line is blank and ends a type 6 block in the quote
    r = sc("> <div>\n> x\n>\n> - a")
    assert r.opaque == [(0, 1)]
    assert [(it.line, it.in_quote) for it in r.items] == [(3, True)]


# -- headings, thematic breaks ------------------------------------------------------------------


def test_atx_headings() -> None:
    lines = ["# A", "## B ##", "### C ###x", "#### D #\\#", "####### no", "#no", "#", "    # code"]
    lines += [" #  E  ", "##\tF\t#", "# #", "- ## G"]
    got = [
        (h.line, h.level, lines[h.line][h.text_start : h.text_end]) for h in scan(lines).headings
    ]
    assert got == [
        (0, 1, "A"),
        (1, 2, "B"),
        (2, 3, "C ###x"),
        (3, 4, "D #\\#"),
        (6, 1, ""),
        (8, 1, "E"),
        (9, 2, "F"),
        (10, 1, ""),
        (11, 2, "G"),
    ]


def test_setext_headings_and_thematic_breaks() -> None:
    assert headings("a\n---") == [(0, 2, True)]
    assert headings("a\n===") == [(0, 1, True)]
    assert headings("a\nb\n  ===  ") == [(1, 1, True)]  # the line is the paragraph's last line
    assert headings("a\n-") == [(0, 2, True)]
    assert headings("---") == []  # a thematic break
    assert headings("a\n\n---") == []
    assert headings("a\n- - -") == []
    assert headings("a\n    ---") == []  # continuation text
    assert headings("- a\n---") == []  # a lazy "---" is a thematic break
    assert headings("- a\n  ---") == [(0, 2, True)]  # inside the item
    assert headings("- a\nb\n  ===") == [(1, 1, True)]
    assert headings("> a\n---") == []
    assert headings("> a\n> ---") == [(0, 2, True)]
    assert headings("* * *\n* a") == [] and item_lines("* * *\n* a") == [1]
    # the heading's text span is its line's text
    r = sc("- foo  \n  ---")
    h = r.headings[0]
    assert (h.line, h.text_start, h.text_end) == (0, 2, 5)
    r = sc("> > bar\n> > ===")
    assert r.headings[0].text_start == 4 and r.headings[0].text_end == 7


# -- link reference definitions -------------------------------------------------------------------


def test_link_reference_definitions_are_not_paragraphs() -> None:
    # regression: a definition was read as a paragraph, so "---" became a setext underline and
    # items after it could not interrupt it
    assert headings("[a]: https://example.com\n---") == []
    assert item_lines("[a]: /u\n2. x") == [1]
    assert item_lines("[a]: /u 'title'\n-") == [1]
    assert headings("- [a]: /u\n  ---") == []
    assert headings("[a]: </u b> (t)\n[b]: /v\n===") == []
    # not definitions: a blank label, a bad protocol, text after the title, no ":"
    assert headings("[ ]: /u\n---") == [(0, 2, True)]
    assert headings("[a]: javascript:alert(1)\n---") == [(0, 2, True)]
    assert headings("[a]: /u 'title' junk\n---") == [(0, 2, True)]
    assert headings("[a] : /u\n---") == [(0, 2, True)]
    assert headings("[a]: /u)\n---") == [(0, 2, True)]
    # a definition cannot interrupt a paragraph
    assert headings("text\n[a]: /u\n---") == [(1, 2, True)]


# -- front matter ----------------------------------------------------------------------------------


def test_front_matter() -> None:
    r = sc("---\ntitle: x\n- a: 1\n---\n- [ ] task")
    assert r.front_matter == (0, 3)
    assert item_lines("---\ntitle: x\n- a: 1\n---\n- [ ] task") == [4]
    assert sc("---\na: 1\n...\n- x").front_matter == (0, 2)
    assert sc("---  \na: 1\n---  ").front_matter == (0, 2)
    assert sc("\ufeff---\na: 1\n---").front_matter == (0, 2)
    assert sc("---\n---\nbody").front_matter == (0, 1)
    # unclosed: no front matter; "---" is a thematic break
    r = sc("---\n- a\n# h")
    assert r.front_matter is None and [it.line for it in r.items] == [1]
    # only at the start of the document, and only "---" opens it
    assert sc("---\na: 1\n---", doc_start=False).front_matter is None
    assert sc("\n---\na: 1\n---").front_matter is None
    assert sc("----\na: 1\n----").front_matter is None
    assert sc("--- x\na: 1\n---").front_matter is None
    # the closing line is exactly "---" or "..." (an indented "---" in a block scalar is YAML)
    assert sc("---\na: |\n  ---\n---").front_matter == (0, 3)


# -- chunk boundaries ------------------------------------------------------------------------------


def test_boundaries_only_at_document_level_atx_headings() -> None:
    text = "\n".join(
        [
            "# A",  # 0
            "- a",  # 1
            "## B",  # 2: ends the list
            "```",  # 3
            "# in fence",  # 4
            "```",  # 5
            "<div>",  # 6
            "# in html",  # 7
            "",  # 8
            "- x",  # 9
            "  # in item",  # 10
            "> # in quote",  # 11
            "<!--",  # 12
            "",  # 13
            "# in comment",  # 14
            "-->",  # 15
            "    # code",  # 16
            "text",  # 17
            "# C",  # 18: interrupts the paragraph
            "setext",  # 19
            "---",  # 20
            "- a",  # 21
            "lazy",  # 22
            "### D",  # 23
        ]
    )
    r = sc(text)
    assert r.boundaries == [0, 2, 18, 23]
    assert [h.line for h in r.headings if not h.setext] == [0, 2, 10, 11, 18, 23]


def test_boundaries_after_front_matter_and_unclosed_blocks() -> None:
    assert sc("---\n# yaml comment\n---\n# A").boundaries == [3]
    assert sc("```\n# a\n# b").boundaries == []
    assert sc("<!--\n# a\n# b").boundaries == []


# -- robustness ------------------------------------------------------------------------------------


def _check_invariants(lines: list[str], r: ScanResult) -> None:
    n = len(lines)
    for k, it in enumerate(r.items):
        assert isinstance(it, Item)
        assert 0 <= it.line <= it.last_line < n
        assert -1 <= it.parent < k
        if it.parent >= 0:
            p = r.items[it.parent]
            assert p.line <= it.line <= p.last_line
        s = lines[it.line]
        assert 0 <= it.char < it.marker_end <= it.content_char <= len(s)
        assert it.content_col > it.col
    assert [it.line for it in r.items] == sorted(it.line for it in r.items)
    assert [h.line for h in r.headings] == sorted(h.line for h in r.headings)
    for h in r.headings:
        assert isinstance(h, Heading)
        assert 1 <= h.level <= 6
        assert 0 <= h.text_start <= h.text_end <= len(lines[h.line])
    assert set(r.boundaries) <= {h.line for h in r.headings if not h.setext}
    prev = -1
    for a, b in r.opaque:
        assert prev < a <= b < n
        prev = b
    if r.front_matter is not None:
        assert r.front_matter[0] == 0 and r.front_matter[1] < n


_ANY_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("-*+>#`~<!?[]():=_ \t\r\n0123456789.)ab/\"'\\")),
        st.sampled_from(["\x00", "\u2028", "\u2029", "\x0b", "\x0c", "\x85", "\ufeff", "\u00a0"]),
        st.sampled_from(["🚀", "✅", "⚠", "\ufe0f", "\U0001f600", "\u0663", "\u017f"]),
        st.characters(),
    ),
    max_size=400,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_ANY_TEXT)
def test_never_raises_on_arbitrary_text(text: str) -> None:
    lines = text.split("\n")
    r = scan(lines)
    _check_invariants(lines, r)
    _check_invariants(lines, scan(lines, doc_start=False))
    # also with the line breaks an editor splits at (the scanner takes lines without endings)
    other = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    _check_invariants(other, scan(other))


_CHUNK_LINES = st.sampled_from(
    [
        "# A",
        "## 1. Section",
        "- [ ] 1.1 task",
        "  - **Droid**: x",
        "  - [x] 1.2 sub",
        "    continuation",
        "lazy text",
        "",
        "```",
        "~~~",
        "<!--",
        "-->",
        "<div>",
        "> quote",
        "> - [ ] quoted",
        "    code",
        "---",
        "===",
        "2. item",
        "[a]: /u",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_CHUNK_LINES, max_size=30))
def test_scan_from_a_boundary_equals_the_tail_of_a_full_scan(lines: list[str]) -> None:
    """What makes incremental re-analysis sound: nothing crosses a chunk boundary."""
    full = scan(lines)
    for b in full.boundaries:
        part = scan(lines[b:], doc_start=False)
        items = [it for it in full.items if it.line >= b]
        assert [(it.line - b, it.last_line - b, it.content_char) for it in items] == [
            (it.line, it.last_line, it.content_char) for it in part.items
        ]
        assert all(it.last_line < b for it in full.items if it.line < b)
        assert [(h.line - b, h.level) for h in full.headings if h.line >= b] == [
            (h.line, h.level) for h in part.headings
        ]
        assert [(x - b, y - b) for x, y in full.opaque if x >= b] == part.opaque
        assert all(y < b for x, y in full.opaque if x < b)
        assert [x - b for x in full.boundaries if x >= b] == part.boundaries


def test_deep_nesting_is_iterative() -> None:
    depth = 2000
    lines = [" " * (2 * k) + "- x" for k in range(depth)]
    r = scan(lines)
    assert len(r.items) == depth
    assert all(it.parent == k - 1 for k, it in enumerate(r.items))
    assert r.items[0].last_line == depth - 1
    # all on one line
    r = scan(["- " * depth + "x", " " * (2 * depth) + "y"])
    assert len(r.items) == depth and r.items[-1].parent == depth - 2
    assert all(it.last_line == 1 for it in r.items)
    # block quotes
    r = scan([">" * depth + " - x", ">" * depth + "   y", "z"])
    assert len(r.items) == 1 and r.items[0].in_quote and r.items[0].last_line == 2
    # ordered, with tabs
    r = scan(["\t" * k + "1. x" for k in range(depth)])
    assert len(r.items) == depth
