"""A segment: an immutable slice of the index's chunks, with their vectors and BM25 postings.

A write adds a segment holding only its new chunks; a removal marks chunks dead (their rows
stay until a merge rewrites the segment). Files are written once and never changed, so a
write costs time in proportion to what it adds, not to the index.

Layout of a segment folder: ``ids.npy`` (chunk ids, ascending; row ``i`` is chunk
``ids[i]``), ``dense.faiss`` (an inner-product FAISS index over the rows), ``vocab.txt`` and
four ``.npy`` arrays (:class:`qa.index.postings.Postings`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import faiss
import numpy as np

from qa.index.postings import Postings
from qa.index.sparse import tokenize

IDS = "ids.npy"
DENSE = "dense.faiss"
ANN_ROWS = 20_000  # a segment this large searches approximately (HNSW), a smaller one exactly
HNSW_LINKS = 32  # neighbours per vector in the graph
HNSW_BUILD = 80  # efConstruction (40 gave recall@10 0.843 at 1M, efSearch 128)
HNSW_SEARCH = 512  # efSearch: recall@10 0.989 at 1M vectors, 1.2 ms (eval/bench/ann.py)


@dataclass(frozen=True, eq=False)
class Segment:
    """Chunks ``ids`` with their vectors (row ``i`` is chunk ``ids[i]``) and postings; which
    rows are removed is the only thing that changes, and only in a new ``Segment``."""

    name: str
    ids: np.ndarray  # int64, ascending
    live: np.ndarray  # bool per row: False once the chunk is removed
    vectors: faiss.Index
    postings: Postings

    @classmethod
    def build(cls, name: str, ids: np.ndarray, vectors: np.ndarray, texts: list[str]) -> Segment:
        """A segment of new chunks (ids, their embeddings and texts, in the same order)."""
        order = np.argsort(ids, kind="stable")
        index = vector_index(np.ascontiguousarray(vectors[order], dtype=np.float32))
        postings = Postings.build(tokenize([texts[i] for i in order]))
        live = np.ones(len(ids), dtype=bool)
        return cls(name, np.asarray(ids, dtype=np.int64)[order], live, index, postings)

    @classmethod
    def merge(cls, name: str, parts: list[Segment]) -> Segment:
        """One segment holding the live chunks of ``parts`` (its removed rows dropped)."""
        parts = sorted(parts, key=lambda s: int(s.ids[0]) if len(s.ids) else 0)
        ids = np.concatenate([s.ids[s.live] for s in parts])
        order = np.argsort(ids, kind="stable")
        vectors = np.concatenate([s.matrix()[s.live] for s in parts])[order]
        postings = Postings.merge([(s.postings, s.live) for s in parts])
        if np.any(order != np.arange(len(order))):  # id ranges interleave: rows reordered
            postings = _reorder(postings, order)
        index = vector_index(np.ascontiguousarray(vectors))
        return cls(name, ids[order], np.ones(len(ids), dtype=bool), index, postings)

    def __len__(self) -> int:
        return len(self.ids)

    @cached_property
    def alive(self) -> int:
        """Live (not removed) rows."""
        return int(self.live.sum())

    @cached_property
    def lengths32(self) -> np.ndarray:
        """BM25 terms in each row, as float32 (the scores' arithmetic)."""
        return self.postings.lengths.astype(np.float32)

    @cached_property
    def live_length(self) -> int:
        """BM25 terms in the live rows."""
        return int(self.postings.lengths[self.live].sum())

    def rows(self, chunk_ids: np.ndarray) -> np.ndarray:
        """The rows of those of ``chunk_ids`` this segment holds (dead or alive)."""
        chunk_ids = np.asarray(chunk_ids, dtype=np.int64)
        at = np.searchsorted(self.ids, chunk_ids)
        at = np.minimum(at, max(0, len(self.ids) - 1))
        if not len(self.ids):
            return at[:0]
        return at[self.ids[at] == chunk_ids]

    def without(self, chunk_ids: np.ndarray) -> Segment:
        """This segment with those chunks marked removed (itself if it holds none)."""
        rows = self.rows(chunk_ids)
        rows = rows[self.live[rows]]
        if not len(rows):
            return self
        live = self.live.copy()
        live[rows] = False
        return replace(self, live=live)

    def matrix(self) -> np.ndarray:
        """Every row's vector (a copy)."""
        return np.asarray(self.vectors.reconstruct_n(0, len(self)), dtype=np.float32)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True)
        np.save(folder / IDS, self.ids)
        faiss.write_index(self.vectors, str(folder / DENSE))
        self.postings.save(folder)

    @classmethod
    def load(cls, name: str, folder: Path, dim: int) -> Segment:
        """A saved segment, all rows alive; ValueError if its files do not fit together."""
        ids = np.load(folder / IDS, allow_pickle=False)
        # the vectors mapped from the file, not read: opening costs the graph's links only
        vectors = faiss.read_index(str(folder / DENSE), faiss.IO_FLAG_MMAP_IFC)
        postings = Postings.load(folder)
        if (
            ids.dtype != np.int64
            or ids.ndim != 1
            or np.any(np.diff(ids) <= 0)
            or vectors.d != dim
            or vectors.ntotal != len(ids)
            or len(postings) != len(ids)
        ):
            raise ValueError(f"the segment in {folder} does not fit together")
        return cls(name, ids, np.ones(len(ids), dtype=bool), vectors, postings)


def vector_index(vectors: np.ndarray) -> faiss.Index:
    """An inner-product FAISS index of the rows: exact (flat) below ``ANN_ROWS``, else an
    HNSW graph (built on every core; searched with ``HNSW_SEARCH`` candidates)."""
    n, dim = vectors.shape
    if n < ANN_ROWS:
        flat = faiss.IndexFlatIP(dim)
        flat.add(vectors)
        return flat
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    graph = faiss.IndexHNSWFlat(dim, HNSW_LINKS, faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction = HNSW_BUILD
    graph.add(vectors)
    return graph


def _reorder(postings: Postings, order: np.ndarray) -> Postings:
    """The postings with row ``order[i]`` renumbered to ``i``."""
    new_row = np.empty(len(order), dtype=np.int64)
    new_row[order] = np.arange(len(order))
    terms = np.repeat(np.arange(len(postings.vocab), dtype=np.int64), np.diff(postings.indptr))
    return Postings.from_pairs(
        postings.vocab,
        terms,
        new_row[postings.docs],
        postings.tf.astype(np.int64),
        postings.lengths[order],
    )
