"""Whatever root the client sends — none, a folder inside the project, a folder beside it, ``/``,
the home folder — an opened file belongs to the project found above it, and gets the diagnostics
``taskdroid check`` gives from the project folder (docs/language.md §10). The server never indexes
``/`` or the home folder: a decoy task file elsewhere in the home folder never shows up."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types
from lsputil import (
    BASE_OPTIONS,
    SERVER_COMMAND,
    capabilities,
    diagnostics_for,
    make_client,
    open_doc,
)
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig

from taskdroid.lsp.projects import MAX_LOOSE_DIRS

pytestmark = pytest.mark.asyncio(loop_scope="function")

DROID = """---
name: api-builder
description: Builds the API.
---

You build the API.
"""

TASKS = """# X tasks

## 8. API (HIGH)

- [ ] 8.1 Build the API
  - **Droid**: api-builder
- [ ] 8.2 Test the API
  - **Droid**: api-builder
  - **Dependencies**: 8.1, 8.9
- [ ] 8.3 Haunt the API
  - **Droid**: ghost-droid
- [x] 8.4 Document the API
  - **Droid**: api-builder
  - **Completed**: 2025-01-10 10:00
  - **Files**: docs/api-guide.md
"""

OTHER_DROID = """---
name: web-builder
description: Builds the web site.
---

You build the site.
"""

OTHER_TASKS = """# Web tasks

- [ ] 8.5 Build the site
  - **Droid**: web-builder
- [ ] 8.6 Build the API here too
  - **Droid**: api-builder
"""

DECOY = """# Notes

- [ ] 8.7 Decoy task in the home folder
  - **Droid**: api-builder
- [ ] 8.8 Take notes
  - **Droid**: note-taker
"""

NOTE_DROID = """---
name: note-taker
description: Takes notes.
---

You take notes.
"""

FAR = """# Far

