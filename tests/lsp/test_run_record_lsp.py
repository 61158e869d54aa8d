"""The run record in the editor (docs/language.md §11): a run through ``taskdroid.runTask`` writes
``**Last Run**``; hover on it shows the record and the log's last lines; ``taskdroid.openLog``
shows the log (``window/showDocument``) and returns its last lines; the ``Open log`` and
``↻ Re-run <droid>`` lenses; completion of Model / Effort values. Over stdio, for a UTF-16
(VS Code), a UTF-8 (Neovim) and a minimal client (plain-text hovers, cannot show documents).

The droid is ``tests/fixtures/fake_droid.py`` (``--meta`` makes its final result event carry a
session, a cost and turns).
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import pytest
from lsprotocol import types
from lsputil import close_doc, custom_session, open_doc, position_of
from pygls.exceptions import JsonRpcException
from pygls.uris import from_fs_path

FAKE_DROID = str(Path(__file__).resolve().parents[1] / "fixtures" / "fake_droid.py")
RUNNER = [sys.executable, FAKE_DROID, "--sleep", "0.01", "--meta", "sess-8", "{prompt}"]
REL = "tasks/tasks-record.md"

TASKS = """\
# Record tasks

## 8. Records

- [ ] 8.1 Gets a record
  - **Droid**: backend-dev
  - **Model**: sonnet
- [ ] 8.2 Names a log outside the workspace
  - **Droid**: backend-dev
  - **Last Run**: 2026-01-02 03:04 · 5 s · blocked · log: ../../etc/passwd
- [ ] 8.3 Names a log that is gone
  - **Last Run**: 2026-01-02 03:04 · 5 s · completed · log: .taskdroid/runs/gone.log
- [ ] 8.4 Chooses
  - **Effort**: h
  - **Model**: s
