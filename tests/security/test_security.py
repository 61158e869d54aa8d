"""What a malicious repository cannot make taskdroid do (docs/security.md cites each test here).

Core-level tests, the CLI in a subprocess, one language server session (pytest-lsp), and static
checks of the source (no shell, no process but the runner's, no disk write outside a known list).
"""

from __future__ import annotations

import ast
import asyncio
import builtins
import io
import os
import re
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS / "lsp"))

from lsprotocol import types  # noqa: E402
from lsputil import SERVER_ENV, custom_session, diagnostics_for, open_doc  # noqa: E402
from pygls.exceptions import JsonRpcException  # noqa: E402

from taskdroid.core.config import load_settings, parse_runner_value  # noqa: E402
from taskdroid.core.discovery import discover  # noqa: E402
from taskdroid.core.files import MAX_FILE_BYTES, ReadError, read_text  # noqa: E402
from taskdroid.core.frontmatter import parse_front_matter  # noqa: E402
from taskdroid.core.settings import DEFAULT_SETTINGS  # noqa: E402
from taskdroid.core.workspace import Workspace  # noqa: E402
from taskdroid.run import RunError, TaskLock  # noqa: E402
from taskdroid.run.logfile import open_log, resolve_log_dir  # noqa: E402

SOURCE = TESTS.parent / "server" / "taskdroid"
FAKE = TESTS / "fixtures" / "fake_droid.py"
POSIX = os.name == "posix"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# -- the runner comes from user scope only (CF001) ----------------------------------------------------


@pytest.mark.parametrize(
    "toml",
    [
        '[runner]\ncommand = ["evil"]\n',
        'runner.command = ["evil"]\n',
        'runner = { command = ["evil"] }\n',
        '"runner.command" = ["evil"]\n',
        '"taskdroid.runner.command" = ["evil"]\n',
        '[taskdroid.runner]\ncommand = ["evil"]\n',
        '[runner.command]\nx = "evil"\n',
        'runner = "evil"\n',
    ],
)
def test_runner_is_never_read_from_the_project_file(tmp_path, toml):
    _write(tmp_path / ".taskdroid.toml", 'exclude = ["x"]\n' + toml)
    loaded = load_settings(tmp_path, env={}, user_config=tmp_path / "no-user-config.toml")
    assert not loaded.settings.runner.command
    assert loaded.settings.exclude == ["x"]  # the rest of the file applies
    assert "runner.command" not in loaded.origins


# -- no shell anywhere ---------------------------------------------------------------------------------


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")
            base = ast.unparse(fn.value) if isinstance(fn, ast.Attribute) else ""
            yield node, base, name


def _sources():
    for path in sorted(SOURCE.rglob("*.py")):
        yield path.relative_to(SOURCE).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def test_no_shell_and_one_process_spawn_in_the_source():
    spawns = []
    for rel, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names]
                module = getattr(node, "module", None) or ""
                assert "pty" not in names and module != "pty", rel
                if "subprocess" in names or module == "subprocess":
                    raise AssertionError(f"{rel} imports subprocess")
        for node, base, name in _calls(tree):
            assert not any(k.arg == "shell" for k in node.keywords), (rel, node.lineno)
            assert name not in ("system", "popen", "create_subprocess_shell"), (rel, node.lineno)
            if base == "os":
                assert not name.startswith(("spawn", "exec", "fork")), (rel, name)
            if name in ("eval", "exec") and not base:
                raise AssertionError(f"{rel}:{node.lineno} calls {name}")
            if name.startswith("create_subprocess") or name in ("Popen", "run", "call"):
                if name != "run" or base in ("subprocess", "os"):
                    spawns.append((rel, name))
    assert spawns == [("run/supervise.py", "create_subprocess_exec")]


def test_runner_string_is_split_never_run_through_a_shell():
    assert parse_runner_value("droid exec '$(rm -rf ~)' `id` ; x") == [
        "droid",
        "exec",
        "$(rm -rf ~)",
        "`id`",
        ";",
        "x",
    ]


# -- what is written to disk, and where -------------------------------------------------------------