- [ ] 8.9 Far away task
"""


def _layout(base: Path) -> dict[str, Path]:
    """A home folder with personal configuration (``~/.claude``), a notes folder outside any
    project, two projects (``.factory`` and ``.git``) and an empty folder beside them."""
    home = base / "home"
    (home / ".claude").mkdir(parents=True)
    (home / ".claude" / "settings.json").write_text("{}\n", encoding="utf-8")
    (home / "notes" / "tasks").mkdir(parents=True)
    (home / "notes" / "tasks" / "tasks-decoy.md").write_text(DECOY, encoding="utf-8")
    (home / "notes" / "droids").mkdir()
    (home / "notes" / "droids" / "note-taker.md").write_text(NOTE_DROID, encoding="utf-8")
    proj = home / "src" / "proj"
    (proj / ".factory" / "droids").mkdir(parents=True)
    (proj / ".factory" / "droids" / "api-builder.md").write_text(DROID, encoding="utf-8")
    (proj / "tasks").mkdir()
    (proj / "tasks" / "tasks-x.md").write_text(TASKS, encoding="utf-8")
    web = home / "src" / "web"
    (web / ".git").mkdir(parents=True)
    (web / "droids").mkdir()
    (web / "droids" / "web-builder.md").write_text(OTHER_DROID, encoding="utf-8")
    (web / "tasks.md").write_text(OTHER_TASKS, encoding="utf-8")
    (home / "src" / "empty").mkdir()
    return {"home": home, "proj": proj, "web": web, "empty": home / "src" / "empty"}


def _env(home: Path) -> dict[str, str]:
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    env.pop("TASKDROID_RUNNER", None)
    return env


def _cli(folder: Path, rel: str, env: dict[str, str]) -> list[tuple[str, int]]:
    """(code, 0-based line) of each diagnostic `taskdroid check` gives ``rel`` from ``folder``."""
    out = subprocess.run(
        [sys.executable, "-m", "taskdroid", "check", "--format", "json"],
        capture_output=True, text=True, env=env, cwd=folder, timeout=60,
    )  # fmt: skip
    found = [(d["code"], d["line"] - 1) for d in json.loads(out.stdout) if d["path"] == rel]
    return sorted(found)


def _keys(diags) -> list[tuple[str, int]]:
    return sorted((str(d.code), d.range.start.line) for d in diags)


@contextlib.asynccontextmanager
async def _server(home: Path, client_name: str, root: str | None, folders: list[str] | None):
    config = ClientServerConfig(
        server_command=SERVER_COMMAND, server_env=_env(home), client_factory=make_client
    )
    client = await config.start()
    try:
        result = await client.initialize_session(
            types.InitializeParams(
                capabilities=capabilities(client_name),
                root_uri=root,
                workspace_folders=(
                    None
                    if folders is None
                    else [types.WorkspaceFolder(uri=u, name="root") for u in folders]
                ),
                initialization_options=dict(BASE_OPTIONS),
            )
        )
        session = _Session(client_name, result)
        yield client, session
    finally:
        try:
            await client.shutdown_session()
        finally:
            await client.stop()


class _Session:
    """What ``diagnostics_for`` needs: does the client pull?"""

    def __init__(self, name: str, result: types.InitializeResult) -> None:
        self.name = name
        self.pulls = result.capabilities.diagnostic_provider is not None


def _roots(paths: dict[str, Path], kind: str) -> tuple[str | None, list[str] | None]:
    """(rootUri, workspace folder uris) a client sends."""
    if kind == "none":
        return None, None
    folder = {
        "slash": Path("/"),
        "home": paths["home"],
        "inside": paths["proj"] / "tasks",  # Neovim started next to the task file
        "beside": paths["empty"],  # a wrong folder with no project marker
    }[kind]
    uri = from_fs_path(str(folder))
    return uri, [uri]


async def _symbols(client, query: str) -> list[str]:
    found = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query=query))
    return [s.name for s in found or []]


@pytest.mark.parametrize(
    ("client_name", "kind"),
    [
        ("neovim", "none"),
        ("neovim", "slash"),
        ("neovim", "home"),
        ("neovim", "inside"),
        ("emacs", "beside"),
        ("vscode", "none"),
        ("vscode", "slash"),
    ],
)
async def test_an_opened_file_gets_the_diagnostics_of_its_project(tmp_path, client_name, kind):
    paths = _layout(tmp_path)
    proj = paths["proj"]
    want = _cli(proj, "tasks/tasks-x.md", _env(paths["home"]))
    assert ("TD020", 10) in want  # ghost-droid: a real finding, so the comparison means something
    assert not any(code == "TD020" and line != 10 for code, line in want)  # api-builder resolves
    root, folders = _roots(paths, kind)
    async with _server(paths["home"], client_name, root, folders) as (client, session):
        task_file = proj / "tasks" / "tasks-x.md"
        uri = from_fs_path(str(task_file))
        open_doc(client, uri, task_file.read_text(encoding="utf-8"))
        got = await diagnostics_for(client, session, uri, lambda d: _keys(d) == want)
        assert _keys(got) == want
        # the index holds the project (its droid resolves), never the home folder's other files
        names = await _symbols(client, "")
        assert any("8.1" in n for n in names)
        assert not any("Decoy" in n for n in await _symbols(client, "Decoy"))


async def test_two_projects_in_one_session_each_resolve_their_own_droids(tmp_path):
    paths = _layout(tmp_path)
    env = _env(paths["home"])
    want_x = _cli(paths["proj"], "tasks/tasks-x.md", env)
    want_web = _cli(paths["web"], "tasks.md", env)
    # api-builder lives in the other project: unknown here, as on the command line
    assert [c for c, _ in want_web].count("TD020") == 1
    async with _server(paths["home"], "neovim", None, None) as (client, session):
        x = paths["proj"] / "tasks" / "tasks-x.md"
        web = paths["web"] / "tasks.md"
        for f in (x, web):
            open_doc(client, from_fs_path(str(f)), f.read_text(encoding="utf-8"))
        for f, want in ((x, want_x), (web, want_web)):
            uri = from_fs_path(str(f))
            got = await diagnostics_for(client, session, uri, lambda d, w=want: _keys(d) == w)
            assert _keys(got) == want


async def test_home_with_personal_configuration_is_not_a_project(tmp_path):
    """A task file in the home folder's notes (no project marker; ``~/.claude`` is personal
    configuration) is indexed with the folder around it — ``~/notes``, whose droid resolves, as
    ``taskdroid check`` run there says — not with the whole home folder."""
    paths = _layout(tmp_path)
    notes = paths["home"] / "notes"
    want = _cli(notes, "tasks/tasks-decoy.md", _env(paths["home"]))
    assert [c for c, _ in want] == ["TD020"]  # api-builder lives in a project, not in ~/notes
    decoy = notes / "tasks" / "tasks-decoy.md"
    async with _server(paths["home"], "neovim", None, None) as (client, session):
        uri = from_fs_path(str(decoy))
        open_doc(client, uri, decoy.read_text(encoding="utf-8"))
        got = await diagnostics_for(client, session, uri, lambda d: _keys(d) == want)
        assert _keys(got) == want
        assert any("Decoy" in n for n in await _symbols(client, "Decoy"))
        assert not any("8.1" in n for n in await _symbols(client, "Build the API"))


async def test_a_folder_without_a_project_is_walked_a_bounded_way(tmp_path):
    """Around a file in no project the walk stops after a bounded number of folders (nearest
    first): a task file deep below hundreds of folders is not indexed, the opened one is."""
    paths = _layout(tmp_path)
    big = paths["home"] / "big"
    for i in range(MAX_LOOSE_DIRS + 50):
        (big / f"dir{i:04}").mkdir(parents=True)
    (big / "far" / "away").mkdir(parents=True)
    (big / "far" / "away" / "tasks-far.md").write_text(FAR, encoding="utf-8")
    near = big / "tasks.md"
    near.write_text("# Near\n\n- [ ] 8.1 Near task\n  - **Dependencies**: 8.2\n", encoding="utf-8")
    async with _server(paths["home"], "neovim", from_fs_path(str(big)), None) as (client, session):
        uri = from_fs_path(str(near))
        open_doc(client, uri, near.read_text(encoding="utf-8"))
        got = await diagnostics_for(client, session, uri, lambda d: _keys(d) != [])
        assert _keys(got) == [("TD010", 3)]
        assert any("Near" in n for n in await _symbols(client, "Near"))
        assert not any("Far" in n for n in await _symbols(client, "Far"))
