"""The index every caller sees, whichever backend holds it.

``Index.open(location)`` picks the backend from the location: a folder is the embedded local
index (:mod:`qa.index.core`: SQLite, FAISS and BM25 files), ``milvus://...`` a Milvus
collection (:mod:`qa.index.milvus`: Milvus Lite's file, a standalone server or a cluster).
The index holds what does not depend on where it lives: checking a search's arguments and
ranking the backend's candidates (:class:`qa.index.retrieve.Retriever`), deciding what an
ingest changes (:mod:`qa.index.ingest`), which :class:`qa.index.pipeline.Ingest` then
chunks, embeds and commits, finding a document by id, id prefix or source. The backend
(:class:`qa.index.backend.Backend`) stores, fetches, locks and offers candidates.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np

from qa.chunking import Chunker
from qa.config import default_index_location
from qa.embed import Embedder
from qa.errors import DocumentNotFoundError, QAError
from qa.index.backend import Backend, Settings
from qa.index.ingest import Correction, DocumentStore, IngestReport, plan_ingest
from qa.index.manifest import Manifest
from qa.index.pipeline import BATCH_CHUNKS, Ingest
from qa.index.retrieve import Retriever
from qa.index.store import NewDocument
from qa.options import SEARCH_K, Filters, check_date, check_search
from qa.progress import Progress
from qa.types import MAX_CATALOG, MAX_TITLE, ORDERS, Catalog, Document, Hits, Order, is_text

PathArg = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]
MILVUS_SCHEME = "milvus://"
Opened = TypeVar("Opened", bound="Index")


class Index:
    """A persistent hybrid index of reports. Open with :meth:`Index.open`."""

    def __init__(self, backend: Backend, settings: Settings | None = None) -> None:
        """The index over ``backend`` (tests and benchmarks reach it as ``index.backend``),
        with the model in ``settings`` (loaded on first use when not given)."""
        self.backend = backend
        self._settings = settings or Settings()

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
        settings = Settings(model, embedder, chunk_size, chunk_overlap)
        return cls(_open_backend(where, create, settings), settings)

    @property
    def location(self) -> str:
        """Where the index lives, as :meth:`open` takes it."""
        return self.backend.location

    @property
    def manifest(self) -> Manifest:
        """The model, tokenizer and chunking the index was built with, and its counts."""
        return self.backend.manifest

    def close(self) -> None:
        """Finish background work and let go of the index."""
        self.backend.close()

    def wait_for_merges(self) -> None:
        """Return once the background work the writes asked for is done."""
        self.backend.wait_for_merges()

    def __enter__(self: Opened) -> Opened:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def embedder(self) -> Embedder:
        """The embedding model, loaded on first use (BM25-only search never loads it)."""
        return self._settings.embedder_for(self.manifest, self.location)

    @property
    def _store(self) -> DocumentStore:
        return self.backend.store

    @property
    def chunker(self) -> Chunker:
        return Chunker(self.manifest.chunk_size, self.manifest.chunk_overlap, self.embedder.fits)

    # -- reading -------------------------------------------------------------------------

    def documents(self) -> list[Document]:
        """Every stored document, ordered by source."""
        return self._store.documents()

    def document(self, key: str, *, exact: bool = False) -> Document:
        """The stored document with this id (or unique id prefix) or source; with ``exact``,
        only the full id names it (for callers where a truncated id must not reach another)."""
        doc = self._store.document(key)
        if doc is None and exact:
            raise DocumentNotFoundError(f"no document with id {key!r}; give the full id")
        doc = doc or self._store.document(self._resolve(key))
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

    def catalog(
        self, contains: str = "", *, limit: int = 100, offset: int = 0, order: Order = "source"
    ) -> Catalog:
        """A page of the stored documents, without their texts, ordered by source (or by
        title, or newest first: ``order``): those whose title or source contains ``contains``
        (ignoring case), with how many match.

        On the local index an unfiltered page costs what the page holds; a filter, or Milvus
        (which cannot sort), reads the metadata of every document, never their texts."""
        if not 1 <= limit <= MAX_CATALOG:
            raise ValueError(f"limit must be between 1 and {MAX_CATALOG}, got {limit}")
        if offset < 0:
            raise ValueError(f"offset must be 0 or more, got {offset}")
        if order not in ORDERS:
            raise ValueError(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
        return self._store.catalog(contains.strip(), limit, offset, order)

    def counts(self) -> dict[str, int]:
        return self._store.counts()

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
        candidates, matching = self.backend.candidates(filters or Filters())
        if candidates is None:
            return Hits([], matching)
        return Hits(Retriever(candidates, self._embed_query).search(query, k, mode), matching)

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
            self._store.add_roots(ingest_roots(paths))
        return report

    def roots(self) -> list[str]:
        """The folders given to :meth:`add` (a file's own folder for a file), so that a
        source, the absolute path of its file, can be shown below the folder it came from."""
        return self._store.roots()

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
        with self.backend.writing():
            plan = plan_ingest(self._store, docs)
            if not plan.empty:
                write = self.backend.write
                Ingest(self.chunker, self.embedder, write, progress, batch_chunks).run(plan)
            return plan.report

    def remove(self, key: str, *, exact: bool = False) -> Document:
        """Remove a document (by id, unique id prefix, or source; with ``exact`` by its full id
        only) from every part of the index."""
        return self.remove_many([key], exact=exact)[0]

    def remove_many(
        self, keys: Sequence[str], *, exact: bool = False, missing_ok: bool = False
    ) -> list[Document]:
        """Remove documents (each key as in :meth:`remove`) in one write: all of them, or, if
        one is not found, none; with ``missing_ok``, those not found (removed already) are
        skipped instead. Returns those removed, each once."""
        with self.backend.writing():
            found = {}
            for key in keys:
                try:
                    doc = self.document(key, exact=exact)
                except DocumentNotFoundError:
                    if missing_ok:
                        continue
                    raise
                found[doc.id] = doc
            docs = list(found.values())
            if not docs:
                return []
            self.backend.write([d.id for d in docs], [])
            # a removed report's correction is forgotten with it
            for source in self._store.corrections([d.source for d in docs]):
                self._store.correct(Correction(source, None, None))
            return docs

    def correct(
        self, key: str, *, title: str | None = None, date: str | None = None, exact: bool = False
    ) -> Document:
        """Give a report the title and/or date a person knows better than its file (None
        leaves that one as it is); kept when the same source is ingested again. Returns the
        report as stored now."""
        if title is not None:
            title = " ".join(title.split())
            if not title or len(title) > MAX_TITLE or not is_text(title):
                raise ValueError(f"a title is 1 to {MAX_TITLE} characters of text")
        date = check_date(date, "date")
        with self.backend.writing():
            doc = self.document(key, exact=exact)
            old = self._store.corrections([doc.source]).get(doc.source)
            fix = Correction(
                doc.source,
                title or (old.title if old else None),
                date or (old.date if old else None),
            )
            self._store.correct(fix)
            fixed = fix.applied(doc)
            if fixed != doc:
                self.backend.write([], [], [fixed])
            return fixed

    def commit_embedded(self, documents: Sequence[NewDocument]) -> None:
        """Benchmark hook (:mod:`qa.eval.bench`, with
        :meth:`qa.index.core.LocalBackend.embedded_documents`): store documents already
        chunked and embedded as one write of an ingest (writer locks, one commit, the
        derived set published), without reading, chunking or embedding, so that a benchmark
        times the write path alone. Nothing checks the spans and vectors against this
        index's chunking and model: applications use :meth:`add_documents`."""
        with self.backend.writing():
            self.backend.write([], list(documents))

    def _resolve(self, key: str) -> str:
        if not key or not key.strip():
            raise ValueError("no document given; pass a document id or source")
        matches = self._store.ids_where("source", key) or self._store.ids_where(
            "source", str(Path(key).expanduser().resolve())
        )
        if not matches and len(key) >= 4:
            matches = self._store.ids_where("id", key)
        what = "the id"
        if not matches:  # a file name, or the end of a source path: "kharkiv-metro.html"
            matches, what = self._store.ids_where("name", key.strip().strip("/")), "the path"
        if not matches:
            raise DocumentNotFoundError(f"no document with id or source {key!r}")
        if len(matches) > 1:
            raise QAError(f"{key!r} matches {len(matches)} documents; give more of {what}")
        return matches[0]


def _open_backend(location: str, create: bool, settings: Settings) -> Backend:
    """The backend the location names: ``milvus://...`` Milvus, anything else a folder."""
    if location.startswith(MILVUS_SCHEME):
        from qa.index.milvus import open_backend as open_milvus

        return open_milvus(location, create, settings)
    from qa.index.core import open_backend as open_local

    return open_local(location, create, settings)