_WRITE_NAMES = {
    "write_text",
    "write_bytes",
    "rename",
    "unlink",
    "rmtree",
    "rmdir",
    "mkdir",
    "makedirs",
    "mkstemp",
    "mkdtemp",
    "chmod",
    "chown",
    "symlink",
    "truncate",
    "move",
    "copy",
    "copyfile",
    "copy2",
    "copytree",
    "link",
    "NamedTemporaryFile",
    "TemporaryDirectory",
    "FileHandler",
}

#: every place the package writes to disk: (module, function, call)
WRITE_SITES = {
    # rewriting a task file (taskdroid status, runs, the server without applyEdit): a temporary
    # file in the same folder swapped in (RENAME_EXCHANGE or os.replace), bytes appended by
    # another program meanwhile appended again, a conflicting version kept (core/fsio.py)
    ("core/fsio.py", "write_temp", "tempfile.mkstemp"),
    ("core/fsio.py", "write_temp", "os.fdopen('wb')"),
    ("core/fsio.py", "write_temp", "os.chmod"),
    ("core/fsio.py", "write_temp", "os.chown"),
    ("core/fsio.py", "write_temp", "os.unlink"),
    ("core/fsio.py", "replace_if_unchanged", "os.replace"),
    ("core/fsio.py", "replace_if_unchanged", "os.unlink"),
    ("core/fsio.py", "_after_swap", "os.replace"),
    ("core/fsio.py", "_after_swap", "os.unlink"),
    # late appends carried into the new file in their order: another swap of the new file's
    # temporary copy (itself under the lock), the displaced copy removed (core/fsio.py)
    ("core/fsio.py", "_carry_over_in_order", "os.replace"),
    ("core/fsio.py", "_carry_over_in_order", "os.unlink"),
    ("core/fsio.py", "_swap_back", "os.unlink"),
    ("core/fsio.py", "_append", "os.open(os.O_WRONLY | os.O_APPEND | getattr(os, 'O_BINARY', 0))"),
    ("core/fsio.py", "_keep", "os.rename"),
    # runs: the log folder (inside the workspace unless the user's logDir is absolute), its
    # .gitignore, exclusive new log files and lock files
    ("run/logfile.py", "resolve_log_dir", "p.mkdir"),
    ("run/logfile.py", "resolve_log_dir", "p / '.gitignore'.write_text"),
    ("run/logfile.py", "open_log", "open('xb')"),
    ("run/lock.py", "acquire", "os.open(os.O_WRONLY | os.O_CREAT | os.O_EXCL)"),
    ("run/lock.py", "acquire", "path.unlink"),
    ("run/lock.py", "acquire", "os.fdopen('w')"),
    ("run/lock.py", "release", "self.path.unlink"),
    # the server: a new droid file (exclusive create) when the client cannot create files …
    ("lsp/commands.py", "_write_new", "os.makedirs"),
    ("lsp/commands.py", "_write_new", "open('x')"),
    # … the user's own config file, created (exclusively, comments only) by
    # taskdroid.configureRunner when the client can show it: its path comes from XDG_CONFIG_HOME /
    # HOME, never from the workspace …
    ("lsp/runlens.py", "_ensure_file", "os.makedirs"),
    ("lsp/runlens.py", "_ensure_file", "open('x')"),
    # … and the log file named by `taskdroid lsp --log-file` (the command line)
    ("lsp/main.py", "_setup_logging", "logging.FileHandler"),
}


def _write_sites() -> set[tuple[str, str, str]]:
    found = set()
    for rel, tree in _sources():
        owner: dict[ast.AST, str] = {}
        for func in ast.walk(tree):  # outer functions first: inner ones overwrite
            if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                for node in ast.walk(func):
                    owner[node] = func.name
        for node, base, name in _calls(tree):
            hit = None
            if name in _WRITE_NAMES or (name == "replace" and base == "os"):
                hit = f"{base}.{name}" if base else name
            elif name == "open" and base == "os":
                hit = f"os.open({ast.unparse(node.args[1])})"
            elif name in ("open", "fdopen"):
                mode = node.args[1] if len(node.args) > 1 else None
                for k in node.keywords:
                    if k.arg == "mode":
                        mode = k.value
                if mode is not None and any(c in ast.unparse(mode) for c in "wax+"):
                    hit = f"{base + '.' if base else ''}{name}({ast.unparse(mode)})"
            if hit:
                found.add((rel, owner.get(node, "<module>"), hit))
    return found


