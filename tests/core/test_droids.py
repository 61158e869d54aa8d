"""Droid files: model, schema, parse_droid diagnostics, DR007 (taskdroid.core.droids)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from taskdroid.core.diagnostics import Diagnostic, Severity
from taskdroid.core.droids import (
    CLAUDE_CODE_TOOLS,
    FACTORY_TOOLS,
    KEY_RULES,
    KNOWN_KEYS,
    DroidFrontMatter,
    droid_json_schema,
    duplicate_droid_diagnostics,
    flavor_of,
    looks_like_droid,
    parse_droid,
    split_tools,
    tool_base_name,
)
from taskdroid.core.settings import Settings
from taskdroid.core.text import Range

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "real-world"
S = Settings()
FACTORY = "/p/.factory/droids/reviewer.md"
CLAUDE = "/p/.claude/agents/reviewer.md"


def r(line: int, start: int, end: int, end_line: int | None = None) -> Range:
    return Range.of(line, start, end, end_line)


def droid(front: str, body: str = "You review code.\n") -> str:
    return f"---\n{front}---\n{body}"


GOOD = "name: reviewer\ndescription: Reviews code\nmodel: inherit\n"


def found(text: str, path: str = FACTORY, settings: Settings = S) -> list[Diagnostic]:
    return parse_droid(text, path, settings).diagnostics


def only(diags: list[Diagnostic], code: str) -> list[Diagnostic]:
    return [d for d in diags if d.code == code]


# -- a clean droid ---------------------------------------------------------------------------------


def test_clean_factory_droid_has_no_diagnostics() -> None:
    text = droid(
        "name: reviewer\n"
        "description: Reviews code\n"
        "model: claude-sonnet-4-5-20250929\n"
        "reasoningEffort: high\n"
        'tools: ["Read", "Grep", "Glob", "Execute"]\n'
        'version: "2.0.0"\n'
        "createdAt: 2025-10-12\n"
        'updatedAt: "2025-10-13"\n'
        "location: project\n"
        "tags: [review, quality]\n"
        "mcpServers: [github]\n"
    )
    doc = parse_droid(text, FACTORY, S)
    assert doc.diagnostics == []
    assert doc.flavor == "factory"
    assert doc.name == "reviewer"
    assert doc.name_range == r(1, 6, 14)
    assert doc.description == "Reviews code"
    assert doc.model == "claude-sonnet-4-5-20250929"
    assert doc.version == "2.0.0"
    assert doc.tools == ["Read", "Grep", "Glob", "Execute"]
    assert doc.front_matter_range == Range.of(0, 0, 3, 12)
    assert doc.body_start_line == 13
    assert doc.key_ranges["tools"] == r(5, 0, 5)
    assert doc.item_ranges["tools"][3] == r(5, 32, 41)


def test_clean_claude_agent_with_claude_keys() -> None:
    text = droid(
        "name: reviewer\n"
        "description: Reviews code\n"
        "tools: Read, Grep, Bash(git diff:*), mcp__github__*, ExitPlanMode\n"
        "disallowedTools: Write, Edit\n"
        "model: sonnet\n"
        "permissionMode: acceptEdits\n"
        "maxTurns: 15\n"
        "skills: [review]\n"
        "hooks:\n  PreToolUse: []\n"
        "memory: project\n"
        "background: false\n"
        "isolation: worktree\n"
        "effort: max\n"
        "color: blue\n"
    )
    doc = parse_droid(text, CLAUDE, S)
    assert doc.diagnostics == []
    assert doc.flavor == "claude"
    assert doc.tools == ["Read", "Grep", "Bash(git diff:*)", "mcp__github__*", "ExitPlanMode"]
    assert doc.item_ranges["tools"][2] == r(3, 19, 35)


# -- DR001 -----------------------------------------------------------------------------------------


def test_dr001_missing_front_matter() -> None:
    diags = found("Name: worker\nYou work.\n")
    # docs/language.md §A5/§A10: the whole first line, and DR001 alone (no DR003/DR011)
    assert [(d.code, d.severity, d.range) for d in diags] == [
        ("DR001", Severity.ERROR, r(0, 0, 12))
    ]
    assert "no front matter" in diags[0].message
    assert only(found(droid(GOOD)), "DR001") == []


def test_dr001_empty_file() -> None:
    diags = found("")
    assert [(d.code, d.range) for d in diags] == [("DR001", r(0, 0, 0))]


# -- DR002 -----------------------------------------------------------------------------------------


def test_dr002_invalid_yaml_stops_other_checks() -> None:
    diags = found(droid("name: [reviewer\n"))
    assert [d.code for d in diags] == ["DR002"]
    assert diags[0].severity == Severity.ERROR


def test_dr002_quote_case_reads_the_line_as_text() -> None:
    text = droid("name: reviewer\ndescription: Use this when: you need a review\ntools: Reed\n")
    doc = parse_droid(text, FACTORY, S)
    assert doc.description == "Use this when: you need a review"
    (warn,) = only(doc.diagnostics, "DR002")
    assert warn.severity == Severity.WARNING and warn.range == r(2, 13, 45)
    assert warn.data is not None and warn.data["fix"] == "quote"
    assert warn.data["replacement"] == '"Use this when: you need a review"'
    # the other checks still run
    assert [d.code for d in only(doc.diagnostics, "DR005")] == ["DR005"]


def test_dr002_never_closed() -> None:
    diags = found("---\nname: reviewer\n")
    assert [(d.code, d.severity, d.range) for d in diags] == [("DR002", Severity.ERROR, r(0, 0, 3))]


def test_dr002_not_a_mapping() -> None:
    diags = found("---\n- reviewer\n---\nbody\n")
    assert [(d.code, d.severity) for d in diags] == [("DR002", Severity.ERROR)]


# -- DR003 -----------------------------------------------------------------------------------------


def test_dr003_missing_name_on_opening_line() -> None:
    diags = found(droid("description: Reviews code\n"))
    (d,) = only(diags, "DR003")
    assert d.severity == Severity.ERROR and d.range == r(0, 0, 3)
    assert "`name`" in d.message and d.data == {"fix": "add-name", "name": "reviewer"}
    assert only(found(droid(GOOD)), "DR003") == []


def test_misspelled_name_key_gives_dr003_and_dr008() -> None:
    diags = found(droid("Name: reviewer\ndescription: d\n"))
    assert {d.code for d in diags} == {"DR003", "DR008"}
    (hint,) = only(diags, "DR008")
    assert hint.data == {"suggestion": "name"} and hint.range == r(1, 0, 4)


# -- DR004 -----------------------------------------------------------------------------------------


def test_dr004_name_pattern() -> None:
    (d,) = only(found(droid("name: Code Reviewer\ndescription: d\n")), "DR004")
    assert d.severity == Severity.ERROR and d.range == r(1, 6, 19)
    assert "`Code Reviewer` is not a valid droid name" in d.message
    assert d.data == {"suggestion": "code-reviewer"}


def test_dr004_name_not_text() -> None:
    (d,) = only(found(droid("name: 123\ndescription: d\n")), "DR004")
    assert d.range == r(1, 6, 9)
    assert "found the number `123`" in d.message


@pytest.mark.parametrize("version", ["v1", "v2", "2", "2.1", "2.0", '"1.2.3-beta.1+build.5"', "1.0.0"])
def test_version_forms_are_versions(version) -> None:
    """docs/language.md §A9: `v2`, `2`, `2.1` and semantic versions (a YAML number as its text)."""
    assert only(found(droid(GOOD + f"version: {version}\n")), "DR004") == []


def test_dr004_version_is_a_warning() -> None:
    (bad,) = only(found(droid(GOOD + "version: latest\n")), "DR004")
    assert bad.range == r(4, 9, 15) and bad.severity is Severity.WARNING
    assert bad.message.startswith("version: found `latest`")
    (flag,) = only(found(droid(GOOD + "version: true\n")), "DR004")
    assert flag.severity is Severity.WARNING


def test_dr004_dates() -> None:
    diags = found(droid(GOOD + "createdAt: 2025-10-12 10:00\nupdatedAt: '2025-02-30'\n"))
    ranges = [(d.range, d.message) for d in only(diags, "DR004")]
    assert ranges[0][0] == r(4, 11, 27) and "createdAt" in ranges[0][1]
    assert ranges[1][0] == r(5, 11, 23) and "not a calendar date" in ranges[1][1]
    # unquoted and quoted dates are both fine
    assert found(droid(GOOD + "createdAt: 2025-10-12\nupdatedAt: '2025-10-12'\n")) == []


def test_dr004_tools_item_and_wrong_type() -> None:
    (item,) = only(found(droid(GOOD + "tools: [Read, 5]\n")), "DR004")
    assert item.range == r(4, 14, 15)
    assert item.message == "tools: item 2 is the number `5`; expected a tool name"
    (whole,) = only(found(droid(GOOD + "tools: {Read: yes}\n")), "DR004")
    assert whole.range == r(4, 7, 18)
    assert "found a mapping" in whole.message


def test_dr004_location_tags_and_enums() -> None:
    text = droid(
        GOOD + "location: home\ntags: a\nreasoningEffort: max\nmaxTurns: 0\nbackground: maybe\n"
    )
    diags = only(found(text), "DR004")
    assert [d.range.start.line for d in diags] == [4, 5, 6, 7, 8]
    assert diags[0].message == "location: found `home`; expected `project` or `personal`"
    assert diags[1].message == "tags: found `a`; expected a list of strings"


def test_dr004_model_form() -> None:
    (d,) = only(found(droid("name: reviewer\ndescription: d\nmodel: my model\n")), "DR004")
    assert d.range == r(3, 7, 15)
    for ok in ("inherit", "sonnet", "custom:My Model [BYOK]", "gpt-5-codex", "claude-opus-4@1"):
        assert found(droid(f"name: reviewer\ndescription: d\nmodel: {ok}\n")) == [], ok


def test_dr004_long_description_error_in_factory_hint_in_claude() -> None:
    long = "x" * 501
    (err,) = only(found(droid(f"name: reviewer\ndescription: {long}\n")), "DR004")
    assert err.severity == Severity.ERROR and err.range == r(2, 13, 514)
    assert "501 characters" in err.message
    (hint,) = only(found(droid(f"name: reviewer\ndescription: {long}\n"), CLAUDE), "DR004")
    assert hint.severity == Severity.HINT
    assert found(droid(f"name: reviewer\ndescription: {'x' * 500}\n")) == []


def test_dr004_empty_value_points_at_key() -> None:
    (d,) = only(found(droid("name:\ndescription: d\n")), "DR004")
    assert d.range == r(1, 0, 4)
    assert "empty value" in d.message


# -- DR005 -----------------------------------------------------------------------------------------


def test_dr005_unknown_tool_with_did_you_mean() -> None:
    (d,) = only(found(droid(GOOD + "tools: [Read, Reed]\n")), "DR005")
    assert d.severity == Severity.WARNING and d.range == r(4, 14, 18)
    assert d.message == "tools: `Reed` is not a known tool — did you mean `Read`?"
    assert d.data == {"suggestion": "Read"}


def test_dr005_in_comma_string_has_exact_range() -> None:
    (d,) = only(found(droid(GOOD + "tools: Read,  Grpe , Glob\n")), "DR005")
    assert d.range == r(4, 14, 18)
    assert "did you mean `Grep`" in d.message


def test_dr005_is_a_hint_in_claude_agents() -> None:
    (d,) = only(found(droid(GOOD + "tools: Read, Serch\n"), CLAUDE), "DR005")
    assert d.severity == Severity.HINT and d.range == r(4, 13, 18)


def test_dr005_fine_entries() -> None:
    text = droid(
        GOOD + "tools: [Read, 'Bash(git diff:*)', mcp__ctx__get-docs, mcp__mem__*, Mine]\n"
    )
    assert only(found(text, CLAUDE, Settings(extraTools=["Mine"])), "DR005") == []
    assert only(found(droid(GOOD + "tools: read-only\n")), "DR005") == []
    assert only(found(droid(GOOD + "tools: []\n")), "DR005") == []


def test_dr005_case_and_other_vocabulary() -> None:
    (case,) = only(found(droid(GOOD + "tools: [read]\n")), "DR005")
    assert "case-sensitive" in case.message
    (bash,) = only(found(droid(GOOD + "tools: [Bash]\n")), "DR005")
    assert bash.message == "tools: `Bash` is a Claude Code tool — Factory droids call it `Execute`"
    (ex,) = only(found(droid(GOOD + "tools: [Execute]\n"), CLAUDE), "DR005")
    assert ex.severity == Severity.HINT and ex.data == {"suggestion": "Bash"}
    # other droids/ folders know both vocabularies
    assert found(droid(GOOD + "tools: [Bash, Execute]\n"), "/p/droids/reviewer.md") == []


# -- DR006 -----------------------------------------------------------------------------------------


def test_dr006_name_differs_from_file() -> None:
    (d,) = only(found(droid(GOOD), "/p/.factory/droids/bmm-dev.md"), "DR006")
    assert d.severity == Severity.WARNING and d.range == r(1, 6, 14)
    assert "`reviewer` differs from the file name `bmm-dev.md`" in d.message
    assert only(found(droid(GOOD), FACTORY), "DR006") == []
    quoted = droid('name: "reviewer"\ndescription: d\n')
    assert only(found(quoted, FACTORY), "DR006") == []
    (q,) = only(found(quoted, "/p/.factory/droids/dev.md"), "DR006")
    assert q.range == r(1, 6, 16)


# -- DR007 -----------------------------------------------------------------------------------------


def _doc(path: str, name: str = "reviewer"):
    return parse_droid(droid(f"name: {name}\ndescription: d\n"), path, S)


def test_dr007_two_factory_droids_share_a_name() -> None:
    a = _doc("/p/.factory/droids/reviewer.md")
    b = _doc("/p/tools/droids/reviewer.md")
    out = duplicate_droid_diagnostics([a, b])
    assert set(out) == {a.path, b.path}
    (da,) = out[a.path]
    assert da.code == "DR007" and da.severity == Severity.WARNING and da.range == r(1, 6, 14)
    assert [(x.path, x.range) for x in da.related] == [(b.path, r(1, 6, 14))]


def test_dr007_two_claude_agents() -> None:
    a = _doc("/p/.claude/agents/reviewer.md")
    b = _doc("/p/.claude/agents/sub/reviewer.md")
    c = _doc("/p/.claude/agents/other.md", "other")
    out = duplicate_droid_diagnostics([a, b, c])
    assert set(out) == {a.path, b.path}


def test_dr007_near_misses() -> None:
    factory = _doc("/p/.factory/droids/reviewer.md")
    claude = _doc("/p/.claude/agents/reviewer.md")
    assert duplicate_droid_diagnostics([factory, claude]) == {}
    personal = _doc("/home/u/.factory/droids/reviewer.md")
    is_project = lambda p: p.startswith("/p/")  # noqa: E731
    assert duplicate_droid_diagnostics([factory, personal], is_project) == {}
    assert duplicate_droid_diagnostics([factory, factory]) == {}
    other = _doc("/p/.factory/droids/other.md", "other")
    assert duplicate_droid_diagnostics([factory, other]) == {}


# -- DR008 -----------------------------------------------------------------------------------------


def test_dr008_unknown_key() -> None:
    (d,) = only(found(droid(GOOD + "reasoningEfort: high\n")), "DR008")
    assert d.severity == Severity.HINT and d.range == r(4, 0, 14)
    assert "did you mean `reasoningEffort`" in d.message
    (allowed,) = only(found(droid(GOOD + "allowed-tools: [Read]\n"), CLAUDE), "DR008")
    assert allowed.data == {"suggestion": "tools"}
    (plain,) = only(found(droid(GOOD + "temperature: 0.5\n")), "DR008")
    assert plain.data is None
    assert only(found(droid(GOOD + "color: red\nmaxTurns: 3\n"), CLAUDE), "DR008") == []


# -- DR009 -----------------------------------------------------------------------------------------


def test_dr009_updated_before_created() -> None:
    text = droid(GOOD + 'createdAt: "2025-10-12"\nupdatedAt: 2025-10-01\n')
    (d,) = only(found(text), "DR009")
    assert d.severity == Severity.WARNING and d.range == r(5, 11, 21)
    assert d.related[0].range == r(4, 11, 23)
    same = droid(GOOD + 'createdAt: "2025-10-12"\nupdatedAt: 2025-10-12\n')
    assert only(found(same), "DR009") == []


# -- DR010 -----------------------------------------------------------------------------------------


def test_dr010_empty_body() -> None:
    (d,) = only(found(droid(GOOD, body="\n   \n")), "DR010")
    assert d.severity == Severity.WARNING and d.range == r(4, 0, 3)
    assert only(found(droid(GOOD, body="\nx")), "DR010") == []
    (eof,) = only(found("---\n" + GOOD + "---"), "DR010")
    assert eof.range == r(4, 0, 3)


# -- DR011 -----------------------------------------------------------------------------------------


def test_dr011_missing_description() -> None:
    (d,) = only(found(droid("name: reviewer\n")), "DR011")
    assert d.severity == Severity.WARNING and d.range == r(0, 0, 3)
    (empty,) = only(found(droid("name: reviewer\ndescription:\n")), "DR011")
    assert empty.range == r(2, 0, 11)
    assert only(found(droid(GOOD)), "DR011") == []


# -- DR012 -----------------------------------------------------------------------------------------


def test_dr012_duplicate_tool() -> None:
    (d,) = only(found(droid(GOOD + "tools: [Read, Grep, Read]\n")), "DR012")
    assert d.severity == Severity.WARNING and d.range == r(4, 20, 24)
    assert d.related[0].range == r(4, 8, 12)
    (s,) = only(found(droid(GOOD + "tools: Read, Read\n"), CLAUDE), "DR012")
    assert s.range == r(4, 13, 17)
    distinct = droid(GOOD + "tools: Bash(git diff:*), Bash(git log:*)\n")
    assert only(found(distinct, CLAUDE), "DR012") == []


# -- helpers ---------------------------------------------------------------------------------------


def test_flavor_of() -> None:
    assert flavor_of("/p/.factory/droids/a.md") == "factory"
    assert flavor_of(".factory/droids/a.md") == "factory"
    assert flavor_of("C:\\p\\.claude\\agents\\a.md") == "claude"
    assert flavor_of("/p/.claude/agents/core/a.md") == "claude"
    assert flavor_of("/p/droids/a.md") == "other"
    assert flavor_of("/p/notes/a.md") == "other"


def test_looks_like_droid() -> None:
    assert looks_like_droid(droid(GOOD))
    assert not looks_like_droid(droid("name: x\n"))
    assert not looks_like_droid("# just markdown\n")
    assert not looks_like_droid("---\n- a\n---\n")
    assert looks_like_droid(droid("name: x\ndescription: Use when: y\n"))


def test_split_tools_and_base_name() -> None:
    assert split_tools("Read, Bash(a, b), ,Grep") == [("Read", 0), ("Bash(a, b)", 6), ("Grep", 19)]
    assert tool_base_name("Bash(git diff:*)") == "Bash"
    assert tool_base_name(" Read ") == "Read"


def test_known_tool_lists_match_spec() -> None:
    assert "ApplyPatch" in FACTORY_TOOLS and "FetchUrl" in FACTORY_TOOLS
    assert "NotebookRead" in CLAUDE_CODE_TOOLS and "Bash" in CLAUDE_CODE_TOOLS


def test_bad_input_never_raises() -> None:
    samples = [
        "\x00\x01\x02\xff",
        "---\n\x00\n---\n",
        "---\nname: &a [*a]\n---\n",
        "---\nname: [a, b]\ndescription: {x: 1}\ntools: 5\n---\n",
        "---\nname: null\ntags: [[a]]\nhooks: 3\nmcpServers: [1]\n---\nb",
        "---\n? [a]\n: b\n---\n",
        "---\nname: x\nname: y\n---\n",
        "---\ncreatedAt: 2025-10-12\nupdatedAt: 2025-10-12T10:00:00\n---\n",
        "---\ntools: 'Read,\n  Reed'\n---\n",
        '---\ntools: "Re\\u0061d, Reed"\n---\n',
        "---\n\tname: x\n---\n",
        "---\n" + "x: " + "a" * 300_000 + "\n---\n",
        "x" * 1_000_000,
    ]
    for text in samples:
        doc = parse_droid(text, CLAUDE, S)
        assert isinstance(doc.diagnostics, list)


_TOKENS = [*"ab:- \t\n[]{},&*!|>'\"#?%@`\\0😀中\x00\r", "name", "tools", "description"]
_YAMLISH = st.lists(st.sampled_from(_TOKENS), max_size=60).map("".join)


@settings(max_examples=300, deadline=None)
@given(_YAMLISH)
def test_fuzzed_front_matter_never_raises(front: str) -> None:
    for path in (FACTORY, CLAUDE):
        doc = parse_droid(f"---\n{front}\n---\nbody\n", path, S)
        for d in doc.diagnostics:
            assert d.range.start <= d.range.end


# -- schema ----------------------------------------------------------------------------------------


def test_json_schema_shape() -> None:
    schema = droid_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].startswith("https://")
    assert schema["title"] and schema["type"] == "object"
    assert schema["required"] == ["name"]
    assert schema["additionalProperties"] is True
    assert set(schema["properties"]) == set(KNOWN_KEYS)
    assert set(KNOWN_KEYS) >= {
        "name", "description", "model", "reasoningEffort", "tools", "mcpServers", "version",
        "createdAt", "updatedAt", "location", "tags", "color", "disallowedTools",
        "permissionMode", "maxTurns", "skills", "hooks", "memory", "background", "isolation",
        "effort",
    }  # fmt: skip
    json.dumps(schema)
    types = {"string", "array", "object", "integer", "number", "boolean", "null"}

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "type" in node:
                assert node["type"] in types
            if "pattern" in node:
                re.compile(node["pattern"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(schema)
    for key, prop in schema["properties"].items():
        assert prop.get("description"), key


def test_json_schema_validates_with_jsonschema_when_available() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator.check_schema(droid_json_schema())


def test_key_rules_are_one_line_per_key() -> None:
    assert set(KEY_RULES) == set(KNOWN_KEYS)
    for key, rule in KEY_RULES.items():
        assert rule and "\n" not in rule, key


def test_model_is_the_source_of_rules() -> None:
    DroidFrontMatter.model_validate({"name": "a-b_1", "tools": "read-only"})
    with pytest.raises(ValidationError):
        DroidFrontMatter.model_validate({"name": "A"})


# -- the real-world corpus -------------------------------------------------------------------------


def _corpus_droid_files() -> list[Path]:
    found_files: set[Path] = set()
    for pattern in ("**/.factory/droids/*.md", "**/.claude/agents/**/*.md", "**/droids/*.md"):
        found_files.update(CORPUS.glob(pattern))
    return sorted(found_files)


#: errors that are real faults in those files (checked one by one)
EXPECTED_ERRORS = {
    # plain-text `Name: worker`, no YAML front matter at all
    ("akn966__Foreman/.factory/droids/worker.md", "DR001"),
    # Claude Code requires `name`
    ("21st-dev__1code/.claude/agents/data-flow-architect.md", "DR003"),
    # 786-character description; Factory documents and validates at most 500
    ("korallis__Droidz/.factory/droids/droidz-orchestrator.md", "DR004"),
}


def test_real_world_droids_parse_without_unexpected_errors() -> None:
    files = _corpus_droid_files()
    assert len(files) >= 20
    errors: set[tuple[str, str]] = set()
    docs = []
    for path in files:
        text = path.read_bytes().decode("utf-8", errors="replace")
        doc = parse_droid(text, str(path), S)
        docs.append(doc)
        rel = path.relative_to(CORPUS).as_posix()
        for d in doc.diagnostics:
            assert d.message and d.range.start <= d.range.end
            if d.severity == Severity.ERROR:
                errors.add((rel, d.code))
    assert errors == EXPECTED_ERRORS
    duplicate_droid_diagnostics(docs)


def test_real_world_unquoted_description_is_read_as_text() -> None:
    path = CORPUS / "1natsu172__dotfiles/.claude/agents/context7-docs-helper.md"
    doc = parse_droid(path.read_text(encoding="utf-8"), str(path), S)
    assert doc.name == "context7-docs-helper"
    assert doc.description and doc.description.startswith("Use this agent when")
    codes = {(d.code, d.severity) for d in doc.diagnostics}
    assert ("DR002", Severity.WARNING) in codes
    assert ("DR004", Severity.HINT) in codes
    assert "mcp__context7__resolve-library-id" in doc.tools
    assert not only(doc.diagnostics, "DR005")


# -- docs/language.md §B: the current key set ------------------------------------------------------------

CURRENT_CLAUDE = (
    "permissionMode: auto\neffort: 3\nbackground: \"true\"\ninitialPrompt: Start by reading\n"
    "color: cyan\nmemory: project\nisolation: worktree\nmaxTurns: 12\nskills: [review]\n"
    "hooks:\n  PreToolUse:\n    - matcher: Bash\n"
    "tools: Agent(worker, reviewer), Skill, AskUserQuestion, LSP, PowerShell, Monitor, "
    "SendMessage, Workflow, Bash(git diff:*), ListAgents, TaskOutput\n"
)


def test_current_claude_code_keys_are_quiet() -> None:
    assert found(droid(GOOD + CURRENT_CLAUDE), CLAUDE) == []


@pytest.mark.parametrize(
    ("line", "code", "severity"),
    [
        ("permissionMode: sometimes\n", "DR004", Severity.ERROR),
        ("effort: huge\n", "DR004", Severity.ERROR),
        ("effort: 2.5\n", "DR004", Severity.ERROR),
        ("background: maybe\n", "DR004", Severity.ERROR),
        ("memory: team\n", "DR004", Severity.ERROR),
        ("color: teal\n", "DR004", Severity.HINT),
        ("reasoningEffort: off\n", "DR004", Severity.HINT),
        ("reasoningEffort: none\n", "DR004", Severity.HINT),
        ("hooks: []\n", "DR013", Severity.WARNING),
        ("hooks: {}\n", "DR013", Severity.WARNING),
        ("hooks:\n", "DR013", Severity.WARNING),
        ("hooks: Stop\n", "DR013", Severity.WARNING),
    ],
)
def test_current_keys_near_misses(line, code, severity) -> None:
    diags = found(droid(GOOD + line), CLAUDE)
    assert [(d.code, d.severity, d.range.start.line) for d in diags] == [(code, severity, 4)]


def test_dr013_message_and_registration() -> None:
    (d,) = found(droid(GOOD + "hooks: []\n"), CLAUDE)
    assert d.name == "agent-dropped"
    assert "drops" in d.message and "`hooks`" in d.message


def test_factory_task_and_askuser_do_nothing_in_a_subagent() -> None:
    diags = found(droid(GOOD + "tools: [Read, Task, AskUser]\n"))
    assert [(d.code, d.severity, d.range) for d in diags] == [
        ("DR005", Severity.HINT, r(4, 14, 18)),
        ("DR005", Severity.HINT, r(4, 20, 27)),
    ]
    assert "no effect inside" in diags[0].message
    # near miss: a tool Factory does not have at all stays a warning
    (bad,) = found(droid(GOOD + "tools: [Reed]\n"))
    assert (bad.code, bad.severity) == ("DR005", Severity.WARNING)


def test_unknown_claude_tool_stays_a_hint() -> None:
    (d,) = found(droid(GOOD + "tools: [Frobnicate]\n"), CLAUDE)
    assert (d.code, d.severity) == ("DR005", Severity.HINT)
