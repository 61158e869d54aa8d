"""Front matter splitting and safe YAML parsing (taskdroid.core.frontmatter)."""

from __future__ import annotations

import datetime
import time

import pytest
import yaml

from taskdroid.core.diagnostics import Severity
from taskdroid.core.frontmatter import (
    MAX_FRONT_MATTER_BYTES,
    find_front_matter,
    parse_front_matter,
    quote_yaml_string,
)
from taskdroid.core.text import Range


def r(line: int, start: int, end: int, end_line: int | None = None) -> Range:
    return Range.of(line, start, end, end_line)


def codes(fm) -> list[tuple[str, Severity, Range]]:
    return [(d.code, d.severity, d.range) for d in fm.diagnostics]


# -- splitting -------------------------------------------------------------------------------------


def test_basic_split_and_ranges() -> None:
    text = "---\nname: reviewer\ndescription: Reviews code\n---\n\nYou review.\n"
    fm = parse_front_matter(text)
    assert fm.present and fm.closed
    assert fm.data == {"name": "reviewer", "description": "Reviews code"}
    assert fm.key_ranges["name"] == r(1, 0, 4)
    assert fm.value_ranges["name"] == r(1, 6, 14)
    assert fm.value_ranges["description"] == r(2, 13, 25)
    assert fm.open_range == r(0, 0, 3)
    assert fm.range == Range.of(0, 0, 3, 3)
    assert fm.end_line == 3
    assert fm.body_start_line == 4
    assert fm.diagnostics == []


def test_no_front_matter() -> None:
    fm = parse_front_matter("# Title\n\nname: x\n")
    assert not fm.present and fm.data is None and fm.diagnostics == []
    assert find_front_matter(["# Title"]) == (False, None)
    assert find_front_matter([]) == (False, None)
    # `----` or `--- x` is not an opening line
    assert not parse_front_matter("----\nname: x\n----\n").present
    assert not parse_front_matter("--- x\nname: x\n---\n").present


def test_empty_front_matter_is_empty_mapping() -> None:
    fm = parse_front_matter("---\n---\nbody\n")
    assert fm.data == {} and fm.diagnostics == []
    assert fm.body_start_line == 2
    only_comment = parse_front_matter("---\n# nothing here\n---\n")
    assert only_comment.data == {}


def test_bom_trailing_spaces_crlf_and_dots_closing() -> None:
    text = "\ufeff---  \r\nname: a\r\n...\r\nbody"
    fm = parse_front_matter(text)
    assert fm.data == {"name": "a"}
    assert fm.value_ranges["name"] == r(1, 6, 7)
    assert fm.end_line == 2 and fm.body_start_line == 3
    assert fm.open_range == r(0, 1, 4)


def test_cr_only_line_endings() -> None:
    fm = parse_front_matter("---\rname: a\rtools: [Read]\r---\rbody")
    assert fm.data == {"name": "a", "tools": ["Read"]}
    assert fm.item_ranges["tools"] == [r(2, 8, 12)]
    assert fm.body_start_line == 4


def test_never_closed_is_dr002_error_at_line_0() -> None:
    fm = parse_front_matter("---\nname: a\ndescription: b\n")
    assert fm.present and not fm.closed and fm.data is None
    assert codes(fm) == [("DR002", Severity.ERROR, r(0, 0, 3))]
    assert "never closed" in fm.diagnostics[0].message


def test_not_a_mapping() -> None:
    fm = parse_front_matter("---\n- a\n- b\n---\n")
    assert fm.data is None
    assert codes(fm) == [("DR002", Severity.ERROR, Range.of(1, 0, 3, 2))]
    assert "found a list" in fm.diagnostics[0].message
    scalar = parse_front_matter("---\njust text\n---\n")
    assert scalar.data is None
    assert codes(scalar) == [("DR002", Severity.ERROR, r(1, 0, 9))]
    assert "found a single value" in scalar.diagnostics[0].message


