"""The ``taskdroid`` command line (docs/language.md §9), over the same core as the language server.

Nothing imports this package (an import-linter contract); it is a start-up seam: each subcommand
loads what it needs when it runs, so ``taskdroid lsp`` answers ``initialize`` without loading
pydantic and the checks first."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Sequence

from taskdroid.cli.commands import (
    cmd_check,
    cmd_coverage,
    cmd_graph,
    cmd_lsp,
    cmd_mcp,
    cmd_next,
    cmd_plan,
    cmd_schema,
    cmd_status,
)
from taskdroid.cli.common import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, UsageError, build_workspace
from taskdroid.cli.parser import _parser
from taskdroid.cli.run import cmd_run

__all__ = ["build_workspace", "main"]


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
