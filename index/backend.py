"""What an :class:`qa.index.base.Index` asks of the place its data lives.

A backend stores, fetches and locks; the index in front of it checks arguments, plans and
runs ingests, resolves document names and ranks (:class:`qa.index.retrieve.Retriever` over the
backend's candidates). Two backends: the local folder (:mod:`qa.index.core`) and Milvus
(:mod:`qa.index.milvus`). Each is opened by a function ``open_backend(location, create,
settings)``.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from qa.chunking import DEFAULT_OVERLAP, DEFAULT_SIZE, TOKENIZER, Chunker
from qa.embed import Embedder, load_embedder, model_name
from qa.errors import IndexFormatError
from qa.index.ingest import DocumentStore
from qa.index.manifest import Manifest
from qa.index.retrieve import Candidates
from qa.index.store import NewDocument
from qa.options import Filters
from qa.types import Document

CRASH_ENV = "QA_CRASH_AT"  # fault injection for tests: "before-commit" or "after-commit"


class Backend(Protocol):
    """Where an index's documents, chunks, vectors and BM25 statistics live."""

    @property
    def manifest(self) -> Manifest:
        """The model, tokenizer and chunking the index was built with, and its counts."""

    @property
    def store(self) -> DocumentStore:
        """Fetch: the documents and their metadata."""

    @property
    def location(self) -> str:
        """Where the index lives, as :meth:`qa.index.base.Index.open` takes it."""

    def candidates(self, filters: Filters) -> tuple[Candidates | None, int | None]:
        """One search's candidates within ``filters``, and how many documents the filters
        let through (None without filters); no candidates when none does."""

    def writing(self) -> contextlib.AbstractContextManager[None]:
        """Shut out other writers (of this process, and of others where the backend can)."""

    def write(
        self, remove: list[str], new: list[NewDocument], update: Sequence[Document] = ()
    ) -> None:
        """Remove, update and add documents (within :meth:`writing`), so that a search sees
        all of it or none of the documents it is not yet done with."""

    def wait_for_merges(self) -> None:
        """Return once the background work the writes asked for is done."""

    def close(self) -> None:
        """Finish background work and let go of the index."""


@dataclass
class Settings:
    """What :meth:`qa.index.base.Index.open` was asked for: a model (or a loaded embedder)
    and chunking, for a new index's manifest or to check an existing one's against; and the
    embedder once loaded, shared by the index and its backend."""

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

    def embedder_for(self, manifest: Manifest, location: str) -> Embedder:
        """The embedding model of the index at ``location``, loaded on first use (BM25-only
        search never loads it), checked against its manifest."""
        if self.embedder is None:
            self.embedder = load_embedder(manifest.model)
        if self.embedder.dim != manifest.dim:
            raise IndexFormatError(
                f"model {manifest.model!r} gives {self.embedder.dim}-dimensional vectors, "
                f"the index at {location} holds {manifest.dim}"
            )
        return self.embedder


def crash_point(name: str) -> None:
    """Stop the process here, as a crash would, when ``$QA_CRASH_AT`` names this point."""
    if os.environ.get(CRASH_ENV) == name:
        os._exit(86)


@contextlib.contextmanager
def holding(lock: threading.Lock) -> Iterator[None]:
    with lock:
        yield