def test_syntax_error_position() -> None:
    fm = parse_front_matter("---\nname: a\n\tbad: 1\n---\n")
    assert fm.data is None
    assert codes(fm) == [("DR002", Severity.ERROR, r(2, 0, 1))]
    assert "not valid YAML" in fm.diagnostics[0].message
    flow = parse_front_matter("---\nname: a\ntools: [Read\n---\n")
    assert flow.data is None and flow.diagnostics[0].code == "DR002"
    assert flow.diagnostics[0].range.start.line in (2, 3)


# -- values and positions --------------------------------------------------------------------------


def test_block_list_items_and_trimmed_ranges() -> None:
    text = (
        "---\n"
        "tools:\n"
        "  - Read\n"
        "  - Grep # the search tool\n"
        "\n"
        "# a comment\n"
        "description: |\n"
        "  line one\n"
        "  line two\n"
        "\n"
        "model: inherit\n"
        "---\n"
    )
    fm = parse_front_matter(text)
    assert fm.data == {
        "tools": ["Read", "Grep"],
        "description": "line one\nline two\n",
        "model": "inherit",
    }
    assert fm.item_ranges["tools"] == [r(2, 4, 8), r(3, 4, 8)]
    assert fm.value_ranges["tools"] == Range.of(2, 2, 8, 3)
    assert fm.value_ranges["description"] == Range.of(6, 13, 10, 8)
    assert fm.key_ranges["model"] == r(10, 0, 5)


def test_flow_list_items() -> None:
    fm = parse_front_matter('---\ntools: ["Read", Grep]\n---\n')
    assert fm.item_ranges["tools"] == [r(1, 8, 14), r(1, 16, 20)]
    assert fm.value_ranges["tools"] == r(1, 7, 21)


def test_positions_after_emoji_and_cjk() -> None:
    text = "---\ndescription: 😀 中文 ✅\ntags: [😀, 中文, x]\n名前: 値\n---\n"
    fm = parse_front_matter(text)
    assert fm.value_ranges["description"] == r(1, 13, 19)
    assert fm.item_ranges["tags"] == [r(2, 7, 8), r(2, 10, 12), r(2, 14, 15)]
    assert fm.key_ranges["名前"] == r(3, 0, 2)
    assert fm.value_ranges["名前"] == r(3, 4, 5)


def test_unicode_line_separators_do_not_shift_lines() -> None:
    # PyYAML counts U+2028 as a line break; LSP does not
    text = "---\ndescription: 'a\u2028b'\nname: x\n---\n"
    fm = parse_front_matter(text)
    assert fm.data is not None and fm.data["name"] == "x"
    assert fm.key_ranges["name"] == r(2, 0, 4)


def test_dates_stay_dates_and_bad_dates_stay_text() -> None:
    fm = parse_front_matter("---\ncreatedAt: 2025-10-12\nupdatedAt: 2025-13-45\n---\n")
    assert fm.data == {"createdAt": datetime.date(2025, 10, 12), "updatedAt": "2025-13-45"}


def test_anchors_and_aliases() -> None:
    fm = parse_front_matter("---\nbase: &t [Read, Grep]\ntools: *t\n---\n")
    assert fm.data == {"base": ["Read", "Grep"], "tools": ["Read", "Grep"]}
    assert fm.value_ranges["tools"] == r(2, 7, 9)  # the alias, not the anchor
    merged = parse_front_matter("---\nd: &d {model: inherit}\n<<: *d\nname: x\n---\n")
    assert merged.data == {"d": {"model": "inherit"}, "name": "x", "model": "inherit"}


def test_alias_bomb_is_an_error_not_a_blowup() -> None:
    lines = ["---", "a: &a [x, x, x, x, x, x, x, x, x, x]"]
    prev = "a"
    for name in "bcdefghi":
        refs = ", ".join(f"*{prev}" for _ in range(10))
        lines.append(f"{name}: &{name} [{refs}]")
        prev = name
    lines += ["---", "body"]
    started = time.perf_counter()
    fm = parse_front_matter("\n".join(lines))
    assert time.perf_counter() - started < 5
    assert fm.data is None
    assert [d.code for d in fm.diagnostics] == ["DR002"]
    assert fm.diagnostics[0].severity == Severity.ERROR
    assert "more than 10,000" in fm.diagnostics[0].message


