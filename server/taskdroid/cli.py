"""The ``taskdroid`` command line (SPEC §9), over the same core as the language server."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from taskdroid import __version__

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

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--root",
            metavar="DIR",
            help="workspace root (default: nearest folder with .taskdroid.toml, .git, .factory or .claude)",
        )
        sp.add_argument(
            "--config", metavar="FILE", help="extra TOML settings file (wins over the user file)"
        )

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
    common(c)

    sub.add_parser("schema", help="print the droid front matter JSON Schema")

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
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0) if e.code in (0, None) else EXIT_USAGE
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        if args.command == "check":
            return cmd_check(args)
        if args.command == "schema":
            return cmd_schema()
        if args.command == "lsp":
            from taskdroid.lsp.server import run

            return run(args)
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
        print(f"taskdroid: internal error: {type(e).__name__}: {e} (set TASKDROID_DEBUG=1 for details)", file=sys.stderr)
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
    for kind, files in (("task", found.task_files), ("droid", found.droid_files)):
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
                for kind, files in (("task", found.task_files), ("droid", found.droid_files)):
                    for f in files:
                        q = norm(f)
                        if q in ws.task_docs or q in ws.droid_docs or q in problems:
                            continue
                        try:
                            ws.set_text(q, read_text(f), kind)
                            targets.append(q)
                        except ReadError as e:
                            problems[q] = str(e)
                            targets.append(q)
            else:
                found = discover(p, ws.settings)
                for kind, files in (("task", found.task_files), ("droid", found.droid_files)):
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
    results = []
    for q in ordered:
        if q in problems:
            continue
        for d in ws.diagnostics(q):
            results.append((display_path(q), d))
    results.sort(key=lambda r: (r[0], r[1].range.start.line, r[1].range.start.character, r[1].code))
    from taskdroid.core import report

    out = report.render(results, args.format, ws)
    if out:
        sys.stdout.write(out)
    if failed:
        return EXIT_USAGE
    from taskdroid.core.diagnostics import Severity

    return EXIT_ERRORS if any(d.severity == Severity.ERROR for _, d in results) else EXIT_OK


def _nested_project_files(ws, targets: list[str]) -> None:
    """Lint the ``.taskdroid.toml`` of nested projects among the checked files too (CF001).

    Only the workspace root's file is *applied* (SPEC §10), but a runner set in any project file
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


def display_path(path: str) -> str:
    """Relative to the current directory when inside it, POSIX separators."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        rel = path
    if rel.startswith(".."):
        rel = path
    return rel.replace(os.sep, "/")


if __name__ == "__main__":
    raise SystemExit(main())
