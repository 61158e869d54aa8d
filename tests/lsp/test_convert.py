"""The converter's fast paths agree with the core's reference conversion (no server needed)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from taskdroid.core.text import UTF8, UTF16, UTF32, column_to_units, units_to_column
from taskdroid.lsp.convert import LineIndex, to_column, to_units

ALPHABET = st.sampled_from([*"ab ✅⚠️🚀日本語é\u0301\u200d👩‍💻", "e\u0301", "\U0001f680"])
LINES = st.lists(ALPHABET, min_size=0, max_size=400).map("".join)
ENCODINGS = st.sampled_from([UTF8, UTF16, UTF32])


@settings(max_examples=300, deadline=None)
@given(LINES, st.integers(min_value=-3, max_value=1300), ENCODINGS)
def test_fast_paths_match_core(line, n, enc):
    assert to_units(line, n, enc) == column_to_units(line, n, enc)
    assert to_column(line, n, enc) == units_to_column(line, n, enc)


def test_lone_surrogates_use_the_reference():
    line = "x" * 200 + "\ud83d" + "日本" + "\ude80"
    for enc in (UTF8, UTF16, UTF32):
        for n in range(0, 215):
            assert to_units(line, n, enc) == column_to_units(line, n, enc)
            assert to_column(line, n, enc) == units_to_column(line, n, enc)


def test_line_index_lsp_line_breaks():
    li = LineIndex("a\r\nb\rc\nd\x0ce\u2028f\n")
    assert [li.line(i) for i in range(len(li))] == ["a", "b", "c", "d\x0ce\u2028f", ""]
    assert li.line(99) == "" and li.line(-1) == ""


EDIT_TEXT = st.lists(st.sampled_from(["a", "🚀", "日", "\n", " ", "\n\n", "x\ny"]), max_size=8).map(
    "".join
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(["ab", "🚀", "日本", "\n", "- [ ] 1.1 x", "\n\n"]), max_size=30).map(
        "".join
    ),
    st.lists(
        st.tuples(
            st.integers(0, 12),
            st.integers(0, 14),
            st.integers(0, 12),
            st.integers(0, 14),
            EDIT_TEXT,
        ),
        max_size=5,
    ),
)
def test_incremental_line_starts_match_a_fresh_split(text, edits):
    from taskdroid.core.text import Position, Range

    li = LineIndex(text)
    li.lines()  # starts computed, as for an open document
    expected = text
    for l1, c1, l2, c2, new in edits:
        rng = Range(Position(l1, c1), Position(l2, c2))
        fresh = LineIndex(expected)
        a, b = sorted((fresh.offset(rng.start), fresh.offset(rng.end)))
        expected = expected[:a] + new + expected[b:]
        li = li.apply(rng, new)
        assert li.text == expected
        ref = LineIndex(expected)
        assert len(li) == len(ref)
        assert [li.line(i) for i in range(len(li))] == ref.lines()
        assert [li.offset(Position(i, 0)) for i in range(len(li))] == [
            ref.offset(Position(i, 0)) for i in range(len(ref))
        ]


def test_many_edits_within_lines_keep_the_line_starts_right():
    """Edits within a line share the line starts and record shifts (rebuilt after
    ``_MAX_SHIFTS`` of them); mixed with edits that add or remove lines, every version must
    read like a fresh split of its text."""
    import random

    from taskdroid.core.text import Position, Range
    from taskdroid.lsp.convert import _MAX_SHIFTS

    rng = random.Random(7)
    text = "".join(rng.choice(["ab", "c\n", "é", "👩‍💻", "\n", "xyz "]) for _ in range(300))
    li = LineIndex(text)
    li.lines()
    for step in range(3 * _MAX_SHIFTS + 10):
        n = len(li)
        line = rng.randrange(-1, n + 1)
        col = rng.randrange(0, 6)
        end = (line, col + rng.randrange(0, 3))
        if step % 17 == 0:  # now and then one that changes the lines
            end = (rng.randrange(0, n), rng.randrange(0, 6))
        new = "\n" if step % 17 == 0 else rng.choice(["", "z", "zz", "é"])
        li = li.apply(Range(Position(line, col), Position(*end)), new)
        ref = LineIndex(li.text)
        assert len(li) == len(ref)
        k = rng.randrange(0, len(ref))
        assert li.line(k) == ref.line(k)
        pos = Position(rng.randrange(-1, len(ref) + 1), rng.randrange(0, 8))
        assert li.offset(pos) == ref.offset(pos)
    assert li.lines() == LineIndex(li.text).lines()
