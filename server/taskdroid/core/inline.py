"""Task titles as a reader sees them: inline markdown rendered to plain text.

The parser keeps a title as written (``Create the `x` **now**``), because edits and task lookup
compare source text. Where a title is *shown* — hover, document and workspace symbols, inlay
hints, completion details, ``next``, ``graph``, ``plan`` — it goes through :func:`plain_title`,
which renders the inline markdown with markdown-it-py (code spans keep their text, emphasis and
strike-through markers go, links and images show their text, inline HTML tags are dropped).
A title with no markdown punctuation at all, the common case, is returned as it is.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

__all__ = ["plain_title"]

#: characters that can start inline markdown; a title without them is already plain
_SPECIAL = re.compile(r"[*_`\[\]<>!\\&~]")
#: delimiter runs that the task grammar lets an ID share with the start of its title
#: (``- [x] **1.1 Atomic:** rest``): the opener stayed with the ID
_SHARED_OPENERS = ("**", "__", "~~")



@cache
def _md() -> MarkdownIt:
    # imported on the first title that needs it: markdown-it-py takes ~90 ms to import, which
    # `taskdroid check` of plain titles should not pay
    from markdown_it import MarkdownIt

    return MarkdownIt("zero", {"html": True}).enable(
        ["backticks", "emphasis", "strikethrough", "link", "image", "autolink", "html_inline",
         "entity", "escape", "newline"]
    )  # fmt: skip


def _text(tokens: list[Token]) -> str:
    out: list[str] = []
    for tok in tokens:
        if tok.type in ("text", "code_inline"):
            out.append(tok.content)
        elif tok.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif tok.children:  # an image: its alt text
            out.append(_text(tok.children))
    return "".join(out)


def _render(text: str) -> str:
    tokens = _md().parseInline(text)
    return _text(tokens[0].children or []) if tokens else text


@lru_cache(maxsize=8192)
def plain_title(text: str) -> str:
    """``text`` (one line of inline markdown) as plain text, white space folded."""
    if not _SPECIAL.search(text):
        return text
    out = _render(text)
    for d in _SHARED_OPENERS:
        if d in out and text.count(d) % 2 == 1:
            fixed = _render(d + text)
            if d not in fixed:
                out = fixed
                break
    return " ".join(out.split())
