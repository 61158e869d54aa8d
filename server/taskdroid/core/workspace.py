"""The workspace index: every task and droid file, droid resolution, cross-file dependencies.

Used by both the CLI (``taskdroid check``) and the language server. Paths are absolute,
normalised filesystem paths (strings). The server keeps open documents here too (open documents
win over disk: it simply calls :meth:`Workspace.set_text` with the buffer's text).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from taskdroid.core import document as _document
from taskdroid.core.checks.task_file import check_file
from taskdroid.core.checks.task_refs import Proto, check_chunk_refs, check_refs
from taskdroid.core.depgraph import DependencyGraph, TaskKey, strongly_connected
from taskdroid.core.diagnostics import Diagnostic, apply_policy
from taskdroid.core.discovery import (
    ROOT_MARKERS,
    FileKind,
    classify_path,
    file_names,
    personal_droid_files,
)
from taskdroid.core.document import Located, PlacedChunk, TaskDocument, normalize_id
from taskdroid.core.droid_rank import Capabilities, DroidRanker, capabilities
from taskdroid.core.droids import (
    DroidDocument,
    duplicate_droid_diagnostics,
    flavor_of,
    looks_like_droid,
    parse_droid,
)
from taskdroid.core.files import ReadError, read_text
from taskdroid.core.model import ChunkParse, Ref
from taskdroid.core.paths import norm
from taskdroid.core.requirements import (
    RequirementsDocument,
    check_requirements,
    check_task_refs,
    parse_requirements,
    requirements_flavor,
)
from taskdroid.core.settings import DEFAULT_SETTINGS, Settings


class Workspace:
    def __init__(
        self,
        root: str | os.PathLike | None,
        settings: Settings | None = None,
        *,
        personal: bool = True,
    ):
        self.root: str | None = norm(root) if root is not None else None
        self.settings: Settings = settings or DEFAULT_SETTINGS
        self.task_docs: dict[str, TaskDocument] = {}
        self.droid_docs: dict[str, DroidDocument] = {}
        #: requirements files (docs/language.md §13), and those read from disk for a task file's references
        self.req_docs: dict[str, RequirementsDocument] = {}
        self._req_external: dict[str, tuple[int, RequirementsDocument | None]] = {}
        self._droid_texts: dict[str, str] = {}
        self.personal_droids: dict[str, DroidDocument] = {}
        self.extra_diagnostics: dict[str, list[Diagnostic]] = {}  # e.g. CF001 for .taskdroid.toml
        self._external: dict[str, TaskDocument | None] = {}  # task files outside the index
        self._exists: dict[str, bool] = {}
        #: path_exists answers by (folder of the task file, entry) for one ``fs_version``
        self._exists_memo: dict[tuple[str | None, str], bool] = {}
        self._exists_memo_version = -1
        self._graph: DependencyGraph | None = None
        self._graph_key: tuple | None = None
        self._droid_index: dict[str, DroidDocument] | None = None
        #: the droid index a ranker was built from, and the ranker (docs/language.md §11)
        self._ranker: tuple[dict[str, DroidDocument], DroidRanker] | None = None
        #: the droid index capabilities were computed for, and name -> capabilities (TD026)
        self._caps: tuple[dict[str, DroidDocument], dict[str, Capabilities | None]] | None = None
        self._dup: dict[str, list[Diagnostic]] | None = None
        self._personal_loaded = not personal
        #: bumped when what cross-file checks depend on changes (see chunk_ref_protos)
        self.droid_version = 0
        self.fs_version = 0
        #: folders a walk of the whole root may visit (None: no bound; see core.roots)
        self.walk_limit: int | None = None
        self.deps_version = 0
        self._doc_sigs: dict[str, tuple] = {}
        self._chunk_sig: dict[int, tuple] = {}
        self._live_chunks = 0  #: chunks of the documents at the last cache pruning
        self._ref_cache: dict[tuple[str, int, str], tuple] = {}
        #: more folders that Files entries may be relative to (e.g. folders passed to the CLI)
        self.extra_bases: list[str] = []
        self._project_roots: dict[str, str | None] = {}
        #: folder -> task files in it (split task lists, docs/language.md §A3)
        self._folders: dict[str, list[str]] = {}
        self._folders_key: tuple | None = None
        self._nearby: dict[str, list[str]] = {}
        self._names: tuple[int, frozenset[str]] | None = None

    # -- settings -------------------------------------------------------------------------------
    def set_settings(self, settings: Settings) -> None:
        old = self.settings
        self.settings = settings
        if old.parse_key != settings.parse_key:
            for p, d in list(self.task_docs.items()):
                self.task_docs[p] = TaskDocument.parse(p, d.text, dict(settings.markerAliases))
                self._task_docs_changed(p)
            self._external.clear()
        self.fs_version += 1
        if old.extraTools != settings.extraTools:
            for p in list(self.droid_docs):
                self.set_droid_text(p, self._droid_texts.get(p, ""))
        if old.droidPaths != settings.droidPaths:
            self.personal_droids.clear()
            self._personal_loaded = False
        self._invalidate()

    def _invalidate(self) -> None:
        self._droid_index = None
        self._dup = None
        self.droid_version += 1

    def _task_docs_changed(self, path: str, old: TaskDocument | None = None) -> None:
        """Bump ``deps_version`` when the IDs, statuses or references of a task file changed.

        A version made from ``old`` by an edit compares only the chunks the edit replaced."""
        doc = self.task_docs.get(path)
        if (
            doc is not None
            and old is not None
            and doc.delta is not None
            and doc.delta[0] == id(old)  # (``old`` is alive: its id names it)
            and path in self._doc_sigs
        ):
            _, gone, came = doc.delta
            if [self._chunk_sig_of(p) for p in gone] == [self._chunk_sig_of(p) for p in came]:
                return  # the document's signature is unchanged (the same value as stored)
        sig = self._doc_sig(doc) if doc is not None else None
        if self._doc_sigs.get(path) != sig:
            if sig is None:
                self._doc_sigs.pop(path, None)
            else:
                self._doc_sigs[path] = sig
            self.deps_version += 1

    def _doc_sig(self, doc: TaskDocument) -> tuple:
        return tuple([self._chunk_sig_of(c.parse) for c in doc.chunks])

    def _chunk_sig_of(self, parse: ChunkParse) -> tuple:
        cache = self._chunk_sig
        hit = cache.get(id(parse))
        if hit is None or hit[0] is not parse:
            sig = tuple(
                (
                    t.id and normalize_id(t.id),
                    t.status,
                    tuple((r.path, r.task_id) for r in t.refs),
                )
                for t in parse.tasks
            )
            if len(cache) > self._cache_limit():
                self._prune_caches()
            hit = (parse, sig)
            cache[id(parse)] = hit
        return hit[1]

    def _cache_limit(self) -> int:
        """Entries the per-chunk caches may hold before the ones of chunks no longer in any
        document are dropped (each entry holds a parse: old versions must not pile up)."""
        return 2 * self._live_chunks + 4096

    def _prune_caches(self) -> None:
        """Keep only what the current documents use in the per-chunk and per-document caches."""
        docs = [*self.task_docs.values(), *(d for d in self._external.values() if d is not None)]
        live = {id(c.parse) for d in docs for c in d.chunks}
        self._live_chunks = len(live)
        # in place: callers hold references to these dicts
        caches: tuple[tuple[dict[Any, Any], Callable[[Any], bool]], ...] = (
            (self._chunk_sig, lambda k: k in live),
            (self._ref_cache, lambda k: k[1] in live),
        )
        for cache, alive in caches:
            for k in [k for k in cache if not alive(k)]:
                del cache[k]

    def chunk_ref_protos(self, doc: TaskDocument, chunk: PlacedChunk) -> list[Proto]:
        """Cross-file checks of one chunk (cached per check family; see checks/task_refs.py)."""
        out: list[Proto] = []
        cache = self._ref_cache
        for part, version in (
            ("deps", (self.deps_version, self.fs_version)),
            ("droids", self.droid_version),
            ("files", self.fs_version),
        ):
            key = (doc.path, id(chunk.parse), part)
            hit = cache.get(key)
            if hit is not None and hit[0] is chunk.parse and hit[1] == version:
                out.extend(hit[2])
                continue
            protos = check_chunk_refs(self, doc, chunk, part)
            if len(cache) > 3 * self._cache_limit():
                self._prune_caches()
            cache[key] = (chunk.parse, version, protos)
            out.extend(protos)
        return out

    # -- documents ------------------------------------------------------------------------------
    def classify(
        self, path: str, text: str | None = None, *, explicit: bool = False
    ) -> FileKind | None:
        """ "task", "droid" or None, by the globs of docs/language.md §1 (relative to the root), then — for a
        file the user named explicitly — by content."""
        rel = self.relpath(path)
        kind = classify_path(rel, self.settings) if rel is not None else None
        if kind is None:
            kind = classify_path(Path(path).name, self.settings)
        if kind is None and requirements_flavor(path) is not None:
            return "requirements"
        if kind is None and rel is not None and explicit is False:
            return None
        if kind is None and explicit:
            if text is not None and looks_like_droid(text):
                return "droid"
            return "task"
        return kind

    def relpath(self, path: str) -> str | None:
        if self.root is None:
            return None
        try:
            rel = os.path.relpath(path, self.root)
        except ValueError:
            return None
        if rel.startswith(".."):
            return None
        return rel.replace(os.sep, "/")

    def set_text(
        self, path: str, text: str, kind: str | None = None, *, explicit: bool = False
    ) -> FileKind | None:
        """Index ``text`` as a ``kind`` file (``task``, ``droid``; None: :meth:`classify` it);
        the kind it was indexed as, None when it is neither."""
        path = norm(path)
        chosen = kind or self.classify(path, text, explicit=explicit)
        if chosen == "task":
            self.set_task_text(path, text)
            return "task"
        if chosen == "droid":
            self.set_droid_text(path, text)
            return "droid"
        if chosen == "requirements":
            self.set_requirements_text(path, text)
            return "requirements"
        return None

    def set_task_text(self, path: str, text: str) -> TaskDocument:
        path = norm(path)
        old = self.task_docs.get(path)
        aliases = dict(self.settings.markerAliases)
        doc = (
            old.update(text, aliases)
            if old is not None
            else TaskDocument.parse(path, text, aliases, self.settings.parse_key)
        )
        self.task_docs[path] = doc
        if self._external.pop(path, None) is not None:
            self.deps_version += 1
        if old is None and self._exists.pop(path, None) is False:
            self.fs_version += 1  # a file known not to exist is here now (opened, not yet saved)
        self._task_docs_changed(path, old)
        return doc

    def set_droid_text(self, path: str, text: str) -> DroidDocument:
        path = norm(path)
        if len(text) > _document.MAX_DOCUMENT_CHARS:  # one diagnostic, as for a task file
            diags = [_document.too_large_diagnostic(text)]
            d = DroidDocument(path, flavor_of(path), found=diags)
        else:
            d = parse_droid(text, path, self.settings)
        if self.droid_docs.get(path) is None and self._exists.pop(path, None) is False:
            self.fs_version += 1
        self.droid_docs[path] = d
        self._droid_texts[path] = text
        self._invalidate()
        return d

    def set_requirements_text(self, path: str, text: str) -> RequirementsDocument:
        path = norm(path)
        doc = parse_requirements(path, text)
        if path not in self.req_docs and self._exists.pop(path, None) is False:
            self.fs_version += 1
        self.req_docs[path] = doc
        return doc

    def requirements_doc(self, path: str) -> RequirementsDocument | None:
        """An indexed requirements file, or one read from disk (cached per ``fs_version``)."""
        path = norm(path)
        doc = self.req_docs.get(path)
        if doc is not None:
            return doc
        hit = self._req_external.get(path)
        if hit is not None and hit[0] == self.fs_version:
            return hit[1]
        doc = None
        if self.path_exists(None, path):
            try:
                doc = parse_requirements(path, read_text(path))
            except ReadError:
                doc = None
        if len(self._req_external) > 256:
            self._req_external.clear()
        self._req_external[path] = (self.fs_version, doc)
        return doc

    def remove(self, path: str) -> None:
        path = norm(path)
        self.req_docs.pop(path, None)
        if self.task_docs.pop(path, None) is not None:
            self._external.pop(path, None)
            self._task_docs_changed(path)
        if self.droid_docs.pop(path, None) is not None:
            self._droid_texts.pop(path, None)
            self._invalidate()
        self._exists.pop(path, None)
        self.fs_version += 1

    def invalidate_files(self, paths: Iterable[str] | None = None) -> None:
        """Forget cached file-existence answers (all, or for the given paths)."""
        if paths is None:
            self._exists.clear()
            self._external.clear()
        else:
            for p in paths:
                self._exists.pop(norm(p), None)
                self._external.pop(norm(p), None)
        self.fs_version += 1
        self.deps_version += 1  # a file outside the index may have changed

    # -- droids ---------------------------------------------------------------------------------
    def _load_personal(self) -> None:
        if self._personal_loaded:
            return
        self._personal_loaded = True
        # a relative droidPaths folder is taken relative to the workspace, never the current
        # directory (the editor starts the server outside the workspace: docs/security.md)
        root = Path(self.root) if self.root is not None else None
        for p, _folder in personal_droid_files(self.settings, root):
            try:
                text = read_text(p)
            except ReadError:
                continue
            self.personal_droids[norm(p)] = parse_droid(text, norm(p), self.settings)
        self.droid_version += 1

    def droid_index(self) -> dict[str, DroidDocument]:
        """name -> the droid a reference resolves to (docs/language.md §1 precedence)."""
        if self._droid_index is not None:
            return self._droid_index
        self._load_personal()
        ranked: list[tuple[tuple, DroidDocument]] = []
        for d in self.droid_docs.values():
            if not d.name:
                continue
            group = {"factory": 0, "claude": 1}.get(d.flavor, 2)
            stem_match = 0 if Path(d.path).stem == d.name else 1
            ranked.append(((group, stem_match, d.path), d))
        for d in self.personal_droids.values():
            if not d.name:
                continue
            group = {"factory": 3, "claude": 4}.get(d.flavor, 5)
            ranked.append(((group, 0 if Path(d.path).stem == d.name else 1, d.path), d))
        ranked.sort(key=lambda x: x[0])
        index: dict[str, DroidDocument] = {}
        for _, d in ranked:
            index.setdefault(d.name, d)  # type: ignore[arg-type]
        self._droid_index = index
        return index

    def resolve_droid(self, name: str) -> DroidDocument | None:
        return self.droid_index().get(name)

    def droid_names(self) -> list[str]:
        return sorted(self.droid_index())

    def droid_ranker(self) -> DroidRanker:
        """The droids of the index as a BM25F index (docs/language.md §11 "Droid suggestion and
        fit"), built again only when the droids changed."""
        index = self.droid_index()
        if self._ranker is None or self._ranker[0] is not index:
            self._ranker = (index, DroidRanker(index.values(), self.settings.extraTools))
        return self._ranker[1]

    def droid_capabilities(self, name: str) -> Capabilities | None:
        """What the droid ``name`` can do to files (None: no such droid), cached until the droids
        change."""
        index = self.droid_index()
        if self._caps is None or self._caps[0] is not index:
            self._caps = (index, {})
        cache = self._caps[1]
        if name not in cache:
            d = index.get(name)
            cache[name] = capabilities(d, self.settings.extraTools) if d is not None else None
        return cache[name]

    def _duplicates(self) -> dict[str, list[Diagnostic]]:
        """DR007, per project: droids of nested projects (each with its own .factory/.claude or
        .git) never clash with each other."""
        if self._dup is None:
            groups: dict[str | None, list[DroidDocument]] = {}
            for d in self.droid_docs.values():
                groups.setdefault(self._droid_project(d.path), []).append(d)
            out: dict[str, list[Diagnostic]] = {}
            for docs in groups.values():
                if len(docs) > 1:
                    out.update(duplicate_droid_diagnostics(docs))
            self._dup = out
        return self._dup

    def _droid_project(self, path: str) -> str | None:
        """The project a droid file belongs to: the folder holding its .factory/.claude folder
        (or the nearest project root above a plain droids/ folder)."""
        parts = path.replace(os.sep, "/").split("/")
        for marker in (".factory", ".claude"):
            if marker in parts:
                i = len(parts) - 1 - parts[::-1].index(marker)
                return "/".join(parts[:i]) or "/"
        return self.project_root(path)

    # -- tasks and references -------------------------------------------------------------------
    def lookup_id(self, doc: TaskDocument, task_id: str) -> Located | None:
        """The first task of ``doc`` with the ID ``task_id`` (``3`` also finds ``3.0`` and the
        other way round)."""
        k = normalize_id(task_id)
        hit = doc.first_with(k)
        if hit is None:
            if "." not in k:
                hit = doc.first_with(k + ".0")
            elif k.endswith(".0"):
                hit = doc.first_with(k[:-2])
        return hit

    def task_doc(self, path: str) -> TaskDocument | None:
        """An indexed task file, or one outside the index read from disk (cached)."""
        path = norm(path)
        doc = self.task_docs.get(path)
        if doc is not None:
            return doc
        if path in self._external:
            return self._external[path]
        try:
            text = read_text(path)
            doc = TaskDocument.parse(path, text, dict(self.settings.markerAliases))
        except ReadError:
            doc = None
        self._external[path] = doc
        return doc

    def ref_path(self, doc_path: str, ref_path: str) -> str:
        if ref_path.startswith("/") and self.root is not None:
            return norm(os.path.join(self.root, ref_path.lstrip("/")))
        return norm(os.path.join(os.path.dirname(doc_path), ref_path))

    def resolve_ref(
        self, doc: TaskDocument, ref: Ref
    ) -> tuple[tuple[TaskDocument, Located] | None, str | None]:
        """Resolve a dependency reference: ((doc, task) | None, problem message | None)."""
        target_doc: TaskDocument | None = doc
        if ref.path:
            p = self.ref_path(doc.path, ref.path)
            target_doc = self.task_doc(p) if self.path_exists(None, p) else None
            if target_doc is None:
                return None, f"`{ref.path}` does not exist (looked for {self._show(p)})"
            if ref.task_id is None:
                return None, None
        task_id = ref.task_id
        if target_doc is None or task_id is None:
            return None, None  # (a reference names a file, a task or both)
        loc = self.lookup_id(target_doc, task_id)
        if loc is None and not ref.path:
            hit = self.lookup_nearby(doc, task_id)
            if hit is not None:
                return hit, None
            beside = len(self.nearby_task_files(doc.path)) > (doc.path in self.task_docs)
            where = " or the task files beside it" if beside else ""
            return None, f"no task `{ref.task_id}` in this file{where}"
        if loc is None:
            return None, f"no task `{ref.task_id}` in `{ref.path}`"
        return (target_doc, loc), None

    def lookup_nearby(self, doc: TaskDocument, task_id: str) -> tuple[TaskDocument, Located] | None:
        """A task of a split task list (docs/language.md §A3): the other task files of the same
        folder, then those of its parent folder, then those of the folders right inside its
        folder, then those anywhere in the same spec folder (``.kiro/specs/x/``,
        ``specs/001-x/``)."""
        for path in self.nearby_task_files(doc.path):
            other = self.task_docs.get(path)
            if other is None or other is doc:
                continue
            loc = self.lookup_id(other, task_id)
            if loc is not None:
                return other, loc
        return None

    def nearby_task_files(self, path: str) -> list[str]:
        key = (self.deps_version, len(self.task_docs))
        if self._folders_key != key:
            self._folders = {}
            for p in sorted(self.task_docs):
                self._folders.setdefault(os.path.dirname(p), []).append(p)
            self._folders_key = key
            self._nearby = {}
        folder = os.path.dirname(path)
        hit = self._nearby.get(folder)
        if hit is None:
            hit = self._nearby[folder] = self._nearby_uncached(folder)
        return hit

    def _nearby_uncached(self, folder: str) -> list[str]:
        out = list(self._folders.get(folder, ()))
        out.extend(self._folders.get(os.path.dirname(folder), ()))
        # and the folders right inside it (the overview file's view of its per-epic files)
        for sub in self._folders:
            if os.path.dirname(sub) == folder and sub != folder:
                out.extend(self._folders[sub])
        spec = folder
        while spec and os.path.basename(os.path.dirname(spec)) != "specs":
            up = os.path.dirname(spec)
            if up == spec or (self.root is not None and spec == self.root):
                spec = ""
                break
            spec = up
        if spec:
            prefix = spec + os.sep
            out.extend(
                p
                for f, paths in self._folders.items()
                if f == spec or f.startswith(prefix)
                for p in paths
            )
        return list(dict.fromkeys(out))

    def _show(self, p: str) -> str:
        rel = self.relpath(p)
        return rel if rel is not None else p

    def path_exists(self, doc_path: str | None, rel: str) -> bool:
        """Does ``rel`` exist — as an absolute path, under the root, or next to the task file?"""
        if self._exists_memo_version != self.fs_version:
            self._exists_memo.clear()
            self._exists_memo_version = self.fs_version
        key = (os.path.dirname(doc_path) if doc_path is not None else None, rel)
        hit = self._exists_memo.get(key)
        if hit is None:
            hit = self._exists_memo[key] = self._path_exists(doc_path, rel)
        return hit

    def _path_exists(self, doc_path: str | None, rel: str) -> bool:
        cands = []
        if os.path.isabs(rel) and doc_path is None:
            cands.append(rel)
        else:
            if self.root is not None:
                cands.append(os.path.join(self.root, rel.lstrip("/")))
            if doc_path is not None:
                cands.append(os.path.join(os.path.dirname(doc_path), rel))
                proj = self.project_root(doc_path)
                if proj is not None:
                    cands.append(os.path.join(proj, rel.lstrip("/")))
            cands.extend(os.path.join(b, rel.lstrip("/")) for b in self.extra_bases)
        for c in cands:
            c = norm(c)
            hit = self._exists.get(c)
            if hit is None:
                hit = c in self.task_docs or c in self.droid_docs or os.path.exists(c)
                self._exists[c] = hit
            if hit:
                return True
        return False

    def name_exists(self, name: str) -> bool:
        """Is there a file called ``name`` anywhere in the workspace (docs/language.md §A8)? The
        names are gathered once per ``fs_version``, and only when asked."""
        if self.root is None:
            return False
        if self._names is None or self._names[0] != self.fs_version:
            names = set(file_names(Path(self.root), self.settings, max_dirs=self.walk_limit))
            names.update(os.path.basename(p) for p in (*self.task_docs, *self.droid_docs))
            self._names = (self.fs_version, frozenset(names))
        return name in self._names[1]

    def invalidate_project_roots(self) -> None:
        """Forget which folders are project roots (a .taskdroid.toml, .git … appeared or went)."""
        self._project_roots.clear()
        self.fs_version += 1

    def project_root(self, doc_path: str) -> str | None:
        """The nearest folder above a file (up to the workspace root) that looks like a project
        (holds .taskdroid.toml, .git, .factory or .claude) — for monorepos and nested examples."""
        folder = os.path.dirname(doc_path)
        if folder in self._project_roots:
            return self._project_roots[folder]
        cur = folder
        found = None
        while True:
            if any(os.path.exists(os.path.join(cur, m)) for m in ROOT_MARKERS):
                found = cur
                break
            if self.root is not None and cur == self.root:
                break
            parent = os.path.dirname(cur)
            if parent == cur:
                break
            cur = parent
        self._project_roots[folder] = found
        return found

    def dependency_graph(self) -> DependencyGraph:
        key = (self.deps_version, self.fs_version)
        if self._graph is not None and key == self._graph_key:
            return self._graph
        self._graph = _build_graph(self)
        self._graph_key = key
        return self._graph

    # -- diagnostics ----------------------------------------------------------------------------
    def diagnostics(self, path: str) -> list[Diagnostic]:
        path = norm(path)
        out: list[Diagnostic] = []
        doc = self.task_docs.get(path)
        if doc is not None:
            for c in doc.chunks:
                base = c.line
                for d in c.parse.local_diagnostics:
                    out.append(d.shifted(base))
            out.extend(check_file(doc, self.settings.priorities))
            out.extend(check_refs(self, doc))
            out.extend(check_task_refs(self, doc))
        droid = self.droid_docs.get(path)
        if droid is not None:
            out.extend(droid.diagnostics)
            out.extend(self._duplicates().get(path, []))
        req = self.req_docs.get(path)
        if req is not None:
            out.extend(check_requirements(self, req))
        out.extend(self.extra_diagnostics.get(path, []))
        out = apply_policy(out, self.settings.disabled_codes, self.settings.diagnostics.severity)
        out.sort(key=Diagnostic.sort_key)
        return out

    def all_paths(self) -> list[str]:
        return sorted({*self.task_docs, *self.droid_docs, *self.req_docs, *self.extra_diagnostics})


def _build_graph(ws: Workspace) -> DependencyGraph:
    g = DependencyGraph()
    adj: dict[TaskKey, list[TaskKey]] = {}
    for path, doc in ws.task_docs.items():
        for c in doc.chunks:
            for t in c.parse.tasks:
                if not t.id or not (t.inline_refs or t.fields):
                    continue
                refs = t.refs
                if not refs:
                    continue
                lst = adj.setdefault((path, normalize_id(t.id)), [])
                for ref in refs:
                    if ref.path is None:
                        hit = doc.first_with(ref.task_id) if ref.task_id else None
                        if hit is not None and hit.task.id:  # the common case, fast
                            lst.append((path, normalize_id(hit.task.id)))
                            continue
                    # another file, or a split task list's sibling file (§A3)
                    target, _problem = ws.resolve_ref(doc, ref)
                    if target is not None and target[1].task.id:
                        lst.append((target[0].path, normalize_id(target[1].task.id)))
    sccs = strongly_connected(adj)
    for n, comp in enumerate(sccs):
        if len(comp) == 1:
            v = comp[0]
            if v not in adj.get(v, ()):
                continue
        g.members[n] = sorted(comp)
        for v in comp:
            g.scc_of[v] = n
    return g
