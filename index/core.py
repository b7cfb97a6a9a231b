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
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path

import numpy as np

from qa.chunking import DEFAULT_OVERLAP, DEFAULT_SIZE, TOKENIZER, Chunker
from qa.config import default_index_path
from qa.embed import Embedder, load_embedder, model_name
from qa.errors import DocumentNotFoundError, IndexFormatError, IngestError, QAError
from qa.index import derived
from qa.index.dense import DenseIndex
from qa.index.ingest import IngestReport, plan_ingest
from qa.index.locking import FileLock
from qa.index.manifest import MANIFEST, Manifest
from qa.index.retrieve import MODES, Retriever
from qa.index.sparse import SparseIndex
from qa.index.store import NewDocument, Store
from qa.types import Document, Hit, is_text

PathArg = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]
STORE = "index.sqlite"
_OWN_FILES = {MANIFEST, STORE, f"{STORE}-wal", f"{STORE}-shm", derived.DERIVED, ".lock"}
CRASH_ENV = "QA_CRASH_AT"  # fault injection for tests: "before-commit" or "after-commit"
PROGRESS_FILES = 5  # more files than this get a reading bar
PROGRESS_CHUNKS = 300  # more chunks than this get an embedding bar
ENCODE_BATCH = 256  # chunks per encode call when a bar is shown