def test_disk_writes_happen_only_at_known_places():
    found = _write_sites()
    found = {s for s in found if s[2] != "os.open(flags | getattr(os, 'O_BINARY', 0))"}
    # ``read_text`` opens read-only (O_RDONLY | O_NONBLOCK | O_NOCTTY), checked below; so does
    # the hashing of a run's Files entries (runner.requireChanges)
    found.discard(
        ("run/verify.py", "_file_signature", "os.open(os.O_RDONLY | getattr(os, 'O_NONBLOCK', 0))")
    )
    assert found == WRITE_SITES


def test_read_text_opens_read_only():
    src = (SOURCE / "core" / "files.py").read_text(encoding="utf-8")
    assert 'flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)' in src
    src = (SOURCE / "run" / "verify.py").read_text(encoding="utf-8")
    assert src.count("os.open(") == 1
    assert 'os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))' in src


# -- path traversal ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["../evil", "a/b", "..", "/etc/x", "a\\b", "x/../y", "-rf", ".hidden", "A", "a b", ""]
)
def test_create_droid_names_cannot_name_a_path(name):
    from taskdroid.lsp.commands import CREATE_DROID, validate

    with pytest.raises(JsonRpcException):
        validate(CREATE_DROID, ({"name": name},))


def test_droid_name_check_has_no_trailing_newline_loophole():
    from taskdroid.core.query import valid_droid_name, valid_task_id

    # `re.match` with `$` accepted "x\n" (``$`` matches before a final newline)
    assert not valid_droid_name("x\n") and valid_droid_name("x")
    assert not valid_task_id("1.1\n") and valid_task_id("1.1")


@pytest.mark.skipif(not POSIX, reason="symbolic links")
def test_create_droid_folder_that_a_link_leads_outside_is_refused(tmp_path):
    from taskdroid.lsp.commands import leaves_workspace

    root = tmp_path / "ws"
    outside = tmp_path / "outside"
    (root / ".factory").mkdir(parents=True)
    outside.mkdir()
    (root / ".factory" / "droids").symlink_to(outside, target_is_directory=True)
    (root / "inner").mkdir()
    (root / "inner-link").symlink_to(root / "inner", target_is_directory=True)
    assert leaves_workspace(str(root / ".factory" / "droids"), [str(root)])
    assert leaves_workspace(str(root / ".factory" / "droids" / "new"), [str(root)])
    assert not leaves_workspace(str(root / "inner-link"), [str(root)])
    assert not leaves_workspace(str(root / "droids"), [str(root)])  # not there yet: fine
    assert not leaves_workspace(str(outside), [str(root)])  # a folder the user named


def test_files_entries_are_never_opened(tmp_path, monkeypatch):
    """Files entries (TD031/TD032) are looked up with stat, never read, wherever they point."""
    root = tmp_path / "ws"
    text = (
        "- [x] 1 Done ✅\n"
        "  - **Completed**: 2025-01-01 10:00\n"
        "  - **Files**: ../../../../../etc/passwd, /etc/shadow, ~/.ssh/id_rsa, .env, .git/config,"
        " `../outside.md`\n"
    )
    opened: list[str] = []
    real_open, real_os_open = builtins.open, os.open

    def spy_open(file, *a, **k):
        opened.append(os.fspath(file) if not isinstance(file, int) else "<fd>")
        return real_open(file, *a, **k)

    def spy_os_open(path, *a, **k):
        opened.append(os.fspath(path))
        return real_os_open(path, *a, **k)

    monkeypatch.setattr(builtins, "open", spy_open)
    monkeypatch.setattr(io, "open", spy_open)
    monkeypatch.setattr(os, "open", spy_os_open)
    ws = Workspace(root, personal=False)
    path = str(root / "tasks" / "tasks.md")
    ws.set_task_text(path, text)
    codes = [d.code for d in ws.diagnostics(path)]
    assert codes.count("TD032") == 2 and "TD031" in codes
    assert opened == []


