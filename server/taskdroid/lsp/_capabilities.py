"""Server capabilities as pygls computes them for a client that states none, and the
diagnostic provider a pulling client gets (generated: ``python tests/lsp/test_fastinit.py
--write``; checked by that test file)."""

SERVER_CAPABILITIES = {
    "codeActionProvider": {
        "codeActionKinds": ["quickfix", "refactor.rewrite", ""],
        "resolveProvider": True,
    },
    "codeLensProvider": {"resolveProvider": False},
    "completionProvider": {
        "resolveProvider": False,
        "triggerCharacters": ["[", ":", " ", ",", "#", "*"],
    },
    "definitionProvider": True,
    "documentSymbolProvider": True,
    "executeCommandProvider": {
        "commands": [
            "taskdroid.runTask",
            "taskdroid.cancelRun",
            "taskdroid.setStatus",
            "taskdroid.nextTasks",
            "taskdroid.planTasks",
            "taskdroid.createDroid",
            "taskdroid.runReady",
        ]
    },
    "foldingRangeProvider": True,
    "hoverProvider": True,
    "inlayHintProvider": {"resolveProvider": False},
    "referencesProvider": True,
    "textDocumentSync": {"change": 2, "openClose": True, "save": False},
    "workspace": {
        "fileOperations": {},
        "workspaceFolders": {"changeNotifications": True, "supported": True},
    },
    "workspaceSymbolProvider": {"resolveProvider": False},
}

PULL_DIAGNOSTIC_PROVIDER = {
    "identifier": "taskdroid",
    "interFileDependencies": True,
    "workspaceDiagnostics": True,
}
