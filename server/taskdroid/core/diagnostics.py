"""Diagnostic model and the registry of codes (docs/language.md §4)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import IntEnum

from taskdroid.core.text import Range


class Severity(IntEnum):
    """Same numbering as LSP's DiagnosticSeverity."""

    ERROR = 1
    WARNING = 2
    INFORMATION = 3
    HINT = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> Severity:
        v = value.strip().lower()
        aliases = {"info": "information", "warn": "warning", "err": "error"}
        v = aliases.get(v, v)
        for s in cls:
            if s.label == v:
                return s
        raise ValueError(
            f"unknown severity {value!r} (expected error, warning, information or hint)"
        )


@dataclass(frozen=True, slots=True)
class CodeInfo:
    code: str
    name: str
    severity: Severity
    summary: str


_C = CodeInfo
_E, _W, _I, _H = Severity.ERROR, Severity.WARNING, Severity.INFORMATION, Severity.HINT

CODES: dict[str, CodeInfo] = {
    c.code: c
    for c in [
        _C(
            "TD001", "malformed-marker", _E, "a marker attempt that is not one of the known markers"
        ),
        _C("TD002", "missing-task-id", _W, "a task without an ID among siblings that have IDs"),
        _C("TD003", "duplicate-task-id", _E, "a task reusing an ID already used above it"),
        _C(
            "TD004",
            "id-section-mismatch",
            _W,
            "a task ID whose first part differs from its section number",
        ),
        _C(
            "TD005", "noncanonical-marker", _H, "an alias marker such as [X] where [x] is canonical"
        ),
        _C("TD010", "unknown-dependency", _E, "a dependency on a task or file that does not exist"),
        _C("TD011", "dependency-cycle", _E, "a task depends on itself, directly or through others"),
        _C(
            "TD012",
            "dependency-not-complete",
            _W,
            "a started or completed task whose dependency is not completed",
        ),
        _C("TD020", "unknown-droid", _W, "a Droid field naming no known droid"),
        _C("TD021", "status-emoji-mismatch", _W, "marker and trailing status emoji disagree"),
        _C(
            "TD022", "completed-without-timestamp", _I, "a completed task without a Completed field"
        ),
        _C("TD023", "blocked-without-reason", _W, "a blocked task that does not say why"),
        _C("TD024", "invalid-timestamp", _W, "a timestamp field that does not parse"),
        _C("TD025", "timestamp-order", _W, "Completed earlier than Started / In Progress"),
        _C(
            "TD026",
            "droid-cannot-edit",
            _W,
            "a task whose Files must change is assigned a droid that cannot edit files",
        ),
        _C("TD030", "unknown-priority", _W, "a section priority that is not a known priority"),
        _C("TD031", "missing-file", _I, "a completed task's Files entry does not exist"),
        _C("TD032", "prohibited-path", _W, "Files names .env or a path under .git/"),
        _C("TD040", "misspelled-field", _H, "a field key close to a known key"),
        _C("TD041", "orphan-field", _W, "a task field that is not under any task"),
        _C("TD042", "duplicate-field", _W, "the same field twice in one task"),
        _C("TD043", "empty-field", _W, "a Droid, Dependencies or timestamp field with no value"),
        _C("TD050", "unknown-requirement", _W, "a reference to a requirement the spec lacks"),
        _C("TD051", "uncovered-requirement", _I, "a requirement that no task references"),
        _C(
            "TD090", "file-too-large", _W, "a file too large to analyse (one diagnostic, no checks)"
        ),
        _C("DR001", "missing-front-matter", _E, "a droid file without YAML front matter"),
        _C("DR002", "invalid-yaml", _E, "front matter that is not valid YAML or not a mapping"),
        _C("DR003", "missing-name", _E, "front matter without name"),
        _C("DR004", "invalid-field", _E, "a front matter value of the wrong type or form"),
        _C("DR005", "unknown-tool", _W, "a tool that is not known"),
        _C("DR006", "name-mismatch", _W, "name differs from the file name"),
        _C("DR007", "duplicate-droid", _W, "two droid files of one tool with the same name"),
        _C("DR008", "unknown-key", _H, "a front matter key taskdroid does not know"),
        _C("DR009", "date-order", _W, "updatedAt earlier than createdAt"),
        _C("DR010", "empty-body", _W, "no prompt body after the front matter"),
        _C("DR011", "missing-description", _W, "front matter without description"),
        _C("DR012", "duplicate-tool", _W, "the same tool listed twice"),
        _C(
            "DR013",
            "agent-dropped",
            _W,
            "a front matter value that makes Claude Code drop the agent silently",
        ),
        _C("CF001", "runner-in-project-config", _W, "runner.* in the project file is ignored"),
    ]
}

SOURCE = "taskdroid"


@dataclass(frozen=True, slots=True)
class Related:
    """Another place involved in a diagnostic. ``path`` is a filesystem path (or None: same file)."""

    path: str | None
    range: Range
    message: str


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    range: Range
    message: str
    severity: Severity
    related: tuple[Related, ...] = ()
    #: machine-readable hints for quick fixes (e.g. {"suggestion": "Dependencies"})
    data: dict | None = field(default=None, compare=False, hash=False)

    @property
    def name(self) -> str:
        return CODES[self.code].name

    def shifted(self, lines: int) -> Diagnostic:
        if not lines:
            return self
        return replace(
            self,
            range=self.range.shifted(lines),
            related=tuple(
                r if r.path is not None else Related(None, r.range.shifted(lines), r.message)
                for r in self.related
            ),
        )

    def sort_key(self) -> tuple:
        return (self.range.start.line, self.range.start.character, self.code)


def diag(
    code: str,
    rng: Range,
    message: str,
    *,
    severity: Severity | None = None,
    related: tuple[Related, ...] | list[Related] = (),
    data: dict | None = None,
) -> Diagnostic:
    """Build a diagnostic with the code's default severity."""
    return Diagnostic(
        code=code,
        range=rng,
        message=message,
        severity=severity if severity is not None else CODES[code].severity,
        related=tuple(related),
        data=data,
    )


def apply_policy(
    diags: list[Diagnostic], disable: frozenset[str] | set[str], severity: dict[str, Severity]
) -> list[Diagnostic]:
    """Drop disabled codes and apply severity overrides (settings ``diagnostics.*``)."""
    if not disable and not severity:
        return diags
    out = []
    for d in diags:
        if d.code in disable:
            continue
        s = severity.get(d.code)
        out.append(d if s is None or s == d.severity else replace(d, severity=s))
    return out
