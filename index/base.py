"""The index every caller sees, whichever backend holds it.

``Index.open(location)`` picks the backend from the location: a folder is the embedded local
index (:mod:`qa.index.core`: SQLite, FAISS and BM25 files), ``milvus://...`` a Milvus
collection (:mod:`qa.index.milvus`: Milvus Lite's file, a standalone server or a cluster).
This class holds what does not depend on where the index lives: checking a search's
arguments, deciding what an ingest changes (:mod:`qa.index.ingest`), which
:class:`qa.index.pipeline.Ingest` then chunks, embeds and commits, finding a document by id,
id prefix or source. A backend stores, removes, fetches and searches.
"""

from __future__ import annotations

import contextlib
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from qa.chunking import DEFAULT_OVERLAP, DEFAULT_SIZE, TOKENIZER, Chunker
from qa.config import default_index_location
from qa.embed import Embedder, load_embedder, model_name
from qa.errors import DocumentNotFoundError, IndexFormatError, QAError
from qa.index.ingest import DocumentStore, IngestReport, plan_ingest
from qa.index.manifest import Manifest
from qa.index.pipeline import BATCH_CHUNKS, Ingest
from qa.index.store import NewDocument
from qa.options import SEARCH_K, Filters, check_search
from qa.progress import Progress
from qa.types import MAX_CATALOG, Catalog, Document, Hits, is_text

PathArg = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]
MILVUS_SCHEME = "milvus://"
Opened = TypeVar("Opened", bound="Index")
CRASH_ENV = "QA_CRASH_AT"  # fault injection for tests: "before-commit" or "after-commit"