@pytest.mark.skipif(not POSIX, reason="named pipes and /dev")
def test_dependency_on_a_pipe_or_device_does_not_hang_the_cli(tmp_path):
    """A cross-file dependency on a `.md` symbolic link to a named pipe, /dev/stdin or /dev/zero
    (git stores symbolic links) was opened and read: the CLI (and the server) hung. Now only
    regular files are read."""
    root = tmp_path / "ws"
    (root / ".git").mkdir(parents=True)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    (root / "tasks").mkdir()
    (root / "tasks" / "pipe.md").symlink_to(fifo)
    (root / "tasks" / "stdin.md").symlink_to("/dev/stdin")
    (root / "tasks" / "zero.md").symlink_to("/dev/zero")
    _write(
        root / "tasks" / "tasks.md",
        "- [ ] 1 a\n  - **Dependencies**: pipe.md#1, stdin.md#1, zero.md#1\n",
    )
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "taskdroid", "check", "--format", "json"],
        cwd=root,
        stdin=subprocess.PIPE,  # open and silent, like the server's stdin
        capture_output=True,
        text=True,
        timeout=30,
        env={**SERVER_ENV, "HOME": str(tmp_path)},
    )
    assert time.monotonic() - started < 20
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.count('"TD010"') == 3


@pytest.mark.skipif(not POSIX, reason="named pipes and /dev")
def test_read_text_refuses_what_is_not_a_bounded_regular_file(tmp_path):
    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)
    for p in (fifo, Path("/dev/zero"), tmp_path):
        with pytest.raises(ReadError, match=r"not a regular file|cannot read"):
            read_text(p)
    big = tmp_path / "big.md"
    with open(big, "wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)  # sparse: refused before anything is read
    started = time.monotonic()
    with pytest.raises(ReadError, match="too large"):
        read_text(big)
    assert time.monotonic() - started < 1
    (tmp_path / "bin.md").write_bytes(b"- [ ] 1 a\x00\n")
    with pytest.raises(ReadError, match="binary"):
        read_text(tmp_path / "bin.md")
    (tmp_path / "latin.md").write_bytes(b"- [ ] 1 caf\xe9\n")
    with pytest.raises(ReadError, match="not UTF-8"):
        read_text(tmp_path / "latin.md")


@pytest.mark.skipif(not POSIX, reason="named pipes and /dev")
def test_discovery_lists_no_pipe_or_device_behind_a_link(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "pipe.md").symlink_to(tmp_path / "pipe")
    (tmp_path / "tasks" / "zero.md").symlink_to("/dev/zero")
    _write(tmp_path / "tasks" / "real.md", "- [ ] 1 a\n")
    found = discover(tmp_path, DEFAULT_SETTINGS)
    assert [p.name for p in found.task_files] == ["real.md"]


def test_log_dir_stays_in_the_workspace(tmp_path):
    root = tmp_path / "ws"
    root.mkdir()
    for bad in ("..", "../logs", "a/../../logs", "./x/../../../logs"):
        with pytest.raises(RunError, match="outside the workspace"):
            resolve_log_dir(str(root), bad)
    if POSIX:
        (root / "linked").symlink_to(tmp_path, target_is_directory=True)
        with pytest.raises(RunError, match="outside the workspace"):
            resolve_log_dir(str(root), "linked/runs")
    default = resolve_log_dir(str(root), ".taskdroid/runs")
    assert default == root / ".taskdroid" / "runs"
    assert (default / ".gitignore").read_text() == "*\n"  # logs are never committed
    assert not (tmp_path / "logs").exists()


@pytest.mark.skipif(not POSIX, reason="symbolic links")
def test_log_and_lock_files_never_follow_a_planted_link(tmp_path):
    logs = tmp_path / "ws" / ".taskdroid" / "runs"
    logs.mkdir(parents=True)
    target = tmp_path / "victim.txt"
    when = datetime(2025, 1, 12, 15, 40, 0)
    (logs / "tasks-1.1-20250112-154000.log").symlink_to(target)
    path, fh = open_log(logs, "tasks", "1.1", when)
    fh.close()
    assert path.name == "tasks-1.1-20250112-154000-2.log" and not path.is_symlink()
    assert not target.exists()
    # a lock file planted as a link (to a missing file, or to a pipe) is replaced, not followed
    task_path = str(tmp_path / "ws" / "tasks.md")
    lock_path = TaskLock.path_for(logs, task_path, "1.1")
    lock_path.symlink_to(target)
    lock = TaskLock.acquire(logs, task_path, "1.1", "run-1")
    assert not lock_path.is_symlink() and not target.exists()
    lock.release()
    os.mkfifo(tmp_path / "pipe")
    lock_path.symlink_to(tmp_path / "pipe")
    started = time.monotonic()
    lock = TaskLock.acquire(logs, task_path, "1.1", "run-2")
    assert time.monotonic() - started < 5 and not lock_path.is_symlink()
    lock.release()


# -- YAML ---------------------------------------------------------------------------------------------


def _plain(value) -> bool:
    if isinstance(value, dict):
        return all(_plain(k) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, str | int | float | bool | date)


def test_yaml_tags_never_construct_python_objects(tmp_path):
    marker = tmp_path / "pwned"
    for tag in (
        f"!!python/object/apply:os.system ['touch {marker}']",
        f"!!python/object/new:subprocess.Popen [['touch', '{marker}']]",
        "!!python/name:os.system",
        "!!python/module:os",
    ):
        fm = parse_front_matter(f"---\nname: x\ndescription: {tag}\n---\nbody\n")
        assert "DR002" in [d.code for d in fm.diagnostics]
        assert _plain(fm.data)
    assert not marker.exists()


# -- the language server ------------------------------------------------------------------------------


@pytest.mark.skipif(not POSIX, reason="symbolic links and named pipes")
@pytest.mark.asyncio(loop_scope="function")
async def test_server_never_runs_a_project_runner_and_survives_hostile_files(tmp_path_factory):
    recorded = tmp_path_factory.mktemp("rec") / "argv.json"
    toml = (
        f"[runner]\ncommand = [{str(sys.executable)!r}, {str(FAKE)!r}, "
        f"'--record', {str(recorded)!r}, '{{prompt}}']\n"
    )
    async with custom_session(tmp_path_factory, "push", files={".taskdroid.toml": toml}) as (
        client,
        session,
    ):
        # 1. the project file's runner is ignored: the run is refused as "not configured"
        with pytest.raises(JsonRpcException) as info:
            await asyncio.wait_for(
                client.workspace_execute_command_async(
                    types.ExecuteCommandParams(
                        command="taskdroid.runTask",
                        arguments=[
                            {
                                "uri": session.uri("tasks/tasks-main.md"),
                                "taskId": "1.3",
                                "force": True,
                            }
                        ],
                    )
                ),
                10,
            )
        assert "runner.command" in str(info.value)
        assert not recorded.exists()
        assert not session.path(".taskdroid/runs").exists()

        # 2. createDroid through a folder that a link leads outside the workspace: refused
        outside = tmp_path_factory.mktemp("outside")
        session.path("linked").symlink_to(outside, target_is_directory=True)
        with pytest.raises(JsonRpcException) as info:
            await asyncio.wait_for(
                client.workspace_execute_command_async(
                    types.ExecuteCommandParams(
                        command="taskdroid.createDroid",
                        arguments=[{"name": "sneaky", "folder": "linked"}],
                    )
                ),
                10,
            )
        assert "outside the workspace" in str(info.value)
        assert list(outside.iterdir()) == []

        # 3. a dependency on a link to a named pipe or to the server's own stdin: no hang
        fifo = tmp_path_factory.mktemp("fifo") / "pipe"
        os.mkfifo(fifo)
        session.path("tasks/pipe.md").symlink_to(fifo)
        session.path("tasks/stdin.md").symlink_to("/dev/stdin")
        uri = session.uri("tasks/tasks-hostile.md")
        open_doc(client, uri, "- [ ] 1 a\n  - **Dependencies**: pipe.md#1, stdin.md#1\n")
        diags = await diagnostics_for(
            client, session, uri, lambda d: [x.code for x in d] == ["TD010", "TD010"]
        )
        assert len(diags) == 2
        hover = await asyncio.wait_for(
            client.text_document_hover_async(
                types.HoverParams(
                    text_document=types.TextDocumentIdentifier(uri=uri),
                    position=types.Position(line=0, character=3),
                )
            ),
            10,
        )
        assert hover is not None  # still answering


# -- globs from the project file cannot hang discovery (ReDoS) ------------------------------------------


@pytest.mark.parametrize(
    "pattern",
    ["**/" * 12 + "x", "*a" * 12 + "*b", "**/*a*/**/*a*/**/*a*/**/*a*/**/*a*/**/b", "{*a,*b}" * 6],
)
def test_hostile_globs_match_in_linear_time(tmp_path, pattern):
    """These took minutes per path with the backtracking translation (a `.taskdroid.toml` with
    `taskFiles = ["**/**/**/…/x"]` hung discovery)."""
    from taskdroid.core.globs import compile_globs, is_excluded

    rx = compile_globs((pattern,))
    started = time.monotonic()
    for path in ("a/" * 30 + "y", "a" * 40, "aa/" * 25 + "c", "ab" * 200, "a/" * 200 + "b"):
        rx.match(path)
        is_excluded(path, [pattern])
    assert time.monotonic() - started < 2


def _oracle(pattern: str) -> re.Pattern[str]:
    """The straightforward (backtracking) translation, as it was: the reference semantics."""
    from taskdroid.core import globs

    pattern = pattern.strip()
    anchored = pattern.startswith(("/", "./"))
    segments = [s for s in pattern.split("/") if s and s != "."]
    if not segments:
        return re.compile(r"(?!)")
    if len(segments) == 1 and not anchored and segments[0] != "**":
        segments.insert(0, "**")
    out = []
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == "**":
            out.append(".*" if last else "(?:[^/]+/)*")
            continue
        j = 0
        while j < len(seg):
            c = seg[j]
            if c == "*":
                while j < len(seg) and seg[j] == "*":
                    j += 1
                out.append("[^/]*")
                continue
            if c == "?":
                out.append("[^/]")
            elif c == "[":
                cls, end = globs._translate_class(seg, j)
                if cls is not None:
                    out.append(cls)
                    j = end
                    continue
                out.append(re.escape(c))
            else:
                out.append(re.escape(c))
            j += 1
        if not last:
            out.append("/")
    return re.compile(rf"(?s:{''.join(out)})\Z")


@settings(max_examples=400, deadline=None, database=None)
@given(
    st.lists(
        st.sampled_from(["**", "*", "a", "b", "?", "*a*", "a*b", "[ab]", "[!a]"]),
        min_size=1,
        max_size=5,
    ).map("/".join),
    st.lists(st.sampled_from(["a", "b", "ab", "ba", "aab", "c", ""]), min_size=1, max_size=6).map(
        "/".join
    ),
)
def test_linear_globs_match_exactly_what_the_backtracking_ones_did(pattern, path):
    from taskdroid.core.globs import compile_glob

    assert bool(compile_glob(pattern).match(path)) == bool(_oracle(pattern).match(path))


def test_a_huge_project_file_is_not_read(tmp_path):
    from taskdroid.core.config import MAX_CONFIG_BYTES

    with open(tmp_path / ".taskdroid.toml", "wb") as fh:
        fh.truncate(MAX_CONFIG_BYTES + 1)  # sparse: nothing to read
    loaded = load_settings(tmp_path, env={}, user_config=tmp_path / "none.toml")
    assert any("larger than" in p for p in loaded.problems)
    assert loaded.settings == DEFAULT_SETTINGS
