"""What tests check about any backend's index: the chunks it stores and the ones it searches."""

from __future__ import annotations

import numpy as np

from qa.index import Index
from qa.index.core import LocalBackend


def chunk_ids(index: Index) -> set[int | str]:
    """The ids of every stored chunk (of documents whose write finished)."""
    return set(index.backend.store.chunk_ids().tolist())


def searched_ids(index: Index) -> set[int | str]:
    """The chunks a search can reach: the local segments' live rows, or what Milvus's dense
    search returns when asked for every chunk (less those of unfinished writes)."""
    if isinstance(index.backend, LocalBackend):
        return {int(i) for s in index.backend.snapshot.segments for i in s.ids[s.live]}
    from qa.index.milvus import MilvusCandidates

    n = index.counts()["chunks"]
    if not n:
        return set()
    candidates = MilvusCandidates(index.backend.store, "")
    vector = np.full(index.manifest.dim, index.manifest.dim**-0.5, dtype=np.float32)
    ids = [cid for cid, _ in candidates.dense(vector, n + 100)]
    return set(candidates.chunks(ids))
