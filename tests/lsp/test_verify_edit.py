"""The Verify field in the editor (docs/language.md §11, verified completion): completion offers the
key, hover explains it, and the "Add Verify command" action inserts an empty one in the task's field
style — in each client's position encoding."""

from __future__ import annotations

import pytest
from editutil import Doc, apply_workspace_edit, code_actions, edit_of, titled
from lsprotocol import types
from lsputil import diagnostics_for, position_of

pytestmark = pytest.mark.asyncio(loop_scope="session")

TEXT = (
    "# Verify 🚀\n"
    "\n"
    "## 8. Checks\n"
    "\n"
    "- [ ] 8.1 Build 🚀 the 日本語 API\n"
    "  * **Droid:** backend-dev\n"
    "  * **Verify:** `pytest -q`\n"
    "- [ ] 8.2 No check yet\n"
    "  * **Droid:** backend-dev\n"
    "- [x] 8.3 Done ✅\n"
    "  * **Completed:** 2025-01-10 10:00\n"
    "- [ ] 8.4 Typing a field\n"
    "  * **\n"
)


def _ident(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=uri)


async def test_completion_and_hover_know_the_verify_field(client, session):
    enc = session.encoding
    doc = Doc.open(client, session.uri("tasks/tasks-verify-edit.md"), TEXT)
    try:
        pos = position_of(TEXT, "  * **\n", enc, offset=len("  * **"))
        result = await client.text_document_completion_async(
            types.CompletionParams(text_document=_ident(doc.uri), position=pos)
        )
        items = result.items if isinstance(result, types.CompletionList) else (result or [])
        verify = [i for i in items if i.label == "Verify"]
        assert verify, [i.label for i in items]
        documentation = verify[0].documentation
        shown = getattr(documentation, "value", documentation) or ""
        assert "runner.verify" in str(shown)

        pos = position_of(TEXT, "Verify:**", enc, offset=2)
        h = await client.text_document_hover_async(
            types.HoverParams(text_document=_ident(doc.uri), position=pos)
        )
        assert h is not None
        value = h.contents.value if isinstance(h.contents, types.MarkupContent) else str(h.contents)
        assert "Verify" in value and "runner.verify = true" in value
        assert "never run through one" in value
    finally:
        doc.close()


async def test_add_verify_command_action(client, session):
    doc = Doc.open(client, session.uri("tasks/tasks-verify-action.md"), TEXT)
    try:
        await diagnostics_for(client, session, doc.uri)
        at = position_of(TEXT, "No check yet", session.encoding)
        actions = await code_actions(client, doc, types.Range(start=at, end=at))
        action = titled(actions, "Add Verify command")
        assert not action.is_preferred
        edit = await edit_of(client, session, action)
        new = apply_workspace_edit({doc.uri: doc.text}, edit, session.encoding)[doc.uri]
        # the task's own style: `*` bullets, the colon inside the bold key; nothing else changes
        assert new == TEXT.replace(
            "  * **Droid:** backend-dev\n- [x]",
            "  * **Droid:** backend-dev\n  * **Verify:** ``\n- [x]",
        )
        # not offered where there is one already, nor on a completed task
        for needle in ("Build", "Done"):
            at = position_of(TEXT, needle, session.encoding)
            actions = await code_actions(client, doc, types.Range(start=at, end=at))
            assert "Add Verify command" not in [a.title for a in actions]
    finally:
        doc.close()
