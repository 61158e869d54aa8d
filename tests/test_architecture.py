"""The structure of the code, enforced (docs/architecture.md, "Rules").

The layer rules themselves (``core`` imports nothing of ``run``/``lsp``/``mcp``/``cli``, …) are
import-linter contracts in pyproject.toml, checked by ``lint-imports`` in tests/run.sh; this file
checks the rules import-linter does not express, from the source alone (no import is executed):

* no import cycle between taskdroid's modules — counting every import, also those under
  ``if TYPE_CHECKING:`` and inside functions;
* imports inside functions only in the modules that are the start-up seam (with the reason);
* no module over 1,000 lines and no function over 150 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "server" / "taskdroid"

#: the modules allowed to import inside functions, and why; nowhere else
LAZY_IMPORT_SEAMS = {
    # the CLI loads only what the chosen subcommand needs: `taskdroid lsp` must not pay for
    # pydantic and the checks before it answers `initialize`, `taskdroid schema` for the parser
    "taskdroid.cli": "each subcommand loads its own modules (the whole cli package)",
    # the server's start: what features need is loaded after `initialize` is answered
    "taskdroid.lsp.deferred": "the one place that decides what loads after start-up",
    # markdown-it-py takes ~90 ms to import; only titles with markdown need it
    "taskdroid.core.inline": "markdown-it-py on the first title with markdown",
}
MAX_LAZY_IMPORTS = 48  # "a few dozen", all at the seam (the CLI: one per subcommand dependency)
MAX_MODULE_LINES = 1000
MAX_FUNCTION_LINES = 150


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()
assert len(MODULES) > 20, f"no taskdroid modules found under {PACKAGE}"


def _resolve(module: str, node: ast.ImportFrom | ast.Import) -> list[str]:
    """The taskdroid modules an import statement in ``module`` names."""
    names: list[str] = []
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        base = node.module or ""
        if node.level:
            pkg = module.split(".")
            if MODULES[module].name != "__init__.py":
                pkg = pkg[:-1]
            pkg = pkg[: len(pkg) - (node.level - 1)]
            base = ".".join([*pkg, base] if base else pkg)
        names = [base] + [f"{base}.{a.name}" for a in node.names]
    found = []
    for name in names:
        # `from taskdroid.core import fsio` names a module; `from x import func` names x
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name.startswith("taskdroid") and name in MODULES:
            found.append(name)
    return found


def _imports() -> dict[str, list[tuple[str, int, bool]]]:
    """module -> [(imported module, line, inside a function)]"""
    out: dict[str, list[tuple[str, int, bool]]] = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text("utf-8"))
        edges: list[tuple[str, int, bool]] = []

        def visit(node: ast.AST, in_function: bool, module: str = module, edges=edges) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.Import | ast.ImportFrom):
                    for target in _resolve(module, child):
                        if target != module:
                            edges.append((target, child.lineno, in_function))
                nested = in_function or isinstance(
                    child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
                )
                visit(child, nested)

        visit(tree, False)
        out[module] = edges
    return out


def _lazy_imports() -> list[tuple[str, int]]:
    """(module, line) of every import statement inside a function (any module, not only ours)."""
    out = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text("utf-8"))
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                for node in ast.walk(fn):
                    if isinstance(node, ast.Import | ast.ImportFrom):
                        out.append((module, node.lineno))
    return sorted(set(out))


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def _package_of(module: str) -> str:
    return module.rpartition(".")[0] if module.count(".") >= 1 else module


def test_no_import_cycles() -> None:
    graph: dict[str, set[str]] = {}
    for module, edges in _imports().items():
        # a package's __init__ importing its own submodules is not a cycle of the design
        graph[module] = {t for t, _line, _lazy in edges if module != _package_of(t)}
    cycles = _cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(" ↔ ".join(c) for c in cycles)


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def _is_seam(module: str) -> bool:
    """A seam entry names a module, or a package and every module in it."""
    return any(module == s or module.startswith(s + ".") for s in LAZY_IMPORT_SEAMS)


def test_imports_inside_functions_only_at_the_start_up_seam() -> None:
    lazy = _lazy_imports()
    elsewhere = [f"{m}:{line}" for m, line in lazy if not _is_seam(m)]
    assert not elsewhere, "imports inside functions outside the start-up seam:\n" + "\n".join(
        elsewhere
    )
    assert len(lazy) <= MAX_LAZY_IMPORTS, f"{len(lazy)} imports inside functions"


def test_module_and_function_sizes() -> None:
    big_modules = []
    big_functions = []
    for module, path in MODULES.items():
        text = path.read_text("utf-8")
        lines = text.count("\n") + 1
        if lines > MAX_MODULE_LINES:
            big_modules.append(f"{module}: {lines} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = (node.end_lineno or node.lineno) - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    big_functions.append(f"{module}.{node.name}: {n} lines")
    assert not big_modules and not big_functions, "\n".join(big_modules + big_functions)
