"""The pydantic models of the commands' arguments (lsp/commands.py validates with them).

pydantic is not imported at start-up: lsp/commands.py binds this module through the start-up
seam (:mod:`taskdroid.lsp.deferred`), so it is loaded after ``initialize`` is answered.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from taskdroid.core.edits import EditError, parse_status
from taskdroid.core.query import valid_droid_name

__all__ = [
    "Args",
    "CreateDroidArgs",
    "NextTasksArgs",
    "OpenLogArgs",
    "SetStatusArgs",
    "ValidationError",
]


class Args(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SetStatusArgs(Args):
    uri: str = Field(min_length=1)
    taskId: str = Field(min_length=1)
    status: str
    note: str | None = None

    @field_validator("status")
    @classmethod
    def _status(cls, value: str) -> str:
        try:
            return parse_status(value).value
        except EditError as e:
            raise ValueError(str(e)) from None


class NextTasksArgs(Args):
    """``{uri?}``: also the arguments of ``taskdroid.planTasks`` and ``taskdroid.outline``."""

    uri: str | None = None


class OpenLogArgs(Args):
    """``{uri, taskId}`` of ``taskdroid.openLog``."""

    uri: str = Field(min_length=1)
    taskId: str = Field(min_length=1)


class CreateDroidArgs(Args):
    name: str = Field(min_length=1)
    folder: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not valid_droid_name(value):
            hint = ""
            stem = value[:-3] if value.lower().endswith(".md") else value
            if stem != value and valid_droid_name(stem):
                hint = f" (give the name without `.md`: `{stem}`)"
            raise ValueError(
                f"`{value}` is not a valid droid name — use lowercase letters, digits, `-` "
                f"and `_`, starting with a letter or digit{hint}"
            )
        return value
