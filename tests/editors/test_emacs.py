"""Emacs with eglot (``emacs --batch``) drives ``taskdroid lsp`` on a copy of ``examples/``:
diagnostics, hover, go to definition, completion (see eglot_driver.el).

eglot is built into Emacs 29+; Debian bookworm ships Emacs 28.2, where eglot 1.9 comes from the
Debian package ``elpa-eglot``. Skipped when ``emacs`` is not installed or eglot cannot be loaded;
``.ci/run`` installs ``emacs-nox`` and ``elpa-eglot``."""

from __future__ import annotations

import shutil

import editor_e2e as e2e
import pytest

EMACS = shutil.which("emacs")
pytestmark = pytest.mark.skipif(
    EMACS is None,
    reason="emacs is not installed (apt-get install emacs-nox elpa-eglot; .ci/run does it)",
)

DRIVER = e2e.HERE / "eglot_driver.el"


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> e2e.Run:
    tmp = tmp_path_factory.mktemp("emacs")
    events = tmp / "eglot-events.log"  # eglot's JSON-RPC log (kept in the sandbox)
    argv = [EMACS, "--batch", "-Q", "-l", str(DRIVER)]
    result = e2e.run_editor(
        argv, tmp, extra_env={"TASKDROID_E2E_EVENTS": str(events)}, extra_logs=[events]
    )
    if result.result.get("skip"):
        pytest.skip(result.result["skip"])
    assert result.result.get("editor") == "emacs", result.describe()
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