class Index(ABC):
    """A persistent hybrid index of reports. Open with :meth:`Index.open`."""

    manifest: Manifest
    store: DocumentStore

    def __init__(self, manifest: Manifest, embedder: Embedder | None) -> None:
        self.manifest = manifest
        self._embedder = embedder
        self._writer = threading.Lock()  # one writer in this process

    @classmethod
    def open(
        cls,
        location: str | os.PathLike[str] | None = None,
        *,
        create: bool = False,
        model: str | None = None,
        embedder: Embedder | None = None,
        chunk_size: int | None = None,
        chunk_overlap: int | None = None,
    ) -> Index:
        """Open the index at ``location``: a folder, or ``milvus:///path/file.db`` (Milvus
        Lite) or ``milvus://host:19530/name`` (a Milvus server); default ``$QA_INDEX`` or the
        user data folder.

        With ``create=True`` a missing index is created. The model (``embedder``, ``model`` or
        the default) must be the one the index was built with, else ModelMismatchError.
        """
        where = os.fspath(location) if location else default_index_location()
        backend: type[Index]
        if where.startswith(MILVUS_SCHEME):
            from qa.index.milvus import MilvusIndex

            backend = MilvusIndex
        else:
            from qa.index.core import LocalIndex

            backend = LocalIndex
        return backend.open_at(where, create, Settings(model, embedder, chunk_size, chunk_overlap))

    @classmethod
    @abstractmethod
    def open_at(cls, location: str, create: bool, settings: Settings) -> Index:
        """This backend's :meth:`open`, with what the caller asked for in ``settings``."""

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the index lives, as :meth:`open` takes it."""

    @abstractmethod
    def close(self) -> None:
        """Finish background work and let go of the index."""

    @abstractmethod
    def wait_for_merges(self) -> None:
        """Return once the background work the writes asked for is done."""

    def __enter__(self: Opened) -> Opened:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def embedder(self) -> Embedder:
        """The embedding model, loaded on first use (BM25-only search never loads it)."""
        if self._embedder is None:
            self._embedder = load_embedder(self.manifest.model)
        if self._embedder.dim != self.manifest.dim:
            raise IndexFormatError(
                f"model {self.manifest.model!r} gives {self._embedder.dim}-dimensional vectors, "
                f"the index at {self.location} holds {self.manifest.dim}"
            )
        return self._embedder

    @property
    def chunker(self) -> Chunker:
        return Chunker(self.manifest.chunk_size, self.manifest.chunk_overlap, self.embedder.fits)

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

    def documents_by_id(self, ids: Iterable[str]) -> dict[str, Document]:
        """The documents with these full ids, each read once; one not stored (removed since
        a search, say) is left out."""
        found = {}
        for doc_id in dict.fromkeys(ids):
            with contextlib.suppress(DocumentNotFoundError):
                found[doc_id] = self.document(doc_id, exact=True)
        return found

    def catalog(self, contains: str = "", *, limit: int = 100, offset: int = 0) -> Catalog:
        """A page of the stored documents, without their texts, ordered by source: those
        whose title or source contains ``contains`` (ignoring case), with how many match.

        On the local index an unfiltered page costs what the page holds; a filter, or Milvus
        (which cannot sort), reads the metadata of every document, never their texts."""
        if not 1 <= limit <= MAX_CATALOG:
            raise ValueError(f"limit must be between 1 and {MAX_CATALOG}, got {limit}")
        if offset < 0:
            raise ValueError(f"offset must be 0 or more, got {offset}")
        return self.store.catalog(contains.strip(), limit, offset)

    def counts(self) -> dict[str, int]:
        return self.store.counts()

    def search(
        self,
        query: str,
        k: int = SEARCH_K,
        *,
        mode: str = "hybrid",
        filters: Filters | None = None,
    ) -> Hits:
        """The ``k`` best passages for ``query``; ``mode`` is hybrid, dense or bm25; only
        documents the ``filters`` let through (:class:`qa.Filters`), whose number the hits
        carry (``Hits.matching``)."""
        if not isinstance(query, str) or not query.strip():
            raise ValueError("the query is empty; pass some words to search for")
        if not is_text(query):
            raise ValueError("the query holds bytes that are not valid text (not UTF-8)")
        check_search(k, mode)
        return self._search(query, k, mode, filters or Filters())

    @abstractmethod
    def _search(self, query: str, k: int, mode: str, filters: Filters) -> Hits:
        """The search itself, with its arguments checked."""

    def _embed_query(self, query: str) -> np.ndarray:
        return self.embedder.encode([query])[0]

    # -- writing -------------------------------------------------------------------------

    def add(self, paths: PathArg, *, progress: Progress | None = None) -> IngestReport:
        """Ingest files and folders (one path or several); bad files are reported and skipped.

        ``progress(stage, done, total)`` is told how reading files and embedding chunks go
        (:func:`qa.progress.reporter` shows it on stderr).
        """
        from qa.loaders import find_files, ingest_roots, load_all, load_file

        files, errors = find_files(paths)
        docs, unreadable = load_all(files, load_file, progress)
        report = self.add_documents(docs, progress=progress)
        report.errors[:0] = errors + unreadable
        if files:
            self.store.add_roots(ingest_roots(paths))
        return report

    def roots(self) -> list[str]:
        """The folders given to :meth:`add` (a file's own folder for a file), so that a
        source, the absolute path of its file, can be shown below the folder it came from."""
        return self.store.roots()

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
            if not plan.empty:
                Ingest(self.chunker, self.embedder, self._commit, progress, batch_chunks).run(plan)
            return plan.report

    def remove(self, key: str, *, exact: bool = False) -> Document:
        """Remove a document (by id, unique id prefix, or source; with ``exact`` by its full id
        only) from every part of the index."""
        with self._writing():
            doc = self.document(key, exact=exact)
            self._commit([doc.id], [])
            return doc

    def commit_embedded(self, documents: Sequence[NewDocument]) -> None:
        """Benchmark hook (:mod:`qa.eval.bench`, with
        :meth:`qa.index.core.LocalIndex.embedded_documents`): store documents already
        chunked and embedded as one write of an ingest (writer locks, one commit, the
        derived set published), without reading, chunking or embedding, so that a benchmark
        times the write path alone. Nothing checks the spans and vectors against this
        index's chunking and model: applications use :meth:`add_documents`."""
        with self._writing():
            self._commit([], list(documents))

    @abstractmethod
    def _writing(self) -> contextlib.AbstractContextManager[None]:
        """Shut out other writers (of this process, and of others where the backend can)."""

    @abstractmethod
    def _commit(
        self, remove: list[str], new: list[NewDocument], update: Sequence[Document] = ()
    ) -> None:
        """Remove, update and add documents, so that a search sees all of it or none of the
        documents it is not yet done with."""

    def _resolve(self, key: str) -> str:
        if not key or not key.strip():
            raise ValueError("no document given; pass a document id or source")
        matches = self.store.ids_where("source", key) or self.store.ids_where(
            "source", str(Path(key).expanduser().resolve())
        )
        if not matches and len(key) >= 4:
            matches = self.store.ids_where("id", key)
        what = "the id"
        if not matches:  # a file name, or the end of a source path: "kharkiv-metro.html"
            matches, what = self.store.ids_where("name", key.strip().strip("/")), "the path"
        if not matches:
            raise DocumentNotFoundError(f"no document with id or source {key!r}")
        if len(matches) > 1:
            raise QAError(f"{key!r} matches {len(matches)} documents; give more of {what}")
        return matches[0]


@dataclass
class Settings:
    """What :meth:`Index.open` was asked for: a model (or a loaded embedder) and chunking,
    for a new index's manifest or to check an existing one's against."""

    model: str | None = None
    embedder: Embedder | None = None
    chunk_size: int | None = None
    chunk_overlap: int | None = None

    @property
    def name(self) -> str:
        """The model's identity, as a manifest records it."""
        return self.embedder.name if self.embedder else model_name(self.model)

    def new_manifest(self) -> Manifest:
        """The manifest of a new index (chunking checked before anything is written); the
        model is loaded here if it was not given."""
        from qa import __version__

        chunker = Chunker(
            DEFAULT_SIZE if self.chunk_size is None else self.chunk_size,
            DEFAULT_OVERLAP if self.chunk_overlap is None else self.chunk_overlap,
        )
        self.embedder = self.embedder or load_embedder(self.name)
        dim = self.embedder.dim
        return Manifest(self.name, dim, TOKENIZER, chunker.size, chunker.overlap, __version__)

    def check(self, manifest: Manifest, location: str) -> None:
        """Fail unless the index at ``location`` was built with this model, this version's
        tokenizer and the chunking asked for."""
        manifest.check_model(self.name, location)
        if manifest.tokenizer != TOKENIZER:
            raise IndexFormatError(
                f"{location} was chunked with tokenizer {manifest.tokenizer!r}, this version "
                f"uses {TOKENIZER!r}: re-ingest into a new index"
            )
        for asked, built, what in (
            (self.chunk_size, manifest.chunk_size, "chunk size"),
            (self.chunk_overlap, manifest.chunk_overlap, "chunk overlap"),
        ):
            if asked is not None and asked != built:
                raise ValueError(
                    f"the index at {location} was built with {what} {built}, not {asked}; "
                    "use a new index folder to try other chunking"
                )


def crash_point(name: str) -> None:
    """Stop the process here, as a crash would, when ``$QA_CRASH_AT`` names this point."""
    if os.environ.get(CRASH_ENV) == name:
        os._exit(86)


@contextlib.contextmanager
def holding(lock: threading.Lock) -> Iterator[None]:
    with lock:
        yield
