"""The index: one directory holding the manifest, SQLite store, FAISS vectors and BM25.

Layout::

    manifest.json      format version, model, tokenizer, chunking, counts (written last)
    index.sqlite       documents, chunks, embeddings and the write generation (the truth)
    derived/           dense.faiss, bm25/, state.json: rebuilt from SQLite when stale
    .lock              held while writing, so two writers never interleave

A write commits in one SQLite transaction (the commit point); the FAISS and BM25 files follow
and carry the generation they were built from. A crash before the commit leaves the index as it
was; a crash after it leaves derived files that are stale and rebuilt when the index is opened.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from qa.chunking import DEFAULT_OVERLAP, DEFAULT_SIZE, TOKENIZER, Chunker
from qa.config import default_index_path
from qa.embed import Embedder, load_embedder, model_name
from qa.errors import DocumentNotFoundError, IndexFormatError, IngestError, QAError
from qa.index.dense import DenseIndex
from qa.index.ingest import IngestReport, plan_ingest
from qa.index.manifest import MANIFEST, Manifest
from qa.index.retrieve import MODES, Retriever
from qa.index.sparse import SparseIndex
from qa.index.store import NewDocument, Store
from qa.types import Document, Hit

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: single-writer use only
    fcntl = None  # type: ignore[assignment]

STORE = "index.sqlite"
DERIVED = "derived"
_OWN_FILES = {MANIFEST, STORE, f"{STORE}-wal", f"{STORE}-shm", DERIVED, ".lock"}
CRASH_ENV = "QA_CRASH_AT"  # fault injection for tests: "before-commit" or "after-commit"


class Index:
    """A persistent hybrid index of reports. Open with :meth:`Index.open`."""

    def __init__(self, path: Path, manifest: Manifest, embedder: Embedder | None = None) -> None:
        self.path = path
        self.manifest = manifest
        self._embedder = embedder
        self._lock = threading.RLock()
        self.store = Store(path / STORE)
        self._load_derived()

    @classmethod
    def open(
        cls,
        path: str | Path | None = None,
        *,
        create: bool = False,
        model: str | None = None,
        embedder: Embedder | None = None,
        chunk_size: int | None = None,
        chunk_overlap: int | None = None,
    ) -> Index:
        """Open the index at ``path`` (default: ``$QA_INDEX`` or the user data folder).

        With ``create=True`` a missing index is created. The model (``embedder``, ``model`` or
        the default) must be the one the index was built with, else ModelMismatchError.
        """
        path = Path(path).expanduser() if path else default_index_path()
        name = embedder.name if embedder else model_name(model)
        if create and not (path / MANIFEST).exists():
            chunker = Chunker(  # validates the settings before anything is written
                DEFAULT_SIZE if chunk_size is None else chunk_size,
                DEFAULT_OVERLAP if chunk_overlap is None else chunk_overlap,
            )
            _check_empty(path)
            embedder = embedder or load_embedder(name)
            path.mkdir(parents=True, exist_ok=True)
            Store(path / STORE).close()
            from qa import __version__

            manifest = Manifest(
                name, embedder.dim, TOKENIZER, chunker.size, chunker.overlap, __version__
            )
            manifest.write(path)
        manifest = Manifest.read(path)
        manifest.check_model(name, path)
        return cls(path, manifest, embedder)

    @property
    def embedder(self) -> Embedder:
        """The embedding model, loaded on first use (BM25-only search never loads it)."""
        if self._embedder is None:
            self._embedder = load_embedder(self.manifest.model)
        if self._embedder.dim != self.manifest.dim:
            raise IndexFormatError(
                f"model {self.manifest.model!r} gives {self._embedder.dim}-dimensional vectors, "
                f"the index at {self.path} holds {self.manifest.dim}"
            )
        return self._embedder

    @property
    def chunker(self) -> Chunker:
        return Chunker(self.manifest.chunk_size, self.manifest.chunk_overlap, self.embedder.fits)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -------------------------------------------------------------------------

    def documents(self) -> list[Document]:
        """Every stored document, ordered by source."""
        with self._lock:
            return self.store.documents()

    def document(self, key: str) -> Document:
        """The stored document with this id (or unique id prefix) or source."""
        with self._lock:
            doc = self.store.document(self._resolve(key))
        assert doc is not None
        return doc

    def counts(self) -> dict[str, int]:
        with self._lock:
            return self.store.counts()

    def search(
        self,
        query: str,
        k: int = 5,
        *,
        mode: str = "hybrid",
        doc_ids: list[str] | None = None,
        sources: list[str] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
    ) -> list[Hit]:
        """The ``k`` best passages for ``query``; ``mode`` is hybrid, dense or bm25.

        Filters: document ids (or prefixes), sources (substring match), and an inclusive ISO
        date range (documents without a date are left out when a date filter is given).
        """
        if not isinstance(query, str) or not query.strip():
            raise ValueError("the query is empty; pass some words to search for")
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        with self._lock:
            self._sync()
            allowed = None
            if doc_ids or sources or date_from or date_to:
                allowed = self.store.chunk_ids_matching(doc_ids, sources, date_from, date_to)
            retriever = Retriever(self.store, self.dense, self.sparse, self._embed_query)
            return retriever.search(query, k, mode, allowed)

    def _embed_query(self, query: str) -> np.ndarray:
        return self.embedder.encode([query])[0]

    # -- writing -------------------------------------------------------------------------

    def add(self, paths: Iterable[str | Path], *, progress: bool = False) -> IngestReport:
        """Ingest files and folders; bad files are reported in the result and skipped."""
        from qa.loaders import find_files, load_file

        files, errors = find_files(paths)
        docs: list[Document] = []
        bar = _progress(files, progress)
        for file in bar:
            try:
                docs.append(load_file(file))
            except IngestError as exc:
                errors.append(exc)
        report = self.add_documents(docs)
        report.errors[:0] = errors
        return report

    def add_documents(self, docs: Iterable[Document]) -> IngestReport:
        """Store documents: unchanged ones are skipped, a changed source replaces its old text."""
        with self._lock, self._write_lock():
            self._sync()
            report, remove, new_docs = plan_ingest(self.store, list(docs))
            if not remove and not new_docs:
                return report
            chunker = self.chunker
            spans = [chunker.spans(doc.text, _segments(doc)) for doc in new_docs]
            texts = [doc.text[s:e] for doc, doc_spans in zip(new_docs, spans) for s, e in doc_spans]
            vectors = self.embedder.encode(texts)
            new, offset = [], 0
            for doc, doc_spans in zip(new_docs, spans):
                new.append(NewDocument(doc, doc_spans, vectors[offset : offset + len(doc_spans)]))
                offset += len(doc_spans)
            self._commit(remove, new)
            return report

    def remove(self, key: str) -> Document:
        """Remove a document (by id, unique id prefix, or source) from every part of the index."""
        with self._lock, self._write_lock():
            self._sync()
            doc = self.document(key)
            self._commit([doc.id], [])
            return doc

    def _commit(self, remove: list[str], new: list[NewDocument]) -> None:
        _crash_point("before-commit")
        removed, added = self.store.write(remove, new)
        _crash_point("after-commit")
        self.dense.remove(removed)
        for item, ids in zip(new, _split(added, [len(n.spans) for n in new])):
            self.dense.add(ids, item.embeddings)
        self.sparse = SparseIndex.build(list(self.store.chunk_texts()))
        self._save_derived()

    # -- derived files -------------------------------------------------------------------

    def _sync(self) -> None:
        """Reload the derived indexes when another process has written since."""
        if self.store.generation() != self._generation:
            self._load_derived()

    def _load_derived(self) -> None:
        generation = self.store.generation()
        derived = self.path / DERIVED
        try:
            state = json.loads((derived / "state.json").read_text(encoding="utf-8"))
            if state.get("generation") != generation:
                raise ValueError("stale")
            self.dense = DenseIndex.load(derived / "dense.faiss", self.manifest.dim)
            self.sparse = SparseIndex.load(derived / "bm25")
            self._generation = generation
        except (OSError, ValueError, RuntimeError):
            self._rebuild_derived()

    def _rebuild_derived(self) -> None:
        ids, vectors = self.store.embeddings(self.manifest.dim)
        self.dense = DenseIndex(self.manifest.dim)
        self.dense.add(ids, vectors)
        self.sparse = SparseIndex.build(list(self.store.chunk_texts()))
        # a read-only index still works, from memory
        with contextlib.suppress(OSError), self._write_lock():
            self._save_derived()
        self._generation = self.store.generation()

    def _save_derived(self) -> None:
        generation = self.store.generation()
        tmp, final, old = (self.path / f"{DERIVED}{s}" for s in (".tmp", "", ".old"))
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        self.dense.save(tmp / "dense.faiss")
        self.sparse.save(tmp / "bm25")
        (tmp / "state.json").write_text(json.dumps({"generation": generation}), encoding="utf-8")
        shutil.rmtree(old, ignore_errors=True)
        if final.exists():
            final.rename(old)
        tmp.rename(final)
        shutil.rmtree(old, ignore_errors=True)
        self.manifest.counts = self.store.counts()
        self.manifest.generation = generation
        self.manifest.write(self.path)
        self._generation = generation

    @contextlib.contextmanager
    def _write_lock(self) -> Iterator[None]:
        with open(self.path / ".lock", "a") as handle:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    def _resolve(self, key: str) -> str:
        if not key or not key.strip():
            raise ValueError("no document given; pass a document id or source")
        matches = self.store.ids_where("source", key) or self.store.ids_where(
            "source", str(Path(key).expanduser().resolve())
        )
        if not matches and len(key) >= 4:
            matches = self.store.ids_where("id", key)
        if not matches:
            raise DocumentNotFoundError(f"no document with id or source {key!r}")
        if len(matches) > 1:
            raise QAError(f"{key!r} matches {len(matches)} documents; give more of the id")
        return matches[0]


def _check_empty(path: Path) -> None:
    if path.exists() and (not path.is_dir() or set(os.listdir(path)) - _OWN_FILES):
        raise IndexFormatError(f"{path} exists and is not a reportqa index; choose another path")


def _segments(doc: Document) -> list[tuple[int, int]]:
    bounds = [*doc.pages, len(doc.text)] if doc.pages else [0, len(doc.text)]
    return [(a, b) for a, b in zip(bounds, bounds[1:]) if b > a]


def _split(items: list[int], sizes: list[int]) -> Iterator[np.ndarray]:
    offset = 0
    for size in sizes:
        yield np.array(items[offset : offset + size], dtype=np.int64)
        offset += size


def _progress(items: list[Path], enabled: bool) -> Iterable[Path]:
    if not enabled or len(items) <= 5:
        return items
    from tqdm import tqdm

    return tqdm(items, desc="reading", unit="file")


def _crash_point(name: str) -> None:
    if os.environ.get(CRASH_ENV) == name:
        os._exit(86)
