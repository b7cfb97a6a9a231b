"""Dense search over segments: exact inner product (cosine of normalised embeddings) with FAISS.

Each segment's vectors sit in their own FAISS index; a search asks every segment for its best
live rows and keeps the best ``k`` of all, best first (ties by chunk id, as one index would).
"""

from __future__ import annotations

from collections.abc import Sequence

import faiss
import numpy as np

from qa.index.segment import HNSW_SEARCH, Segment


def search(
    segments: Sequence[Segment], query: np.ndarray, k: int, allowed: np.ndarray | None = None
) -> list[tuple[int, float]]:
    """Up to ``k`` (chunk id, cosine) pairs, best first, limited to ``allowed`` chunk ids."""
    # one query is a few milliseconds of work: splitting it over threads only adds waiting,
    # and oversubscribes the cores when several questions run at once (OpenMP's thread count
    # is the calling thread's own setting, so each searching thread sets it)
    faiss.omp_set_num_threads(1)
    vector = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
    found: list[tuple[int, float]] = []
    for segment in segments:
        selector: faiss.IDSelector | None = None
        if allowed is not None:
            rows = segment.rows(allowed)
            rows = rows[segment.live[rows]]
            if not isinstance(segment.vectors, faiss.IndexFlat):  # a graph search may miss them
                found += _exact(segment, rows, vector[0], k)
                continue
            n, selector = len(rows), faiss.IDSelectorBatch(rows.astype(np.int64))
        elif segment.alive < len(segment):
            bitmap = np.packbits(segment.live, bitorder="little")  # kept alive for the search
            n = segment.alive
            selector = faiss.IDSelectorBitmap(len(segment), faiss.swig_ptr(bitmap))
        else:
            n = len(segment)
        if not min(n, k):
            continue
        params = _params(segment.vectors, selector)
        scores, rows = segment.vectors.search(vector, min(n, k), params=params)
        found += [(int(segment.ids[r]), float(s)) for r, s in zip(rows[0], scores[0]) if r >= 0]
    found.sort(key=lambda pair: (-pair[1], pair[0]))
    return found[:k]


def scores(segments: Sequence[Segment], query: np.ndarray, ids: list[int]) -> dict[int, float]:
    """Cosine similarity of the query with each given live chunk."""
    found: dict[int, float] = {}
    wanted = np.asarray(ids, dtype=np.int64)
    for segment in segments:
        rows = segment.rows(wanted)
        for row in rows[segment.live[rows]]:
            vector = segment.vectors.reconstruct(int(row))
            found[int(segment.ids[row])] = float(np.dot(vector, query))
    return found


def _params(index: faiss.Index, selector: faiss.IDSelector | None) -> faiss.SearchParameters | None:
    """Search parameters for ``index``: the rows ``selector`` allows, and for an HNSW graph
    its candidate count (parameters of the wrong kind are refused by FAISS)."""
    if isinstance(index, faiss.IndexHNSW):
        return faiss.SearchParametersHNSW(sel=selector, efSearch=HNSW_SEARCH)  # type: ignore[attr-defined]
    return faiss.SearchParameters(sel=selector) if selector is not None else None  # type: ignore[call-arg]


def _exact(
    segment: Segment, rows: np.ndarray, query: np.ndarray, k: int
) -> list[tuple[int, float]]:
    """The best ``k`` of the given rows by exact inner product (a filter's few rows)."""
    if not len(rows):
        return []
    scores = segment.vectors.reconstruct_batch(rows.astype(np.int64)) @ query
    best = np.argsort(-scores, kind="stable")[:k]
    return [(int(segment.ids[rows[i]]), float(scores[i])) for i in best]
