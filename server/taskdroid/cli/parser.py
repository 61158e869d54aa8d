"""The ``taskdroid`` argument parser: one function per group of subcommands (docs/language.md §9)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from taskdroid import __version__

if TYPE_CHECKING:
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
