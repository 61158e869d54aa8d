"""What the client can do, resolved once at ``initialize``.

Features ask ``server.client.<flag>`` instead of walking ``ClientCapabilities`` themselves: the
rules that interpret a capability (Neovim lists ``resourceOperations`` without
``documentChanges`` but applies both; a code action client without literal support takes only
commands; resolving an edit needs ``data`` support too) are written here, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lsprotocol import types


def _get(obj: Any, *path: str) -> Any:
    for name in path:
        if obj is None:
            return None
        obj = getattr(obj, name, None)
    return obj


def _markdown(formats: Any) -> bool:
    return bool(formats) and (types.MarkupKind.Markdown in formats or "markdown" in formats)


def _experimental(caps: Any, name: str) -> Any:
    """The experimental client capability ``name`` (the ``experimental`` object is free-form)."""
    exp = _get(caps, "experimental")
    return exp.get(name) if isinstance(exp, dict) else None


@dataclass(frozen=True, slots=True)
class ResolvedClientCapabilities:
    """The client capabilities taskdroid acts on (all False for a client that states none)."""

    #: ``textDocument/diagnostic`` (the client can pull)
    pull_diagnostics: bool = False
    #: ``workspace/diagnostic/refresh`` (the client can be told to pull again)
    workspace_refresh: bool = False
    #: ``workspace/codeLens/refresh``
    code_lens_refresh: bool = False
    #: ``workspace/applyEdit``
    apply_edit: bool = False
    #: versioned ``documentChanges`` in a WorkspaceEdit (advertised, or implied by resource ops)
    document_changes: bool = False
    resource_create: bool = False
    resource_rename: bool = False
    #: ``workspace/configuration``
    configuration: bool = False
    #: dynamic registration of file watchers / of configuration change notifications
    watch_files: bool = False
    configuration_registration: bool = False
    #: ``window/workDoneProgress/create``
    work_done_progress: bool = False
    #: ``window/showDocument``
    show_document: bool = False
    markdown_hover: bool = False
    markdown_completion_docs: bool = False
    #: code actions as ``CodeAction`` literals (else only commands)
    code_action_literals: bool = True
    #: ``codeAction/resolve`` may fill in ``edit`` (needs ``data`` support too)
    resolve_edit: bool = False
    hierarchical_symbols: bool = False
    #: the most folding ranges the client wants (None: no limit)
    folding_range_limit: int | None = None
    #: the negotiated position encoding ("utf-8", "utf-16" or "utf-32")
    position_encoding: str = "utf-16"
    #: the experimental capability ``taskdroidOutline: true``: send ``taskdroid/outlineChanged``
    outline_changes: bool = False

    @classmethod
    def resolve(
        cls, caps: types.ClientCapabilities | None, position_encoding: Any = None
    ) -> ResolvedClientCapabilities:
        td = _get(caps, "text_document")
        ws = _get(caps, "workspace")
        ops = list(_get(ws, "workspace_edit", "resource_operations") or [])
        doc_changes = bool(_get(ws, "workspace_edit", "document_changes")) or bool(ops)
        code_action = _get(td, "code_action")
        props = _get(code_action, "resolve_support", "properties") or []
        limit = _get(td, "folding_range", "range_limit")
        encoding = getattr(position_encoding, "value", position_encoding) or "utf-16"
        return cls(
            pull_diagnostics=_get(td, "diagnostic") is not None,
            workspace_refresh=bool(_get(ws, "diagnostics", "refresh_support")),
            code_lens_refresh=bool(_get(ws, "code_lens", "refresh_support")),
            apply_edit=bool(_get(ws, "apply_edit")),
            document_changes=doc_changes,
            resource_create=doc_changes
            and (types.ResourceOperationKind.Create in ops or "create" in ops),
            resource_rename=doc_changes
            and (types.ResourceOperationKind.Rename in ops or "rename" in ops),
            configuration=bool(_get(ws, "configuration")),
            watch_files=bool(_get(ws, "did_change_watched_files", "dynamic_registration")),
            configuration_registration=bool(
                _get(ws, "did_change_configuration", "dynamic_registration")
            ),
            work_done_progress=bool(_get(caps, "window", "work_done_progress")),
            show_document=bool(_get(caps, "window", "show_document", "support")),
            markdown_hover=_markdown(_get(td, "hover", "content_format")),
            markdown_completion_docs=_markdown(
                _get(td, "completion", "completion_item", "documentation_format")
            ),
            code_action_literals=code_action is None
            or _get(code_action, "code_action_literal_support") is not None,
            resolve_edit="edit" in props and bool(_get(code_action, "data_support")),
            hierarchical_symbols=bool(
                _get(td, "document_symbol", "hierarchical_document_symbol_support")
            ),
            folding_range_limit=limit if isinstance(limit, int) and limit > 0 else None,
            position_encoding=str(encoding),
            outline_changes=_experimental(caps, "taskdroidOutline") is True,
        )
