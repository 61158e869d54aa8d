"""Unit tests of server pieces that need no client: error containment, server options, mode
choice, fuzzy matching."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from taskdroid.lsp.capabilities import ResolvedClientCapabilities
from taskdroid.lsp.config import parse_server_options
from taskdroid.lsp.diagnostics import choose_mode
from taskdroid.lsp.server import TaskdroidServer, safe
from taskdroid.lsp.symbols import fuzzy_match


def test_safe_logs_and_answers_empty(caplog):
    @safe(default=list)
    async def broken(ls, params):
        raise ValueError("boom")

    @safe()
    async def refuses(ls, params):
        raise JsonRpcInvalidParams("bad")

    assert asyncio.run(broken(None, None)) == []
    assert "broken failed" in caplog.text and "boom" in caplog.text
    with pytest.raises(JsonRpcInvalidParams):
        asyncio.run(refuses(None, None))


def test_server_options():
    opts, problems = parse_server_options(
        {"debounceMs": 0, "pollIntervalMs": 250, "diagnosticMode": "push"}
    )
    assert (opts.debounce, opts.poll_interval, opts.diagnostic_mode) == (0, 0.25, "push")
    assert problems == []
    opts, problems = parse_server_options(
        {"debounceMs": -1, "pollIntervalMs": True, "diagnosticMode": 3}
    )
    assert opts.debounce == 0.2 and opts.poll_interval == 3 and opts.diagnostic_mode == "auto"
    assert len(problems) == 3 and all("default" in p or "auto" in p for p in problems)


class _Caps(TaskdroidServer):
    def __init__(self, caps: types.ClientCapabilities, mode: str = "auto") -> None:
        super().__init__()
        self.client = ResolvedClientCapabilities.resolve(caps)
        self.options.diagnostic_mode = mode


PULL = types.TextDocumentClientCapabilities(diagnostic=types.DiagnosticClientCapabilities())
REFRESH = types.WorkspaceClientCapabilities(
    diagnostics=types.DiagnosticWorkspaceClientCapabilities(refresh_support=True)
)


@pytest.mark.parametrize(
    ("caps", "mode", "expected"),
    [
        (types.ClientCapabilities(), "auto", "push"),
        (types.ClientCapabilities(text_document=PULL), "auto", "push"),  # cannot re-pull
        (types.ClientCapabilities(text_document=PULL, workspace=REFRESH), "auto", "pull"),
        (types.ClientCapabilities(text_document=PULL), "pull", "pull"),
        (types.ClientCapabilities(text_document=PULL, workspace=REFRESH), "push", "push"),
        (types.ClientCapabilities(), "pull", "push"),  # cannot pull at all
    ],
)
def test_diagnostic_mode(caps, mode, expected):
    server = _Caps(caps, mode)
    choose_mode(server, types.InitializeParams(capabilities=caps))
    assert server.diagnostic_mode == expected
    registered = types.TEXT_DOCUMENT_DIAGNOSTIC in server.protocol.fm.features
    assert registered == (expected == "pull")


def test_fuzzy_match():
    assert fuzzy_match("tref", "Implement token refresh")
    assert fuzzy_match("", "anything")
    assert fuzzy_match("1.3 tok", "1.3 Implement token refresh")
    assert not fuzzy_match("zz", "Implement token refresh")


def test_installed_pygls_is_the_one_the_overrides_were_written_for():
    """lsp/pygls_compat.py overrides pygls internals: pyproject.toml allows exactly the versions
    in PYGLS_RANGE, and the installed pygls (CI installs the newest allowed) is one of them."""
    import re
    from pathlib import Path

    from taskdroid.lsp.pygls_compat import PYGLS_RANGE, pygls_supported, pygls_version

    assert pygls_supported(), f"pygls {pygls_version()} is outside {PYGLS_RANGE}"
    (lo, hi) = PYGLS_RANGE
    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    spec = re.search(r'"pygls([^"]*)"', pyproject)
    assert spec is not None
    want = ">=" + ".".join(map(str, lo)) + ",<" + ".".join(map(str, hi))
    assert spec.group(1).replace(" ", "") == want
    assert not pygls_supported((hi[0], hi[1], 0)) and pygls_supported((*lo, 0))


def test_the_core_is_loaded_after_start_up():
    """lsp/deferred.py is the one start-up seam: creating the server (everything before the
    ``initialize`` answer) executes none of the heavy core modules, and loading them in the
    seam's order works."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from taskdroid.lsp.main import create_server\n"
        "create_server()\n"
        "loaded = lambda m: m in sys.modules and type(sys.modules[m]).__name__ != '_LazyModule'\n"
        "heavy = ['pydantic', 'yaml', 'taskdroid.core.settings', 'taskdroid.core.workspace',\n"
        "         'taskdroid.core.query', 'taskdroid.core.document']\n"
        "assert not [m for m in heavy if loaded(m)], [m for m in heavy if loaded(m)]\n"
        "import asyncio\n"
        "from taskdroid.lsp import deferred\n"
        "deferred.load_for_indexing()\n"
        "asyncio.run(deferred.warm_up())\n"
        "assert all(loaded(m) for m in deferred.INDEXING + deferred.WARM_UP)\n"
        "assert deferred.workspace.Workspace is sys.modules['taskdroid.core.workspace'].Workspace\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_first_diagnostics_build_no_pydantic_validator(tmp_path):
    """The path to a task file's first diagnostics in a project with a droid file and no
    settings (what the server does after ``initialized``) validates nothing with pydantic: its
    first validation imports importlib.metadata and reads every installed package's entry
    points. The droid file's own checks run when its diagnostics are read."""
    import subprocess
    import sys

    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "tasks.md").write_text(
        "# T\n\n## 8. A\n\n- [ ] 8.1 A\n  - **Droid**: reviewer\n"
        "- [ ] 8.2 B\n  - **Droid**: nobody\n",
        encoding="utf-8",
    )
    (tmp_path / ".factory" / "droids").mkdir(parents=True)
    (tmp_path / ".factory" / "droids" / "reviewer.md").write_text(
        "---\nname: reviewer\ndescription: Reviews.\ntools: 7\n---\nReview.\n", encoding="utf-8"
    )
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from taskdroid.lsp.main import create_server\n"
        "create_server()\n"
        "from taskdroid.lsp import deferred\n"
        "deferred.load_for_indexing()\n"
        f"root = Path({str(tmp_path)!r})\n"
        "loaded = deferred.config.load_settings(root, lsp={}, env={}, user_config=root / 'none')\n"
        "ws = deferred.workspace.Workspace(str(root), loaded.settings, personal=False)\n"
        "found = deferred.discovery.discover(root, loaded.settings)\n"
        "for kind, files in (('droid', found.droid_files), ('task', found.task_files)):\n"
        "    for f in files:\n"
        "        ws.set_text(str(f), Path(f).read_text(), kind)\n"
        "task = deferred.workspace.norm(str(root / 'tasks' / 'tasks.md'))\n"
        "codes = [d.code for d in ws.diagnostics(task)]\n"
        "assert codes == ['TD020'], codes\n"
        "assert 'pydantic.plugin._loader' not in sys.modules\n"
        "droid = deferred.workspace.norm(str(root / '.factory' / 'droids' / 'reviewer.md'))\n"
        "assert 'DR004' in [d.code for d in ws.diagnostics(droid)]\n"
        "assert 'pydantic.plugin._loader' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
