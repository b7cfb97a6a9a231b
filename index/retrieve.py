"""Dense, BM25 and hybrid (reciprocal-rank fusion) retrieval, whatever holds the index.

A backend hands :class:`Retriever` its :class:`Candidates` (the local segments, or a Milvus
collection), already limited to the documents a search's filters allow; fusion, scores and
the hits built from them are the same code for every backend.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

import numpy as np

from qa.index import dense, sparse
from qa.index.fusion import reciprocal_rank_fusion
from qa.index.segment import Segment
from qa.index.store import Store, StoredChunk
from qa.types import Hit

MIN_CANDIDATES = 50  # each retriever's list length before fusion: enough for RRF to work with
# the query is embedded (on the embedder's worker) while BM25 runs in the asking thread
_embedding = ThreadPoolExecutor(max_workers=16, thread_name_prefix="qa-query")

ChunkId = int | str  # the local store numbers chunks; Milvus names them "<doc id>:<ordinal>"
Ranked = list[tuple[ChunkId, float]]  # best first


class Candidates(Protocol):
    """What one search reads from a backend, limited to the chunks its filters allow. Every
    call stands alone (lists with scores in, lists with scores out): none depends on another
    having been made first."""

    def bm25(self, query: str, n: int) -> Ranked:
        """The ``n`` best chunks by BM25 score (positive scores only)."""
        ...

    def dense(self, vector: np.ndarray, n: int) -> Ranked:
        """The ``n`` best chunks by cosine similarity to ``vector``."""
        ...

    def bm25_scores(self, query: str, ids: Sequence[ChunkId]) -> dict[ChunkId, float]:
        """The BM25 score of the given chunks, which BM25's own list left out: of each, or
        none where a backend cannot score a chunk without another whole search."""
        ...

    def dense_scores(self, vector: np.ndarray, ids: Sequence[ChunkId]) -> dict[ChunkId, float]:
        """The cosine similarity of each given chunk to ``vector`` (chunks the dense list
        left out)."""
        ...

    def chunks(self, ids: Sequence[ChunkId]) -> dict[ChunkId, StoredChunk]:
        """The given chunks that are still stored, with their documents' metadata."""
        ...


class Retriever:
    """One search: runs the retrievers the mode needs and builds scored hits."""

    def __init__(self, candidates: Candidates, embed: Callable[[str], np.ndarray]) -> None:
        self.candidates = candidates
        self.embed = embed

    def search(self, query: str, k: int, mode: str) -> list[Hit]:
        found = self.candidates
        n = max(k, MIN_CANDIDATES) if mode == "hybrid" else k
        pending = _embedding.submit(self.embed, query) if mode != "bm25" else None
        bm25_ranked = found.bm25(query, n) if mode != "dense" else []
        dense_ranked: Ranked = []
        query_vector = None
        if pending is not None:
            query_vector = pending.result()
            dense_ranked = found.dense(query_vector, n)
        if mode == "hybrid":
            ranked = reciprocal_rank_fusion(
                [[cid for cid, _ in dense_ranked], [cid for cid, _ in bm25_ranked]]
            )[:k]
        else:
            ranked = (dense_ranked if mode == "dense" else bm25_ranked)[:k]
        chunks = found.chunks([cid for cid, _ in ranked])
        ranked = [(cid, score) for cid, score in ranked if cid in chunks]  # none removed since
        ids = [cid for cid, _ in ranked]
        dense_rank = {cid: r for r, (cid, _) in enumerate(dense_ranked, start=1)}
        bm25_rank = {cid: r for r, (cid, _) in enumerate(bm25_ranked, start=1)}
        dense_scores, bm25_scores = dict(dense_ranked), dict(bm25_ranked)
        if query_vector is not None:  # the hits BM25 alone found
            dense_scores |= found.dense_scores(query_vector, _left(ids, dense_scores))
        if mode != "dense":  # the hits dense search alone found
            bm25_scores |= found.bm25_scores(query, _left(ids, bm25_scores))
        return [
            Hit(
                chunk=chunks[cid].chunk,
                title=chunks[cid].title,
                source=chunks[cid].source,
                date=chunks[cid].date,
                rank=rank,
                score=score,
                dense_score=dense_scores.get(cid),
                bm25_score=bm25_scores.get(cid),
                dense_rank=dense_rank.get(cid),
                bm25_rank=bm25_rank.get(cid),
            )
            for rank, (cid, score) in enumerate(ranked, start=1)
        ]


def _left(ids: list[ChunkId], known: dict[ChunkId, float]) -> list[ChunkId]:
    return [cid for cid in ids if cid not in known]


class SegmentCandidates:
    """The local backend's candidates: the segments of one snapshot, the SQLite store, and
    the chunk ids a filter allows (None: all)."""

    def __init__(
        self,
        store: Store,
        segments: Sequence[Segment],
        allowed: np.ndarray | None,
        term_scores: sparse.TermScores | None = None,
    ) -> None:
        self.store = store
        self.segments = segments
        self.allowed = allowed
        self.term_scores = term_scores  # kept for the segments' state (None: for one search)
        self._queries: dict[str, sparse.Query] = {}  # BM25 statistics, counted once a search

    def _query(self, query: str) -> sparse.Query:
        if query not in self._queries:
            self._queries[query] = sparse.Query(self.segments, query, self.term_scores)
        return self._queries[query]

    def bm25(self, query: str, n: int) -> Ranked:
        return list(sparse.search(self.segments, self._query(query), n, self.allowed))

    def dense(self, vector: np.ndarray, n: int) -> Ranked:
        return list(dense.search(self.segments, vector, n, self.allowed))

    def bm25_scores(self, query: str, ids: Sequence[ChunkId]) -> dict[ChunkId, float]:
        found = sparse.scores(self.segments, self._query(query), [int(cid) for cid in ids])
        return {cid: found.get(int(cid), 0.0) for cid in ids}

    def dense_scores(self, vector: np.ndarray, ids: Sequence[ChunkId]) -> dict[ChunkId, float]:
        found = dense.scores(self.segments, vector, [int(cid) for cid in ids])
        return {cid: score for cid, score in found.items()}

    def chunks(self, ids: Sequence[ChunkId]) -> dict[ChunkId, StoredChunk]:
        found = self.store.chunks([int(cid) for cid in ids])
        return {cid: chunk for cid, chunk in found.items()}
