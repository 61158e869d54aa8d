"""The MCP server (docs/language.md §12): agents list, claim and update tasks through taskdroid instead of
editing markdown by hand. :mod:`taskdroid.mcp.tools` holds the tools (core only, no SDK);
:mod:`taskdroid.mcp.server` serves them with the official ``mcp`` SDK on stdio. This package may
use ``taskdroid.core`` and the lock and log-folder helpers of ``taskdroid.run``; it never imports
the language server or the CLI, and it never starts a process."""
