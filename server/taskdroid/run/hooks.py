"""How a run reads its task file, writes status edits and shows progress: :class:`RunHooks`,
a protocol. The CLI's terminal hooks write to disk atomically; the server's hooks edit open
documents through the client. Both satisfy it structurally (neither inherits from it); a class
may also inherit from it to get the defaults below."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from taskdroid.core.model import Status
    from taskdroid.run.job import Run

__all__ = ["RunHooks", "read_task_file"]


async def read_task_file(run: Run) -> str | None:
    """The task file's text on disk (None when it cannot be read)."""
    from taskdroid.core.workspace import ReadError, read_text

    try:
        return read_text(run.spec.task_path)
    except ReadError:
        return None


class RunHooks(Protocol):
    """``progress`` gets ``kind`` ``queued`` (waiting for a slot), ``started`` (the droid runs),
    ``output`` (the latest meaningful line) and ``finished`` (the outcome message)."""

    async def read_text(self, run: Run) -> str | None:
        """The task file's current text (None when it cannot be read)."""
        return await read_task_file(run)

    async def set_status(
        self,
        run: Run,
        status: Status,
        *,
        note: str | None = None,
        extra_fields: Sequence[tuple[str, str]] = (),
    ) -> bool:
        """Apply the status edit of SPEC §5 to the task; True when it was applied."""
        raise NotImplementedError

    def progress(self, run: Run, kind: str, message: str) -> None:
        """Show how the run goes."""

    async def kept(self, run: Run, status: Status | None) -> None:
        """The droid set the task's status itself (``status``) and the run leaves it so."""
