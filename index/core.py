"""The local backend: one folder holding the manifest, SQLite store, FAISS vectors and BM25.

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
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.errors import IndexFormatError
from qa.index import derived
from qa.index.backend import Settings, crash_point
from qa.index.locking import FileLock
from qa.index.manifest import MANIFEST, Manifest
from qa.index.merger import Merger
from qa.index.retrieve import SegmentCandidates
from qa.index.segment import Segment
from qa.index.store import NewDocument, Store
from qa.options import Filters
from qa.types import Document

if TYPE_CHECKING:
    from qa.index.base import Index

log = logging.getLogger(__name__)

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


class LocalBackend:
    """The embedded backend: one folder on this machine (:func:`open_backend`)."""

    _snapshot: derived.Snapshot  # the derived set searched: replaced whole by a write
    _check: derived.Check | None = None  # the files' check, while the open's is not looked at

    def __init__(self, path: Path, manifest: Manifest, settings: Settings) -> None:
        self.path = path
        self.manifest = manifest
        self._settings = settings  # the model, to embed again a chunk whose vector rotted
        self._writer = threading.Lock()  # one writer in this process
        self._reload = threading.Lock()  # one thread reloads the derived files
        self._files = FileLock(path / WRITER_LOCK)  # one writer across processes
        self._swap = FileLock(path / derived.SWAP_LOCK)
        if not (path / STORE).exists():
            raise IndexFormatError(f"{path / STORE} is missing: the index is damaged; re-ingest")
        self.store: Store = Store(path / STORE)
        self._merger = Merger(self._checked, self._swap_in)
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
        width = self.store.vector_bytes()
        if width is not None:
            manifest.check_vectors(width, path / STORE)
        said = manifest.settings()
        built = self.store.built_with(said)
        for key, value in said.items():
            if built.get(key, value) != value:
                raise IndexFormatError(
                    f"{path / MANIFEST} does not match its index: it says {key} {value}, the "
                    f"index was built with {built[key]}; put the manifest back, or rebuild "
                    "the index with `qa ingest`"
                )

    @property
    def snapshot(self) -> derived.Snapshot:
        """The segments searched now (a write publishes a new snapshot)."""
        return self._checked()

    @property
    def location(self) -> str:
        return str(self.path)

    def close(self) -> None:
        """Finish the merge under way, then close the store."""
        self._merger.wait()
        self.store.close()

    def wait_for_merges(self) -> None:
        """Return once the merges the writes asked for are done (they run in the background;
        searches never wait for them)."""
        self._merger.wake()
        self._merger.wait()

    def candidates(self, filters: Filters) -> tuple[SegmentCandidates | None, int | None]:
        """The segments searched now (whatever a write publishes meanwhile), within the
        chunks of the documents ``filters`` let through."""
        self._checked()
        self._sync()
        allowed, matching = None, None
        if filters.active:
            ids, matching = self.store.chunk_ids_matching(filters)
            allowed = np.asarray(ids, np.int64)
            if not len(allowed):
                return None, matching
        snapshot = self._snapshot
        found = SegmentCandidates(self.store, snapshot.segments, allowed, snapshot.term_scores)
        return found, matching

    # -- writing -------------------------------------------------------------------------

    def write(
        self, remove: list[str], new: list[NewDocument], update: Sequence[Document] = ()
    ) -> None:
        """Commit one write to SQLite, then publish the derived set that follows: the removed
        chunks marked, the new ones in a segment of their own; then wake the merger
        (:mod:`qa.index.merger`)."""
        crash_point("before-commit")
        removed, added = self.store.write(remove, new, update)
        crash_point("after-commit")
        texts = [n.document.text[a:b] for n in new for a, b in n.spans]
        vectors = [n.embeddings for n in new]
        snapshot = self._snapshot.removed(removed)
        if added:
            snapshot = snapshot.added(np.array(added), np.concatenate(vectors), texts)
        self._publish(snapshot.at(self.store.generation()))
        self._merger.wake()

    def _swap_in(self, group: Sequence[Segment], merged: Segment | None) -> None:
        """Publish ``merged`` in place of ``group`` (the merger's last step)."""
        with self.writing():
            snapshot = self._snapshot.replaced(group, merged)
            if snapshot is not self._snapshot:
                self._publish(snapshot)

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the writer locks (this process's, then the index's across processes) with
        the derived state brought up to date with the store."""
        self._checked()  # before the locks: it may take them to rebuild
        with self._writer, self._reload, self._files.hold(exclusive=True):
            self._refresh(rebuild=True)
            yield

    # -- the benchmarks' hook ------------------------------------------------------------

    def embedded_documents(self) -> Iterator[NewDocument]:
        """Benchmark hook (:mod:`qa.eval.bench`), read half: every document with its chunks'
        spans and embeddings as stored, in the order they were stored, ready for
        :meth:`qa.index.base.Index.commit_embedded` on another index. Reads the whole store
        at once."""
        ids = self.store.chunk_ids()
        vectors = np.zeros((0, self.manifest.dim), dtype=np.float32)
        if len(ids):
            vectors, _, _ = self.store.chunk_data(int(ids[0]), int(ids[-1]), self.manifest.dim)
        row = {int(cid): i for i, cid in enumerate(ids)}
        chunks = self.store.chunks(ids.tolist())
        by_doc: dict[str, list[int]] = {}
        for cid, found in chunks.items():
            by_doc.setdefault(found.chunk.doc_id, []).append(int(cid))
        first = {doc: min(cids) for doc, cids in by_doc.items()}  # documents with no chunk last
        documents = sorted(
            self.store.documents(), key=lambda d: (d.id not in first, first.get(d.id, 0))
        )
        for doc in documents:
            mine = sorted(by_doc.get(doc.id, []), key=lambda c: chunks[c].chunk.ordinal)
            spans = [(chunks[c].chunk.start, chunks[c].chunk.end) for c in mine]
            yield NewDocument(doc, spans, vectors[[row[c] for c in mine]])

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
        save it. At open the files are checked in the background (:meth:`_checked`)."""
        known = getattr(self, "_snapshot", None)
        check = None
        with self._swap.hold(exclusive=False):  # no writer swaps the files while we read
            if known is None:
                loaded, check = derived.load_checked_later(self.path, self.manifest.dim)
            else:
                loaded = derived.load(self.path, self.manifest.dim, known)
        generation = self.store.generation()
        if loaded and loaded.generation == generation and loaded.chunks == self._chunk_count():
            self._snapshot, self._check = loaded, check
            return
        if check is not None and not check.intact():
            loaded = None  # not to be brought up to date: made again
        if rebuild:
            self._catch_up(loaded)

    def _checked(self) -> derived.Snapshot:
        """The snapshot, once the check of the files it was loaded from has ended; rebuilt
        from the store if they are damaged. Whatever reads the segments asks this first."""
        if self._check is not None:
            with self._reload:
                if self._check is not None and not self._check.intact():
                    log.warning("%s: derived files are damaged; rebuilding them", self.path)
                    self._catch_up(None)
                self._check = None
        return self._snapshot

    def _catch_up(self, loaded: derived.Snapshot | None) -> None:
        """Bring ``loaded`` (None: nothing) up to the store, writers shut out, and save it."""
        with contextlib.ExitStack() as held:
            try:
                held.enter_context(self._files.hold(exclusive=True))
            except OSError:  # a read-only index still works, from memory
                self._snapshot = derived.catch_up(self.store, self.manifest.dim, loaded)
                return
            embed = self._encode_again  # a vector that rotted in the store is made again
            self._publish(derived.catch_up(self.store, self.manifest.dim, loaded, embed))

    def _encode_again(self, texts: list[str]) -> np.ndarray:
        log.warning("re-embedding %d chunk(s): their stored vectors fail the checksum", len(texts))
        return self._settings.embedder_for(self.manifest, self.location).encode(texts)

    def _chunk_count(self) -> int:
        return self.store.counts()["chunks"]

    def _publish(self, snapshot: derived.Snapshot) -> None:
        """Save ``snapshot`` and search it from now on."""
        self._snapshot = derived.save(self.path, snapshot, self._swap.hold(exclusive=True))
        self.manifest.counts = self.store.counts()
        self.manifest.generation = snapshot.generation
        self.manifest.write(self.path)


def open_backend(location: str, create: bool, settings: Settings) -> LocalBackend:
    """The local index in the folder ``location`` (created if missing, with ``create``)."""
    path = Path(location).expanduser()
    if create and not (path / MANIFEST).exists():
        _check_empty(path)
        manifest = settings.new_manifest()
        path.mkdir(parents=True, exist_ok=True)
        Store(path / STORE).close()
        manifest.write(path)
    manifest = Manifest.read(path)
    settings.check(manifest, str(path))
    return LocalBackend(path, manifest, settings)


def _check_empty(path: Path) -> None:
    if path.exists() and (not path.is_dir() or set(os.listdir(path)) - _OWN_FILES):
        raise IndexFormatError(f"{path} exists and is not a reportqa index; choose another path")


def local_backend(index: Index) -> LocalBackend:
    """The local backend of ``index`` (for the benchmarks, which use its hook and segments)."""
    if not isinstance(index.backend, LocalBackend):
        raise TypeError(f"{index.location} is not a local index")
    return index.backend
