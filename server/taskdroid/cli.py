"""The ``taskdroid`` command line (docs/language.md §9), over the same core as the language server."""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from taskdroid import __version__
from taskdroid.core.fsio import ReadOnlyFile, WriteConflict
from taskdroid.core.paths import display_path

if TYPE_CHECKING:
    from taskdroid.core.model import Status
    from taskdroid.run import Run

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="taskdroid",
        description="Language server and checker for task markdown and droid files.",
    )
    p.add_argument("--version", action="version", version=f"taskdroid {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    _add_check(sub)
    sub.add_parser("schema", help="print the droid front matter JSON Schema")
    _add_edits(sub)
    _add_queries(sub)
    _add_servers(sub)
    return p


def _common(sp: argparse.ArgumentParser) -> None:
    sp.add_argument(
        "--root",
        metavar="DIR",
        help="workspace root (default: nearest folder with .taskdroid.toml, .git, .factory or .claude)",
    )
    sp.add_argument(
        "--config", metavar="FILE", help="extra TOML settings file (wins over the user file)"
    )


def _add_check(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``check``: diagnostics, ``--fix`` and ``--diff``."""
    c = sub.add_parser("check", help="report diagnostics for task and droid files")
    c.add_argument(
        "paths", nargs="*", metavar="PATH", help="files or folders (default: the workspace root)"
    )
    c.add_argument("--format", choices=["text", "json", "sarif", "github"], default="text")
    c.add_argument(
        "--no-personal",
        action="store_true",
        help="do not read personal droid folders (~/.factory/droids …)",
    )
    c.add_argument(
        "--fix",
        action="store_true",
        help="apply every unambiguous quick fix (the editor's preferred ones), each file written "
        "atomically, then report what remains",
    )
    c.add_argument(
        "--diff",
        action="store_true",
        help="print the fixes --fix would apply as a unified diff; write nothing",
    )
    _common(c)


def _add_edits(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``status`` and ``run``: the subcommands that change a task file."""
    st = sub.add_parser(
        "status",
        help="set a task's status (docs/language.md §5), written atomically",
        description="Set the status of one task in a task file: the marker, the trailing emoji "
        "and the status field change; every other byte of the file stays.",
    )
    st.add_argument("file", metavar="FILE", help="the task file")
    st.add_argument("task_id", metavar="TASK_ID", help="the task's ID, e.g. 1.3 or T012")
    st.add_argument(
        "status",
        metavar="STATUS",
        help="pending, in_progress (or in-progress), completed, blocked or cancelled",
    )
    st.add_argument(
        "--note", metavar="TEXT", help="why: the Issue of a blocked task, the reason of a cancel"
    )
    st.add_argument(
        "--force",
        action="store_true",
        help="write the file even when its permissions make it read-only",
    )
    _common(st)

    rn = sub.add_parser(
        "run",
        help="run the droid named on a task (docs/language.md §7), or every ready task, with live progress",
        usage="%(prog)s FILE TASK_ID [--droid NAME] [--force] [options]\n"
        "       %(prog)s --ready|--all [PATH ...] [--droid NAME] [options]",
        description="Run the droid named on a task with the runner of your user settings "
        "(runner.command), mark the task in progress, show the droid's latest output, and record "
        "the outcome in the task file. Ctrl-C cancels (the task gets its previous status back). "
        "Exit status: 0 completed, 1 blocked, 2 usage error or refused, 130 interrupted. "
        "With --ready, every ready task that names a droid runs (at most runner.maxParallel at "
        "once, never two sharing a Files entry); --all goes on with the tasks that become ready. "
        "Exit status then: 0 every started task completed and none was skipped, 1 otherwise.",
    )
    rn.add_argument(
        "targets",
        nargs="*",
        metavar="FILE TASK_ID | PATH",
        help="the task file and the task's ID (e.g. 1.3 or T012); with --ready/--all: task files "
        "or folders (default: the workspace root)",
    )
    mode = rn.add_mutually_exclusive_group()
    mode.add_argument(
        "--ready",
        action="store_true",
        help="run every ready task that names a droid (pending, every dependency completed)",
    )
    mode.add_argument(
        "--all",
        action="store_true",
        help="like --ready, and go on: tasks that become ready as others complete run too",
    )
    rn.add_argument(
        "--droid",
        metavar="NAME",
        help="the droid to run (default: the task's **Droid** field); with --ready/--all, the "
        "droid of the tasks that name none",
    )
    rn.add_argument(
        "--force",
        action="store_true",
        help="run even when the task is completed or a dependency is not",
    )
    rn.add_argument(
        "--runner",
        metavar="ARGV",
        help="runner command, a JSON array or a shell-like string (never run through a shell); "
        "wins over the settings",
    )
    _common(rn)


def _add_queries(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``next``, ``graph`` and ``plan``: the subcommands that read the tasks."""
    nx = sub.add_parser("next", help="list ready tasks: pending, every dependency completed")
    nx.add_argument(
        "paths", nargs="*", metavar="PATH", help="files or folders (default: the workspace root)"
    )
    nx.add_argument("--format", choices=["text", "json"], default="text")
    _common(nx)

    gr = sub.add_parser("graph", help="print the task dependency graph (Mermaid or DOT)")
    gr.add_argument(
        "paths", nargs="*", metavar="PATH", help="files or folders (default: the workspace root)"
    )
    gr.add_argument("--format", choices=["mermaid", "dot"], default="mermaid")
    _common(gr)

    pl = sub.add_parser(
        "plan",
        help="place pending tasks in waves that can run in parallel (docs/language.md §11)",
        description="Place the pending tasks in waves: a task runs one wave after the last of "
        "its dependencies, and two tasks that change the same file never share a wave. Lists "
        "running tasks, Files conflicts, tasks that cannot be planned (with the reason) and the "
        "critical path. Exit status: 0, or 2 on usage or I/O errors.",
    )
    pl.add_argument(
        "paths", nargs="*", metavar="PATH", help="files or folders (default: the workspace root)"
    )
    pl.add_argument(
        "--format",
        choices=["text", "json", "mermaid"],
        default="text",
        help="text: a markdown table for a pull request (default); json: docs/language.md §11; mermaid: "
        "waves as columns",
    )
    _common(pl)

    _add_coverage_parser(sub, _common)

def _add_servers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``mcp`` and ``lsp``: the servers."""
    mc = sub.add_parser(
        "mcp",
        help="run the MCP server on stdio (docs/language.md §12): agents list, claim and update tasks",
        description="A Model Context Protocol server on stdio with the tools list_tasks, "
        "next_tasks, show_task, claim_task, set_status, check and plan, rooted at the workspace "
        "root. It never starts a process.",
    )
    _common(mc)

    lsp = sub.add_parser("lsp", help="run the language server (stdio by default)")
    lsp.add_argument(
        "--stdio",
        action="store_true",
        help="use stdio (the default; accepted for editor compatibility)",
    )
    lsp.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio")
    lsp.add_argument(
        "--log-level", default="WARNING", help="DEBUG, INFO, WARNING (default) or ERROR"
    )
    lsp.add_argument("--log-file", metavar="FILE", help="log to this file instead of stderr")
    lsp.add_argument(
        "--runner", metavar="ARGV", help="droid runner command (JSON array or shell-like string)"
    )
    lsp.add_argument("--config", metavar="FILE", help="extra TOML settings file")


def _add_coverage_parser(sub, common) -> None:
    """``taskdroid coverage`` (docs/language.md §13)."""
    cv = sub.add_parser(
        "coverage",
        help="list each requirement of Kiro/spec-kit specs with the tasks that reference it",
        description="For each Kiro requirements.md and spec-kit spec.md (docs/language.md §13): every "
        "requirement, user story or FR (criteria after their requirement) with the tasks of "
        "the sibling task files that reference it, and its state: covered, uncovered or done "
        "(all its tasks completed). A task file as PATH stands for its spec. Exit status: 0, "
        "or 2 on usage or I/O errors.",
    )
    cv.add_argument(
        "paths", nargs="*", metavar="PATH", help="files or folders (default: the workspace root)"
    )
    cv.add_argument("--format", choices=["text", "json"], default="text")
    common(cv)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0) if e.code in (0, None) else EXIT_USAGE
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    # Parsing a large task file allocates millions of small objects that all stay alive: with
    # the default threshold (700) the cyclic GC runs hundreds of times over them for nothing
    # (about a sixth of a 10,000-task check). Refcounting still frees everything else at once.
    gc.set_threshold(50_000, 20, 20)
    try:
        if args.command == "check":
            return cmd_check(args)
        if args.command == "schema":
            return cmd_schema()
        if args.command == "status":
            return cmd_status(args)
        if args.command == "run":
            return cmd_run(args)
        if args.command == "next":
            return cmd_next(args)
        if args.command == "graph":
            return cmd_graph(args)
        if args.command == "plan":
            return cmd_plan(args)
        if args.command == "coverage":
            return cmd_coverage(args)
        if args.command == "lsp":
            return cmd_lsp(args)
        if args.command == "mcp":
            return cmd_mcp(args)
    except UsageError as e:
        print(f"taskdroid: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except Exception as e:  # a bug: one line for the user, the traceback on request
        if os.environ.get("TASKDROID_DEBUG"):
            raise
        print(
            f"taskdroid: internal error: {type(e).__name__}: {e} (set TASKDROID_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    parser.print_help(sys.stderr)
    return EXIT_USAGE


# -- schema ------------------------------------------------------------------------------------------


def cmd_schema() -> int:
    from taskdroid.core.droids import droid_json_schema

    json.dump(droid_json_schema(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return EXIT_OK


# -- check -----------------------------------------------------------------------------------------


def resolve_root(arg: str | None) -> Path:
    from taskdroid.core.discovery import find_root

    if arg:
        root = Path(arg)
        if not root.is_dir():
            raise UsageError(f"--root {arg}: not a folder")
        return root.resolve()
    return find_root(Path.cwd()).resolve()


def load_workspace_settings(root: Path, args: argparse.Namespace):
    from taskdroid.core.config import load_settings

    cfg = Path(args.config) if getattr(args, "config", None) else None
    if cfg is not None and not cfg.is_file():
        raise UsageError(f"--config {cfg}: no such file")
    loaded = load_settings(root, config_file=cfg, runner_override=getattr(args, "runner", None))
    for problem in loaded.problems:
        print(f"taskdroid: {problem}", file=sys.stderr)
    return loaded


def _found_kinds(found) -> tuple:
    """(kind, files) of a discovery result: task, droid and requirements files (docs/language.md §13)."""
    return (
        ("task", found.task_files),
        ("droid", found.droid_files),
        ("requirements", found.requirement_files),
    )


def build_workspace(root: Path, args: argparse.Namespace, *, personal: bool = True):
    """Index every task and droid file under ``root`` (for cross-file resolution)."""
    from taskdroid.core.discovery import discover
    from taskdroid.core.workspace import ReadError, Workspace, read_text

    loaded = load_workspace_settings(root, args)
    ws = Workspace(root, loaded.settings, personal=personal)
    if loaded.project_file is not None and loaded.project_diagnostics:
        ws.extra_diagnostics[str(Path(loaded.project_file).resolve())] = list(
            loaded.project_diagnostics
        )
    found = discover(root, loaded.settings)
    problems: dict[str, str] = {}
    for kind, files in _found_kinds(found):
        for f in files:
            try:
                ws.set_text(str(f), read_text(f), kind)
            except ReadError as e:
                problems[os.path.normpath(os.path.abspath(f))] = str(e)
    return ws, problems


def cmd_check(args: argparse.Namespace) -> int:
    from taskdroid.core.discovery import discover
    from taskdroid.core.workspace import ReadError, norm, read_text

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
    from taskdroid.core.files import ReadError
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


def _write_out(text: str) -> None:
    """Write ``text`` to stdout as UTF-8 bytes, line endings as they are (a diff of a CRLF file
    keeps its ``\\r``)."""
    buf = getattr(sys.stdout, "buffer", None)
    if buf is None:
        sys.stdout.write(text)
        return
    sys.stdout.flush()
    buf.write(text.encode("utf-8"))
    buf.flush()


def _nested_project_files(ws, targets: list[str]) -> None:
    """Lint the ``.taskdroid.toml`` of nested projects among the checked files too (CF001).

    Only the workspace root's file is *applied* (docs/language.md §10), but a runner set in any project file
    is a mistake worth reporting wherever it is."""
    from taskdroid.core.config import project_file_diagnostics
    from taskdroid.core.workspace import norm

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
    from taskdroid.core.workspace import ReadError, norm
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


def _say(line: str) -> None:
    """Print a line even where stdout cannot encode ``→`` or emoji."""
    try:
        print(line)
    except UnicodeEncodeError:
        enc = sys.stdout.encoding or "ascii"
        print(line.encode(enc, "replace").decode(enc))


# -- run -------------------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    import asyncio

    from taskdroid.core.workspace import ReadError, norm, read_text
    from taskdroid.run import RunError, prepare_run

    if args.ready or args.all:
        return cmd_run_queue(args)
    if len(args.targets) != 2:
        raise UsageError(
            "run: give FILE TASK_ID (one task), or --ready / --all [PATH …] (every ready task)"
            + (f"; got {len(args.targets)} argument{'s' if len(args.targets) != 1 else ''}")
        )
    args.file, args.task_id = args.targets
    path = norm(args.file)
    shown = display_path(path)
    if not os.path.isfile(path):
        raise UsageError(f"{shown}: no such file")
    root = resolve_root(args.root)
    ws, _problems = build_workspace(root, args)
    try:
        text = read_text(path)
    except ReadError as e:
        raise UsageError(f"{shown}: {e}") from None
    try:
        spec = prepare_run(
            workspace=root,
            task_path=path,
            text=text,
            task_id=args.task_id,
            runner=ws.settings.runner,
            aliases=dict(ws.settings.markerAliases),
            droid=args.droid,
            force=args.force,
            ws=ws,
        )
    except RunError as e:
        raise UsageError(str(e)) from None
    return asyncio.run(_run_in_terminal(spec, shown))


async def _run_in_terminal(spec, shown: str) -> int:
    """One run with live progress; SIGINT/SIGTERM cancel it (a second one kills the droid)."""
    import asyncio
    import signal

    from taskdroid.core.model import Status
    from taskdroid.run import RunError, RunManager

    hooks = _TerminalHooks(sys.stdout, shown)
    try:
        run = RunManager().submit(spec, hooks)
    except RunError as e:
        raise UsageError(str(e)) from None
    loop = asyncio.get_running_loop()
    interrupted = False

    def on_signal() -> None:
        nonlocal interrupted
        if interrupted:
            hooks.line("stopping now (SIGKILL)")
            run.kill()
            return
        interrupted = True
        hooks.line("interrupted: stopping the droid (press Ctrl-C again to kill it at once)")
        run.cancel("interrupted")

    installed = []
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):  # a closed terminal, too: no orphan droid
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        try:
            loop.add_signal_handler(sig, on_signal)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not on this platform
            pass
    ticker = asyncio.ensure_future(hooks.tick(run)) if hooks.tty else None
    try:
        result = await run.execute()
    finally:
        if ticker is not None:
            ticker.cancel()
        for sig in installed:
            loop.remove_signal_handler(sig)
    hooks.finished(run, result)
    if interrupted or result.outcome == "cancelled":
        return EXIT_INTERRUPTED
    return EXIT_OK if result.final_status is Status.COMPLETED else EXIT_ERRORS


class _TerminalHooks:
    """Progress on a terminal: a status line redrawn in place (elapsed time, latest line) on a
    TTY, plain lines otherwise; status edits written to disk atomically."""

    def __init__(self, out, shown: str) -> None:
        self.out = out
        self.shown = shown
        try:
            self.tty = bool(out.isatty())
        except (AttributeError, ValueError):
            self.tty = False
        self.latest = ""
        self._drawn = False

    async def read_text(self, run: Run) -> str | None:
        from taskdroid.run.hooks import read_task_file

        return await read_task_file(run)

    async def set_status(
        self,
        run: Run,
        status: Status,
        *,
        note: str | None = None,
        extra_fields: Sequence[tuple[str, str]] = (),
    ) -> bool:
        from taskdroid.core.writes import write_status

        return write_status(
            run.spec.task_path,
            run.spec.task_id,
            status,
            note=note,
            extra_fields=extra_fields,
            aliases=dict(run.spec.aliases),
        )

    async def kept(self, run: Run, status: Status | None) -> None:
        """The droid set the status itself: nothing to add (the outcome line says so)."""

    def progress(self, run: Run, kind: str, message: str) -> None:
        spec = run.spec
        if kind == "started":
            log_file = run.log_display()
            self.line(
                f"running droid {spec.droid} on {self.shown} {spec.task_id} “{spec.title}” "
                f"(pid {run.pid}){f'; log: {log_file}' if log_file else ''}"
            )
        elif kind == "queued":
            self.line(message)
        elif kind == "output":
            self.latest = message
            if self.tty:
                self._draw(run)
            else:
                self.line(f"[{_clock(run.elapsed)}] {message}")

    async def tick(self, run) -> None:
        import asyncio

        while True:
            await asyncio.sleep(0.5)
            if run.state in ("running", "stopping"):
                self._draw(run)

    def _draw(self, run) -> None:
        import shutil

        width = max(20, shutil.get_terminal_size((80, 24)).columns - 1)
        text = f"[{_clock(run.elapsed)}] {run.spec.droid} · {run.spec.task_id} · {self.latest}"
        if len(text) > width:
            text = text[: width - 1] + "…"
        self._write("\r\x1b[2K" + text)
        self._drawn = True

    def _clear(self) -> None:
        if self._drawn:
            self._write("\r\x1b[2K")
            self._drawn = False

    def _write(self, text: str) -> None:
        try:
            self.out.write(text)
            self.out.flush()
        except UnicodeEncodeError:
            enc = getattr(self.out, "encoding", None) or "ascii"
            self.out.write(text.encode(enc, "replace").decode(enc))
            self.out.flush()
        except (OSError, ValueError):
            pass

    def line(self, text: str) -> None:
        self._clear()
        self._write(text + "\n")

    def finished(self, run, result) -> None:
        self._clear()
        self.line(f"{self.shown}: {result.message}")
        log_file = run.log_display()
        if log_file:
            self.line(f"log: {log_file}")


class _QueueTerminalHooks(_TerminalHooks):
    """The terminal hooks of one run of ``taskdroid run --ready/--all``: plain lines (runs go in
    parallel, so no line is redrawn in place), each naming its task."""

    def __init__(self, out, shown: str) -> None:
        super().__init__(out, shown)
        self.tty = False

    def progress(self, run: Run, kind: str, message: str) -> None:
        if kind == "output":
            self.line(f"[{_clock(run.elapsed)}] {run.spec.task_id}: {message}")
        elif kind == "finished":
            self.line(f"{self.shown}: {message}")
        else:
            super().progress(run, kind, message)


def cmd_run_queue(args: argparse.Namespace) -> int:
    """``taskdroid run --ready|--all [PATH…]`` (docs/language.md §7, queued runs)."""
    import asyncio

    if args.force:
        raise UsageError("run: --force runs one task (FILE TASK_ID); it cannot be used with --ready or --all")
    root = resolve_root(args.root)
    ws, problems = build_workspace(root, args)
    paths = _task_targets(ws, args.targets, problems)
    return asyncio.run(_run_queue_in_terminal(args, root, ws, paths))


async def _run_queue_in_terminal(args: argparse.Namespace, root: Path, ws, paths) -> int:
    import asyncio
    import signal

    from taskdroid.core.workspace import ReadError, read_text
    from taskdroid.run import RunError, RunManager
    from taskdroid.run.queue import QueueScope, TaskQueue

    out = sys.stdout
    stats: dict[str, tuple[int, int] | None] = {p: _stat(p) for p in ws.task_docs}

    async def refresh(changed: Sequence[str]):
        """Re-read the task files that changed on disk (a run's outcome, a droid's own edits)."""
        for p in list(ws.task_docs):
            st = _stat(p)
            if st != stats.get(p) or p in changed:
                stats[p] = st
                try:
                    ws.set_task_text(p, read_text(p))
                except ReadError as e:
                    print(f"taskdroid: {display_path(p)}: {e}", file=sys.stderr)
        return ws

    def text_of(path: str) -> str | None:
        try:
            return read_text(path)
        except ReadError:
            return None

    shown_lines: list[str] = []

    def on_update(q: TaskQueue) -> None:
        text = q.progress_text()
        if not shown_lines or shown_lines[-1] != text:
            shown_lines.append(text)
            hooks_line(f"== {text}")

    def hooks_line(text: str) -> None:
        _TerminalHooks(out, "").line(text)

    queue = TaskQueue(
        RunManager(),
        [QueueScope(str(root), paths, refresh, text_of)],
        follow=bool(args.all),
        droid=args.droid,
        make_hooks=lambda spec: _QueueTerminalHooks(out, display_path(spec.task_path)),
        on_update=on_update,
    )
    try:
        await queue.prepare()
    except RunError as e:
        raise UsageError(str(e)) from None
    if not queue.waiting:
        _say("no ready tasks with a droid" + ("" if args.droid else " (use --droid NAME to run the tasks that name none)"))
        return EXIT_OK
    loop = asyncio.get_running_loop()
    interrupted = False

    def on_signal() -> None:
        nonlocal interrupted
        if interrupted:
            hooks_line("stopping now (SIGKILL)")
            queue.kill()
            return
        interrupted = True
        hooks_line("interrupted: stopping every droid (press Ctrl-C again to kill them at once)")
        queue.cancel("interrupted")

    installed = []
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        try:
            loop.add_signal_handler(sig, on_signal)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
    try:
        summary = await queue.run()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
    hooks_line(f"summary: {summary.counts()}")
    for line in summary.lines(display_path):
        _say(f"  {line}")
    if interrupted or summary.cancelled:
        return EXIT_INTERRUPTED
    return EXIT_OK if summary.ok else EXIT_ERRORS


def _stat(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def _clock(seconds: float) -> str:
    s = int(seconds)
    return (
        f"{s // 60:02d}:{s % 60:02d}"
        if s < 3600
        else f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
    )


def _task_targets(
    ws, raw_paths: list[str], problems: dict[str, str], io_errors: list[str] | None = None
) -> list[str] | None:
    """The task files named by PATH arguments (files, or folders searched with the globs), added
    to the workspace when outside its index; None without arguments (every indexed file).
    Files that cannot be read are reported on stderr (and their paths added to ``io_errors``)."""
    if io_errors is None:
        io_errors = []
    from taskdroid.core.discovery import discover
    from taskdroid.core.workspace import ReadError, norm, read_text

    if not raw_paths:
        for q, why in sorted(problems.items()):
            print(f"taskdroid: {display_path(q)}: {why}", file=sys.stderr)
            io_errors.append(q)
        return None
    targets: list[str] = []
    missing = []

    def add(q: str, f) -> None:
        if q not in ws.task_docs:
            try:
                ws.set_task_text(q, read_text(f))
            except ReadError as e:
                print(f"taskdroid: {display_path(q)}: {e}", file=sys.stderr)
                io_errors.append(q)
                return
        targets.append(q)

    for raw in raw_paths:
        p = Path(raw)
        if p.is_dir():
            ap = norm(p)
            prefix = ap + os.sep
            targets.extend(q for q in sorted(ws.task_docs) if q.startswith(prefix))
            for q in sorted(problems):
                if q.startswith(prefix):
                    print(f"taskdroid: {display_path(q)}: {problems[q]}", file=sys.stderr)
                    io_errors.append(q)
            for f in discover(p, ws.settings).task_files:
                q = norm(f)
                if q not in problems:
                    add(q, f)
        elif p.is_file():
            q = norm(p)
            if q in problems:
                print(f"taskdroid: {display_path(q)}: {problems[q]}", file=sys.stderr)
                io_errors.append(q)
                continue
            add(q, p)
        else:
            missing.append(raw)
    if missing:
        raise UsageError(f"{missing[0]}: no such file or folder")
    return list(dict.fromkeys(targets))


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


def _write_text(text: str) -> None:
    """Write text even where stdout cannot encode ``→`` or emoji."""
    try:
        sys.stdout.write(text)
    except UnicodeEncodeError:
        enc = sys.stdout.encoding or "ascii"
        sys.stdout.write(text.encode(enc, "replace").decode(enc))


if __name__ == "__main__":
    raise SystemExit(main())
