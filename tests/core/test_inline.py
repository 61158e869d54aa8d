"""Titles shown to people: inline markdown rendered to plain text (core/inline.py)."""

from __future__ import annotations

import pytest

from taskdroid.core.document import TaskDocument
from taskdroid.core.inline import plain_title
from taskdroid.core.query import outline


@pytest.mark.parametrize(
    ("title", "shown"),
    [
        ("Plain title", "Plain title"),
        ("Create the `users` table", "Create the users table"),
        ("**Bold** and *em* and _u_ and ~~gone~~", "Bold and em and u and gone"),
        ("See [the guide](docs/guide.md) ![logo](x.png)", "See the guide logo"),
        ("Escape \\* and &amp; and <b>tag</b>", "Escape * and & and tag"),
        ("snake_case_name and 2 * 3 < 7", "snake_case_name and 2 * 3 < 7"),
        # an ID bolded together with the start of its title: the opener went with the ID
        ("Atomic:** Create the schema", "Atomic: Create the schema"),
        ("1.1.1 Atomic:** Create", "1.1.1 Atomic: Create"),
        ("Unbalanced ** stays", "Unbalanced ** stays"),
    ],
)
def test_plain_title(title: str, shown: str) -> None:
    assert plain_title(title) == shown


def test_outline_shows_titles_without_markdown() -> None:
    text = "## 1. A\n\n- [x] **1.1.1 Atomic:** Create `x` ✅\n- [ ] **1.2 Whole title**\n"
    doc = TaskDocument.parse("/x/tasks.md", text, {})
    tree = outline(doc)
    labels = [child.name for node in tree for child in node.children]
    assert labels == ["1.1.1 Atomic: Create x", "1.2 Whole title"]
