"""The other ``taskdroid`` subcommands: check (and --fix), status, next, graph, plan, coverage, schema,
lsp and mcp. Each loads the modules it needs when it runs (the CLI is a start-up seam)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from taskdroid.core.files import ReadError, read_text
from taskdroid.core.fsio import ReadOnlyFile, WriteConflict
from taskdroid.core.paths import display_path, norm

if TYPE_CHECKING:
    pass
from taskdroid.cli.common import (
    EXIT_ERRORS,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    _found_kinds,
    _say,
    _task_targets,
    _write_out,
    _write_text,
    build_workspace,
    load_workspace_settings,
    resolve_root,
)

# -- schema ------------------------------------------------------------------------------------------


def cmd_schema() -> int:
    from taskdroid.core.droids import droid_json_schema

    json.dump(droid_json_schema(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from taskdroid.core.discovery import discover

    root = resolve_root(args.root)
    ws, problems = build_workspace(root, args, personal=not args.no_personal)
    targets: list[str] = []
    failed = False
    paths = args.paths or [str(root)]
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            ap = norm(p)
            ws.extra_bases.append(ap)
            inside = ws.relpath(ap) is not None
            if inside:
                prefix = ap + os.sep
                targets.extend(q for q in ws.all_paths() if q == ap or q.startswith(prefix))
                targets.extend(q for q in problems if q.startswith(prefix))
                # files whose path matches a glob only relative to the folder itself
                found = discover(p, ws.settings)
                for kind, files in _found_kinds(found):
                    for f in files:
                        q = norm(f)
                        if q in ws.task_docs or q in ws.droid_docs or q in ws.req_docs:
                            continue
                        if q in problems:
                            continue
                        try:
                            ws.set_text(q, read_text(f), kind)
                            targets.append(q)
                        except ReadError as e:
                            problems[q] = str(e)
                            targets.append(q)
            else:
                found = discover(p, ws.settings)
                for kind, files in _found_kinds(found):
                    for f in files:
                        q = norm(f)
                        try:
                            ws.set_text(q, read_text(f), kind)
                        except ReadError as e:
                            problems[q] = str(e)
                        targets.append(q)
        elif p.is_file():
            q = norm(p)
            targets.append(q)
            if q in ws.task_docs or q in ws.droid_docs:
                continue
            try:
                text = read_text(p)
            except ReadError as e:
                problems[q] = str(e)
                continue
            kind = ws.set_text(q, text, explicit=True)
            if kind is None:
                ws.set_text(q, text, "task")
        else:
            print(f"taskdroid: {raw}: no such file or folder", file=sys.stderr)
            failed = True
    _nested_project_files(ws, targets)
    seen: set[str] = set()
    ordered = []
    for t in targets:
        if t not in seen:
            seen.add(t)
            ordered.append(t)
    for q in ordered:
        if q in problems:
            print(f"taskdroid: {display_path(q)}: {problems[q]}", file=sys.stderr)
            failed = True
    conflict = False
    if args.fix or args.diff:
        fix_failed, conflict = _fix_files(ws, [q for q in ordered if q not in problems], args.diff)
        failed = failed or fix_failed
    results = []
    for q in ordered:
        if q in problems:
            continue
        for d in ws.diagnostics(q):
            results.append((display_path(q), d))
    results.sort(key=lambda r: (r[0], r[1].range.start.line, r[1].range.start.character, r[1].code))
    from taskdroid.core import report

    out = report.render(results, args.format, ws) if not args.diff else ""
    if out:
        sys.stdout.write(out)
    if failed:
        return EXIT_USAGE
    from taskdroid.core.diagnostics import Severity

    if conflict:
        return EXIT_ERRORS
    return EXIT_ERRORS if any(d.severity == Severity.ERROR for _, d in results) else EXIT_OK


def _fix_files(ws, paths: list[str], diff_only: bool) -> tuple[bool, bool]:
    """``check --fix`` / ``--diff`` (docs/language.md §14): the preferred quick fixes of each task and droid
    file among ``paths`` (core/fixes.py), applied round after round; each file written as
    ``taskdroid status`` writes (atomically, refused when it changed meanwhile), or printed as a
    unified diff. The workspace is left with the fixed texts, so the report that follows shows
    what remains (would remain). Returns (an I/O error happened, a file changed meanwhile)."""
    from taskdroid.core.fixes import fix_text, fixes, unified_diff
    from taskdroid.core.writes import read_text_snapshot, write_atomically

    failed = conflict = False
    fixed_files = fixed_problems = 0
    done: set[str] = set()
    for q in paths:
        kind = "task" if q in ws.task_docs else "droid" if q in ws.droid_docs else None
        if kind is None:
            continue  # a .taskdroid.toml (CF001): nothing to fix
        target = os.path.realpath(q)  # edit the file a symlink points to, keep the link
        if target in done:
            continue
        done.add(target)
        shown = display_path(q)
        try:
            text, bom, before = read_text_snapshot(target)
        except ReadError as e:
            print(f"taskdroid: {shown}: {e}", file=sys.stderr)
            failed = True
            continue

        def analyse(t: str, q=q, kind=kind):
            ws.set_text(q, t, kind)
            diags = ws.diagnostics(q)
            found = fixes(t, diags, task_doc=ws.task_docs.get(q), droid_doc=ws.droid_docs.get(q))
            return diags, found

        result = fix_text(text, analyse)
        if result.text == text:
            continue
        if diff_only:
            _write_out(unified_diff(text, result.text, shown))
        else:
            try:
                write_atomically(target, bom + result.text.encode("utf-8"), before)
            except WriteConflict as e:
                print(f"taskdroid: {shown}: not written — {e}; run the command again", file=sys.stderr)
                conflict = True
                ws.set_text(q, text, kind)  # report on what was read
                continue
            except ReadOnlyFile as e:
                print(f"taskdroid: {shown}: not fixed — {e}", file=sys.stderr)
                failed = True
                ws.set_text(q, text, kind)
                continue
            except OSError as e:
                print(f"taskdroid: {shown}: cannot write: {e.strerror or e}", file=sys.stderr)
                failed = True
                ws.set_text(q, text, kind)
                continue
        fixed_files += 1
        fixed_problems += len(result.applied)
    if fixed_files:
        files = f"{fixed_files} file{'s' if fixed_files != 1 else ''}"
        verb = "would fix" if diff_only else "fixed"
        print(
            f"taskdroid: {verb} {fixed_problems} problem{'s' if fixed_problems != 1 else ''} "
            f"in {files}",
            file=sys.stderr,
        )
    return failed, conflict


def _nested_project_files(ws, targets: list[str]) -> None:
    """Lint the ``.taskdroid.toml`` of nested projects among the checked files too (CF001).

    Only the workspace root's file is *applied* (docs/language.md §10), but a runner set in any project file
    is a mistake worth reporting wherever it is."""
    from taskdroid.core.config import project_file_diagnostics

    seen: set[str] = set()
    for t in list(targets):
        proj = ws.project_root(t)
        if proj is None or proj in seen:
            continue
        seen.add(proj)
        f = norm(os.path.join(proj, ".taskdroid.toml"))
        if f in ws.extra_diagnostics or not os.path.isfile(f):
            continue
        diags = project_file_diagnostics(Path(f))
        if diags:
            ws.extra_diagnostics[f] = diags
            targets.append(f)
    root_file = norm(os.path.join(ws.root, ".taskdroid.toml")) if ws.root else None
    if root_file and root_file in ws.extra_diagnostics and root_file not in targets:
        if any(t.startswith(os.path.dirname(root_file) + os.sep) for t in targets):
            targets.append(root_file)


# -- status / next / graph ---------------------------------------------------------------------------


def cmd_lsp(args: argparse.Namespace) -> int:
    from taskdroid.lsp.main import run

    return run(args)


def cmd_mcp(args: argparse.Namespace) -> int:
    root = resolve_root(args.root)
    if args.config and not Path(args.config).is_file():
        raise UsageError(f"--config {args.config}: no such file")
    try:
        from taskdroid.mcp.server import run
    except ImportError as e:  # the SDK is missing from this installation
        raise UsageError(f"the MCP server needs the `mcp` package ({e})") from None
    return run(root, args.config)


def cmd_status(args: argparse.Namespace) -> int:
    from taskdroid.core.document import TaskDocument
    from taskdroid.core.edits import (
        EditError,
        apply_edits,
        find_task,
        parse_status,
        status_edits,
    )
    from taskdroid.core.writes import read_text_snapshot, write_atomically

    try:
        status = parse_status(args.status)
    except EditError as e:
        raise UsageError(str(e)) from None
    shown = display_path(norm(args.file))
    if not os.path.isfile(args.file):
        raise UsageError(f"{shown}: no such file")
    root = resolve_root(args.root)
    aliases = dict(load_workspace_settings(root, args).settings.markerAliases)
    target = os.path.realpath(args.file)  # edit the file a symlink points to, keep the link
    try:
        text, bom, before = read_text_snapshot(target)
    except ReadError as e:
        raise UsageError(f"{shown}: {e}") from None
    doc = TaskDocument.parse(target, text, aliases)
    try:
        edits = status_edits(text, doc, args.task_id, status, note=args.note)
    except EditError as e:
        raise UsageError(f"{shown}: {e}") from None
    loc = find_task(doc, args.task_id)
    assert loc is not None  # status_edits found it
    label = loc.task.id or args.task_id
    if args.note and status.value not in ("blocked", "cancelled"):
        print(
            "taskdroid: --note is written only for blocked and cancelled; ignored", file=sys.stderr
        )
    if not edits:
        _say(f"{shown}: {label} is already {status.value} (nothing to change)")
        return EXIT_OK
    new = bom + apply_edits(text, edits).encode("utf-8")
    try:
        write_atomically(target, new, before, force=args.force)
    except WriteConflict as e:
        print(f"taskdroid: {shown}: not written — {e}; run the command again", file=sys.stderr)
        return EXIT_ERRORS
    except ReadOnlyFile as e:
        raise UsageError(f"{shown}: not written — {e}; use --force to write it anyway") from None
    except OSError as e:
        raise UsageError(f"{shown}: cannot write: {e.strerror or e}") from None
    was = loc.task.status.value if loc.task.status is not None else "a malformed marker"
    _say(f"{shown}: {label} → {status.value} (was {was})")
    return EXIT_OK


def cmd_next(args: argparse.Namespace) -> int:
    from taskdroid.core.ready import next_tasks

    root = resolve_root(args.root)
    ws, problems = build_workspace(root, args, personal=False)
    ready = next_tasks(ws, _task_targets(ws, args.paths, problems))
    if args.format == "json":
        json.dump(
            [r.to_json(display_path(r.path)) for r in ready],
            sys.stdout,
            indent=2,
            ensure_ascii=False,
        )
        sys.stdout.write("\n")
        return EXIT_OK
    if not ready:
        _say("no ready tasks")
    for r in ready:
        head = (
            f"{display_path(r.path)}:{r.line + 1}: {r.task_id + ' ' if r.task_id else ''}{r.title}"
        )
        extra = [p for p in (r.priority, f"droid: {r.droid}" if r.droid else None) if p]
        _say(head + (f" ({', '.join(extra)})" if extra else ""))
    return EXIT_OK


def cmd_graph(args: argparse.Namespace) -> int:
    from taskdroid.core.graph import render_graph

    root = resolve_root(args.root)
    ws, problems = build_workspace(root, args, personal=False)
    targets = _task_targets(ws, args.paths, problems)
    sys.stdout.write(render_graph(ws, targets, args.format, show_path=display_path))
    return EXIT_OK


def cmd_plan(args: argparse.Namespace) -> int:
    from taskdroid.core.plan import compute_plan, render_mermaid, render_text

    root = resolve_root(args.root)
    ws, problems = build_workspace(root, args, personal=False)
    io_errors: list[str] = []
    targets = _task_targets(ws, args.paths, problems, io_errors)
    plan = compute_plan(ws, targets)
    if args.format == "json":
        # indented for a person; a big plan compact (json's fast C encoder never indents)
        indent = 2 if plan.planned + len(plan.unplannable) <= 2000 else None
        sys.stdout.write(json.dumps(plan.to_json(display_path), indent=indent, ensure_ascii=False))
        sys.stdout.write("\n")
    elif args.format == "mermaid":
        sys.stdout.write(render_mermaid(plan, display_path))
    else:
        _write_text(render_text(plan, display_path))
    return EXIT_USAGE if io_errors else EXIT_OK


def cmd_coverage(args: argparse.Namespace) -> int:
    """``taskdroid coverage`` (docs/language.md §13)."""
    from taskdroid.core import requirement_views as rv

    root = resolve_root(args.root)
    ws, problems = build_workspace(root, args, personal=False)
    missing = [raw for raw in args.paths if not Path(raw).exists()]
    if missing:
        raise UsageError(f"{missing[0]}: no such file or folder")
    rows_of, errors = rv.coverage_of(ws, args.paths or [str(root)], problems, display_path)
    for shown, error in errors:
        print(f"taskdroid: {shown}: {error}", file=sys.stderr)
    if args.format == "json":
        out = [row for shown, rows in rows_of for row in rv.coverage_json(rows, shown)]
        sys.stdout.write(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    elif not rows_of:
        _say("no requirements files (.kiro/specs/*/requirements.md, specs/*/spec.md)")
    else:
        _write_text("\n".join(rv.render_coverage_text(rows, shown) for shown, rows in rows_of))
    return EXIT_USAGE if errors else EXIT_OK