def test_recursive_alias_and_deep_nesting() -> None:
    rec = parse_front_matter("---\na: &a [*a]\n---\n")
    assert rec.data is None and rec.diagnostics[0].code == "DR002"
    deep = parse_front_matter("---\nx: " + "[" * 3000 + "]" * 3000 + "\n---\n")
    assert deep.data is None and deep.diagnostics[0].code == "DR002"


def test_size_cap() -> None:
    big = "---\ndescription: " + "x" * (MAX_FRONT_MATTER_BYTES + 10) + "\n---\nbody\n"
    fm = parse_front_matter(big)
    assert fm.data is None
    assert codes(fm) == [("DR002", Severity.ERROR, r(0, 0, 3))]
    assert "256 KB" in fm.diagnostics[0].message


def test_nul_and_control_characters() -> None:
    fm = parse_front_matter("---\nname: a\x00b\n---\n")
    assert fm.data is None
    assert codes(fm) == [("DR002", Severity.ERROR, r(1, 7, 8))]
    # in the body they do not matter
    assert parse_front_matter("---\nname: a\n---\n\x00\x01").data == {"name": "a"}


def test_duplicate_key_reported_on_second_first_kept() -> None:
    fm = parse_front_matter("---\nname: a\ndescription: d\nname: b\n---\n")
    assert fm.data == {"name": "a", "description": "d"}
    assert fm.value_ranges["name"] == r(1, 6, 7)
    assert codes(fm) == [("DR002", Severity.ERROR, r(3, 0, 4))]
    assert fm.diagnostics[0].related[0].range == r(1, 0, 4)
    nested = parse_front_matter("---\nhooks:\n  a: 1\n  a: 2\n---\n")
    assert nested.data == {"hooks": {"a": 1}}
    assert codes(nested) == [("DR002", Severity.ERROR, r(3, 2, 3))]


def test_key_that_is_a_list() -> None:
    fm = parse_front_matter("---\n[a, b]: c\n---\n")
    assert fm.data is None
    assert codes(fm) == [("DR002", Severity.ERROR, r(1, 0, 6))]
    nested = parse_front_matter("---\nx:\n  ? [a]\n  : b\n---\n")
    assert nested.data is None and nested.diagnostics[0].code == "DR002"


def test_non_string_top_level_keys_keep_their_text() -> None:
    fm = parse_front_matter("---\non: x\n123: y\n---\n")
    assert fm.data == {"on": "x", "123": "y"}
    assert set(fm.key_ranges) == {"on", "123"}


def test_unknown_tag_is_soft_error() -> None:
    fm = parse_front_matter("---\nname: a\ndescription: !important text\n---\n")
    assert fm.data == {"name": "a", "description": "text"}
    assert codes(fm) == [("DR002", Severity.ERROR, r(2, 13, 28))]


# -- the DR002 "quote the value" special case ------------------------------------------------------


def test_unquoted_colon_in_description_is_a_warning_with_quote_fix() -> None:
    text = "---\nname: helper\ndescription: Use this when: you need X\ntools: Read\n---\nBody\n"
    fm = parse_front_matter(text)
    assert fm.data == {
        "name": "helper",
        "description": "Use this when: you need X",
        "tools": "Read",
    }
    assert codes(fm) == [("DR002", Severity.WARNING, r(2, 13, 38))]
    d = fm.diagnostics[0]
    assert "quote" in d.message
    assert d.data is not None
    assert d.data["fix"] == "quote"
    assert d.data["replacement"] == '"Use this when: you need X"'
    assert fm.value_ranges["description"] == r(2, 13, 38)
    assert fm.quoted_keys == frozenset({"description"})


