"""An ingest's work once it is planned: chunk, embed in batches, commit batch by batch.

:func:`qa.index.ingest.plan_ingest` decides what changes; :class:`Ingest` does it for any
backend, which only has to commit what it is handed (``commit(remove, new, update)``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np

from qa.chunking import Chunker
from qa.embed import Embedder
from qa.index.ingest import IngestPlan, Step
from qa.index.store import NewDocument
from qa.progress import Progress
from qa.types import Document

BATCH_CHUNKS = 1000  # chunks embedded per commit: an interrupted ingest keeps what is done
Planned = tuple[Step, list[list[tuple[int, int]]]]  # a step with its documents' chunk spans
Commit = Callable[[list[str], list[NewDocument], Sequence[Document]], None]


class Ingest:
    """Store a plan's documents: chunked by ``chunker``, embedded by ``embedder`` and handed
    to ``commit`` in batches of about ``batch_chunks`` chunks, so that an interrupted ingest
    keeps the documents already committed and a re-run skips them."""

    def __init__(
        self,
        chunker: Chunker,
        embedder: Embedder,
        commit: Commit,
        progress: Progress | None = None,
        batch_chunks: int = BATCH_CHUNKS,
    ) -> None:
        self.chunker = chunker
        self.embedder = embedder
        self.commit = commit
        self.progress = progress
        self.batch_chunks = batch_chunks

    def run(self, plan: IngestPlan) -> None:
        steps = [
            (step, [self.chunker.spans(d.text, _segments(d)) for d in step.add])
            for step in plan.steps()
        ]
        total = sum(len(s) for _, spans in steps for s in spans)
        done = 0
        for batch in _batches(steps, self.batch_chunks):
            done = self._store(batch, done, total)

    def _store(self, batch: list[Planned], done: int, total: int) -> int:
        """Embed one batch of steps and commit it; the count of chunks embedded so far."""
        texts = [
            doc.text[a:b]
            for step, spans in batch
            for doc, doc_spans in zip(step.add, spans)
            for a, b in doc_spans
        ]
        vectors = self._encode(texts, done, total)
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
        self.commit(remove, new, update)
        return done + len(texts)

    def _encode(self, texts: list[str], done: int, total: int) -> np.ndarray:
        """Embeddings of chunk texts, as bulk work that gives way to questions."""
        progress = self.progress
        if not progress:
            return self.embedder.encode(texts, bulk=True)
        progress("embedding", done, total)
        return self.embedder.encode(
            texts, bulk=True, done=lambda count: progress("embedding", done + count, total)
        )


def _segments(doc: Document) -> list[tuple[int, int]]:
    """The spans a chunk may not cross: the document's pages, or the whole text."""
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