class Index:
    """A persistent hybrid index of reports. Open with :meth:`Index.open`."""

    dense: DenseIndex
    sparse: SparseIndex

    def __init__(self, path: Path, manifest: Manifest, embedder: Embedder | None = None) -> None:
        self.path = path
        self.manifest = manifest
        self._embedder = embedder
        self._lock = threading.RLock()
        self._files = FileLock(path / ".lock")
        if not (path / STORE).exists():
            raise IndexFormatError(f"{path / STORE} is missing: the index is damaged; re-ingest")
        self.store = Store(path / STORE)
        if self.store.generation() < manifest.generation:
            raise IndexFormatError(
                f"{path / STORE} is older than its manifest (generation "
                f"{self.store.generation()} < {manifest.generation}): restored from a backup?"
            )
        if manifest.tokenizer != TOKENIZER:
            raise IndexFormatError(
                f"{path} was chunked with tokenizer {manifest.tokenizer!r}, this version uses "
                f"{TOKENIZER!r}: re-ingest into a new index"
            )
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
        for asked, built, what in (
            (chunk_size, manifest.chunk_size, "chunk size"),
            (chunk_overlap, manifest.chunk_overlap, "chunk overlap"),
        ):
            if asked is not None and asked != built:
                raise ValueError(
                    f"the index at {path} was built with {what} {built}, not {asked}; "
                    "use a new index folder to try other chunking"
                )
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

    def document(self, key: str, *, exact: bool = False) -> Document:
        """The stored document with this id (or unique id prefix) or source; with ``exact``,
        only the full id names it (for callers where a truncated id must not reach another)."""
        with self._lock:
            doc = self.store.document(key)
            if doc is None and exact:
                raise DocumentNotFoundError(f"no document with id {key!r}; give the full id")
            doc = doc or self.store.document(self._resolve(key))
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
        if not is_text(query):
            raise ValueError("the query holds bytes that are not valid text (not UTF-8)")
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        for name, value in (("date_from", date_from), ("date_to", date_to)):
            if value and not _is_iso_date(value):
                raise ValueError(f"{name} must be a date as YYYY-MM-DD, got {value!r}")
        if doc_ids and any(len(d.strip()) < 4 for d in doc_ids):
            raise ValueError(f"document ids must have at least 4 characters, got {doc_ids!r}")
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

    def add(self, paths: PathArg, *, progress: bool = False) -> IngestReport:
        """Ingest files and folders (one path or several); bad files are reported and skipped.

        ``progress`` shows bars on stderr while reading many files and embedding many chunks.
        """
        from qa.loaders import find_files, load_file

        files, errors = find_files(paths)
        docs: list[Document] = []
        bar = _progress(files, progress)
        for file in bar:
            try:
                docs.append(load_file(file))
            except IngestError as exc:
                errors.append(exc)
        report = self.add_documents(docs, progress=progress)
        report.errors[:0] = errors
        return report

    def add_documents(self, docs: Iterable[Document], *, progress: bool = False) -> IngestReport:
        """Store documents: unchanged ones are skipped, a changed source replaces its old text."""
        docs = list(docs)
        for doc in docs:
            if "\x00" in doc.text:
                raise ValueError(
                    f"document {doc.source!r} contains a NUL character (\\x00), which the index "
                    "cannot store; remove it (qa.load_file and qa.load_bytes drop it)"
                )
        with self._lock, self._write_lock():
            self._sync()
            plan = plan_ingest(self.store, docs)
            if plan.empty:
                return plan.report
            chunker = self.chunker
            spans = [chunker.spans(doc.text, _segments(doc)) for doc in plan.add]
            texts = [doc.text[s:e] for doc, doc_spans in zip(plan.add, spans) for s, e in doc_spans]
            vectors = self._encode(texts, progress)
            new, offset = [], 0
            for doc, doc_spans in zip(plan.add, spans):
                new.append(NewDocument(doc, doc_spans, vectors[offset : offset + len(doc_spans)]))
                offset += len(doc_spans)
            self._commit(plan.remove, new, plan.update)
            return plan.report

    def _encode(self, texts: list[str], progress: bool) -> np.ndarray:
        """Embeddings of chunk texts, in batches; a bar over chunks when there are many."""
        embedder = self.embedder
        if not progress or len(texts) <= PROGRESS_CHUNKS:
            return embedder.encode(texts)
        from tqdm import tqdm

        parts = []
        with tqdm(total=len(texts), desc="embedding", unit="chunk") as bar:
            for start in range(0, len(texts), ENCODE_BATCH):
                batch = texts[start : start + ENCODE_BATCH]
                parts.append(embedder.encode(batch))
                bar.update(len(batch))
        return np.concatenate(parts)

    def remove(self, key: str, *, exact: bool = False) -> Document:
        """Remove a document (by id, unique id prefix, or source; with ``exact`` by its full id
        only) from every part of the index."""
        with self._lock, self._write_lock():
            self._sync()
            doc = self.document(key, exact=exact)
            self._commit([doc.id], [])
            return doc

    def _commit(
        self, remove: list[str], new: list[NewDocument], update: Sequence[Document] = ()
    ) -> None:
        _crash_point("before-commit")
        removed, added = self.store.write(remove, new, update)
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
        """Load the FAISS and BM25 files if they match the store, else rebuild them."""
        with self._files.hold(exclusive=False):  # no writer swaps the files while we read
            loaded = derived.load(self.path, self.store, self.manifest.dim)
            if loaded:
                self.dense, self.sparse = loaded
                self._generation = self.store.generation()
                return
        with self._files.hold(exclusive=True):  # writers shut out: the build matches SQLite
            self.dense, self.sparse = derived.build(self.store, self.manifest.dim)
            try:
                self._save_derived()
            except OSError:  # a read-only index still works, from memory
                self._generation = self.store.generation()

    def _save_derived(self) -> None:
        generation = self.store.generation()
        derived.save(self.path, self.dense, self.sparse, generation)
        self.manifest.counts = self.store.counts()
        self.manifest.generation = generation
        self.manifest.write(self.path)
        self._generation = generation

    def _write_lock(self) -> contextlib.AbstractContextManager[None]:
        return self._files.hold(exclusive=True)

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


def _is_iso_date(value: str) -> bool:
    try:
        return len(value) == 10 and bool(date.fromisoformat(value))
    except ValueError:
        return False


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
    if not enabled or len(items) <= PROGRESS_FILES:
        return items
    from tqdm import tqdm

    return tqdm(items, desc="reading", unit="file")


def _crash_point(name: str) -> None:
    if os.environ.get(CRASH_ENV) == name:
        os._exit(86)