def test_quote_fix_escapes_and_keeps_comment() -> None:
    text = '---\ndescription: Say "hi": C:\\dir, 😀 # note\nname: x\n---\n'
    fm = parse_front_matter(text)
    assert fm.data is not None
    assert fm.data["description"] == 'Say "hi": C:\\dir, 😀'
    (d,) = fm.diagnostics
    assert d.severity == Severity.WARNING
    assert d.range == r(1, 13, 32)
    assert d.data is not None
    replacement = d.data["replacement"]
    assert replacement == '"Say \\"hi\\": C:\\\\dir, 😀"'
    fixed = text[: 4 + 13] + replacement + text[4 + 32 :]
    assert yaml.safe_load(fixed.split("---\n")[1]) == {
        "description": 'Say "hi": C:\\dir, 😀',
        "name": "x",
    }


def test_several_unquoted_values_each_get_a_warning() -> None:
    text = "---\nname: x\ndescription: a: b\nmodel: c: d\n---\n"
    fm = parse_front_matter(text)
    assert fm.data == {"name": "x", "description": "a: b", "model": "c: d"}
    assert codes(fm) == [
        ("DR002", Severity.WARNING, r(2, 13, 17)),
        ("DR002", Severity.WARNING, r(3, 7, 11)),
    ]


def test_colon_at_end_of_value() -> None:
    fm = parse_front_matter("---\ndescription: Use it when:\n---\n")
    assert fm.data == {"description": "Use it when:"}
    assert codes(fm) == [("DR002", Severity.WARNING, r(1, 13, 25))]


def test_quote_case_not_applied_when_another_fault_remains() -> None:
    fm = parse_front_matter("---\ndescription: a: b\ntools: [Read\n---\n")
    assert fm.data is None
    assert codes(fm) == [("DR002", Severity.ERROR, r(1, 14, 15))]


def test_quote_case_not_applied_to_multi_line_values() -> None:
    fm = parse_front_matter("---\ndescription: first: line\n  continues here\n---\n")
    assert fm.data is None
    assert fm.diagnostics[0].severity == Severity.ERROR


def test_quote_case_not_applied_to_nested_keys() -> None:
    fm = parse_front_matter("---\nhooks:\n  x: a: b\n---\n")
    assert fm.data is None
    assert fm.diagnostics[0].severity == Severity.ERROR


def test_colon_without_space_is_fine() -> None:
    fm = parse_front_matter("---\nmodel: custom:my-model\nurl: http://x\n---\n")
    assert fm.data == {"model": "custom:my-model", "url": "http://x"}
    assert fm.diagnostics == []


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        'with "quotes"',
        "back\\slash",
        "tab\there",
        "nul\x00",
        "bell\x07",
        "😀 中文",
        "\u2028",
    ],
)
def test_quote_yaml_string_round_trips(value: str) -> None:
    assert yaml.safe_load("k: " + quote_yaml_string(value)) == {"k": value}


# -- robustness ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "---",
        "---\n",
        "\ufeff",
        "---\n---",
        "---\n...\n",
        "---\n: \n---\n",
        "---\n? \n---\n",
        "---\n&a\n---\n",
        "---\n*a\n---\n",
        "---\n!!binary notbase64\n---\n",
        "---\nx: !!binary notbase64\n---\n",
        "---\nx: !!python/object:os.system ls\n---\n",
        "---\n%YAML 1.1\n---\n",
        "---\nx: 1\n--- y\n---\n",
        "---\nx: \ud800\n---\n",
        "---\n" + "- " * 2000 + "x\n---\n",
        "---\n" + "a:\n " * 500 + "b\n---\n",
        "---\nx: [" + "a, " * 20000 + "]\n---\n",
        "\x00\x01\x02\xff\xfe",
    ],
)
def test_bad_input_never_raises(text: str) -> None:
    fm = parse_front_matter(text)
    assert fm.data is None or isinstance(fm.data, dict)
