"""Dense, BM25 and hybrid (reciprocal-rank fusion) retrieval over one index's parts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from qa.index import dense, sparse
from qa.index.fusion import reciprocal_rank_fusion
from qa.index.segment import Segment
from qa.index.store import Store
from qa.types import Hit

MODES = ("hybrid", "dense", "bm25")
MIN_CANDIDATES = 50  # each retriever's list length before fusion: enough for RRF to work with
# the query is embedded (on the embedder's worker) while BM25 runs in the asking thread
_embedding = ThreadPoolExecutor(max_workers=16, thread_name_prefix="qa-query")


class Retriever:
    """One search: runs the retrievers the mode needs and builds scored hits."""

    def __init__(
        self,
        store: Store,
        segments: Sequence[Segment],
        embed: Callable[[str], np.ndarray],
    ) -> None:
        self.store = store
        self.segments = segments
        self.embed = embed

    def search(self, query: str, k: int, mode: str, allowed: list[int] | None) -> list[Hit]:
        if allowed is not None and not allowed:
            return []
        only = None if allowed is None else np.asarray(allowed, dtype=np.int64)
        n = max(k, MIN_CANDIDATES) if mode == "hybrid" else k
        pending = _embedding.submit(self.embed, query) if mode != "bm25" else None
        bm25_ranked: list[tuple[int, float]] = []
        bm25_scores: Callable[[int], float] | None = None
        if mode != "dense":
            bm25_ranked, bm25_scores = sparse.search(self.segments, query, n, only)
        dense_ranked: list[tuple[int, float]] = []
        query_vector = None
        if pending is not None:
            query_vector = pending.result()
            dense_ranked = dense.search(self.segments, query_vector, n, only)
        if mode == "hybrid":
            ranked = reciprocal_rank_fusion(
                [[cid for cid, _ in dense_ranked], [cid for cid, _ in bm25_ranked]]
            )[:k]
        else:
            ranked = (dense_ranked if mode == "dense" else bm25_ranked)[:k]
        chunks = self.store.chunks([cid for cid, _ in ranked])
        ranked = [(cid, score) for cid, score in ranked if cid in chunks]  # none removed since
        ids = [cid for cid, _ in ranked]
        dense_rank = {cid: r for r, (cid, _) in enumerate(dense_ranked, start=1)}
        bm25_rank = {cid: r for r, (cid, _) in enumerate(bm25_ranked, start=1)}
        dense_scores = (
            dense.scores(self.segments, query_vector, ids) if query_vector is not None else {}
        )
        return [
            Hit(
                chunk=chunks[cid].chunk,
                title=chunks[cid].title,
                source=chunks[cid].source,
                date=chunks[cid].date,
                rank=rank,
                score=score,
                dense_score=dense_scores.get(cid),
                bm25_score=bm25_scores(cid) if bm25_scores is not None else None,
                dense_rank=dense_rank.get(cid),
                bm25_rank=bm25_rank.get(cid),
            )
            for rank, (cid, score) in enumerate(ranked, start=1)
        ]
