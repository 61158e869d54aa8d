"""docs/editors.md as written: each editor's snippet, extracted verbatim from the doc (the fenced
block after ``<!-- snippet: NAME -->``), is the whole configuration of a fresh HOME. The editor is
started from ``/`` with a task file of a copy of ``examples/mistakes`` given by a relative path —
no root, workspace folder or server command comes from the test — and must find the project,
start ``taskdroid lsp`` (the console script, on ``PATH``) and show what ``taskdroid check`` run in
the project folder reports; then hover, definition, a quick fix and droid completion go through
the snippet's own keys. Helix and Zed snippets are parsed (TOML / JSON).

Neovim, Emacs (eglot) and Vim (ALE) are driven this way. The editors come from Debian
(``.ci/run`` installs them: neovim, emacs-nox, elpa-eglot, elpa-markdown-mode, vim, vim-ale); a
missing one skips its test.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import editor_e2e as e2e
import pytest

DOC = e2e.HERE.parents[1] / "docs" / "editors.md"
PROJECT = e2e.EXAMPLES / "mistakes"
TASK_FILE = "tasks/tasks-mistakes.md"
RUN_TIMEOUT = 45
SNIPPET = re.compile(r"<!-- snippet: ([\w.-]+) -->\n```(\w+)\n(.*?)\n```", re.S)


def snippets() -> dict[str, tuple[str, str]]:
    """name → (fence language, text), verbatim."""
    found = SNIPPET.findall(DOC.read_text(encoding="utf-8"))
    out = {name: (lang, text + "\n") for name, lang, text in found}
    assert len(out) == len(found), "a snippet name is used twice in docs/editors.md"
    return out


def test_the_doc_marks_every_editor_snippet():
    names = set(snippets())
    assert {"neovim-0.7", "neovim-0.8", "emacs", "vim-ale", "helix", "zed-settings"} <= names


def test_helix_and_zed_snippets_parse():
    s = snippets()
    helix = tomllib.loads(s["helix"][1])
    assert helix["language-server"]["taskdroid"] == {
        "command": "taskdroid",
        "args": ["lsp"],
        "config": helix["language-server"]["taskdroid"]["config"],
    }
    (md,) = [lang for lang in helix["language"] if lang["name"] == "markdown"]
    assert md["roots"] == [".taskdroid.toml", ".git", ".factory", ".claude"]
    assert "taskdroid" in md["language-servers"]
    zed = json.loads(s["zed-settings"][1])
    assert "taskdroid" in zed["languages"]["Markdown"]["language_servers"]
    ext = tomllib.loads(s["zed-extension"][1])
    assert ext["language_servers"]["taskdroid"]["languages"] == ["Markdown"]
    tomllib.loads(s["zed-cargo"][1])


def test_no_snippet_starts_python_without_P():
    for name, (_, text) in snippets().items():
        assert not re.search(r"python3?\W+-m\W+taskdroid", text), name


# -- running the snippets -------------------------------------------------------------------------


def line_of(text: list[str], pattern: str) -> int:
    for i, line in enumerate(text, 1):
        if re.search(pattern, line):
            return i
    raise AssertionError(pattern)


@pytest.fixture
def setup(tmp_path) -> dict[str, Any]:
    """A fresh HOME, a copy of the project, the plan, and what `taskdroid check` says."""
    taskdroid = shutil.which("taskdroid")
    if taskdroid is None:
        pytest.skip("the taskdroid console script is not on PATH")
    proj = tmp_path / "proj"
    shutil.copytree(PROJECT, proj)
    env = e2e.sandbox_env(tmp_path)
    env["PATH"] = os.pathsep.join([str(Path(taskdroid).parent), env.get("PATH", "")])
    check = subprocess.run(
        [taskdroid, "check", "--format", "json", "."],
        cwd=proj, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    expect = [
        {"code": d["code"], "line": d["line"]}
        for d in json.loads(check.stdout)
        if d["path"] == TASK_FILE
    ]
    assert len(expect) > 5, check.stdout[-2000:]
    text = (proj / TASK_FILE).read_text(encoding="utf-8").split("\n")
    hover = line_of(text, r"^  - \*\*Droid\*\*: api-builder$")
    bad = line_of(text, r"^- \[/\] ")
    comp = line_of(text, r"^- \[ \] 1\.3 ") + 1
    assert text[comp - 1].startswith("  - **Droid**: ")
    plan = {
        "timeout_ms": 15_000,
        "file": os.path.relpath(proj / TASK_FILE, "/"),
        "expect": expect,
        "hover": {"line": hover, "col": text[hover - 1].index("api-builder") + 3},
        "quickfix": {
            "line": bad, "col": text[bad - 1].index("[/]") + 2, "code": "TD001",
            "before": text[bad - 1],
        },
        "completion": {"line": comp, "text": "  - **Droid**: "},
    }
    return {"tmp": tmp_path, "proj": proj, "env": env, "plan": plan}


def run_in_sandbox(argv: list[str], setup: dict[str, Any], extra_env: dict[str, str]) -> dict:
    tmp = setup["tmp"]
    plan_file, out_file = tmp / "plan.json", tmp / "results.json"
    plan_file.write_text(json.dumps(setup["plan"]), encoding="utf-8")
    env = {**setup["env"], **extra_env}
    env.update(TASKDROID_E2E_PLAN=str(plan_file), TASKDROID_E2E_OUT=str(out_file))
    proc = subprocess.Popen(
        argv, cwd="/", env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, errors="replace", start_new_session=True,
    )  # fmt: skip
    try:
        output, _ = proc.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
    try:
        result = json.loads(out_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise AssertionError(f"the driver wrote no results ({e})\n{output[-3000:]}") from None
    result["output"] = output[-3000:]
    return result


def assert_like_check(result: dict, setup: dict[str, Any]) -> None:
    """The editor shows exactly what `taskdroid check` reports for the file."""
    why = json.dumps(result, indent=1, ensure_ascii=False)[:6000]
    diag = result["steps"].get("diagnostics") or {}
    got = sorted((d["code"], d["line"]) for d in diag.get("items", []))
    want = sorted((d["code"], d["line"]) for d in setup["plan"]["expect"])
    assert got == want, f"editor {got}\n`taskdroid check` {want}\n{why}"


def nvim_version(nvim: str) -> tuple[int, ...]:
    out = subprocess.run([nvim, "--version"], capture_output=True, text=True, timeout=20).stdout
    nums = (out.splitlines() or [""])[0].removeprefix("NVIM v").split("-")[0].split(".")
    try:
        return tuple(int(n) for n in nums[:2])
    except ValueError:
        return (0,)


NVIM = shutil.which("nvim")
LOADER = (
    "lua local ok, e = pcall(dofile, os.getenv('TASKDROID_E2E_DRIVER')) "
    "if not ok then io.stderr:write(tostring(e)) vim.cmd('cquit 2') end"
)


@pytest.mark.skipif(NVIM is None, reason="nvim is not installed (apt-get install neovim)")
def test_neovim_snippet_as_written(setup):
    assert NVIM is not None
    version = nvim_version(NVIM)
    name = "neovim-0.8" if version >= (0, 8) else "neovim-0.7"
    if version < (0, 7) or version >= (0, 11):
        pytest.skip(f"the doc's 0.7 / 0.8–0.10 snippets do not cover Neovim {version}")
    init = setup["env"]["XDG_CONFIG_HOME"] + "/nvim/init.lua"
    Path(init).parent.mkdir(parents=True)
    Path(init).write_text(snippets()[name][1], encoding="utf-8")
    argv = [NVIM, "--headless", "-i", "NONE", "-n", setup["plan"]["file"], "-c", LOADER]
    result = run_in_sandbox(argv, setup, {"TASKDROID_E2E_DRIVER": str(e2e.HERE / "snippet_nvim.lua")})
    why = json.dumps(result, indent=1, ensure_ascii=False)[:6000]
    steps = result["steps"]
    attach = steps.get("attach") or {}
    assert attach.get("ok"), f"the snippet started no taskdroid client\n{why}"
    assert attach["root_dir"] == str(setup["proj"]), why  # found from the file, not from cwd `/`
    assert attach["clients"] == 1, why
    assert_like_check(result, setup)
    keys = steps["keys"]
    assert keys == {"K": True, "gd": True, "ca": True, "omnifunc": "v:lua.vim.lsp.omnifunc"}, why
    assert steps["hover"]["ok"] and "api-builder" in steps["hover"]["text"], why
    assert steps["definition"]["file"].endswith("/.factory/droids/api-builder.md"), why
    assert steps["quickfix"]["ok"], why
    assert steps["quickfix"]["after"].startswith("- ["), why
    assert "api-builder" in steps["completion"]["words"], why
    assert not result["errors"], why


@pytest.mark.skipif(NVIM is None, reason="nvim is not installed (apt-get install neovim)")
def test_both_neovim_snippets_are_valid_lua(tmp_path):
    assert NVIM is not None
    for name in ("neovim-0.7", "neovim-0.8"):
        f = tmp_path / f"{name}.lua"
        f.write_text(snippets()[name][1], encoding="utf-8")
        out = subprocess.run(
            [NVIM, "--headless", "-u", "NONE", "-i", "NONE", "-n", "-c",
             f"lua local f, e = loadfile('{f}') if not f then io.stderr:write(e) vim.cmd('cquit 3') end",
             "-c", "qall!"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert out.returncode == 0, f"{name}: {out.stderr}"


EMACS = shutil.which("emacs")


@pytest.mark.skipif(EMACS is None, reason="emacs is not installed (apt-get install emacs-nox)")
def test_emacs_snippet_as_written(setup):
    assert EMACS is not None
    check = subprocess.run(
        [EMACS, "--batch", "--eval",
         "(progn (package-activate-all) (princ (if (and (locate-library \"eglot\") "
         "(locate-library \"markdown-mode\")) \"yes\" \"no\")))"],
        env=setup["env"], capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    if check.stdout.strip() != "yes":
        pytest.skip("eglot or markdown-mode is missing (apt-get install elpa-eglot elpa-markdown-mode)")
    init = Path(setup["env"]["HOME"]) / ".emacs.d" / "init.el"
    init.parent.mkdir(parents=True)
    init.write_text(snippets()["emacs"][1], encoding="utf-8")
    # what interactive start-up does before init.el: activate the installed packages
    argv = [EMACS, "--batch", "--eval", "(package-activate-all)", "-l", str(init),
            "-l", str(e2e.HERE / "snippet_eglot.el")]  # fmt: skip
    result = run_in_sandbox(argv, setup, {})
    why = json.dumps(result, indent=1, ensure_ascii=False)[:6000]
    steps = result["steps"]
    attach = steps.get("attach") or {}
    assert attach.get("ok"), f"the snippet started no eglot server\n{why}"
    assert attach["mode"] == "markdown-mode", why
    assert attach["root"].rstrip("/") == str(setup["proj"]), why  # found from the file
    assert_like_check(result, setup)
    assert steps["hover"]["ok"] and "api-builder" in steps["hover"]["text"], why
    assert steps["definition"]["file"].endswith("/.factory/droids/api-builder.md"), why
    assert steps["quickfix"]["ok"], why
    assert "api-builder" in steps["completion"]["words"], why
    assert not result["errors"], why


VIM = shutil.which("vim")


@pytest.mark.skipif(VIM is None, reason="vim is not installed (apt-get install vim vim-ale)")
def test_vim_ale_snippet_as_written(setup):
    """Vim with the doc's vimrc, started from `/` with a relative path: ALE starts the server
    itself, with the project folder found by the snippet's root function, and shows what
    `taskdroid check` reports; K, gd, <leader>ca and the omnifunc work."""
    assert VIM is not None
    if not Path("/usr/share/vim/vimfiles/pack/dist-bundle/opt/ale").is_dir():
        pytest.skip("ALE is not installed (apt-get install vim-ale)")
    vimrc = Path(setup["env"]["HOME"]) / ".vimrc"
    vimrc.write_text(snippets()["vim-ale"][1], encoding="utf-8")
    # -es (no terminal) skips the vimrc unless -u names it; ALE's timers and jobs still run
    argv = [VIM, "-N", "-u", str(vimrc), "-i", "NONE", "-n", "-es", setup["plan"]["file"],
            "-S", str(e2e.HERE / "snippet_ale.vim")]  # fmt: skip
    result = run_in_sandbox(argv, setup, {})
    why = json.dumps(result, indent=1, ensure_ascii=False)[:6000]
    steps = result["steps"]
    attach = steps.get("attach") or {}
    assert attach.get("ok"), f"ALE showed no taskdroid diagnostics\n{why}"
    assert attach["root"] == str(setup["proj"]), why  # found from the file, not from cwd `/`
    assert "taskdroid" in attach["linters"], why
    assert_like_check(result, setup)
    keys = steps["keys"]
    assert keys == {
        "K": ":ALEHover<CR>", "gd": ":ALEGoToDefinition<CR>", "ca": ":ALECodeAction<CR>",
        "omnifunc": "ale#completion#OmniFunc",
    }, why  # fmt: skip
    assert steps["hover"]["ok"] and "api-builder" in steps["hover"]["text"], why
    assert steps["definition"]["file"].endswith("/.factory/droids/api-builder.md"), why
    assert steps["quickfix"]["ok"], why
    assert steps["quickfix"]["after"].startswith("- ["), why
    assert "api-builder" in steps["completion"]["words"], why
    assert not result["errors"], why
