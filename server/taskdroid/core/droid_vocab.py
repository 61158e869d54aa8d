"""The vocabulary of droid files (docs/language.md §3, Part II §B): the tool names of Factory and Claude
Code, the enumerated values of the front matter's keys and the patterns of its strings. Read by
:mod:`taskdroid.core.droids` (the model and the checks), completion and hover."""

from __future__ import annotations

from typing import Literal, get_args

Flavor = Literal["factory", "claude", "other"]

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
DESCRIPTION_MAX = 500
SEMVER_PATTERN = (
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
MODEL_PATTERN = r"^(?:inherit|custom:\S.*|[A-Za-z0-9][A-Za-z0-9._:/@+\[\]-]*)$"
SCHEMA_ID = "https://taskdroid.dev/schemas/droid-front-matter.json"

FACTORY_TOOLS: tuple[str, ...] = (
    "Read", "LS", "Grep", "Glob", "Create", "Edit", "MultiEdit", "ApplyPatch", "Execute",
    "WebSearch", "FetchUrl", "TodoWrite", "Task",
)  # fmt: skip
CLAUDE_CODE_TOOLS: tuple[str, ...] = (
    "Read", "Write", "Edit", "MultiEdit", "Bash", "Grep", "Glob", "LS", "WebFetch", "WebSearch",
    "TodoWrite", "Task", "NotebookEdit", "NotebookRead",
)  # fmt: skip
#: tools Claude Code documents beyond the documented list (its tool set grows often)
CLAUDE_CODE_MORE_TOOLS: tuple[str, ...] = (
    "Agent", "AskUserQuestion", "BashOutput", "CronCreate", "CronDelete", "CronList",
    "EnterPlanMode", "EnterWorktree", "ExitPlanMode", "ExitWorktree", "KillBash", "KillShell",
    "ListMcpResourcesTool", "LSP", "ReadMcpResourceTool", "Skill", "SlashCommand", "TaskCreate",
    "TaskGet", "TaskList", "TaskOutput", "TaskStop", "TaskUpdate", "ToolSearch",
    # docs/language.md §B
    "PowerShell", "Monitor", "SendMessage", "ListAgents", "Workflow",
)  # fmt: skip
#: Factory tools that are known but do nothing inside a droid run as a subagent (docs/language.md §B)
FACTORY_SUBAGENT_NOOP: tuple[str, ...] = ("Task", "AskUser")

# -- enumerated values (docs/language.md §B): the model, completion and hover all read these ----------
# (each a Literal for the front matter's model, and its values as a tuple for the rest)
PermissionMode = Literal[
    "default", "manual", "acceptEdits", "auto", "dontAsk", "bypassPermissions", "plan"
]
EffortLevel = Literal["low", "medium", "high", "xhigh", "max"]
ReasoningEffort = Literal["low", "medium", "high"]
Color = Literal["red", "blue", "green", "yellow", "purple", "orange", "pink", "cyan"]
MemoryScope = Literal["user", "project", "local"]
IsolationMode = Literal["worktree"]
Location = Literal["project", "personal"]
PERMISSION_MODES: tuple[str, ...] = get_args(PermissionMode)
EFFORT_LEVELS: tuple[str, ...] = get_args(EffortLevel)
REASONING_EFFORTS: tuple[str, ...] = get_args(ReasoningEffort)
#: accepted by the Factory CLI, not documented for droid files: a DR004 hint
REASONING_EFFORTS_UNDOCUMENTED: tuple[str, ...] = ("off", "none")
COLORS: tuple[str, ...] = get_args(Color)
MEMORY_SCOPES: tuple[str, ...] = get_args(MemoryScope)
ISOLATION_MODES: tuple[str, ...] = get_args(IsolationMode)
LOCATIONS: tuple[str, ...] = get_args(Location)
#: model values offered by completion (any model id is valid)
MODEL_VALUES: tuple[str, ...] = ("inherit", "sonnet", "opus", "haiku")
#: the values completion offers per key
ENUMERATED_VALUES: dict[str, tuple[str, ...]] = {
    "permissionMode": PERMISSION_MODES,
    "effort": EFFORT_LEVELS,
    "reasoningEffort": REASONING_EFFORTS,
    "color": COLORS,
    "memory": MEMORY_SCOPES,
    "isolation": ISOLATION_MODES,
    "location": LOCATIONS,
    "model": MODEL_VALUES,
    "background": ("true", "false"),
}
#: a version (docs/language.md §A9): ``v2``, ``2``, ``2.1`` or a semantic version
VERSION_PATTERN = r"^[vV]?\d+(?:\.\d+)*(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$"
TOOL_CATEGORIES: tuple[str, ...] = ("read-only", "edit", "execute", "web", "mcp")
