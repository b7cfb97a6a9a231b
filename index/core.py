"""The index: one directory holding the manifest, SQLite store, FAISS vectors and BM25.

Layout::

    manifest.json      format version, model, tokenizer, chunking, counts (written last)
    index.sqlite       documents, chunks, embeddings and the write generation (the truth)
    derived/           segments of FAISS vectors and BM25 postings (qa.index.derived): a
                       write adds one; brought up to date from SQLite when stale or damaged
    .lock              held through a whole write, so two writers never interleave
    .derived.lock      held while derived/ is swapped, so no reader loads half a set

A write commits in SQLite transactions (the commit points); the FAISS and BM25 files follow
and carry the generation they were built from. A crash before a commit leaves the index as it
was; a crash after it leaves derived files a write behind, caught up when the index is opened
(new chunks read from SQLite into a segment, removed ones marked), at the cost of that write.

Reads never wait for a write: a write reads and embeds its files holding only the writer
locks, commits, then publishes the new FAISS and BM25 state in place of the old. A search
that runs meanwhile uses the state it started with, and leaves out chunks removed since.
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
from qa.errors import DocumentNotFoundError, IndexFormatError, QAError
from qa.index import derived
from qa.index.ingest import IngestReport, Step, plan_ingest
from qa.index.locking import FileLock
from qa.index.manifest import MANIFEST, Manifest
from qa.index.merger import Merger
from qa.index.retrieve import MODES, Retriever
from qa.index.segment import Segment
from qa.index.store import NewDocument, Store
from qa.progress import Progress
from qa.types import Document, Hit, is_text

PathArg = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]
STORE = "index.sqlite"
WRITER_LOCK = ".lock"
_OWN_FILES = {
    MANIFEST,
    STORE,
    f"{STORE}-wal",
    f"{STORE}-shm",
    derived.DERIVED,
    WRITER_LOCK,
    derived.SWAP_LOCK,
}
CRASH_ENV = "QA_CRASH_AT"  # fault injection for tests: "before-commit" or "after-commit"
BATCH_CHUNKS = 1000  # chunks embedded per commit: an interrupted ingest keeps what is done
ENCODE_BATCH = 128  # chunks per encode call, so progress moves
Planned = tuple[Step, list[list[tuple[int, int]]]]  # a step with its documents' chunk spans


class Index:
    """A persistent hybrid index of reports. Open with :meth:`Index.open`."""

    _snapshot: derived.Snapshot  # the derived set searched: replaced whole by a write

    def __init__(self, path: Path, manifest: Manifest, embedder: Embedder | None = None) -> None:
        self.path = path
        self.manifest = manifest
        self._embedder = embedder
        self._writer = threading.Lock()  # one writer in this process
        self._reload = threading.Lock()  # one thread reloads the derived files
        self._files = FileLock(path / WRITER_LOCK)  # one writer across processes
        self._swap = FileLock(path / derived.SWAP_LOCK)
        if not (path / STORE).exists():
            raise IndexFormatError(f"{path / STORE} is missing: the index is damaged; re-ingest")
        self.store = Store(path / STORE)
        self._merger = Merger(lambda: self._snapshot, self._swap_in)
        try:
            self._check_store()
            self._load_derived(rebuild=True)
        except BaseException:
            self.store.close()
            raise

    def _check_store(self) -> None:
        manifest, path = self.manifest, self.path
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
        width = self.store.vector_bytes()
        if width is not None:
            manifest.check_vectors(width, path / STORE)

    @property
    def snapshot(self) -> derived.Snapshot:
        """The segments searched now (a write publishes a new snapshot)."""
        return self._snapshot

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
        """Finish the merge under way, then close the store."""
        self._merger.wait()
        self.store.close()

    def wait_for_merges(self) -> None:
        """Return once the merges the writes asked for are done (they run in the background;
        searches never wait for them)."""
        self._merger.wake()
        self._merger.wait()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -------------------------------------------------------------------------

    def documents(self) -> list[Document]:
        """Every stored document, ordered by source."""
        return self.store.documents()

    def document(self, key: str, *, exact: bool = False) -> Document:
        """The stored document with this id (or unique id prefix) or source; with ``exact``,
        only the full id names it (for callers where a truncated id must not reach another)."""
        doc = self.store.document(key)
        if doc is None and exact:
            raise DocumentNotFoundError(f"no document with id {key!r}; give the full id")
        doc = doc or self.store.document(self._resolve(key))
        if doc is None:  # removed between the two reads
            raise DocumentNotFoundError(f"no document with id or source {key!r}")
        return doc

    def counts(self) -> dict[str, int]:
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
        self._sync()
        allowed = None
        if doc_ids or sources or date_from or date_to:
            allowed = self.store.chunk_ids_matching(doc_ids, sources, date_from, date_to)
        segments = self._snapshot.segments  # this search's, whatever a write publishes meanwhile
        return Retriever(self.store, segments, self._embed_query).search(query, k, mode, allowed)

    def _embed_query(self, query: str) -> np.ndarray:
        return self.embedder.encode([query])[0]

    # -- writing -------------------------------------------------------------------------

    def add(self, paths: PathArg, *, progress: Progress | None = None) -> IngestReport:
        """Ingest files and folders (one path or several); bad files are reported and skipped.

        ``progress(stage, done, total)`` is told how reading files and embedding chunks go
        (:func:`qa.progress.reporter` shows it on stderr).
        """
        from qa.loaders import find_files, load_all, load_file

        files, errors = find_files(paths)
        docs, unreadable = load_all(files, load_file, progress)
        report = self.add_documents(docs, progress=progress)
        report.errors[:0] = errors + unreadable
        return report

    def add_documents(
        self,
        docs: Iterable[Document],
        *,
        progress: Progress | None = None,
        batch_chunks: int = BATCH_CHUNKS,
    ) -> IngestReport:
        """Store documents: unchanged ones are skipped, a changed source replaces its old text.

        Documents are embedded and committed in batches of about ``batch_chunks`` chunks, so
        an interrupted ingest keeps the documents already committed and a re-run skips them.
        """
        docs = list(docs)
        for doc in docs:
            if "\x00" in doc.text:
                raise ValueError(
                    f"document {doc.source!r} contains a NUL character (\\x00), which the index "
                    "cannot store; remove it (qa.load_file and qa.load_bytes drop it)"
                )
        with self._writing():
            plan = plan_ingest(self.store, docs)
            if plan.empty:
                return plan.report
            chunker = self.chunker
            steps = [
                (step, [chunker.spans(d.text, _segments(d)) for d in step.add])
                for step in plan.steps()
            ]
            total = sum(len(s) for _, spans in steps for s in spans)
            done = 0
            for batch in _batches(steps, batch_chunks):
                done = self._store(batch, progress, done, total)
            return plan.report

    def _store(self, batch: list[Planned], progress: Progress | None, done: int, total: int) -> int:
        """Embed one batch of steps and commit it; the count of chunks embedded so far."""
        texts = [
            doc.text[a:b]
            for step, spans in batch
            for doc, doc_spans in zip(step.add, spans)
            for a, b in doc_spans
        ]
        vectors = self._encode(texts, progress, done, total)
        remove: list[str] = []
        update: list[Document] = []
        new: list[NewDocument] = []
        offset = 0
        for step, spans in batch:
            remove += step.remove
            update += step.update
            for doc, doc_spans in zip(step.add, spans):
                new.append(NewDocument(doc, doc_spans, vectors[offset : offset + len(doc_spans)]))
                offset += len(doc_spans)
        self._commit(remove, new, update)
        return done + len(texts)

    def _encode(
        self, texts: list[str], progress: Progress | None, done: int, total: int
    ) -> np.ndarray:
        """Embeddings of chunk texts, in batches that give way to questions (bulk work)."""
        embedder = self.embedder
        parts = [np.zeros((0, embedder.dim), dtype=np.float32)]
        for start in range(0, len(texts), ENCODE_BATCH):
            if progress:
                progress("embedding", done + start, total)
            parts.append(embedder.encode(texts[start : start + ENCODE_BATCH], bulk=True))
        if progress:
            progress("embedding", done + len(texts), total)
        return np.concatenate(parts)

    def remove(self, key: str, *, exact: bool = False) -> Document:
        """Remove a document (by id, unique id prefix, or source; with ``exact`` by its full id
        only) from every part of the index."""
        with self._writing():
            doc = self.document(key, exact=exact)
            self._commit([doc.id], [])
            return doc

    def _commit(
        self, remove: list[str], new: list[NewDocument], update: Sequence[Document] = ()
    ) -> None:
        """Commit one write to SQLite, then publish the derived set that follows: the removed
        chunks marked, the new ones in a segment of their own; then wake the merger
        (:mod:`qa.index.merger`)."""
        _crash_point("before-commit")
        removed, added = self.store.write(remove, new, update)
        _crash_point("after-commit")
        texts = [n.document.text[a:b] for n in new for a, b in n.spans]
        vectors = [n.embeddings for n in new]
        snapshot = self._snapshot.removed(removed)
        if added:
            snapshot = snapshot.added(np.array(added), np.concatenate(vectors), texts)
        self._publish(snapshot.at(self.store.generation()))
        self._merger.wake()

    def _swap_in(self, group: Sequence[Segment], merged: Segment | None) -> None:
        """Publish ``merged`` in place of ``group`` (the merger's last step)."""
        with self._writing():
            snapshot = self._snapshot.replaced(group, merged)
            if snapshot is not self._snapshot:
                self._publish(snapshot)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold the writer locks (this process's, then the index's across processes) with
        the derived state brought up to date with the store."""
        with self._writer, self._reload, self._files.hold(exclusive=True):
            self._refresh(rebuild=True)
            yield

    # -- derived files -------------------------------------------------------------------

    def _sync(self) -> None:
        """Reload the derived indexes when another process has written since.

        While a write of this process is under way its writer publishes the state; while
        another thread reloads, or another process writes (its files follow its commit), a
        search goes on with the current state rather than wait.
        """
        if self.store.generation() == self._snapshot.generation or self._writer.locked():
            return
        if not self._reload.acquire(blocking=False):
            return
        try:
            self._refresh(rebuild=not self._files.busy())
        finally:
            self._reload.release()

    def _refresh(self, rebuild: bool) -> None:
        """Reload the derived set if another handle wrote (the store moved on) or merged
        (the set's counter moved on) since this one's snapshot."""
        if self.store.generation() != self._snapshot.generation or (
            derived.saved_next(self.path) != self._snapshot.next_name
        ):
            self._load_derived(rebuild)

    def _load_derived(self, rebuild: bool) -> None:
        """Load the derived set (reusing the segments already loaded) if it matches the
        store; else, with ``rebuild``, bring it up to the store with writers shut out, and
        save it."""
        known = getattr(self, "_snapshot", None)
        with self._swap.hold(exclusive=False):  # no writer swaps the files while we read
            loaded = derived.load(self.path, self.manifest.dim, known)
        generation = self.store.generation()
        if loaded and loaded.generation == generation and loaded.chunks == self._chunk_count():
            self._snapshot = loaded
            return
        if not rebuild:
            return
        with contextlib.ExitStack() as held:
            try:
                held.enter_context(self._files.hold(exclusive=True))
            except OSError:  # a read-only index still works, from memory
                self._snapshot = derived.catch_up(self.store, self.manifest.dim, loaded)
                return
            self._publish(derived.catch_up(self.store, self.manifest.dim, loaded))

    def _chunk_count(self) -> int:
        return self.store.counts()["chunks"]

    def _publish(self, snapshot: derived.Snapshot) -> None:
        """Save ``snapshot`` and search it from now on."""
        self._snapshot = derived.save(self.path, snapshot, self._swap.hold(exclusive=True))
        self.manifest.counts = self.store.counts()
        self.manifest.generation = snapshot.generation
        self.manifest.write(self.path)

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


def _batches(steps: list[Planned], size: int) -> Iterator[list[Planned]]:
    """Steps (with their documents' chunk spans) grouped into batches of about ``size``
    chunks; a step is never split, and removal-only steps join the batch before them."""
    batch: list[Planned] = []
    chunks = 0
    for step, spans in steps:
        count = sum(len(s) for s in spans)
        if batch and count and chunks + count > size:
            yield batch
            batch, chunks = [], 0
        batch.append((step, spans))
        chunks += count
    if batch:
        yield batch


def _crash_point(name: str) -> None:
    if os.environ.get(CRASH_ENV) == name:
        os._exit(86)
