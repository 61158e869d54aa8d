"""What the known task field keys mean (docs/language.md §2): the one-line texts hover and
completion show."""

from __future__ import annotations

from taskdroid.core.model import FIELD_LOOKUP, KNOWN_FIELDS

__all__ = ["FIELD_HELP", "field_help", "known_field_keys"]


#: one-line meaning of the known field keys (hover, completion documentation)
FIELD_HELP: dict[str, str] = {
    "Droid": "the droid that works on this task (a name from `.factory/droids` or `.claude/agents`)",
    "Files": "files the task touches, comma-separated (`path` or `` `path` (note)``)",
    "Tests": "tests that cover the task",
    "Dependencies": "tasks that must be completed first: `1.2`, `Task 3`, `T004`, `file.md#1.1`",
    "Status": "free-form status note (e.g. `Cancelled 2025-01-13 09:00`)",
    "Completed": "when the task was completed: `YYYY-MM-DD HH:MM`",
    "In Progress": "when work started: `Started YYYY-MM-DD HH:MM`",
    "Started": "when work started: `YYYY-MM-DD HH:MM`",
    "Attempted": "when a run was last attempted: `YYYY-MM-DD HH:MM`",
    "Error": "the error that blocks the task",
    "Root Cause": "why the task failed",
    "Solution Needed": "what is needed to unblock the task",
    "Issue": "why the task is blocked",
    "Blocker": "what blocks the task",
    "Workaround": "a way around the blocker",
    "Action Required": "what a person has to decide or do",
    "Priority": "the task's priority",
    "Notes": "free-form notes",
    "Verify": (
        "a command run after the droid exits 0, in the workspace (first backticked span, split "
        "like a shell line, never run through one): exit 0 completes the task, else it is "
        "blocked. Runs only with `runner.verify = true` in your user settings"
    ),
}


def field_help(key: str) -> str:
    canonical = FIELD_LOOKUP.get(key.lower())
    if canonical is None:
        return "a custom field"
    if canonical != key and key.lower() != canonical.lower():
        return f"alias of **{canonical}**: " + FIELD_HELP.get(canonical, "a known task field")
    return FIELD_HELP.get(canonical, "a known task field")


def known_field_keys() -> list[str]:
    return list(KNOWN_FIELDS)
