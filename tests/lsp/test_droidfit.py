"""Droid suggestion and fit in the editor (docs/language.md §11): completion after ``**Droid**: ``
lists the three droids that fit the task best first, with the reason; "Assign droid <name>"
quick fixes on a task without a droid add the field; TD026 with its related droid file."""

from __future__ import annotations

import pytest
from editutil import Doc, apply_workspace_edit, code_actions, edit_of, wait_code
from lsprotocol import types
from lsputil import custom_session, diagnostics_for, position_of

pytestmark = pytest.mark.asyncio(loop_scope="session")

DROIDS = {
    "db-migrator": (
        "Writes database migrations and schema changes (SQL).",
        "[Read, Edit, Execute]",
    ),
    "frontend-dev": ("Builds React components and CSS for the web UI.", "[Read, Edit, Create]"),
    "api-builder": ("Implements REST API endpoints and handlers.", "[Read, Edit, Execute]"),
    "code-reviewer": ("Reviews code changes for bugs and security.", "read-only"),
    "docs-writer": ("Writes documentation and guides.", None),
}
FILES = {
    f".factory/droids/{name}.md": (
        f"---\nname: {name}\ndescription: {desc}\n"
        + (f"tools: {tools}\n" if tools else "")
        + "---\nYou work.\n"
    )
    for name, (desc, tools) in DROIDS.items()
}

TASKS = (
    "# Fit\n"
    "\n"
    "## 8. Work\n"
    "\n"
    "- [ ] 8.1 Add the migration for the orders table 🚀\n"
    "  - **Files**: `db/migrations/004_orders.sql`\n"
    "- [ ] 8.2 Fix the login form\n"
    "  - **Droid**: code-reviewer\n"
    "  - **Files**: `web/src/LoginForm.tsx`\n"
    "- [x] 8.3 Old migration ✅\n"
)


@pytest.mark.parametrize("name", ["vscode", "neovim"])
async def test_completion_suggestions_quick_fix_and_td026(tmp_path_factory, name):
    async with custom_session(tmp_path_factory, name, files=FILES) as (client, session):
        text = TASKS.replace("  - **Files**: `db/", "  - **Droid**: \n  - **Files**: `db/")
        doc = Doc.open(client, session.uri("tasks/tasks-fit.md"), text)
        # TD026 on the read-only droid of a task whose Files change, related to its tools
        d = await wait_code(client, session, doc, "TD026")
        assert d.severity == types.DiagnosticSeverity.Warning
        assert "cannot edit files" in d.message and "`tools: read-only`" in d.message
        assert d.range.start.line == 8
        assert d.related_information and d.related_information[0].location.uri.endswith(
            "/.factory/droids/code-reviewer.md"
        )

        # completion after "**Droid**: ": the best three first, with the reason
        pos = position_of(text, "**Droid**: ", session.encoding, offset=len("**Droid**: "))
        result = await client.text_document_completion_async(
            types.CompletionParams(text_document=doc.ident(), position=pos)
        )
        assert result is not None
        items = sorted(result.items, key=lambda i: i.sort_text or i.label)
        assert items[0].label == "db-migrator"
        assert items[0].detail is not None and items[0].detail.startswith("suggested: ")
        assert "migration" in items[0].detail and "has Execute" in items[0].detail
        suggested = [i for i in items if (i.sort_text or "").startswith("0")]
        assert 1 <= len(suggested) <= 3
        rest = [i.label for i in items if not (i.sort_text or "").startswith("0")]
        assert rest == sorted(rest) and len(suggested) + len(rest) == len(items) >= 7
        doc.close()

        # the quick fix on a task without a droid
        doc = Doc.open(client, session.uri("tasks/tasks-fit-fix.md"), TASKS)
        await diagnostics_for(client, session, doc.uri, lambda ds: len(ds) == 1)
        pos = position_of(TASKS, "orders table", session.encoding)
        actions = await code_actions(client, doc, types.Range(start=pos, end=pos))
        assign = [a for a in actions if a.title.startswith("Assign droid ")]
        assert assign and len(assign) <= 3
        first = assign[0]
        assert first.title.startswith("Assign droid db-migrator — ")
        assert first.kind == types.CodeActionKind.QuickFix and not first.is_preferred
        assert not first.diagnostics
        edit = await edit_of(client, session, first)
        new = apply_workspace_edit({doc.uri: doc.text}, edit, session.encoding)[doc.uri]
        assert new == TASKS.replace(
            "004_orders.sql`\n", "004_orders.sql`\n  - **Droid**: db-migrator\n"
        )
        # asked for quick fixes only, they are still there
        only = await code_actions(client, doc, types.Range(start=pos, end=pos), only=["quickfix"])
        assert [a.title for a in only] == [a.title for a in assign]
        # a task with a droid, and a completed task, get none
        for needle in ("login form", "Old migration"):
            pos = position_of(TASKS, needle, session.encoding)
            titles = [
                a.title for a in await code_actions(client, doc, types.Range(start=pos, end=pos))
            ]
            assert not any(t.startswith("Assign droid") for t in titles), titles
        doc.close()
