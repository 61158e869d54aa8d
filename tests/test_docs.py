"""The repository's documentation is self-contained and its references hold.

(a) every section cited as ``§N`` / ``§A3`` — written "docs/language.md §N" (older comments) or
    "docs/language.md §N" — in ``server/``, ``client-vscode/src``, ``README.md`` and ``docs/`` is a
    section of docs/language.md;
(b) no tracked file links or points outside the repository;
(c) every relative markdown link in README.md, bench/README.md and docs/ resolves to a file of
    the repository, and to a heading of it when the link names an anchor of a markdown file.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LANGUAGE = REPO / "docs" / "language.md"

# -- helpers -----------------------------------------------------------------------------------------


def tracked_files() -> list[str]:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout
    return [p for p in out.decode("utf-8").split("\0") if p]


def read(rel: str) -> str:
    try:
        return (REPO / rel).read_bytes().decode("utf-8", "replace")
    except (FileNotFoundError, IsADirectoryError):
        return ""  # tracked but deleted in the work tree


#: a cited section: ``§7``, ``§10.``, ``§A3``, ``§B``; "docs/language.md §N" and "language.md §N" both match
_CITATION = re.compile(r"§\s?([A-C]\d{0,2}|\d{1,2})(?![\d])")
#: a section heading of docs/language.md: ``## §7 Running a droid`` / ``### §A10 …``
_SECTION_HEADING = re.compile(r"^#{2,6}\s+§([A-C]\d{0,2}|\d{1,2})\b", re.M)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


#: in prose docs a bare ``§5`` may be the document's own numbering (docs/security.md's claims):
#: there only a citation that names the language reference (or the old "SPEC") counts
_NAMED_CITATION = re.compile(r"(?:SPEC|language\.md)\)?\s?§\s?([A-C]\d{0,2}|\d{1,2})(?![\d])")


def citations(text: str, *, named_only: bool = False) -> set[str]:
    return set((_NAMED_CITATION if named_only else _CITATION).findall(text))


def outside_fences(text: str) -> list[str]:
    """The lines of a markdown text that are not inside fenced code blocks."""
    out: list[str] = []
    fence: str | None = None
    for line in text.splitlines():
        m = _FENCE.match(line)
        if fence is None and m:
            fence = m.group(1)[0] * len(m.group(1))
            continue
        if fence is not None:
            if line.strip().startswith(fence) and not line.strip().strip(fence[0]):
                fence = None
            continue
        out.append(line)
    return out


def language_sections() -> list[str]:
    return _SECTION_HEADING.findall("\n".join(outside_fences(LANGUAGE.read_text("utf-8"))))


_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)[ \t]*#*[ \t]*$")
_ANCHOR_TAG = re.compile(r"<a\s+(?:id|name)=\"([^\"]+)\"")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation and symbols dropped, spaces → ``-``."""
    text = re.sub(r"<[^>]+>", "", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    seen: dict[str, int] = {}
    out: set[str] = set()
    for line in outside_fences(text):
        m = _HEADING.match(line)
        if m:
            base = slug(m.group(1))
            n = seen.get(base, 0)
            seen[base] = n + 1
            out.add(base if n == 0 else f"{base}-{n}")
        out.update(_ANCHOR_TAG.findall(line))
    return out


_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")


def links(text: str) -> list[str]:
    out: list[str] = []
    for line in outside_fences(text):
        out.extend(_LINK.findall(_CODE_SPAN.sub("", line)))
    return out


# -- (a) cited sections exist ---------------------------------------------------------------------


def test_citation_forms_are_recognised() -> None:
    text = 'x (docs/language.md §7) y "docs/language.md §10." z §6, §7 and SPEC A3 / §A3, §1–§10'
    assert citations(text) == {"7", "10", "6", "A3", "1"}
    assert citations(text, named_only=True) == {"7", "10"}
    assert citations("see §12 below; [ref](language.md) §3", named_only=True) == {"3"}


def test_language_sections_are_numbered_and_stable() -> None:
    sections = language_sections()
    numbered = [int(s) for s in sections if s.isdigit()]
    # in order; a number may be missing while its feature is not built (the numbers are stable)
    assert numbered == sorted(numbered) and numbered[:10] == list(range(1, 11)), numbered
    assert len(sections) == len(set(sections)), "a section number is used twice"


def test_every_cited_section_exists() -> None:
    where: dict[str, list[str]] = {}
    for rel in tracked_files():
        if not (
            rel.startswith(("server/", "client-vscode/src/", "docs/")) or rel == "README.md"
        ):
            continue
        prose = rel.startswith("docs/") and rel != "docs/language.md"
        for n in citations(read(rel), named_only=prose):
            where.setdefault(n, []).append(rel)
    assert len(where) >= 8, f"too few citations found — is the pattern broken? {where}"
    sections = set(language_sections())
    missing = {n: files for n, files in where.items() if n not in sections}
    assert not missing, f"sections cited but missing from docs/language.md: {missing}"


# -- (b) nothing points outside the repository ---------------------------------------------------

#: spelled in pieces so that this file does not match itself
_OUTSIDE = ("../" + "shared", "/work" + "/", "shared/" + "guides/", "SPEC" + ".md")


def test_no_tracked_file_points_outside_the_repository() -> None:
    bad = []
    for rel in tracked_files():
        text = read(rel)
        for needle in _OUTSIDE:
            if needle in text:
                line = text.count("\n", 0, text.index(needle)) + 1
                bad.append(f"{rel}:{line}: {needle}")
    assert not bad, "files that point outside the repository:\n" + "\n".join(bad)


def test_outside_patterns_catch_the_old_readme_link() -> None:
    old = "The contract is [the spec](../" + "shared/SPEC" + ".md)."
    assert any(needle in old for needle in _OUTSIDE)


# -- (c) relative links resolve -------------------------------------------------------------------


def _doc_files() -> list[str]:
    return [
        rel
        for rel in tracked_files()
        if rel in ("README.md", "bench/README.md")
        or (rel.startswith("docs/") and rel.endswith(".md"))
    ]


def test_relative_markdown_links_resolve() -> None:
    bad = []
    checked = 0
    for rel in _doc_files():
        src = REPO / rel
        for target in links(read(rel)):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
                continue  # https:, mailto:, …
            path_part, _, anchor = target.partition("#")
            dest = (src.parent / path_part).resolve() if path_part else src
            checked += 1
            try:
                dest.relative_to(REPO)
            except ValueError:
                bad.append(f"{rel}: {target} (outside the repository)")
                continue
            if not dest.exists():
                bad.append(f"{rel}: {target} (no such file)")
                continue
            if anchor and dest.suffix == ".md" and dest.is_file():
                if anchor not in anchors(dest.read_text("utf-8")):
                    bad.append(f"{rel}: {target} (no such heading)")
    assert checked >= 10, "too few links found — is the pattern broken?"
    assert not bad, "broken links:\n" + "\n".join(bad)


def test_link_checker_sees_a_broken_link(tmp_path: Path) -> None:
    text = "See [x](missing.md) and `[y](in-code.md)`\n```\n[z](fenced.md)\n```\n## §7 Running a droid\n"
    assert links(text) == ["missing.md"]
    assert "7-running-a-droid" in anchors(text)
