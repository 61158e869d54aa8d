"""Headless Neovim (Debian's ``neovim``, 0.7.2 on bookworm) drives ``taskdroid lsp`` on a copy of
``examples/``: diagnostics, hover, go to definition, completion (see nvim_driver.lua).

Skipped when ``nvim`` is not installed; ``.ci/run`` installs it."""

from __future__ import annotations

import shutil
import subprocess

import editor_e2e as e2e
import pytest

NVIM = shutil.which("nvim")
pytestmark = pytest.mark.skipif(
    NVIM is None, reason="nvim is not installed (apt-get install neovim; .ci/run does it)"
)

DRIVER = e2e.HERE / "nvim_driver.lua"
LOADER = (
    "lua local ok, e = pcall(dofile, os.getenv('TASKDROID_E2E_DRIVER')) "
    "if not ok then io.stderr:write(tostring(e)) vim.cmd('cquit 2') end"
)


def nvim_version() -> tuple[int, ...]:
    out = subprocess.run([NVIM, "--version"], capture_output=True, text=True, timeout=20).stdout
    first = out.splitlines()[0] if out else ""
    nums = first.removeprefix("NVIM v").split("-")[0].split(".")
    try:
        return tuple(int(n) for n in nums[:3])
    except ValueError:
        return (0,)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> e2e.Run:
    if nvim_version() < (0, 7):
        pytest.skip(f"the driver needs Neovim 0.7 or newer, found {nvim_version()}")
    tmp = tmp_path_factory.mktemp("nvim")
    argv = [NVIM, "--headless", "-u", "NONE", "-i", "NONE", "-n", "-c", LOADER]
    lsp_log = tmp / "home" / ".cache" / "nvim" / "lsp.log"  # the server's stderr, Neovim's log
    result = e2e.run_editor(
        argv, tmp, extra_env={"TASKDROID_E2E_DRIVER": str(DRIVER)}, extra_logs=[lsp_log]
    )
    assert result.result.get("editor") == "neovim", result.describe()
    return result


def test_server_starts(run: e2e.Run):
    e2e.check_started(run)
    assert run.seconds < e2e.RUN_TIMEOUT


def test_diagnostics_of_the_mistakes_file(run: e2e.Run):
    e2e.check_diagnostics(run)


def test_clean_file_has_no_diagnostics(run: e2e.Run):
    e2e.check_clean(run)


def test_hover_on_droid_shows_description(run: e2e.Run):
    e2e.check_hover(run)


def test_definition_of_dependency(run: e2e.Run):
    e2e.check_definitions(run)


def test_edit_next_to_astral_emoji(run: e2e.Run):
    e2e.check_astral(run)


def test_completion_offers_droid_names(run: e2e.Run):
    e2e.check_completion(run)


def test_no_errors_reported(run: e2e.Run):
    e2e.check_no_errors(run)
    # Neovim reports handler problems (wrong offset encoding, failed requests) via vim.notify
    bad = [
        n
        for n in run.result.get("notifications") or []
        if n.get("level", 0) >= 3 and "deprecated" not in n.get("message", "")
    ]
    assert not bad, run.describe()
