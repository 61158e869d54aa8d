"""Requirement references over stdio (docs/language.md §13): TD050/TD051, definition, hover, references,
completion, code lens and document symbols on Kiro and spec-kit specs written in their real
formats (tests/fixtures/requirements)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from lsputil import change_doc, custom_session, diagnostics_for, open_doc, position_of, range_of

pytestmark = pytest.mark.asyncio(loop_scope="session")

SRC = Path(__file__).parent.parent / "fixtures" / "requirements"
KIRO = "kiro/.kiro/specs/user-auth/"
SK = "speckit/specs/001-photo-albums/"


def _doc(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=uri)


@pytest.mark.parametrize("name", ["vscode", "push"])
async def test_requirement_features(tmp_path_factory, name):
    async with custom_session(tmp_path_factory, name, src=SRC) as (client, session):
        enc = session.encoding
        tasks_uri, req_uri = session.uri(KIRO + "tasks.md"), session.uri(KIRO + "requirements.md")
        tasks, req = session.text(KIRO + "tasks.md"), session.text(KIRO + "requirements.md")
        open_doc(client, tasks_uri, tasks)
        open_doc(client, req_uri, req)

        # TD050 on the unknown criterion 2.9 and requirement 12; never on free text
        diags = await diagnostics_for(
            client, session, tasks_uri, lambda ds: sum(d.code == "TD050" for d in ds) == 2
        )
        td050 = sorted((d.range.start.line, d.range.start.character) for d in diags if d.code == "TD050")
        assert td050 == [
            (position_of(tasks, "2.9", enc).line, position_of(tasks, "2.9", enc).character),
            (position_of(tasks, "12_", enc).line, position_of(tasks, "12_", enc).character),
        ]
        assert all(d.severity == types.DiagnosticSeverity.Warning for d in diags if d.code == "TD050")
        # TD051: Requirement 4 only (one per requirement, never per criterion)
        rdiags = await diagnostics_for(client, session, req_uri, lambda ds: len(ds) == 1)
        assert [d.code for d in rdiags] == ["TD051"]
        assert rdiags[0].range.start == position_of(req, "Requirement 4", enc)
        assert rdiags[0].severity == types.DiagnosticSeverity.Information

        # definition: a criterion in a range → that criterion's line in requirements.md
        defs = await client.text_document_definition_async(
            types.DefinitionParams(
                text_document=_doc(tasks_uri), position=position_of(tasks, "1.1–1.3", enc, offset=1)
            )
        )
        assert isinstance(defs, list) and len(defs) == 1
        assert defs[0].uri == req_uri
        assert defs[0].range.start.line == position_of(req, "1. WHEN a visitor", enc).line

        # hover: the criterion's text
        hover = await client.text_document_hover_async(
            types.HoverParams(text_document=_doc(tasks_uri), position=position_of(tasks, "2.2_", enc))
        )
        assert hover is not None
        value = hover.contents.value if hasattr(hover.contents, "value") else str(hover.contents)
        assert "fails to sign in five times" in value

        # references: Requirement 2 → every task reference naming it or its criteria
        refs = await client.text_document_references_async(
            types.ReferenceParams(
                text_document=_doc(req_uri),
                position=position_of(req, "Requirement 2", enc, offset=2),
                context=types.ReferenceContext(include_declaration=False),
            )
        )
        got = sorted((r.uri, r.range.start, r.range.end) for r in refs or [])
        # task 1 names 2.2; task 3.1 names 2.1 and 2.2; task 3.2 the range 2.3-2.4 (2.9: none)
        def part(needle: str, inner: str) -> types.Range:
            k = needle.index(inner)
            return types.Range(
                start=position_of(tasks, needle, enc, offset=k),
                end=position_of(tasks, needle, enc, offset=k + len(inner)),
            )

        want = [
            part("1.1, 2.2_", "2.2"),
            part("2.1, 2.2_", "2.1"),
            part("2.1, 2.2_", "2.2"),
            range_of(tasks, "2.3-2.4", enc),
        ]
        assert got == sorted((tasks_uri, w.start, w.end) for w in want)

        # code lens: n tasks · k done on each requirement
        lenses = await client.text_document_code_lens_async(types.CodeLensParams(text_document=_doc(req_uri)))
        titles = {lens.range.start.line: lens.command.title for lens in lenses or []}
        assert titles[position_of(req, "Requirement 1", enc).line] == "3 tasks · 2 done"
        assert titles[position_of(req, "Requirement 4", enc).line] == "0 tasks · 0 done"
        assert len(titles) == 4

        # document symbols: requirements with their criteria
        syms = await client.text_document_document_symbol_async(
            types.DocumentSymbolParams(text_document=_doc(req_uri))
        )
        names = [s.name for s in syms or []]
        if isinstance(syms[0], types.DocumentSymbol):
            assert names == [
                "Requirement 1", "Requirement 2: Sign in", "Requirement 3: Password reset",
                "Requirement 4: Audit log",
            ]  # fmt: skip
            assert [c.name for c in syms[1].children] == ["2.1", "2.2", "2.3", "2.4"]
        else:  # flat SymbolInformation: criteria follow their requirement
            assert names[:5] == ["Requirement 1", "1.1", "1.2", "1.3", "Requirement 2: Sign in"]

        # completion after `_Requirements: ` offers requirement and criterion IDs
        typed = tasks + "\n- [ ] 6. Audit\n  - _Requirements: "
        change_doc(client, tasks_uri, 2, typed)
        end = position_of(typed, "_Requirements: ", enc, occurrence=typed.count("_Requirements: ") - 1, offset=15)
        items = await client.text_document_completion_async(
            types.CompletionParams(text_document=_doc(tasks_uri), position=end)
        )
        labels = [i.label for i in (items.items if items else [])]
        assert {"1", "1.1", "4", "4.1"} <= set(labels)

        # a new Requirement 12 in the open requirements.md clears the TD050 on `12`
        change_doc(client, req_uri, 2, req + "\n### Requirement 12: Spare\n\n1. WHEN x THEN y\n")
        await diagnostics_for(
            client, session, tasks_uri, lambda ds: sum(d.code == "TD050" for d in ds) == 1
        )

        # spec-kit: completion inside `[US`, and TD050 on an unknown story
        sk_uri = session.uri(SK + "tasks.md")
        sk = session.text(SK + "tasks.md") + "- [ ] T008 [US"
        open_doc(client, sk_uri, sk)
        sd = await diagnostics_for(
            client, session, sk_uri, lambda ds: sum(d.code == "TD050" for d in ds) == 2
        )
        assert sorted(d.message.split(" in ")[0] for d in sd if d.code == "TD050") == [
            "no FR-030",
            "no User Story 4",
        ]
        items = await client.text_document_completion_async(
            types.CompletionParams(
                text_document=_doc(sk_uri),
                position=position_of(sk, "[US", enc, occurrence=sk.count("[US") - 1, offset=3),
            )
        )
        got = sorted((i.label, i.text_edit.new_text) for i in (items.items if items else []))
        assert got == [("US1", "US1]"), ("US2", "US2]"), ("US3", "US3]")]