"""
SPEEDY = "---\nname: speedy\ndescription: Quick fixes.\nmodel: haiku\n---\nBe quick.\n"


async def _until(predicate, timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def _command(client, command: str, argument: dict):
    return await asyncio.wait_for(
        client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=command, arguments=[argument])
        ),
        15,
    )


@pytest.mark.parametrize("name", ["vscode", "neovim", "push"])
async def test_a_run_records_and_the_editor_shows_the_record(tmp_path_factory, name):
    options = {"runner": {"command": RUNNER, "timeoutSeconds": 60}}
    async with custom_session(
        tmp_path_factory,
        name,
        options=options,
        files={REL: TASKS, ".claude/agents/speedy.md": SPEEDY},
    ) as (
        client,
        session,
    ):
        uri = session.uri(REL)
        path = session.path(REL)
        await _command(client, "taskdroid.runTask", {"uri": uri, "taskId": "8.1"})
        await _until(lambda: "**Last Run**" in path.read_text(encoding="utf-8").split("8.2")[0])
        text = path.read_text(encoding="utf-8")
        m = re.search(
            r"\*\*Last Run\*\*: \d{4}-\d\d-\d\d \d\d:\d\d · [^·\n]+ · completed · log: "
            r"(\.taskdroid/runs/tasks-record-8\.1-[\d-]+\.log) · session sess-8 · \$0\.0123"
            r" · 4 turns\n",
            text,
        )
        assert m, text
        log_rel = m.group(1)
        assert "- [x] 8.1 Gets a record" in text
        # the model came from the task: the log's header says so
        log_text = (session.root / log_rel).read_text(encoding="utf-8")
        assert "# model: sonnet, effort: (default)" in log_text

        open_doc(client, uri, text)
        enc = session.encoding

        # hover on the record: the facts and the log's last lines, as messages (no raw JSON)
        hover = await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=position_of(text, "Last Run**: 20", enc),
            )
        )
        assert hover is not None
        value = hover.contents.value  # type: ignore[union-attr]
        assert "completed after" in value and "sess-8" in value and "4 turns" in value
        assert log_rel in value and "last lines" in value
        assert "all done" in value and "step 2 of 2" in value and '"type"' not in value
        assert "# exit code 0" in value

        # confined and missing logs: said so, nothing read
        for needle, said in (("Last Run**: 2026-01-02 03:04 · 5 s · blocked", "outside the workspace"),
                             ("Last Run**: 2026-01-02 03:04 · 5 s · completed", "does not exist")):  # fmt: skip
            hover = await client.text_document_hover_async(
                types.HoverParams(
                    text_document=types.TextDocumentIdentifier(uri=uri),
                    position=position_of(text, needle, enc),
                )
            )
            assert hover is not None and said in hover.contents.value  # type: ignore[union-attr]
            assert "root:" not in hover.contents.value  # type: ignore[union-attr]

        # lenses: Open log on recorded tasks, Re-run (with force) on the completed one
        lenses = await client.text_document_code_lens_async(
            types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        titled = [
            (lens.command.title, list(lens.command.arguments or []))
            for lens in lenses or []
            if lens.command
        ]
        assert ("Open log", [{"uri": uri, "taskId": "8.1"}]) in titled
        assert ("↻ Re-run backend-dev", [{"uri": uri, "taskId": "8.1", "force": True}]) in titled
        assert ("Open log", [{"uri": uri, "taskId": "8.3"}]) in titled
        assert not any(t.startswith("↻") and a[0]["taskId"] != "8.1" for t, a in titled if a)

        # taskdroid.openLog: shown when the client can show documents, last lines returned
        result = await _command(client, "taskdroid.openLog", {"uri": uri, "taskId": "8.1"})
        log_uri = from_fs_path(str((session.root / log_rel).resolve()))
        assert result["uri"] == log_uri and result["path"] == log_rel
        assert result["lines"][-1].startswith("# exit code 0")
        window = session.caps.window
        can_show = bool(window and window.show_document and window.show_document.support)
        assert can_show is (name != "push")
        assert result["shown"] is can_show
        shown = [p.uri for p in client.shown_documents]
        assert shown == ([log_uri] if can_show else [])
        for task_id, said in (("8.2", "outside the workspace"), ("8.3", "does not exist"),
                              ("8.4", "no **Last Run**")):  # fmt: skip
            with pytest.raises(JsonRpcException, match=re.escape(said)):
                await _command(client, "taskdroid.openLog", {"uri": uri, "taskId": task_id})
        with pytest.raises(JsonRpcException, match="`taskId` is required"):
            await _command(client, "taskdroid.openLog", {"uri": uri})

        # completion after **Effort**: the effort levels; after **Model**: the droids' models
        async def labels(prefix: str) -> list[str]:
            line = text.split("\n").index(prefix)
            items = await client.text_document_completion_async(
                types.CompletionParams(
                    text_document=types.TextDocumentIdentifier(uri=uri),
                    position=types.Position(line=line, character=len(prefix)),
                )
            )
            got = items.items if isinstance(items, types.CompletionList) else items or []
            return [i.label for i in got]

        assert await labels("  - **Effort**: h") == ["low", "medium", "high", "xhigh", "max"]
        # the droids' models, sorted; backend-dev's `inherit` is no model to pass
        assert await labels("  - **Model**: s") == ["haiku", "sonnet"]

        # hover on the Effort key: what the field is for
        hover = await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=position_of(text, "Effort**: h", enc),
            )
        )
        assert hover is not None and "{effort}" in hover.contents.value  # type: ignore[union-attr]

        # the re-run lens's command (on the closed file): the record is replaced, not added
        close_doc(client, uri)
        for _ in range(200):  # the first run releases the task just after its record
            try:
                await _command(
                    client, "taskdroid.runTask", {"uri": uri, "taskId": "8.1", "force": True}
                )
                break
            except JsonRpcException as e:
                assert "already running" in str(e)
                await asyncio.sleep(0.05)

        def rerecorded() -> bool:
            block = path.read_text(encoding="utf-8").split("- [ ] 8.2")[0]
            return block.count("**Last Run**") == 1 and log_rel not in block

        await _until(rerecorded)
