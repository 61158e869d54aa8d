"""Render diagnostics for the CLI: text, json, sarif (2.1.0) and GitHub workflow commands."""

from __future__ import annotations

import json
from collections.abc import Sequence

from taskdroid import __version__
from taskdroid.core.diagnostics import CODES, Diagnostic, Severity
from taskdroid.core.paths import display_path

DOCS_URL = "https://github.com/taskdroid/taskdroid/blob/main/docs/diagnostics.md"


def anchor(code: str) -> str:
    info = CODES.get(code)
    return f"{DOCS_URL}#{code.lower()}-{info.name}" if info else DOCS_URL


def render(results: Sequence[tuple[str, Diagnostic]], fmt: str, ws=None) -> str:
    if fmt == "json":
        return render_json(results)
    if fmt == "sarif":
        return render_sarif(results, ws)
    if fmt == "github":
        return render_github(results)
    return render_text(results)


def _pos(d: Diagnostic) -> tuple[int, int, int, int]:
    r = d.range
    return r.start.line + 1, r.start.character + 1, r.end.line + 1, r.end.character + 1


def render_text(results: Sequence[tuple[str, Diagnostic]]) -> str:
    lines = []
    for path, d in results:
        line, col, _, _ = _pos(d)
        lines.append(f"{path}:{line}:{col}: {d.severity.label} [{d.code}] {d.message}")
    if results:
        counts = {s: 0 for s in Severity}
        for _, d in results:
            counts[d.severity] += 1
        summary = ", ".join(
            f"{n} {s.label}{'s' if n != 1 and s != Severity.INFORMATION else ''}"
            for s, n in counts.items()
            if n
        )
        files = len({p for p, _ in results})
        lines.append(f"taskdroid: {summary} in {files} file{'s' if files != 1 else ''}")
    return "\n".join(lines) + ("\n" if lines else "")


def to_json_obj(path: str, d: Diagnostic) -> dict:
    line, col, end_line, end_col = _pos(d)
    return {
        "path": path,
        "line": line,
        "column": col,
        "end_line": end_line,
        "end_column": end_col,
        "severity": d.severity.label,
        "code": d.code,
        "message": d.message,
    }


def render_json(results: Sequence[tuple[str, Diagnostic]]) -> str:
    return json.dumps([to_json_obj(p, d) for p, d in results], ensure_ascii=False, indent=2) + "\n"


_SARIF_LEVEL = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFORMATION: "note",
    Severity.HINT: "note",
}


def render_sarif(results: Sequence[tuple[str, Diagnostic]], ws=None) -> str:
    codes = sorted(CODES)
    rules = [
        {
            "id": c,
            "name": CODES[c].name,
            "shortDescription": {"text": CODES[c].summary},
            "helpUri": anchor(c),
            "defaultConfiguration": {"level": _SARIF_LEVEL[CODES[c].severity]},
        }
        for c in codes
    ]
    index = {c: i for i, c in enumerate(codes)}
    out = []
    for path, d in results:
        line, col, end_line, end_col = _pos(d)
        res = {
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": _SARIF_LEVEL[d.severity],
            "message": {"text": d.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": path},
                        "region": {
                            "startLine": line,
                            "startColumn": col,
                            "endLine": end_line,
                            "endColumn": end_col,
                        },
                    }
                }
            ],
        }
        if d.related:
            rel = []
            for i, r in enumerate(d.related):
                rel.append(
                    {
                        "id": i,
                        "message": {"text": r.message},
                        "physicalLocation": {
                            "artifactLocation": {
                                "uri": path if r.path is None else _display(r.path)
                            },
                            "region": {
                                "startLine": r.range.start.line + 1,
                                "startColumn": r.range.start.character + 1,
                                "endLine": r.range.end.line + 1,
                                "endColumn": r.range.end.character + 1,
                            },
                        },
                    }
                )
            res["relatedLocations"] = rel
        out.append(res)
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "taskdroid",
                        "version": __version__,
                        "informationUri": DOCS_URL,
                        "rules": rules,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": out,
            }
        ],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def _display(path: str) -> str:
    return display_path(path)


def _esc_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _esc_prop(s: str) -> str:
    return _esc_data(s).replace(":", "%3A").replace(",", "%2C")


_GH_LEVEL = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFORMATION: "notice",
    Severity.HINT: "notice",
}


def render_github(results: Sequence[tuple[str, Diagnostic]]) -> str:
    lines = []
    for path, d in results:
        line, col, end_line, end_col = _pos(d)
        props = f"file={_esc_prop(path)},line={line},col={col},endLine={end_line},endColumn={end_col},title={_esc_prop('taskdroid ' + d.code)}"
        lines.append(f"::{_GH_LEVEL[d.severity]} {props}::{_esc_data(d.message)}")
    return "\n".join(lines) + ("\n" if lines else "")
