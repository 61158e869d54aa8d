"""Settings from every source of docs/language.md §10: precedence, CF001, invalid values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from taskdroid.core.config import (
    LoadedSettings,
    default_user_config_path,
    load_settings,
    parse_runner_value,
    settings_from_dict,
)
from taskdroid.core.diagnostics import Severity
from taskdroid.core.settings import DEFAULT_SETTINGS, DEFAULT_TASK_FILES, Settings
from taskdroid.core.text import Range


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


@pytest.fixture
def user_file(tmp_path: Path) -> Path:
    return tmp_path / "config" / "taskdroid" / "config.toml"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load(root: Path | None, user_file: Path, **kw: Any) -> LoadedSettings:
    kw.setdefault("env", {})
    return load_settings(root, user_config=user_file, **kw)


# -- sources and precedence -----------------------------------------------------------------------


def test_defaults_when_nothing_is_configured(ws: Path, user_file: Path) -> None:
    loaded = load(ws, user_file)
    assert loaded.settings == Settings()
    assert loaded.problems == []
    assert loaded.project_file is None
    assert loaded.project_diagnostics == []
    assert loaded.origins == {}


def test_the_unvalidated_defaults_are_what_validation_gives() -> None:
    """DEFAULT_SETTINGS (what a project without settings gets) is built without pydantic's
    validation; it must be exactly a validated ``Settings()``."""
    validated = Settings.model_validate({})
    assert DEFAULT_SETTINGS == validated == Settings()
    assert DEFAULT_SETTINGS.model_dump() == validated.model_dump()
    assert DEFAULT_SETTINGS.model_fields_set == validated.model_fields_set == set()
    for sub in ("diagnostics", "runner"):
        assert getattr(DEFAULT_SETTINGS, sub) == getattr(validated, sub)
        assert getattr(DEFAULT_SETTINGS, sub).model_fields_set == set()
    assert DEFAULT_SETTINGS.model_dump(exclude_unset=True) == {}
    with pytest.raises(ValidationError):  # frozen, like a validated instance
        DEFAULT_SETTINGS.exclude = ["x"]  # type: ignore[misc]


def test_no_root_reads_no_project_file(user_file: Path) -> None:
    assert load(None, user_file).settings == Settings()


def test_project_file_applies(ws: Path, user_file: Path) -> None:
    project = write(
        ws / ".taskdroid.toml",
        'taskFiles = ["plans/*.md"]\npriorities = ["p0", "p1"]\n'
        'exclude = ["build"]\n[markerAliases]\n"?" = "blocked"\n'
        '[diagnostics]\ndisable = ["TD022"]\n[diagnostics.severity]\nTD040 = "warning"\n',
    )
    loaded = load(ws, user_file)
    s = loaded.settings
    assert loaded.problems == []
    assert loaded.project_file == project
    assert s.taskFiles == ["plans/*.md"]
    assert s.priorities == ["P0", "P1"]
    assert s.exclude == ["build"]
    assert s.markerAliases == {"?": "blocked"}
    assert s.diagnostics.disable == ["TD022"]
    assert s.diagnostics.severity == {"TD040": Severity.WARNING}
    assert loaded.origins["taskFiles"] == ".taskdroid.toml"


def test_user_file_wins_over_project_file(ws: Path, user_file: Path) -> None:
    write(ws / ".taskdroid.toml", 'taskFiles = ["p/*.md"]\nextraTools = ["A"]\n')
    write(user_file, 'taskFiles = ["u/*.md"]\n')
    s = load(ws, user_file).settings
    assert s.taskFiles == ["u/*.md"]
    assert s.extraTools == ["A"]


def test_lsp_wins_over_user_file(ws: Path, user_file: Path) -> None:
    write(user_file, 'taskFiles = ["u/*.md"]\n[runner]\ncommand = ["u"]\ntimeoutSeconds = 5\n')
    loaded = load(ws, user_file, lsp={"taskFiles": ["l/*.md"], "runner": {"command": ["l"]}})
    s = loaded.settings
    assert s.taskFiles == ["l/*.md"]
    assert s.runner.command == ["l"]
    assert s.runner.timeoutSeconds == 5  # merged key by key
    assert loaded.origins["runner.command"] == "editor settings"
    assert loaded.origins["runner.timeoutSeconds"] == str(user_file)


def test_env_runner_wins_over_lsp(ws: Path, user_file: Path) -> None:
    lsp = {"runner.command": ["from-lsp"]}
    env = {"TASKDROID_RUNNER": '["droid", "exec", "{prompt}"]'}
    assert load(ws, user_file, lsp=lsp, env=env).settings.runner.command == [
        "droid",
        "exec",
        "{prompt}",
    ]
    env = {"TASKDROID_RUNNER": "claude -p '{prompt}' --flag"}
    assert load(ws, user_file, lsp=lsp, env=env).settings.runner.command == [
        "claude",
        "-p",
        "{prompt}",
        "--flag",
    ]
    # empty: not set
    assert load(ws, user_file, lsp=lsp, env={"TASKDROID_RUNNER": " "}).settings.runner.command == [
        "from-lsp"
    ]


def test_config_file_wins_over_env_and_user_file(ws: Path, user_file: Path, tmp_path: Path) -> None:
    write(user_file, 'taskFiles = ["u/*.md"]\nexclude = ["x"]\n')
    cfg = write(
        tmp_path / "cli.toml", 'taskFiles = ["c/*.md"]\n[runner]\ncommand = "from-config"\n'
    )
    loaded = load(
        ws,
        user_file,
        lsp={"taskFiles": ["l/*.md"]},
        env={"TASKDROID_RUNNER": "from-env"},
        config_file=cfg,
    )
    assert loaded.problems == []
    assert loaded.settings.taskFiles == ["c/*.md"]
    assert loaded.settings.exclude == ["x"]
    assert loaded.settings.runner.command == ["from-config"]
    assert loaded.project_diagnostics == []  # runner is fine outside the project file


def test_runner_override_wins_over_everything(ws: Path, user_file: Path, tmp_path: Path) -> None:
    write(user_file, '[runner]\ncommand = ["user"]\n')
    cfg = write(tmp_path / "cli.toml", '[runner]\ncommand = ["config"]\n')
    common: dict[str, Any] = {
        "lsp": {"runner": {"command": ["lsp"]}},
        "env": {"TASKDROID_RUNNER": "env"},
        "config_file": cfg,
    }
    assert load(ws, user_file, runner_override="cli --x", **common).settings.runner.command == [
        "cli",
        "--x",
    ]
    assert load(ws, user_file, runner_override=["a b", "c"], **common).settings.runner.command == [
        "a b",
        "c",
    ]
    assert load(ws, user_file, runner_override='["j", "k"]', **common).settings.runner.command == [
        "j",
        "k",
    ]


def test_nested_tables_merge_key_by_key(ws: Path, user_file: Path) -> None:
    write(
        ws / ".taskdroid.toml",
        '[diagnostics]\ndisable = ["TD022"]\n[diagnostics.severity]\nTD040 = "warning"\nTD005 = "information"\n',
    )
    write(
        user_file, '[diagnostics]\ndisable = ["TD030"]\n[diagnostics.severity]\nTD005 = "error"\n'
    )
    loaded = load(ws, user_file, lsp={"diagnostics.severity": {"TD012": "hint"}})
    d = loaded.settings.diagnostics
    assert d.disable == ["TD030"]
    assert d.severity == {
        "TD040": Severity.WARNING,
        "TD005": Severity.ERROR,
        "TD012": Severity.HINT,
    }


def test_user_file_at_the_xdg_location(tmp_path: Path) -> None:
    write(tmp_path / "xdg" / "taskdroid" / "config.toml", 'extraTools = ["Zap"]\n')
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path / "home")}
    assert default_user_config_path(env) == tmp_path / "xdg" / "taskdroid" / "config.toml"
    assert load_settings(None, env=env).settings.extraTools == ["Zap"]


def test_user_file_default_location_under_home(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": "relative/ignored"}
    assert default_user_config_path(env) == tmp_path / ".config" / "taskdroid" / "config.toml"


def test_missing_user_file_is_silent_but_missing_config_file_is_not(
    ws: Path, user_file: Path, tmp_path: Path
) -> None:
    assert load(ws, user_file).problems == []
    problems = load(ws, user_file, config_file=tmp_path / "nope.toml").problems
    assert len(problems) == 1 and "nope.toml" in problems[0] and "not found" in problems[0]


# -- the LSP payload ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        {"diagnostics": {"disable": ["TD022"]}, "taskFiles": ["a/*.md"]},
        {"diagnostics.disable": ["TD022"], "taskFiles": ["a/*.md"]},
        {"taskdroid": {"diagnostics": {"disable": ["td022"]}, "taskFiles": ["a/*.md"]}},
        {"settings": {"taskdroid": {"diagnostics.disable": ["TD022"], "taskFiles": ["a/*.md"]}}},
        {"taskdroid.diagnostics.disable": ["TD022"], "taskdroid.taskFiles": ["a/*.md"]},
    ],
)
def test_lsp_payload_shapes(ws: Path, user_file: Path, payload: dict[str, Any]) -> None:
    loaded = load(ws, user_file, lsp=payload)
    assert loaded.problems == []
    assert loaded.settings.diagnostics.disable == ["TD022"]
    assert loaded.settings.taskFiles == ["a/*.md"]


def test_lsp_nulls_and_defaults_do_not_override_the_project_file(ws: Path, user_file: Path) -> None:
    write(ws / ".taskdroid.toml", 'taskFiles = ["p/*.md"]\nexclude = ["b"]\n')
    lsp = {
        "taskFiles": list(DEFAULT_TASK_FILES),  # what VS Code sends for an unset setting
        "exclude": None,
        "runner": {"command": None, "timeoutSeconds": 3600},
        "diagnostics": {"severity": {}},
    }
    loaded = load(ws, user_file, lsp=lsp)
    assert loaded.problems == []
    assert loaded.settings.taskFiles == ["p/*.md"]
    assert loaded.settings.exclude == ["b"]
    assert loaded.settings.runner.command is None


def test_settings_from_dict(tmp_path: Path) -> None:
    data, problems = settings_from_dict(
        {"taskdroid": {"diagnostics.disable": ["td022"], "runner": {"timeoutSeconds": "x"}}},
        "workspace/configuration",
    )
    assert data == {"diagnostics": {"disable": ["TD022"]}}
    assert len(problems) == 1
    assert problems[0].startswith("workspace/configuration: runner.timeoutSeconds: expected")
    assert Settings.model_validate(data).diagnostics.disable == ["TD022"]


# -- runner keys in the project file: CF001 -------------------------------------------------------


def test_cf001_runner_table(ws: Path, user_file: Path) -> None:
    write(
        ws / ".taskdroid.toml",
        'taskFiles = ["p/*.md"]\n\n[runner]\ncommand = ["evil", "{prompt}"]\n  timeoutSeconds = 5\n'
        '[diagnostics]\ndisable = ["TD022"]\n',
    )
    loaded = load(ws, user_file)
    s = loaded.settings
    assert s.runner.command is None and s.runner.timeoutSeconds == 3600
    assert s.taskFiles == ["p/*.md"] and s.diagnostics.disable == ["TD022"]  # the rest applies
    assert [(d.code, d.range) for d in loaded.project_diagnostics] == [
        ("CF001", Range.of(3, 0, 7)),
        ("CF001", Range.of(4, 2, 16)),
    ]
    d = loaded.project_diagnostics[0]
    assert d.severity == Severity.WARNING
    assert "runner.command" in d.message and "user settings" in d.message
    assert "ignored" in d.message
    assert loaded.problems == []


def test_cf001_dotted_key(ws: Path, user_file: Path) -> None:
    write(
        ws / ".taskdroid.toml",
        '# comment\nexclude = ["b"]\nrunner.command = "evil"\nrunner . logDir = "x"\n',
    )
    loaded = load(ws, user_file)
    assert loaded.settings.exclude == ["b"]
    assert loaded.settings.runner.command is None
    assert [d.range for d in loaded.project_diagnostics] == [
        Range.of(2, 0, 14),
        Range.of(3, 0, 15),
    ]


def test_cf001_inline_table(ws: Path, user_file: Path) -> None:
    write(
        ws / ".taskdroid.toml",
        'exclude = ["b"]\nrunner = { command = ["a", "b"], "maxParallel" = 9 }\n',
    )
    loaded = load(ws, user_file)
    assert loaded.settings.runner.maxParallel == 2
    assert [d.range for d in loaded.project_diagnostics] == [
        Range.of(1, 11, 18),
        Range.of(1, 33, 46),
    ]
    assert "runner.maxParallel" in loaded.project_diagnostics[1].message


def test_cf001_ranges_count_code_points_and_skip_strings(ws: Path, user_file: Path) -> None:
    write(
        ws / ".taskdroid.toml",
        'priorities = ["ÉTÉ", "✅"] # runner.command = x\nnote = """\n[runner]\ncommand = 1\n"""\n'
        'extraTools = ["🔄"]; runner.command = ["x"]\n'.replace("; ", "\n"),
    )
    loaded = load(ws, user_file)
    assert [d.range for d in loaded.project_diagnostics] == [Range.of(6, 0, 14)]


def test_cf001_columns_after_non_ascii_text(ws: Path, user_file: Path) -> None:
    write(ws / ".taskdroid.toml", 'runner = { logDir = "✅⚠️é", command = ["x"] }\n')
    loaded = load(ws, user_file)
    assert [d.range for d in loaded.project_diagnostics] == [
        Range.of(0, 11, 17),
        Range.of(0, 28, 35),  # ⚠️ is two code points
    ]


def test_cf001_runner_as_a_plain_value_and_crlf(ws: Path, user_file: Path) -> None:
    write(ws / ".taskdroid.toml", 'exclude = ["b"]\r\nrunner = "droid exec"\r\n')
    loaded = load(ws, user_file)
    assert [d.range for d in loaded.project_diagnostics] == [Range.of(1, 0, 6)]
    assert loaded.settings.exclude == ["b"]


def test_cf001_runner_subtable_header(ws: Path, user_file: Path) -> None:
    write(ws / ".taskdroid.toml", "[runner.command]\nx = 1\n")
    loaded = load(ws, user_file)
    assert [d.range for d in loaded.project_diagnostics] == [Range.of(0, 1, 15)]


def test_cf001_quoted_flat_key(ws: Path, user_file: Path) -> None:
    write(ws / ".taskdroid.toml", '"runner.command" = ["x"]\n')
    loaded = load(ws, user_file)
    assert loaded.settings.runner.command is None
    assert [d.range for d in loaded.project_diagnostics] == [Range.of(0, 0, 16)]


def test_project_runner_ignored_but_user_runner_applies(ws: Path, user_file: Path) -> None:
    write(ws / ".taskdroid.toml", '[runner]\ncommand = ["evil"]\nlogDir = "p"\n')
    write(user_file, '[runner]\ncommand = ["good"]\n')
    loaded = load(ws, user_file)
    assert loaded.settings.runner.command == ["good"]
    assert loaded.settings.runner.logDir == ".taskdroid/runs"
    assert len(loaded.project_diagnostics) == 2


# -- invalid settings never raise -----------------------------------------------------------------


def test_invalid_values_fall_back_to_the_default(ws: Path, user_file: Path) -> None:
    write(
        ws / ".taskdroid.toml",
        'priorities = 3\ntaskFiles = ["ok/*.md"]\nextraTools = [1, 2]\n'
        '[markerAliases]\n"[[" = "completed"\n[diagnostics]\ndisable = ["TD999"]\n'
        '[diagnostics.severity]\nTD040 = "loud"\nTD005 = "warning"\n',
    )
    loaded = load(ws, user_file)
    s = loaded.settings
    assert s.taskFiles == ["ok/*.md"]
    assert s.priorities == Settings().priorities
    assert s.extraTools == []
    assert s.markerAliases == Settings().markerAliases
    assert s.diagnostics.disable == []
    assert s.diagnostics.severity == {"TD005": Severity.WARNING}
    problems = loaded.problems
    assert len(problems) == 5
    assert (
        problems[0]
        == ".taskdroid.toml: priorities: expected a list of strings, got 3; using the default"
    )
    assert problems[1].startswith(".taskdroid.toml: extraTools: expected a list of strings")
    assert "markerAliases" in problems[2] and "brackets" in problems[2]
    assert "TD999" in problems[3]
    assert "diagnostics.severity.TD040" in problems[4] and "loud" in problems[4]


def test_invalid_value_keeps_the_earlier_source(ws: Path, user_file: Path) -> None:
    write(ws / ".taskdroid.toml", "[runner]\n")
    write(user_file, "[runner]\ntimeoutSeconds = 60\n")
    loaded = load(ws, user_file, lsp={"runner": {"timeoutSeconds": 0}})
    assert loaded.settings.runner.timeoutSeconds == 60
    assert loaded.problems == [
        f"editor settings: runner.timeoutSeconds: expected a whole number ≥ 1, got 0; "
        f"keeping the value from {user_file}"
    ]


def test_unknown_keys_are_reported_with_a_suggestion(ws: Path, user_file: Path) -> None:
    write(ws / ".taskdroid.toml", 'taskfiles = ["a"]\nbogus = 1\ndiagnostics = 3\n')
    problems = load(ws, user_file).problems
    assert (
        problems[0]
        == ".taskdroid.toml: unknown setting `taskfiles` (did you mean `taskFiles`?); ignored"
    )
    assert problems[1] == ".taskdroid.toml: unknown setting `bogus`; ignored"
    assert problems[2].startswith(".taskdroid.toml: diagnostics: expected a table")


def test_toml_syntax_error_is_one_problem_with_line_and_column(ws: Path, user_file: Path) -> None:
    write(ws / ".taskdroid.toml", 'exclude = ["a"]\ntaskFiles = = 2\n')
    write(user_file, 'extraTools = ["Zap"]\n')
    loaded = load(ws, user_file)
    assert loaded.problems == [
        ".taskdroid.toml: invalid TOML at line 2, column 13: Invalid value; file ignored"
    ]
    assert loaded.settings.exclude == []
    assert loaded.settings.extraTools == ["Zap"]  # other sources still apply
    assert loaded.project_file == ws / ".taskdroid.toml"


def test_toml_error_at_end_of_document(tmp_path: Path, user_file: Path) -> None:
    write(user_file, "exclude = [\n  'a',\n")
    problems = load(None, user_file).problems
    assert problems == [
        f"{user_file}: invalid TOML at line 3, column 1: Invalid value; file ignored"
    ]


def test_unreadable_and_binary_files(ws: Path, user_file: Path) -> None:
    user_file.parent.mkdir(parents=True)
    user_file.write_bytes(b"\xff\xfe exclude")
    (ws / ".taskdroid.toml").mkdir()  # a folder, not a file: not a project file
    loaded = load(ws, user_file)
    assert loaded.project_file is None
    assert len(loaded.problems) == 1 and "UTF-8" in loaded.problems[0]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('["a", 1]', "JSON array of strings"),
        ("[not json", "not a valid JSON array"),
        ("a 'b", "shell"),
        ("[]", "empty"),
    ],
)
def test_bad_env_runner(ws: Path, user_file: Path, value: str, message: str) -> None:
    write(user_file, '[runner]\ncommand = ["user"]\n')
    loaded = load(ws, user_file, env={"TASKDROID_RUNNER": value})
    assert loaded.settings.runner.command == ["user"]
    assert len(loaded.problems) == 1
    assert loaded.problems[0].startswith("TASKDROID_RUNNER: ")
    assert message in loaded.problems[0]
    assert loaded.problems[0].endswith(f"keeping the value from {user_file}")


def test_parse_runner_value() -> None:
    assert parse_runner_value('droid exec --auto low "{prompt}"') == [
        "droid",
        "exec",
        "--auto",
        "low",
        "{prompt}",
    ]
    assert parse_runner_value(' ["a b"]') == ["a b"]
    with pytest.raises(ValueError):
        parse_runner_value("")


def test_lsp_payload_that_is_not_an_object(ws: Path, user_file: Path) -> None:
    loaded = load(ws, user_file, lsp=["taskFiles"])  # type: ignore[arg-type]
    assert loaded.settings == Settings()
    assert loaded.problems == ['editor settings: expected an object, got ["taskFiles"]; ignored']


def test_verify_settings_are_user_scope_only(ws: Path, user_file: Path) -> None:
    """runner.verify and runner.requireChanges (docs/language.md §11): a project file that sets
    them gets CF001 on each and they stay off; the user file turns them on."""
    write(ws / ".taskdroid.toml", "[runner]\nverify = true\nrequireChanges = true\n")
    loaded = load(ws, user_file)
    assert not loaded.settings.runner.verify and not loaded.settings.runner.requireChanges
    assert [(d.code, d.range) for d in loaded.project_diagnostics] == [
        ("CF001", Range.of(1, 0, 6)),
        ("CF001", Range.of(2, 0, 14)),
    ]
    assert "runner.verify" in loaded.project_diagnostics[0].message
    write(user_file, "[runner]\nverify = true\nrequireChanges = true\n")
    loaded = load(ws, user_file)
    assert loaded.settings.runner.verify and loaded.settings.runner.requireChanges
    write(user_file, '[runner]\nverify = "sometimes"\n')
    loaded = load(ws, user_file)
    assert not loaded.settings.runner.verify
    assert any("runner.verify" in p and "true or false" in p for p in loaded.problems)
